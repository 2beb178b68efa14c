"""What every connector call carries besides the person: who receives the data, and when."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date


@dataclass(frozen=True)
class CallContext:
    """``recipient`` is the SIRET of the public body using the data (API Particulier's
    ``recipient``); ``on`` is the reference date statuses are read at; ``no_cache`` skips the
    cache read (the fresh answer is still stored)."""

    recipient: str
    on: date
    no_cache: bool = False
