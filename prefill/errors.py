"""Typed errors of prefill; each carries the GraphQL ``extensions.code`` it maps to.

::

    PrefillError (code)
    ├── DefinitionError        INTERNAL         a form or mapping file is wrong (names file and key)
    │   └── MappingError       INTERNAL         a procedure mapping does not fit its form
    ├── RecordMismatch         INTERNAL         a record is not the type its field holds
    ├── DescriptorError        INTERNAL         DS's champ descriptors are not what its API gives
    ├── UnknownForm            BAD_USER_INPUT   no form has this id (also a ``KeyError``)
    ├── SourceUnavailable      UPSTREAM_*       a confirmed field's source failed when read again
    └── InvalidInput           BAD_USER_INPUT   the person's submission is refused (names field)
        ├── UnknownField                        no such field in the form
        ├── InvalidValue                        wrong type, negative amount, choice outside choices…
        └── IncompleteSubmission                fields left unconfirmed or required and empty

The first three are defects of the deployment, never the person's fault: the lead logs them
and masks them as ``INTERNAL``; the others are told to the client with their message.
"""

from __future__ import annotations


class PrefillError(Exception):
    code = "INTERNAL"
    retry_in: float | None = None  # seconds to wait before sending again, when a source said

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class DefinitionError(PrefillError):
    """A form or mapping file breaks the format; ``file`` and ``key`` say where."""

    def __init__(self, file: str, key: str, problem: str) -> None:
        super().__init__(f"{file}: {key}: {problem}")
        self.file = file
        self.key = key


class MappingError(DefinitionError):
    pass


class RecordMismatch(PrefillError):
    pass


class DescriptorError(PrefillError):
    """A procedure's champ descriptors (from DS's GraphQL API or the database) are garbage."""


class UnknownForm(PrefillError, KeyError):
    code = "BAD_USER_INPUT"

    def __init__(self, form: str) -> None:
        super().__init__(f"unknown form: {form!r}")
        self.form = form

    def __str__(self) -> str:  # KeyError would print the repr of the message
        return self.message


class SourceUnavailable(PrefillError):
    """Fields the person confirmed (or, for a dossier, the person-view fields read) came back
    empty when the person's data was read again to record the submission: their source failed
    this time. ``code`` is that failure's (the first
    field's): ``UPSTREAM_TIMEOUT``, ``UPSTREAM_UNAVAILABLE``, ``UPSTREAM_INVALID`` or
    ``RATE_LIMITED``, with the wait the source asked for. Nothing is recorded; the same
    submission can be sent again."""

    def __init__(self, fields: tuple[str, ...], code: str, retry_in: float | None = None) -> None:
        super().__init__(
            f"{', '.join(fields)}: could not be read again from their source to record the "
            "confirmation; nothing was recorded, send the same submission again"
        )
        self.code = code
        self.fields = fields
        self.retry_in = retry_in  # what the source asked to wait (a rate limit), if it did
        self.field = ", ".join(fields)  # as InvalidInput's: what a log may name


class InvalidInput(PrefillError):
    code = "BAD_USER_INPUT"

    def __init__(self, field: str, problem: str) -> None:
        super().__init__(f"{field}: {problem}")
        self.field = field
        self.fields: tuple[str, ...] = (field,)  # the fields named, one each


class UnknownField(InvalidInput):
    def __init__(self, field: str) -> None:
        super().__init__(field, "no such field in this form")


class InvalidValue(InvalidInput):
    pass


class IncompleteSubmission(InvalidInput):
    def __init__(self, fields: tuple[str, ...], problem: str) -> None:
        super().__init__(", ".join(fields), problem)
        self.fields = fields
