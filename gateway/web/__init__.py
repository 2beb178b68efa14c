"""The gateway's pages: Jinja2 templates in the State's design system (DSFR), sessions, CSRF."""
