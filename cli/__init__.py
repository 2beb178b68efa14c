"""The ``unefois`` commands: run, serve, sandbox, audit, campaign, keys, clients.

Like the application, the commands get their services from :meth:`runtime.Services.open`;
``audit verify`` alone opens the log read-only, without migrating or reading a private key.
"""

from cli.main import main, parser

__all__ = ["main", "parser"]
