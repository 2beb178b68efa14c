"""Civil registry (INSEE/RNIPP-like): the registry's own record of a person, and death.

Besides the record of a known pivot identity, the registry identifies a person from their
traits (birth name, given names, birth date, sex), as the RNIPP does: that is how a person
named by another agency without their birth place (a partner on a CAF file) gets the full
pivot identity the other agencies require. One match only: none is ``NotFound``, several
are ``Ambiguous``, and an answer naming anyone else than the traits is ``UpstreamInvalid``.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any, Literal

from connectors.api_particulier import check_recipient, envelope
from connectors.cache import Cache
from connectors.context import CallContext
from connectors.errors import Ambiguous, Conflict, InvalidInput, UpstreamInvalid
from connectors.fields import Malformed, WrongPerson, day, obj, opt_day, opt_string, string, strings
from connectors.http import UpstreamClient
from connectors.identity import PivotIdentity, normalise_name
from connectors.ours import OurAgency
from connectors.records import CivilStatus, Identification, Provenance
from connectors.source import Answer, Fetcher

AGENCY = "INSEE"
SEARCH_SOURCE = "civil_registry.recherche"
_NAME = re.compile(r"[A-Za-zÀ-ÖØ-öø-ÿ' -]{1,80}")


def parse_civil_status(data: dict[str, Any], provenance: Provenance) -> CivilStatus:
    # The ``identite`` echo is the registry's record itself (already checked to be the person).
    echo = obj(data, "identite")
    born = day(echo, "date_naissance")
    died = opt_day(data, "date_deces")
    if died is not None and died < born:
        raise Malformed("date_deces")
    return CivilStatus(
        birth_name=string(echo, "nom_naissance"),
        usage_name=opt_string(data, "nom_usage"),
        given_names=strings(echo, "prenoms"),
        sex=string(echo, "sexe"),
        birth_date=born,
        birth_place=opt_string(data, "code_cog_insee_commune_naissance"),
        birth_country=string(data, "code_cog_insee_pays_naissance"),
        death_date=died,
        provenance=provenance,
    )


@dataclass(frozen=True)
class Traits:
    """What identifies a person by traits: a pivot identity without its birth place."""

    birth_name: str
    given_names: tuple[str, ...]
    birth_date: date
    sex: Literal["M", "F"]

    def __post_init__(self) -> None:
        provider = "gateway"
        if not _NAME.fullmatch(self.birth_name):
            raise InvalidInput("birth name is empty or has invalid characters", provider=provider)
        if not 1 <= len(self.given_names) <= 3 or not all(
            _NAME.fullmatch(n) for n in self.given_names
        ):
            raise InvalidInput("one to three valid given names are required", provider=provider)
        if self.sex not in ("M", "F"):
            raise InvalidInput("sex must be M or F", provider=provider)
        if not date(1880, 1, 1) <= self.birth_date <= date(2200, 1, 1):
            raise InvalidInput("birth date is out of range", provider=provider)

    def key(self) -> str:
        """Normalised text of the traits: the cache key of a search."""
        return "traits:" + "|".join(
            [
                normalise_name(self.birth_name),
                ",".join(normalise_name(n) for n in self.given_names),
                self.birth_date.isoformat(),
                self.sex,
            ]
        )

    def query_params(self) -> list[tuple[str, str]]:
        return [
            ("nomNaissance", self.birth_name),
            *(("prenoms[]", n) for n in self.given_names),
            ("anneeDateNaissance", str(self.birth_date.year)),
            ("moisDateNaissance", str(self.birth_date.month)),
            ("jourDateNaissance", str(self.birth_date.day)),
            ("sexeEtatCivil", self.sex),
        ]


def parse_identification(
    traits: Traits, data: dict[str, Any], provenance: Provenance
) -> Identification:
    status = parse_civil_status(data, provenance)
    names = {normalise_name(n) for part in status.given_names for n in part.split()}
    if (
        normalise_name(status.birth_name) != normalise_name(traits.birth_name)
        or normalise_name(traits.given_names[0].split()[0]) not in names
        or status.birth_date != traits.birth_date
        or status.sex != traits.sex
    ):
        raise WrongPerson
    try:
        identity = PivotIdentity(
            birth_name=status.birth_name,
            given_names=status.given_names,
            birth_date=status.birth_date,
            sex=traits.sex,
            birth_country=status.birth_country,
            birth_place=status.birth_place,
            usage_name=status.usage_name,
        )
    except InvalidInput:
        # The registry's record must be a valid pivot identity, or nobody can use it.
        raise Malformed("identite") from None
    return Identification(identity, status.death_date, provenance)


class CivilRegistry(OurAgency):
    agency = AGENCY

    def __init__(
        self,
        http: UpstreamClient,
        cache: Cache,
        clock: Callable[[], datetime],
        *,
        ttl: float = 300.0,
    ) -> None:
        super().__init__(http, cache, clock, ttl=ttl)
        self._http = http
        self._searches = Fetcher(cache, clock, ttl)

    async def civil_status(self, identity: PivotIdentity, ctx: CallContext) -> CivilStatus:
        return await self._api.record(
            ("v1", "etat-civil", "identite"),
            identity,
            ctx,
            parse_civil_status,
            source="civil_registry.etat_civil",
        )

    async def find(self, traits: Traits, ctx: CallContext) -> Identification:
        """The one person with these traits, living or dead; ``NotFound`` when nobody has
        them, ``Ambiguous`` when several do."""
        check_recipient(ctx, AGENCY)

        def parse(data: dict[str, Any], provenance: Provenance) -> Identification:
            return parse_identification(traits, data, provenance)

        return await self._searches.record(
            agency=AGENCY,
            source=SEARCH_SOURCE,
            subject_key=traits.key(),
            params=(),
            ctx=ctx,
            fetch=lambda: self._search(traits, ctx),
            parse=parse,
        )

    async def _search(self, traits: Traits, ctx: CallContext) -> Answer:
        params = [("recipient", ctx.recipient), *traits.query_params()]
        try:
            body = await self._http.get_json(
                ("v1", "etat-civil", "recherche"), params, provider=AGENCY
            )
        except Conflict as error:
            # Here a conflict means several persons match the traits.
            raise Ambiguous(
                f"{error.provider}: several persons match", provider=error.provider
            ) from None
        answer = envelope(body, AGENCY)
        if answer.as_of is None:
            raise UpstreamInvalid(f"{AGENCY}: answer without meta.as_of", provider=AGENCY)
        return answer
