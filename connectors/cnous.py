"""CNOUS student grant status through API Particulier: does the person hold a grant.

The CNOUS states whether a student holds a higher-education grant on social criteria
("statut étudiant boursier"): the grant's échelon ("0bis" to "7", with a flag when a
regional grant's échelon is still provisional), the first day of the academic year it is
paid from (``date_rentree``) and for how many months (``duree``), and the establishment and
commune where the person studies.

Two modes, like the MESRI's student status: the pivot identity (``/identite``) or the
citizen's FranceConnect token (``/france_connect``). The identity mode takes up to three
given names (``prenoms[]``) and no birth country. The spec has no parameter for a person
born abroad (it asks to leave the birth-commune parameters out for them); like the MESRI
connector, the gateway then sends the birth country's COG code (``99xxx``) in
``codeCogInseeCommuneNaissance``, which is how API Particulier asks callers to name a birth
place abroad by its COG code. The identity mode echoes who the CNOUS found (``identite``),
checked against the person asked.

API Particulier marks these v3 routes deprecated in favour of v4, whose answer also tells a
grant withdrawn during the year (``est_radie``, ``date_radiation``); v3 does not.

"No grant holder found" (404, code 26003, provider CNOUS) is the CNOUS's answer for
everyone who holds no grant: it is an answer, "not a grant holder", not a failure.

The answer also carries the student's e-mail address. The gateway has no use for it and
drops it as the answer arrives, before validation and before the cache (data
minimisation): no record, cache entry or log holds it.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime
from typing import Any

from connectors.api_particulier import ApiParticulier, by_subject
from connectors.cache import Cache
from connectors.context import CallContext
from connectors.errors import NotFound
from connectors.fields import (
    Malformed,
    WrongPerson,
    boolean,
    choice,
    day,
    number,
    obj,
    string,
    strings,
)
from connectors.http import UpstreamClient
from connectors.identity import (
    FRANCE,
    PivotIdentity,
    Subject,
    normalise_name,
)
from connectors.records import Provenance, StudentGrant
from connectors.source import Answer, Fetcher
from connectors.url import Params

AGENCY = "CNOUS"
SOURCE = "api_particulier.cnous.etudiant_boursier"
ROUTE = ("v3", "cnous", "etudiant_boursier")
# "Aucun étudiant boursier n'a pu être trouvé avec les critères de recherche fournis."
NO_GRANT_HOLDER = "26003"
ECHELONS = {e: e for e in ("0bis", "1", "2", "3", "4", "5", "6", "7")}
# Kept out of the answer as soon as it arrives (data minimisation).
DROPPED = frozenset({"email"})


def query_params(identity: PivotIdentity) -> list[tuple[str, str]]:
    """The CNOUS's civility parameters: every given name (up to three), the birth commune or,
    for a person born abroad, the country's COG code in its place (the spec has no birth
    country parameter)."""
    born = identity.birth_date
    return [
        ("nomNaissance", identity.birth_name),
        *(("prenoms[]", name) for name in identity.given_names[:3]),
        ("anneeDateNaissance", str(born.year)),
        ("moisDateNaissance", str(born.month)),
        ("jourDateNaissance", str(born.day)),
        ("sexeEtatCivil", identity.sex),
        (
            "codeCogInseeCommuneNaissance",
            identity.birth_place
            if identity.birth_country == FRANCE and identity.birth_place
            else identity.birth_country,
        ),
    ]


async def read(
    api: ApiParticulier, segments: Sequence[str], params: Params, bearer: str | None = None
) -> Answer:
    """One call; the CNOUS's "no grant holder found" becomes an answer "not a grant holder",
    and the e-mail address is dropped before anything else sees the answer."""
    try:
        answer = await api.call(segments, params, provider=AGENCY, bearer=bearer)
    except NotFound as exc:
        if exc.provider == AGENCY and NO_GRANT_HOLDER in exc.codes:
            return Answer({"est_boursier": False}, None)
        raise
    kept = {key: value for key, value in answer.data.items() if key not in DROPPED}
    return Answer(kept, answer.as_of)


def _months(d: dict[str, Any], key: str) -> int:
    """A number of months: the spec types it as a number; only a positive whole one is, and
    at most twelve (the answer describes one academic year's grant)."""
    value = number(d, key)
    if not value.is_integer() or not 1 <= value <= 12:
        raise Malformed(key)
    return int(value)


def _about(identity: PivotIdentity, echoed: dict[str, Any]) -> bool:
    """The CNOUS echoes every given name it holds, each possibly with spaces ("Marie
    Davida"): the first given name asked must be one of them, or a word of one."""
    names = [normalise_name(n) for n in strings(echoed, "prenoms")]
    words = {w for n in names for w in n.split()}
    first = normalise_name(identity.given_names[0])
    return (
        normalise_name(string(echoed, "nom")) == normalise_name(identity.birth_name)
        and (first in names or first in words)
        and day(echoed, "date_naissance") == identity.birth_date
    )


def parse_grant(subject: Subject, data: dict[str, Any], provenance: Provenance) -> StudentGrant:
    holder = boolean(data, "est_boursier")
    # The identity mode echoes who the CNOUS found: required with a grant, checked whenever
    # given. "No grant holder found" holds nobody's data, and the FranceConnect mode names
    # the token's owner.
    if isinstance(subject, PivotIdentity) and (holder or "identite" in data):
        if not _about(subject, obj(data, "identite")):
            raise WrongPerson
    if not holder:
        return StudentGrant(
            holder=False,
            echelon=None,
            regional_provisional=False,
            start=None,
            months=None,
            establishment_name=None,
            establishment_commune=None,
            provenance=provenance,
        )
    period = obj(data, "periode_versement_bourse")
    grade = obj(data, "echelon_bourse")
    establishment = obj(data, "etablissement_etudes")
    return StudentGrant(
        holder=True,
        echelon=choice(grade, "echelon", ECHELONS),
        regional_provisional=boolean(grade, "echelon_bourse_regionale_provisoire"),
        start=day(period, "date_rentree"),
        months=_months(period, "duree"),
        establishment_name=string(establishment, "nom_etablissement"),
        establishment_commune=string(establishment, "nom_commune"),
        provenance=provenance,
    )


class Cnous:
    def __init__(
        self,
        http: UpstreamClient,
        cache: Cache,
        clock: Callable[[], datetime],
        *,
        ttl: float = 300.0,
    ) -> None:
        self._api = ApiParticulier(http)
        self._fetcher = Fetcher(cache, clock, ttl)

    async def _fetch(self, subject: Subject, ctx: CallContext) -> Answer:
        return await by_subject(
            self._api,
            ROUTE,
            subject,
            ctx,
            provider=AGENCY,
            identity_params=query_params,
            read=read,
        )

    async def student_grant(self, subject: Subject, ctx: CallContext) -> StudentGrant:
        """Whether the person holds a grant, its échelon and payment period, as the CNOUS
        states it. The answer does not depend on the day asked (``paid_in`` tells the
        months), so it is cached without it."""

        def parse(data: dict[str, Any], provenance: Provenance) -> StudentGrant:
            return parse_grant(subject, data, provenance)

        return await self._fetcher.record(
            agency=AGENCY,
            source=SOURCE,
            subject_key=subject.key(),
            params=(),
            ctx=ctx,
            fetch=lambda: self._fetch(subject, ctx),
            parse=parse,
        )
