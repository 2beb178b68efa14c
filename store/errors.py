"""Errors raised by the store.

SQLAlchemy and driver exceptions (asyncpg, sqlite3) are mapped here at the boundary, so that
callers only ever see this tree::

    StoreError              the database refused a statement for another reason
    ├── StoreUnavailable    the database cannot be reached: refused or dropped connection,
    │                       timeout, rejected credentials, unopenable file, busy past the timeout
    ├── InvalidRecord       a value the store or the database refuses (a consent naming both a
    │                       client and a purpose, a naive time, a duplicate id); also a ValueError
    │   └── ClientExists    a client with that id is already registered
    ├── ConsentNotFound     no consent with that id for that person; also a LookupError
    └── ClientNotFound      no client with that id; also a LookupError

Messages never hold a URL, a password, a file path or a statement's parameters: they name the
backend and the driver's exception class, which is what an operator needs to start looking.
"""

from __future__ import annotations


class StoreError(Exception):
    pass


class StoreUnavailable(StoreError):
    pass


class InvalidRecord(StoreError, ValueError):
    pass


class ConsentNotFound(StoreError, LookupError):
    pass


class ClientExists(InvalidRecord):
    pass


class ClientNotFound(StoreError, LookupError):
    pass
