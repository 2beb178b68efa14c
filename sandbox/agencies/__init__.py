"""One module per simulated agency; each exposes ``INFO`` and ``build_app(setup)``."""
