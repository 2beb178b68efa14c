"""Many households → ONE vectorised OpenFisca simulation → raw amounts per household.

A simulation costs a fixed ~1–2 s of formula evaluation whatever its size and well under a
millisecond per extra household, so every caller (a micro-batch of requests, a campaign)
sends all its households at once. Inputs are numpy arrays given to ``set_input`` per
variable and month; building situations as dicts is two orders of magnitude slower.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from typing import Any

import numpy as np
from openfisca_core.simulation_builder import SimulationBuilder

from eligibility import months as mo
from eligibility.bounds import WITNESSES, witness_key
from eligibility.household import Dwelling, Household
from eligibility.reform import CSS_CEILING_RAISE
from eligibility.system import tax_benefit_system
from eligibility.zoning import official_zone

# benefit → the OpenFisca variables (famille entity) its answer reads
OUTPUTS: dict[str, tuple[str, ...]] = {
    "rsa": ("rsa",),
    "ppa": ("ppa",),
    "css": ("cmu_c", "css_participation_forfaitaire"),
    "aspa": ("aspa",),
    "aide_logement": ("aide_logement",),
}
# Every income variable the adapter may feed; absent ones are fed as zeros so that OpenFisca
# does not rebuild them from (zero) gross amounts through the social-contribution formulas.
FED_INCOMES = (
    "salaire_net",
    "salaire_imposable",
    "chomage_net",
    "chomage_imposable",
    "retraite_nette",
    "retraite_imposable",
    "retraite_brute",
    # a micro-entrepreneur's monthly turnover by activity category (``adapter.TURNOVER_VARIABLES``)
    "rpns_auto_entrepreneur_CA_achat_revente",
    "rpns_auto_entrepreneur_CA_bic",
    "rpns_auto_entrepreneur_CA_bnc",
)
PREFILL_MONTHS = 60
# Individual benefits OpenFisca would otherwise simulate as resources, fed as zero:
# - ass (allocation de solidarité spécifique) is paid by France Travail and already declared
#   to GIP-MDS among the unemployment payments fed as chomage_*; simulating it again would
#   count it twice (and costs ~25 % of a simulation);
# - aah needs a disability rate no record gives: without one OpenFisca computes 0 anyway.
NOT_SIMULATED: dict[str, Any] = {"ass": np.float32, "aah": np.float32}
_ZONES = {1: "zone_1", 2: "zone_2", 3: "zone_3"}
_FAMILY_ROLE = {"claimant": "demandeur", "partner": "conjoint", "child": "enfant"}
_MENAGE_ROLE = {"claimant": "personne_de_reference", "partner": "conjoint", "child": "enfant"}


def declare(households: Sequence[Household]) -> Any:
    """Declare the four entities and their roles; return the builder."""
    persons: list[str] = []
    famille: list[int] = []
    foyer: list[str] = []
    foyer_roles: list[str] = []
    roles: list[str] = []
    foyer_ids: list[str] = []
    for h, household in enumerate(households):
        foyer_ids.append(f"f{h}")
        for m, member in enumerate(household.members):
            persons.append(f"h{h}p{m}")
            famille.append(h)
            roles.append(member.role)
            if member.role == "partner" and not household.joint_tax:
                # Unmarried partners file their own tax return.
                foyer.append(f"f{h}b")
                foyer_ids.append(f"f{h}b")
                foyer_roles.append("declarant_principal")
            else:
                foyer.append(f"f{h}")
                foyer_roles.append(
                    {"claimant": "declarant_principal", "partner": "conjoint"}.get(
                        member.role, "personne_a_charge"
                    )
                )
    builder = SimulationBuilder()
    builder.create_entities(tax_benefit_system())
    builder.declare_person_entity("individu", persons)
    group_ids = [f"g{h}" for h in range(len(households))]
    members = np.array([f"g{h}" for h in famille])
    fam = builder.declare_entity("famille", group_ids)
    builder.join_with_persons(fam, members, [_FAMILY_ROLE[r] for r in roles])
    men = builder.declare_entity("menage", group_ids)
    builder.join_with_persons(men, members, [_MENAGE_ROLE[r] for r in roles])
    ff = builder.declare_entity("foyer_fiscal", foyer_ids)
    builder.join_with_persons(ff, np.array(foyer), foyer_roles)
    return builder


def feed(simulation: Any, households: Sequence[Household]) -> None:
    months = households[0].months
    # Before the window OpenFisca still reads incomes (yearly tax bases back to M-6 years);
    # fed as zeros they cost nothing, computed from default gross amounts they cost ~25 %
    # of a simulation and give the same zeros.
    before = mo.span(mo.shift(months[0], -PREFILL_MONTHS), mo.shift(months[0], -1))
    births = [m.birth_date for h in households for m in h.members]
    simulation.set_input("date_naissance", "ETERNITY", np.array(births, dtype="datetime64[D]"))
    count = len(births)
    zeros = np.zeros(count, dtype=np.float32)
    for name in FED_INCOMES:
        table = np.zeros((count, len(months)), dtype=np.float32)
        row = 0
        for household in households:
            for member in household.members:
                values = member.incomes.get(name)
                if values is not None:
                    table[row] = values
                row += 1
        for month in before:
            simulation.set_input(name, month, zeros)
        for j, month in enumerate(months):
            simulation.set_input(name, month, table[:, j])
    for name, dtype in NOT_SIMULATED.items():
        for month in (*before, *months):
            simulation.set_input(name, month, np.zeros(count, dtype=dtype))
    _feed_bounds(simulation, households, months)
    students = np.zeros((count, len(months)), dtype=bool)
    row = 0
    for household in households:
        for member in household.members:
            if member.student:
                students[row] = member.student
            row += 1
    for j, month in enumerate(months):
        simulation.set_input("etudiant", month, students[:, j])
    _feed_job_seekers(simulation, households, count)
    dwellings = [h.dwelling for h in households]
    status = np.array([d.status if d else "non_renseigne" for d in dwellings])
    rents = np.array([d.rents if d else (0.0,) * len(months) for d in dwellings], dtype=np.float32)
    depcom = np.array([(d.depcom or "") if d else "" for d in dwellings])
    zones = np.array([_ZONES[zone_of(d)] for d in dwellings])
    for j, month in enumerate(months):
        simulation.set_input("statut_occupation_logement", month, status)
        simulation.set_input("loyer", month, rents[:, j])
        simulation.set_input("depcom", month, depcom)
        simulation.set_input("zone_apl", month, zones)


def _feed_bounds(simulation: Any, households: Sequence[Household], months: tuple[str, ...]) -> None:
    """Inputs that only the alternatives of ``eligibility.bounds`` set: the full AAH of an
    AAH recipient (read here, where the system is built) and the CSS ceiling's raise."""
    full = np.array([m.aah_full for h in households for m in h.members], dtype=bool)
    if full.any():
        aah = tax_benefit_system().parameters.prestations_sociales.prestations_etat_de_sante
        for month in months:
            amount = aah.invalidite.aah.montant(f"{month}-01")
            simulation.delete_arrays("aah", month)  # fed zeros with NOT_SIMULATED
            simulation.set_input("aah", month, np.where(full, amount, 0.0).astype(np.float32))
    raise_ = np.array([h.css_ceiling_raise for h in households], dtype=np.float32)
    simulation.set_input(CSS_CEILING_RAISE, months[-1], raise_)


