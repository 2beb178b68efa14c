"""Errors of the composition root: what stops the product from starting.

::

    RuntimeSetupError
    └── ConfigurationError    a setting or an operator's file is unusable; the message names it
"""

from __future__ import annotations


class RuntimeSetupError(Exception):
    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class ConfigurationError(RuntimeSetupError):
    """Raised at start; the message names the setting or the file, never a secret."""
