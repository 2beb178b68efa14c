"""MESRI student status through API Particulier: is the person enrolled in higher education.

Two modes, like the DSS statuses: the pivot identity (``/identite``) or the citizen's
FranceConnect token (``/france_connect``). The identity mode takes ONE given name and no
birth country: a person born abroad is named by the COG code of their country (``99xxx``)
in ``codeCogInseeCommuneNaissance``.

"No student found" (404, code 25003, provider MESRI) is the MESRI's answer for everyone it
has no admission for: it is an answer, "not a student", not a failure. It is read as a
status with no admission, so that the RSA's student condition can be evaluated for the
many people who are not students. The MESRI knows the establishments that report to it; a
student of another one reads as not a student, which is what the gateway assumed before it
asked (the RSA may then be suggested to them, never hidden from someone entitled).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import date, datetime
from typing import Any

from connectors.api_particulier import ApiParticulier, by_subject
from connectors.cache import Cache
from connectors.context import CallContext
from connectors.errors import NotFound
from connectors.fields import (
    Malformed,
    WrongPerson,
    boolean,
    day,
    obj,
    objects,
    opt_obj,
    opt_string,
    string,
)
from connectors.http import UpstreamClient
from connectors.identity import (
    FRANCE,
    PivotIdentity,
    Subject,
    normalise_name,
)
from connectors.records import INITIAL_TRAINING, Admission, Provenance, StudentStatus
from connectors.source import Answer, Fetcher
from connectors.url import Params

AGENCY = "MESRI"
SOURCE = "api_particulier.mesri.statut_etudiant"
ROUTE = ("v3", "mesri", "statut_etudiant")
NO_STUDENT = "25003"  # "Aucun étudiant n'a pu être trouvé avec les critères de recherche fournis."


def query_params(identity: PivotIdentity) -> list[tuple[str, str]]:
    """The MESRI's civility parameters: the first given name only, the birth commune or, for
    a person born abroad, the country's COG code in its place."""
    born = identity.birth_date
    return [
        ("nomNaissance", identity.birth_name),
        ("prenoms[]", identity.given_names[0]),
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
    """One call; the MESRI's "no student found" becomes an answer without admissions."""
    try:
        return await api.call(segments, params, provider=AGENCY, bearer=bearer)
    except NotFound as exc:
        if exc.provider == AGENCY and NO_STUDENT in exc.codes:
            return Answer({"admissions": []}, None)
        raise


def _admission(d: dict[str, Any]) -> Admission:
    start, end = day(d, "date_debut"), day(d, "date_fin")
    if end < start:
        raise Malformed("admissions.date_fin")
    regime = opt_obj(d, "regime_formation") or {}
    establishment = opt_obj(d, "etablissement_etudes") or {}
    return Admission(
        start=start,
        end=end,
        enrolled=boolean(d, "est_inscrit"),
        regime_code=opt_string(regime, "code"),
        regime_label=opt_string(regime, "libelle"),
        cog_commune=opt_string(d, "code_cog_insee_commune"),
        establishment_uai=opt_string(establishment, "uai"),
        establishment_name=opt_string(establishment, "nom"),
    )


def _about(identity: PivotIdentity, echoed: dict[str, Any]) -> bool:
    """The MESRI echoes one given name, which may hold spaces ("Marie Davida")."""
    given = normalise_name(string(echoed, "prenom"))
    first = normalise_name(identity.given_names[0])
    return (
        normalise_name(string(echoed, "nom_naissance")) == normalise_name(identity.birth_name)
        and (given == first or first in given.split())
        and day(echoed, "date_naissance") == identity.birth_date
    )


def parse_status(
    subject: Subject, on: date, data: dict[str, Any], provenance: Provenance
) -> StudentStatus:
    admissions = tuple(sorted(map(_admission, objects(data, "admissions")), key=lambda a: a.start))
    # The identity mode echoes who the MESRI found; an answer without any admission (no
    # student found) holds nobody's data, and the FranceConnect mode names the token's owner.
    if isinstance(subject, PivotIdentity) and admissions:
        if not _about(subject, obj(data, "identite")):
            raise WrongPerson
    current = [a for a in admissions if a.enrolled and a.covers(on)]
    return StudentStatus(
        registered=bool(current),
        in_initial_training=any(a.regime_code in INITIAL_TRAINING for a in current),
        admissions=admissions,
        provenance=provenance,
    )


class Mesri:
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

    async def student_status(self, subject: Subject, ctx: CallContext) -> StudentStatus:
        """Whether the person is enrolled on ``ctx.on``, with the admissions the MESRI holds."""

        def parse(data: dict[str, Any], provenance: Provenance) -> StudentStatus:
            return parse_status(subject, ctx.on, data, provenance)

        return await self._fetcher.record(
            agency=AGENCY,
            source=SOURCE,
            subject_key=subject.key(),
            params=(ctx.on.isoformat(),),
            ctx=ctx,
            fetch=lambda: self._fetch(subject, ctx),
            parse=parse,
        )