def _feed_job_seekers(simulation: Any, households: Sequence[Household], count: int) -> None:
    """``activite`` per month (``chomeur`` or OpenFisca's default) and ``date_debut_chomage``
    (OpenFisca's default, ``date.max``, for who never was): see ``eligibility.employment``."""
    months = households[0].months
    seeking = np.zeros((count, len(months)), dtype=bool)
    since = np.full(count, np.datetime64(date.max), dtype="datetime64[D]")
    row = 0
    for household in households:
        for member in household.members:
            if member.job_seeker:
                seeking[row] = member.job_seeker
            if member.unemployed_since is not None:
                since[row] = np.datetime64(member.unemployed_since)
            row += 1
    simulation.set_input("date_debut_chomage", "ETERNITY", since)
    for j, month in enumerate(months):
        simulation.set_input("activite", month, np.where(seeking[:, j], "chomeur", "inactif"))


def zone_of(dwelling: Dwelling | None) -> int:
    """The CAF record's zone, else the one OpenFisca would derive from the commune.

    ``zone_apl`` is one input for the whole simulation: fed for some households only, or
    fed only when all have a zone, one household's zone would depend on its batch-mates.
    """
    if dwelling is not None and dwelling.zone in _ZONES:
        return dwelling.zone
    return official_zone(dwelling.depcom if dwelling else None)


def _release(simulation: Any) -> None:
    """Free the simulation's arrays now rather than at the next full garbage collection.

    Simulation, populations and holders reference each other, so only the cyclic collector
    frees them, and in a campaign holding millions of record objects a full collection
    takes seconds: dropping the holders lets reference counting free the arrays at once.
    """
    for population in simulation.populations.values():
        population._holders.clear()
        population.simulation = None


def simulate(households: Sequence[Household], benefits: Sequence[str]) -> list[dict[str, float]]:
    """Raw OpenFisca outputs, one ``{variable: value}`` per household, in order.

    All households must be for the same month (one simulation has one period grid).
    """
    if not households:
        return []
    month = households[0].month
    if any(h.month != month for h in households):
        raise ValueError("one simulation evaluates one month")
    builder = declare(households)
    simulation = builder.build(tax_benefit_system())
    simulation.trace = False
    feed(simulation, households)
    wanted = [v for b in benefits for v in OUTPUTS[b]]
    columns = {v: np.asarray(simulation.calculate(v, month), dtype=np.float64) for v in wanted}
    for benefit in benefits:
        if benefit in WITNESSES:  # computed by the benefit's own formula: almost free
            variable, offsets = WITNESSES[benefit]
            for offset in offsets:
                at = mo.shift(month, offset)
                key = witness_key(variable, offset)
                columns[key] = np.asarray(simulation.calculate(variable, at), dtype=np.float64)
    _release(simulation)
    return [{v: float(column[i]) for v, column in columns.items()} for i in range(len(households))]
