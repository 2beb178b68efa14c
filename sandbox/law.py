"""The sandbox's truth: what the law gives each household, computed from its true facts.

One vectorised OpenFisca-France simulation (176.1.8, the release the gateway runs) over every
generated household, fed the facts the generator drew, not what any agency serves about them:

- the foyer: the household, adults as demandeur and conjoint, children as enfants; married
  and PACS partners share a tax household, other partners file their own;
- month by month from January of year N-2 (the family benefits read that year's incomes) to
  the reference month, the reference month included (agencies do not declare it yet): net
  social and net taxable salaries, unemployment benefits and pensions as paid, gross
  pensions (the ASPA counts them), the AAH and the ASF the CAF pays, student status, the
  CNOUS grant (``boursier`` in the months it is paid, by the CNOUS view's own rule: a
  grant holder's housing aid counts a lower flat amount of resources), and France
  Travail's registration as the ``chomeur`` activity (the CSS's abatement on the salaries
  of an indemnified job seeker, CSS art. R861-8);
- the dwelling (occupancy, rent, commune and its official housing zone) and the housing aid
  the CAF actually pays, for every month: the RSA, PPA and CSS housing flat rates read it.
  That aid is itself the law's (``housing_aid_by_law``, the same facts), paid to the
  households that asked for it.

Self-employed persons are micro-entrepreneurs: their monthly turnover is fed by activity
category to OpenFisca's ``rpns_auto_entrepreneur_CA_*``, from which it deducts the category's
flat allowance (CGI art. 50-0, 102 ter) for the RSA, the PPA, the CSS and the ASPA. The yearly
assessment of other self-employed profits (CASF R262-19 and following) is not modelled, nor
their taxable profit of year N-2 (the housing aid's base, which OpenFisca reads from the tax
return's boxes). The ASS is not simulated (France
Travail's payments are the ``allocation_chomage`` streams).

What is read back, per household: the RSA and the prime d'activité of the reference month,
the ASPA and who in the household is of ASPA age, and the CSS tier (free, with participation,
none) of each of the twelve months that end with the reference month, so that a CSS right
can carry the tier it was granted with.
"""

from __future__ import annotations

import functools
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np

from sandbox.draft import HouseholdDraft, PersonDraft
from sandbox.gazetteer import COMMUNE_BY_COG
from sandbox.months import first_day, last_day, month_of, month_text

CssTier = Literal["free", "participation", "none"]
CSS_MONTHS = 12  # months of CSS tiers read back, the last one the reference month
# The CSS resource ceiling of one person in metropolitan France from 1 April 2025: 10,339 € a
# year (10,166 € before), revalued by 1.7 % (CSS art. L861-1; arrêté of 28 March 2025,
# JORF of 29 March 2025). OpenFisca-France 176.1.8 stops at 10,166 € from 2024-04-01.
# https://www.legifrance.gouv.fr/codes/article_lc/LEGIARTI000041400590
CSS_CEILING_2025 = 10339.0

_SYSTEM: Any = None
# Stream nature → (net social variable, net taxable variable).
_INCOME_VARIABLES = {
    "salaire": ("salaire_net", "salaire_imposable"),
    "allocation_chomage": ("chomage_net", "chomage_imposable"),
    "pension": ("retraite_nette", "retraite_imposable"),
}
# A micro-entrepreneur's turnover by activity category (``revenu_independant`` streams).
_TURNOVER_VARIABLES = {
    "bic_vente": "rpns_auto_entrepreneur_CA_achat_revente",
    "bic_services": "rpns_auto_entrepreneur_CA_bic",
    "bnc": "rpns_auto_entrepreneur_CA_bnc",
}
_INDIVIDUAL_AMOUNTS = (
    *_TURNOVER_VARIABLES.values(),
    "salaire_net",
    "salaire_imposable",
    "chomage_net",
    "chomage_imposable",
    "retraite_nette",
    "retraite_imposable",
    "retraite_brute",
    "aah",
    "ass",
)
_OCCUPANCY = {
    "locataire": "locataire_vide",
    "locataire_meuble": "locataire_meuble",
    "proprietaire": "proprietaire",
    "heberge_gratuit": "loge_gratuitement",
    "sans_domicile": "sans_domicile",
}
# Months before January of year N-2 that OpenFisca may still read (yearly tax bases): fed
# as zeros, which is cheap, rather than rebuilt from default gross amounts.
_ZERO_MONTHS = 72


