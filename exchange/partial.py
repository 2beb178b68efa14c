"""An access's view while its agencies answer: the fields settled, and those not yet.

An answer is built from the view once the last agency asked has answered, but most of that
work need not wait for it: the fields of the agencies that already answered, and those denied
before anything was called, are final. ``Exchange.person`` can hand out, as each agency
answers, a provisional view whose mappings raise :class:`NotYet` for a field still awaited,
and for anything that depends on all of them (enumerating the fields, counting them). Work
that ran on a provisional view without meeting ``NotYet`` read only final values, and gives
what it would give on the final view.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from collections.abc import Set as AbstractSet
from typing import TypeVar

V = TypeVar("V")

# The key of what depends on every field (enumerating them): settled only by the last answer.
EVERY_FIELD = "*"


class NotYet(BaseException):
    """A value read before its agency answered. Not an ``Exception``: code that turns a
    field's failure into a typed error (``except Exception``) must not take it for one."""

    def __init__(self, key: str) -> None:
        super().__init__(key)
        self.key = key


class Awaited(Mapping[str, V]):
    """``settled`` as a mapping, where reading a key of ``unsettled`` raises ``NotYet`` (so
    do ``get`` and ``in``, which read through ``__getitem__``; ``bool``, through ``__len__``).

    ``settled`` may grow afterwards (the keys of ``unsettled`` being added): what this
    mapping answers does not change, since it keeps the set of keys it did not have."""

    __slots__ = ("_settled", "_unsettled")

    def __init__(self, settled: Mapping[str, V], unsettled: AbstractSet[str]) -> None:
        self._settled = settled
        self._unsettled = unsettled

    def __getitem__(self, key: str) -> V:
        if key in self._unsettled:
            raise NotYet(key)
        return self._settled[key]

    def __iter__(self) -> Iterator[str]:
        if self._unsettled:
            raise NotYet(EVERY_FIELD)
        return iter(self._settled)

    def __len__(self) -> int:
        if self._unsettled:
            raise NotYet(EVERY_FIELD)
        return len(self._settled)
