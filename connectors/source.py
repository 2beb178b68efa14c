"""From an upstream answer to a record: cache, validation, provenance.

Every agency method goes through :meth:`Fetcher.record`: look the answer up in the cache
(unless the caller asked for fresh data), else fetch it; validate it into a record (a
malformed answer or one about another person is ``UpstreamInvalid``), and only then store
it, so the cache never holds an answer that failed validation.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, replace
from datetime import date, datetime
from typing import Any, TypeVar, cast

import orjson

from connectors.cache import Cache, MemoryCache, cache_key
from connectors.context import CallContext
from connectors.errors import UpstreamInvalid
from connectors.fields import Malformed, WrongPerson
from connectors.records import Provenance

log = logging.getLogger(__name__)

T = TypeVar("T")
Data = dict[str, Any]
Parse = Callable[[Data, Provenance], T]


@dataclass(frozen=True)
class Answer:
    data: Data
    as_of: date | None  # None when the agency does not date its data


def validated(parse: Parse[T], data: Data, provenance: Provenance) -> T:
    """Run a parser, turning its findings into the connector error tree."""
    provider = provenance.agency
    try:
        return parse(data, provenance)
    except Malformed as exc:
        raise UpstreamInvalid(
            f"{provider}: malformed answer (field {exc.field})", provider=provider
        ) from None
    except WrongPerson:
        raise UpstreamInvalid(
            f"{provider}: answer about another person", provider=provider
        ) from None


def _as_cached(record: Any) -> Any:
    """The record as a later hit serves it: the same values, marked as coming from the cache
    (every record is a frozen dataclass with its ``provenance``)."""
    return replace(record, provenance=replace(record.provenance, cached=True))


class Fetcher:
    def __init__(self, cache: Cache, clock: Callable[[], datetime], ttl: float) -> None:
        self._cache = cache
        self._clock = clock
        self._ttl = ttl

    async def record(
        self,
        *,
        agency: str,
        source: str,
        subject_key: str,
        params: Sequence[str],
        ctx: CallContext,
        fetch: Callable[[], Awaitable[Answer]],
        parse: Parse[T],
    ) -> T:
        # The recipient is part of the key: an agency must see every recipient that reads
        # a person's data, so one body's fetch never serves another body.
        key = cache_key(source, subject_key, (ctx.recipient, *params))
        memo = self._cache if isinstance(self._cache, MemoryCache) else None
        if not ctx.no_cache:
            if memo is not None:
                # One look: a record kept in this process, or an answer's bytes.
                kept = memo.lookup(key)
                if kept is not None and not isinstance(kept, bytes):
                    return cast(T, kept)
                hit = kept
            else:
                hit = await self._cache.get(key)
            if hit is not None:
                record = self._from_cache(hit, agency, source, parse)
                if record is not None:
                    return record
        answer = await fetch()
        retrieved_at = self._clock()
        as_of = answer.as_of or retrieved_at.date()
        provenance = Provenance(agency, source, as_of, retrieved_at)
        record = validated(parse, answer.data, provenance)
        if memo is not None:
            memo.set_record(key, _as_cached(record), self._ttl)
        else:
            entry = {"data": answer.data, "as_of": as_of, "retrieved_at": retrieved_at}
            await self._cache.set(key, orjson.dumps(entry), self._ttl)
        return record

    def _from_cache(self, raw: bytes, agency: str, source: str, parse: Parse[T]) -> T | None:
        try:
            entry = orjson.loads(raw)
            provenance = Provenance(
                agency,
                source,
                date.fromisoformat(entry["as_of"]),
                datetime.fromisoformat(entry["retrieved_at"]),
                cached=True,
            )
            return validated(parse, entry["data"], provenance)
        except UpstreamInvalid:
            # Cached for the same person, so this only happens across a code change that
            # tightened validation: fetch afresh rather than fail.
            log.info("cache entry for %s no longer valid, refetching", source)
        except (orjson.JSONDecodeError, KeyError, TypeError, ValueError):
            log.warning("unreadable cache entry for %s, refetching", source)
        return None