@dataclass(frozen=True, slots=True)
class HouseholdLaw:
    """What the law gives one household for the reference month (monthly euros)."""

    rsa: float
    ppa: float
    aspa: float
    aspa_age: tuple[int, ...]  # person indices of the adults of ASPA age
    css: tuple[CssTier, ...]  # the CSS tier of each of the CSS_MONTHS months, oldest first

    @property
    def css_now(self) -> CssTier:
        return self.css[-1]


def _css_ceiling(parameters: Any) -> Any:
    from openfisca_core import periods

    cmu = parameters.prestations_sociales.solidarite_insertion.minima_sociaux.cs.cmu
    cmu.plafond_base.update(start=periods.instant("2025-04-01"), value=CSS_CEILING_2025)
    return parameters


def system() -> Any:
    """OpenFisca-France with the CSS ceiling of 2025; built once a process."""
    global _SYSTEM
    if _SYSTEM is None:
        from openfisca_core.reforms import Reform
        from openfisca_france import FranceTaxBenefitSystem

        class _Ceiling(Reform):  # type: ignore[misc]  # openfisca is untyped
            name = "CSS resource ceiling revalued on 1 April 2025"

            def apply(self) -> None:
                self.modify_parameters(modifier_function=_css_ceiling)

        _SYSTEM = _Ceiling(FranceTaxBenefitSystem())
    return _SYSTEM


def _declare(households: Sequence[HouseholdDraft]) -> tuple[Any, list[int]]:
    """The simulation with its four entities, and its persons' indices in its row order
    (each household's adults, then its children)."""
    from openfisca_core.simulation_builder import SimulationBuilder

    order: list[int] = []
    families: list[str] = []
    family_roles: list[str] = []
    dwelling_roles: list[str] = []
    foyers: list[str] = []
    foyer_roles: list[str] = []
    foyer_ids: list[str] = []
    for h in households:
        foyer_ids.append(f"f{h.id}")
        joint = h.situation in ("marie", "pacse")
        for rank, index in enumerate(h.adults):
            order.append(index)
            families.append(f"g{h.id}")
            family_roles.append("demandeur" if rank == 0 else "conjoint")
            dwelling_roles.append("personne_de_reference" if rank == 0 else "conjoint")
            if rank > 0 and not joint:
                foyers.append(f"f{h.id}b")
                foyer_ids.append(f"f{h.id}b")
                foyer_roles.append("declarant_principal")
            else:
                foyers.append(f"f{h.id}")
                foyer_roles.append("declarant_principal" if rank == 0 else "conjoint")
        for index in h.children:
            order.append(index)
            families.append(f"g{h.id}")
            family_roles.append("enfant")
            dwelling_roles.append("enfant")
            foyers.append(f"f{h.id}")
            foyer_roles.append("personne_a_charge")
    builder = SimulationBuilder()
    builder.create_entities(system())
    builder.declare_person_entity("individu", [str(i) for i in order])
    group_ids = [f"g{h.id}" for h in households]
    members = np.array(families)
    entity = builder.declare_entity("famille", group_ids)
    builder.join_with_persons(entity, members, family_roles)
    entity = builder.declare_entity("menage", group_ids)
    builder.join_with_persons(entity, members, dwelling_roles)
    entity = builder.declare_entity("foyer_fiscal", foyer_ids)
    builder.join_with_persons(entity, np.array(foyers), foyer_roles)
    simulation = builder.build(system())
    simulation.trace = False
    return simulation, order


