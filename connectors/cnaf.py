"""CNAF/MSA statuses through API Particulier's DSS hub: RSA, PPA, AAH, ASF, CSS, QF."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from datetime import datetime
from typing import Any

from connectors.api_particulier import ApiParticulier
from connectors.cache import Cache
from connectors.context import CallContext
from connectors.errors import InvalidInput
from connectors.fields import (
    Malformed,
    WrongPerson,
    boolean,
    choice,
    integer,
    obj,
    objects,
    opt_boolean,
    opt_day,
    opt_integer,
    opt_obj,
    opt_string,
    partial_day,
    string,
)
from connectors.http import UpstreamClient
from connectors.identity import PivotIdentity, Subject
from connectors.records import (
    BenefitStatus,
    CssStatus,
    FamilyQuotient,
    HouseholdMember,
    PostalAddress,
    Provenance,
)
from connectors.resemblance import resembles
from connectors.source import Fetcher

AGENCY = "CNAF"
BENEFITS = {
    "rsa": "revenu_solidarite_active",
    "ppa": "prime_activite",
    "aah": "allocation_adulte_handicape",
    "asf": "allocation_soutien_familial",
}
# Only RSA and PPA have an increased amount ("majoration"); AAH and ASF answers omit it.
_WITH_INCREASE = frozenset({"rsa", "ppa"})
CSS = "complementaire_sante_solidaire"
QF = "quotient_familial"
_REGIMES = {"CNAF": "CNAF", "MSA": "MSA"}


def source_of(endpoint: str) -> str:
    return "api_particulier.dss." + endpoint


def parse_benefit(benefit: str, data: dict[str, Any], provenance: Provenance) -> BenefitStatus:
    return BenefitStatus(
        benefit=benefit,
        receiving=boolean(data, "est_beneficiaire"),
        since=opt_day(data, "date_debut_droit"),
        with_increase=opt_boolean(data, "avec_majoration") if benefit in _WITH_INCREASE else None,
        provenance=provenance,
    )


def parse_css(data: dict[str, Any], provenance: Provenance) -> CssStatus:
    return CssStatus(
        receiving=boolean(data, "est_beneficiaire"),
        with_participation=opt_boolean(data, "avec_participation"),
        since=opt_day(data, "date_debut_droit"),
        until=None,  # API Particulier v3 gives no end date; CNAM's renewal date is separate
        provenance=provenance,
    )


def _member(d: dict[str, Any]) -> HouseholdMember:
    return HouseholdMember(
        birth_name=string(d, "nom_naissance"),
        usage_name=opt_string(d, "nom_usage"),
        given_names=string(d, "prenoms"),
        birth_date=partial_day(d, "date_naissance"),
        sex=opt_string(d, "sexe"),
    )


def _part(d: dict[str, Any], key: str) -> str | None:
    value = opt_string(d, key)
    return value.strip() or None if value is not None else None


def _address(d: dict[str, Any] | None) -> PostalAddress | None:
    if d is None:
        return None
    keys = (
        "destinataire",
        "complement_information",
        "complement_information_geographique",
        "numero_libelle_voie",
        "lieu_dit",
    )
    lines = [v for v in (opt_string(d, k) for k in keys) if v]
    town = opt_string(d, "code_postal_ville")
    postal_code, city = None, None
    if town:
        lines.append(town)
        head, _, tail = town.partition(" ")
        if head.isdigit() and len(head) == 5:
            postal_code, city = head, tail or None
    return PostalAddress(
        tuple(lines),
        postal_code,
        city,
        None,
        opt_string(d, "pays"),
        recipient=_part(d, "destinataire"),
        complement=_part(d, "complement_information"),
        building=_part(d, "complement_information_geographique"),
        street=_part(d, "numero_libelle_voie"),
        locality=_part(d, "lieu_dit"),
    )


def parse_family_quotient(data: dict[str, Any], provenance: Provenance) -> FamilyQuotient:
    qf = obj(data, "quotient_familial")
    regime = choice(qf, "fournisseur", _REGIMES)
    month = integer(qf, "mois")
    if not 1 <= month <= 12:
        raise Malformed("quotient_familial.mois")
    # When the agency computed the quotient (it may recompute an old month later).
    computed_year = opt_integer(qf, "annee_calcul")
    computed_month = opt_integer(qf, "mois_calcul")
    if computed_month is not None and not 1 <= computed_month <= 12:
        raise Malformed("quotient_familial.mois_calcul")
    return FamilyQuotient(
        regime=regime,
        value=integer(qf, "valeur"),
        year=integer(qf, "annee"),
        month=month,
        claimants=tuple(_member(m) for m in objects(data, "allocataires")),
        children=tuple(_member(m) for m in objects(data, "enfants")),
        address=_address(opt_obj(data, "adresse")),
        provenance=replace(provenance, agency=regime),
        computed_year=computed_year,
        computed_month=computed_month,
    )


def _about(identity: PivotIdentity, qf: FamilyQuotient) -> bool:
    """Whether the file is the person's: one member is them, within the agency's own
    tolerance for misspelt given names (:mod:`connectors.resemblance`)."""
    return any(
        resembles(identity, m.birth_name, m.given_names, m.birth_date, m.sex)
        for m in (*qf.claimants, *qf.children)
    )


class Cnaf:
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

    async def benefit(self, subject: Subject, benefit: str, ctx: CallContext) -> BenefitStatus:
        endpoint = BENEFITS.get(benefit)
        if endpoint is None:
            raise InvalidInput("unknown benefit", provider=AGENCY)

        def parse(data: dict[str, Any], provenance: Provenance) -> BenefitStatus:
            return parse_benefit(benefit, data, provenance)

        return await self._fetcher.record(
            agency=AGENCY,
            source=source_of(endpoint),
            subject_key=subject.key(),
            params=(),
            ctx=ctx,
            fetch=lambda: self._api.dss(endpoint, subject, ctx, provider=AGENCY),
            parse=parse,
        )

    async def css(self, subject: Subject, ctx: CallContext) -> CssStatus:
        return await self._fetcher.record(
            agency=AGENCY,
            source=source_of(CSS),
            subject_key=subject.key(),
            params=(),
            ctx=ctx,
            fetch=lambda: self._api.dss(CSS, subject, ctx, provider=AGENCY),
            parse=parse_css,
        )

    async def family_quotient(
        self,
        subject: Subject,
        ctx: CallContext,
        *,
        year: int | None = None,
        month: int | None = None,
    ) -> FamilyQuotient:
        """The QF of ``year``/``month`` when given (both), else the agency's latest."""
        extra: list[tuple[str, str]] = []
        if (year is None) != (month is None):
            raise InvalidInput("give both year and month of the quotient", provider=AGENCY)
        if year is not None and month is not None:
            if not (1900 <= year <= 2200 and 1 <= month <= 12):
                raise InvalidInput("quotient year or month out of range", provider=AGENCY)
            extra = [("annee", str(year)), ("mois", str(month))]

        def parse(data: dict[str, Any], provenance: Provenance) -> FamilyQuotient:
            qf = parse_family_quotient(data, provenance)
            # With a FranceConnect token the agency identified the citizen itself.
            if isinstance(subject, PivotIdentity) and not _about(subject, qf):
                raise WrongPerson
            return qf

        return await self._fetcher.record(
            agency=AGENCY,
            source=source_of(QF),
            subject_key=subject.key(),
            params=[v for _, v in extra],
            ctx=ctx,
            fetch=lambda: self._api.dss(QF, subject, ctx, provider=AGENCY, extra=extra),
            parse=parse,
        )
