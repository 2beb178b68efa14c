"""Errors of the policy package.

::

    PolicyError                 any misuse of the policy catalogue
    ├── CatalogueError          a catalogue file is wrong: names the file and the key path
    └── UnknownField            a person-view field that belongs to no category

Decisions never raise: a request the catalogue does not allow is a denied ``Decision``, not
an exception. These errors are for the operator (a broken catalogue refuses to load, so a
gateway never starts with half a policy) and for programming mistakes.
"""

from __future__ import annotations


class PolicyError(Exception):
    pass


class CatalogueError(PolicyError):
    def __init__(self, file: str, path: str, message: str) -> None:
        where = f"{file}: {path}: " if path else f"{file}: "
        super().__init__(where + message)
        self.file = file
        self.path = path
        self.message = message


class UnknownField(PolicyError):
    def __init__(self, field: str) -> None:
        super().__init__(f"field {field!r} belongs to no category of the catalogue")
        self.field = field