def _feed_persons(
    simulation: Any, persons: Sequence[PersonDraft], order: list[int], months: range
) -> None:
    first = months[0]
    count = len(order)
    births = [persons[i].identity.date_naissance for i in order]
    simulation.set_input("date_naissance", "ETERNITY", np.array(births, dtype="datetime64[D]"))
    amounts = {
        name: np.zeros((count, len(months)), dtype=np.float32) for name in _INDIVIDUAL_AMOUNTS
    }
    student = np.zeros(count, dtype=bool)
    activity = np.full((count, len(months)), "inactif", dtype=object)

    def paid(table: np.ndarray, row: int, start: int | None, end: int | None, value: float) -> None:
        lo = 0 if start is None else max(0, start - first)
        hi = len(months) if end is None else min(len(months), end - first + 1)
        if lo < hi:
            table[row, lo:hi] += value

    for row, index in enumerate(order):
        person = persons[index]
        student[row] = person.activity == "etudiant"
        for stream in person.streams:
            if stream.nature == "revenu_independant":
                if stream.category is None:
                    raise ValueError("a self-employed turnover without its activity category")
                turnover = _TURNOVER_VARIABLES[stream.category]
                paid(amounts[turnover], row, stream.start, stream.end, stream.net_social)
                continue
            net, taxable = _INCOME_VARIABLES[stream.nature]
            paid(amounts[net], row, stream.start, stream.end, stream.net_social)
            paid(amounts[taxable], row, stream.start, stream.end, stream.net_fiscal)
        for pension in person.pensions:
            paid(
                amounts["retraite_brute"], row, month_of(pension.since), None, pension.monthly_gross
            )
        aah = person.rights.get("aah")
        if aah is not None and aah.amount is not None:
            # The full AAH of each month (revalued every April, CSS L821-3), not the amount
            # on the CAF's record today: the recipients have no income of their own.
            start = max(first, month_of(aah.since))
            for column in range(start - first, len(months)):
                amounts["aah"][row, column] += _aah_rate(months[column])
        seeker = person.job_seeker
        if seeker is not None:
            # A month is a job seeker's when the registration covers any day of it.
            for column, month in enumerate(months):
                if seeker.since <= last_day(month) and (
                    seeker.until is None or seeker.until >= first_day(month)
                ):
                    activity[row, column] = "chomeur"
    # Imported here: the CNOUS view reads the population module, which runs this one.
    from sandbox.agencies.cnous_view import paid_table

    grants = paid_table([persons[i] for i in order], months)
    zeros = np.zeros(count, dtype=np.float32)
    for month in range(first - _ZERO_MONTHS, first):
        for name in _INDIVIDUAL_AMOUNTS:
            simulation.set_input(name, month_text(month), zeros)
    for column, month in enumerate(months):
        period = month_text(month)
        for name, table in amounts.items():
            simulation.set_input(name, period, table[:, column])
        simulation.set_input("etudiant", period, student)
        simulation.set_input("boursier", period, grants[:, column])
        simulation.set_input("activite", period, activity[:, column].astype(str))


def _feed_households(
    simulation: Any,
    persons: Sequence[PersonDraft],
    households: Sequence[HouseholdDraft],
    months: range,
    housing_aid: bool,
) -> None:
    first = months[0]
    size = len(households)
    asf = np.zeros((size, len(months)), dtype=np.float32)
    # The ASF paid each month is that month's rate (revalued every April: CSS art. L523-1,
    # D523-7), not the amount on the CAF's record today: counted at today's rate over the
    # past year, a household just above a ceiling would look to the law richer than it was.
    rates = np.array([_asf_rate(month) for month in months], dtype=np.float32)
    aid = np.zeros(size, dtype=np.float32)
    rents = np.zeros(size, dtype=np.float32)
    status = []
    depcom = []
    zones = []
    for row, h in enumerate(households):
        for index in h.adults:
            right = persons[index].rights.get("asf")
            if right is not None and right.amount is not None:
                lo = max(0, month_of(right.since) - first)
                asf[row, lo:] += rates[lo:]
        housing = h.housing
        assert housing is not None
        status.append(_OCCUPANCY[housing.occupancy])
        rents[row] = housing.rent or 0.0
        aid[row] = housing.aid_amount or 0.0
        depcom.append(h.address.commune)
        zones.append(f"zone_{COMMUNE_BY_COG[h.address.commune].zone}")
    for column, month in enumerate(months):
        period = month_text(month)
        simulation.set_input("asf", period, asf[:, column])
        simulation.set_input("statut_occupation_logement", period, np.array(status))
        simulation.set_input("loyer", period, rents)
        simulation.set_input("depcom", period, np.array(depcom))
        simulation.set_input("zone_apl", period, np.array(zones))
        if housing_aid:
            simulation.set_input("aide_logement", period, aid)


@functools.cache
def _aah_rate(month: int) -> float:
    """The full AAH in ``month`` (OpenFisca's parameter)."""
    aah = system().parameters.prestations_sociales.prestations_etat_de_sante.invalidite.aah
    return float(aah.montant(first_day(month).isoformat()))


