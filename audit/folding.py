"""Which entries the readers show: those no later entry corrects.

An access's entry may be written before the agencies answer, saying what the access releases
if they all do (``exchange`` writes it while they are called, so that its commit costs the
answer nothing). When the access ends otherwise, a second entry with the real outcome names
the first in its ``corrects`` detail. Both stay in the chain, hashed and verified; pages,
statistics, anomalies and exports show the correction in the first one's place. An entry
whose correction was never written (the process stopped between the two) says more was
released than was: the safe side of the doubt, as for a commit whose outcome is unknown.
"""

from __future__ import annotations

from sqlalchemy import ColumnElement, exists

from audit import tables

_CORRECTION = tables.entries.alias("correction")


def not_corrected(upto: int | None = None) -> ColumnElement[bool]:
    """True for an entry no entry corrects (one probe of ``ix_audit_entries_corrects``);
    with ``upto``, no entry up to that position: a reader that stops at the log's size when
    it started counts only the corrections it will show."""
    found = exists().where(_CORRECTION.c.corrects == tables.entries.c.id)
    if upto is not None:
        found = found.where(_CORRECTION.c.seq <= upto)
    return ~found
