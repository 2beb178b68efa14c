"""The project's own agency APIs (GIP-MDS, DGFiP, CNAV, CNAM, housing, civil registry).

They follow API Particulier's conventions (pivot-identity parameters, ``recipient``,
``{data, links, meta}``) plus two rules checked here for every answer: ``meta.as_of`` dates
the data, and ``data.identite`` echoes who the answer is about, which must be the person
asked.
"""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable, Sequence
from datetime import datetime
from typing import Any, ClassVar, TypeVar

from connectors.api_particulier import check_recipient, envelope
from connectors.cache import Cache
from connectors.context import CallContext
from connectors.errors import InvalidInput, UpstreamInvalid
from connectors.fields import WrongPerson, day, obj, string, strings
from connectors.http import UpstreamClient
from connectors.identity import PivotIdentity
from connectors.records import Provenance
from connectors.source import Answer, Fetcher
from connectors.url import Params

T = TypeVar("T")
MAX_MONTHS = 24
_MONTH = re.compile(r"([0-9]{4})-(0[1-9]|1[0-2])")


def month_window(first: str, last: str, provider: str) -> list[tuple[str, str]]:
    """``moisDebut``/``moisFin`` for ``first``..``last`` (``YYYY-MM``, at most 24 months)."""
    a, b = _MONTH.fullmatch(first), _MONTH.fullmatch(last)
    if a is None or b is None:
        raise InvalidInput("months must be YYYY-MM", provider=provider)
    span = (int(b[1]) * 12 + int(b[2])) - (int(a[1]) * 12 + int(a[2])) + 1
    if not 1 <= span <= MAX_MONTHS:
        raise InvalidInput(
            f"the month window must span 1 to {MAX_MONTHS} months", provider=provider
        )
    return [("moisDebut", first), ("moisFin", last)]


def check_echo(identity: PivotIdentity, data: dict[str, Any]) -> dict[str, Any]:
    """The ``identite`` echo, after checking it names the person asked."""
    echo = obj(data, "identite")
    birth_date = day(echo, "date_naissance").isoformat()
    names = list(strings(echo, "prenoms"))
    sex = string(echo, "sexe")
    if not names or not identity.matches(string(echo, "nom_naissance"), names, birth_date):
        raise WrongPerson
    if sex != identity.sex:
        raise WrongPerson
    return echo


class OurApi:
    """Shared plumbing of one of our agencies: each agency module adds its parser."""

    def __init__(
        self,
        http: UpstreamClient,
        cache: Cache,
        clock: Callable[[], datetime],
        *,
        agency: str,
        ttl: float,
    ) -> None:
        self.agency = agency
        self._http = http
        self._fetcher = Fetcher(cache, clock, ttl)

    async def record(
        self,
        segments: Sequence[str],
        identity: PivotIdentity,
        ctx: CallContext,
        parse: Callable[[dict[str, Any], Provenance], T],
        *,
        source: str,
        extra: Sequence[tuple[str, str]] = (),
    ) -> T:
        check_recipient(ctx, self.agency)

        def checked(data: dict[str, Any], provenance: Provenance) -> T:
            check_echo(identity, data)
            return parse(data, provenance)

        return await self._fetcher.record(
            agency=self.agency,
            source=source,
            subject_key=identity.key(),
            params=[v for _, v in extra],
            ctx=ctx,
            fetch=lambda: self._fetch(segments, identity, ctx, extra),
            parse=checked,
        )

    def _fetch(
        self,
        segments: Sequence[str],
        identity: PivotIdentity,
        ctx: CallContext,
        extra: Sequence[tuple[str, str]],
    ) -> Awaitable[Answer]:
        return self._get(segments, [("recipient", ctx.recipient), identity.query(), *extra])

    async def _get(self, segments: Sequence[str], params: Params) -> Answer:
        body = await self._http.get_json(segments, params, provider=self.agency)
        answer = envelope(body, self.agency)
        if answer.as_of is None:
            raise UpstreamInvalid(f"{self.agency}: answer without meta.as_of", provider=self.agency)
        return answer


class OurAgency:
    """Base of each of our agencies' connectors: they differ by name, paths and parsers."""

    agency: ClassVar[str]

    def __init__(
        self,
        http: UpstreamClient,
        cache: Cache,
        clock: Callable[[], datetime],
        *,
        ttl: float = 300.0,
    ) -> None:
        self._api = OurApi(http, cache, clock, agency=self.agency, ttl=ttl)