def _asf_rate(month: int) -> float:
    """The full-rate ASF for one child in ``month`` (OpenFisca's BMAF times its rate)."""
    on = first_day(month).isoformat()
    family = system().parameters.prestations_sociales.prestations_familiales
    rate = family.education_presence_parentale.asf.montant_asf.orphelin_assimile_seul_parent
    return round(float(family.bmaf.bmaf(on)) * float(rate(on)), 2)


def _simulation(
    persons: Sequence[PersonDraft],
    households: Sequence[HouseholdDraft],
    reference: int,
    housing_aid: bool,
) -> tuple[Any, list[int]]:
    simulation, order = _declare(households)
    months = range((reference // 12 - 2) * 12, reference + 1)  # January of year N-2 on
    _feed_persons(simulation, persons, order, months)
    _feed_households(simulation, persons, households, months, housing_aid)
    return simulation, order


def housing_aid_by_law(
    persons: Sequence[PersonDraft], households: Sequence[HouseholdDraft], reference: int
) -> list[float]:
    """The monthly housing aid (APL, ALF or ALS: CCH L821-1 and following) each household is
    entitled to for ``reference``, by household id, from the same facts as ``by_law``: what
    the CAF pays a household that asked for it."""
    simulation, _ = _simulation(persons, households, reference, housing_aid=False)
    aid = simulation.calculate("aide_logement", month_text(reference))
    out = [0.0] * (max((h.id for h in households), default=-1) + 1)
    for row, h in enumerate(households):
        out[h.id] = round(float(aid[row]), 2)
    return out


def by_law(
    persons: Sequence[PersonDraft],
    households: Sequence[HouseholdDraft],
    reference: int,
    *,
    housing_aid: bool = True,
) -> list[HouseholdLaw]:
    """What the law gives each household for ``reference`` (a month number), by household id.

    ``housing_aid=False`` lets OpenFisca compute the housing aid from the dwelling instead of
    reading the one the CAF pays (what a reader of the agencies that does not feed it gets).

    The RSA (CASF L262-2 to L262-10, R262-1 to R262-11: the age condition and its exception
    for parents, students excluded, resources averaged over the three months before, the
    family benefits and the ASPA counted, the housing flat rate, nothing under 6 €), the prime
    d'activité (CSS art. L841-1 and following), the ASPA (CSS art. L815-1 and following: age,
    gross pensions, the couple's ceiling) and the CSS (CSS art. L861-1: free under the
    ceiling or when the RSA is paid, with a participation up to 35 % above it).
    """
    simulation, order = _simulation(persons, households, reference, housing_aid)
    period = month_text(reference)
    rsa = simulation.calculate("rsa", period)
    ppa = simulation.calculate("ppa", period)
    aspa = simulation.calculate("aspa", period)
    aspa_age = simulation.calculate("aspa_eligibilite", period)
    tiers = []
    for month in range(reference - CSS_MONTHS + 1, reference + 1):
        free = simulation.calculate("cmu_c", month_text(month))
        participation = simulation.calculate("css_participation_forfaitaire", month_text(month))
        tiers.append(np.where(free, "free", np.where(participation > 0, "participation", "none")))
    out: list[HouseholdLaw] = [_NOTHING] * (max((h.id for h in households), default=-1) + 1)
    person_row = 0
    for row, h in enumerate(households):
        # Persons are in household order, each household's adults first.
        adults = range(person_row, person_row + len(h.adults))
        person_row += len(h.adults) + len(h.children)
        out[h.id] = HouseholdLaw(
            rsa=round(float(rsa[row]), 2),
            ppa=round(float(ppa[row]), 2),
            aspa=round(float(aspa[row]), 2),
            aspa_age=tuple(order[r] for r in adults if aspa_age[r]),
            css=tuple(_tier(str(t[row])) for t in tiers),
        )
    return out


_NONE: CssTier = "none"
_NOTHING = HouseholdLaw(0.0, 0.0, 0.0, (), (_NONE,) * CSS_MONTHS)


def _tier(value: str) -> CssTier:
    return "free" if value == "free" else "participation" if value == "participation" else "none"


def rsa_by_law(
    persons: Sequence[PersonDraft], households: Sequence[HouseholdDraft], reference: int
) -> list[float]:
    """The monthly RSA each household is entitled to for ``reference``, by household id."""
    return [h.rsa for h in by_law(persons, households, reference)]
