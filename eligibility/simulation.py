"""Many households → ONE vectorised OpenFisca simulation → raw amounts per household.

A simulation costs a fixed few tenths of a second of formula evaluation whatever its size
and well under a millisecond per extra household (``bench/results/eligibility.md``), so
every caller (a micro-batch of requests, a campaign) sends all its households at once.
Inputs are numpy arrays put in per variable and month; building situations as dicts is two
orders of magnitude slower. Where OpenFisca would compute a variable to a value known from
what is fed, the value is fed instead (``SHORTCUTS``): fewer formulas, the same outputs.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from typing import Any

import numpy as np
from openfisca_core import periods
from openfisca_core.parameters import ParameterNodeAtInstant, VectorialParameterNodeAtInstant
from openfisca_core.simulation_builder import SimulationBuilder

from eligibility import months as mo
from eligibility import paid
from eligibility.bounds import WITNESSES, witness_key
from eligibility.household import Dwelling, Household, Member
from eligibility.reform import CSS_CEILING_RAISE
from eligibility.system import tax_benefit_system
from eligibility.zoning import official_zone

# benefit → the OpenFisca variables its answer reads: a famille's, or an individu's read for
# the person asked about (the famille's demandeur, see ``declare``). The ASPA is a famille
# amount that only its members of ASPA age are entitled to (``aspa_eligibilite``).
OUTPUTS: dict[str, tuple[str, ...]] = {
    "rsa": ("rsa",),
    "ppa": ("ppa",),
    "css": ("cmu_c", "css_participation_forfaitaire"),
    "aspa": ("aspa", "aspa_eligibilite"),
    # the aid the household is entitled to, whatever it is paid (``eligibility.paid``)
    "aide_logement": ("aide_logement_calcule",),
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
# Variables OpenFisca would compute to zero from what is fed, fed as zero: the formulas
# behind them are most of a small simulation's cost (``SHORTCUTS``).
# - caah (the AAH's complement, the majoration pour la vie autonome since 2019-12) is paid
#   only from an incapacity rate of 80 % (``taux_incapacite``, never fed: 0); computing it
#   evaluates the housing aid of every month it is read for (the twelve of the CSS's
#   resources), ~40 % of a one-household simulation;
# - asi (allocation supplémentaire d'invalidité) needs an invalidity pension or the
#   disability flag (``pensions_invalidite``, ``handicap``, never fed).
ZERO_BY_LAW: dict[str, Any] = {"caah": np.float32, "asi": np.float32}
# What the simulation feeds in place of OpenFisca's formulas without changing any output
# (``tests/eligibility/test_shortcuts.py`` compares with the formulas computing them).
SHORTCUTS = tuple(ZERO_BY_LAW)
# ``boursier`` (a grant holder: collège, lycée, higher education on social criteria) is read
# by the housing aid only through its student resource floor, where the claimant's
# ``etudiant`` multiplies it, and by the CSS only against ``bourse_enseignement_sup`` (never
# fed: 0). It is an input, fed from the CNOUS (``Member.grant``): True in the months a grant
# is paid, False elsewhere, which is what its formulas give from what is fed (no grant amount
# is: ``test_shortcuts`` compares them too), at ~15 % of a one-household simulation less.
STUDENT_GRANT = "boursier"
_ZONES = {1: "zone_1", 2: "zone_2", 3: "zone_3"}
_FAMILY_ROLE = {"claimant": "demandeur", "partner": "conjoint", "child": "enfant"}
_MENAGE_ROLE = {"claimant": "personne_de_reference", "partner": "conjoint", "child": "enfant"}


# Fancy-indexed parameters (``parameters(period).…par_zone[zone_apl]``, the housing aid's
# scales by zone and family size) are looked up by OpenFisca-core once per element, in
# Python, again at every attribute taken from the result: ~30 % of a 10,000-household
# simulation. The look-ups below take each distinct key once and spread the values with
# numpy: the same nodes, the same values, the same dtype (numpy infers it from the same set
# of values). Enum-member keys, and array keys on a node already indexed, keep OpenFisca's.
_Vectorial = VectorialParameterNodeAtInstant
_BY_ELEMENT = (_Vectorial.build_from_node_name, _Vectorial.__getitem__)


def _spread(node: Any, nodes: list[Any], inverse: Any) -> Any:
    if isinstance(nodes[0], ParameterNodeAtInstant):
        vector = _Vectorial(nodes, node._name, node._instant_str)
        vector._distinct_inverse = inverse
        return vector
    return np.array(nodes)[inverse]


def _build_from_node_name(node: Any, key: Any) -> Any:
    _Vectorial.check_node_vectorisable(node)
    keys = _Vectorial._get_appropriate_keys(key)
    if keys.dtype == object:
        return _BY_ELEMENT[0](node, key)
    subnode_key = _Vectorial._get_appropriate_subnode_function(keys[0])
    distinct, inverse = np.unique(keys, return_inverse=True)
    return _spread(node, [node[subnode_key(node, k)] for k in distinct], inverse)


def _getitem(self: Any, key: Any) -> Any:
    inverse = self.__dict__.get("_distinct_inverse")
    if inverse is None:
        return _BY_ELEMENT[1](self, key)
    if isinstance(key, str):
        return _spread(self, [node[key] for node in self.vector], inverse)
    by_element = _Vectorial([self.vector[i] for i in inverse], self._name, self._instant_str)
    return _BY_ELEMENT[1](by_element, key)


_Vectorial.build_from_node_name = staticmethod(_build_from_node_name)
_Vectorial.__getitem__ = _getitem


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


class _Inputs:
    """Puts arrays straight into a simulation's holders, one month at a time.

    ``Simulation.set_input`` goes through each variable's ``set_input`` helper (period
    conversions, a copy, a look-up of what is already known) for a month that is the
    variable's own period: over a thousand calls per simulation, ~15 % of a small one.
    ``put_in_cache`` stores the array for that month as is (typed and checked by OpenFisca).
    """

    def __init__(self, simulation: Any) -> None:
        self._simulation = simulation
        self._periods: dict[str, Any] = {}

    def put(self, name: str, month: str, values: Any) -> None:
        period = self._periods.get(month)
        if period is None:
            period = self._periods[month] = periods.period(month)
        self._simulation.get_holder(name).put_in_cache(values, period)


def feed(simulation: Any, households: Sequence[Household]) -> None:
    months = households[0].months
    # Before the window OpenFisca still reads incomes (yearly tax bases back to M-6 years);
    # fed as zeros they cost nothing, computed from default gross amounts they cost ~25 %
    # of a simulation and give the same zeros.
    before = mo.span(mo.shift(months[0], -PREFILL_MONTHS), mo.shift(months[0], -1))
    members = [m for h in households for m in h.members]
    count = len(members)
    inputs = _Inputs(simulation)
    births = np.array([m.birth_date for m in members], dtype="datetime64[D]")
    simulation.set_input("date_naissance", "ETERNITY", births)
    none = (0.0,) * len(months)
    for name in FED_INCOMES:
        table = np.array([m.incomes.get(name, none) for m in members], dtype=np.float32)
        for month in before:
            inputs.put(name, month, np.zeros(count, dtype=np.float32))
        for j, month in enumerate(months):
            inputs.put(name, month, np.ascontiguousarray(table[:, j]))
    for name, dtype in (*NOT_SIMULATED.items(), *ZERO_BY_LAW.items()):
        for month in (*before, *months):
            inputs.put(name, month, np.zeros(count, dtype=dtype))
    _feed_bounds(simulation, inputs, members, households)
    never = (False,) * len(months)
    students = np.array([m.student or never for m in members], dtype=bool)
    for j, month in enumerate(months):
        inputs.put("etudiant", month, np.ascontiguousarray(students[:, j]))
    grants = np.array([m.grant or never for m in members], dtype=bool)
    for j, month in enumerate(months):
        inputs.put(STUDENT_GRANT, month, np.ascontiguousarray(grants[:, j]))
    _feed_job_seekers(simulation, inputs, members, months)
    dwellings = [h.dwelling for h in households]
    status = np.array([d.status if d else "non_renseigne" for d in dwellings])
    rents = np.array([d.rents if d else none for d in dwellings], dtype=np.float32)
    depcom = np.array([(d.depcom or "") if d else "" for d in dwellings])
    zones = np.array([_ZONES[zone_of(d)] for d in dwellings])
    for j, month in enumerate(months):
        inputs.put("statut_occupation_logement", month, status)
        inputs.put("loyer", month, np.ascontiguousarray(rents[:, j]))
        inputs.put("depcom", month, depcom)
        inputs.put("zone_apl", month, zones)
    paid.feed(simulation, households, months)


def _feed_bounds(
    simulation: Any, inputs: _Inputs, members: Sequence[Member], households: Sequence[Household]
) -> None:
    """Inputs that only the alternatives of ``eligibility.bounds`` set: the full AAH of an
    AAH recipient (read here, where the system is built) and the CSS ceiling's raise."""
    months = households[0].months
    full = np.array([m.aah_full for m in members], dtype=bool)
    if full.any():
        aah = tax_benefit_system().parameters.prestations_sociales.prestations_etat_de_sante
        since = np.array([m.aah_since or "" for m in members])  # "": every month
        for month in months:
            amount = aah.invalidite.aah.montant(f"{month}-01")
            paid = full & (since <= month)
            simulation.delete_arrays("aah", month)  # fed zeros with NOT_SIMULATED
            inputs.put("aah", month, np.where(paid, amount, 0.0).astype(np.float32))
    raise_ = np.array([h.css_ceiling_raise for h in households], dtype=np.float32)
    inputs.put(CSS_CEILING_RAISE, months[-1], raise_)


def _feed_job_seekers(
    simulation: Any, inputs: _Inputs, members: Sequence[Member], months: tuple[str, ...]
) -> None:
    """``activite`` per month (``chomeur`` or OpenFisca's default) and ``date_debut_chomage``
    (OpenFisca's default, ``date.max``, for who never was): see ``eligibility.employment``."""
    never = (False,) * len(months)
    seeking = np.array([m.job_seeker or never for m in members], dtype=bool)
    since = np.array([m.unemployed_since or date.max for m in members], dtype="datetime64[D]")
    simulation.set_input("date_debut_chomage", "ETERNITY", since)
    for j, month in enumerate(months):
        inputs.put("activite", month, np.where(seeking[:, j], "chomeur", "inactif"))


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


def prepare(households: Sequence[Household]) -> Any:
    """The simulation of ``households`` (one row each, in order), fed, nothing computed."""
    month = households[0].month
    if any(h.month != month for h in households):
        raise ValueError("one simulation evaluates one month")
    simulation = declare(households).build(tax_benefit_system())
    simulation.trace = False
    feed(simulation, households)
    return simulation


def column(simulation: Any, variable: str, month: str) -> Any:
    """``variable`` at ``month``, one value per household: an individu's variable is the
    claimant's, the person asked about."""
    values = simulation.calculate(variable, month)
    if simulation.tax_benefit_system.variables[variable].entity.is_person:
        famille = simulation.populations["famille"]
        values = famille.value_from_person(values, famille.entity.DEMANDEUR)
    return np.asarray(values, dtype=np.float64)


def outputs(simulation: Any, month: str, benefits: Sequence[str]) -> list[dict[str, float]]:
    """Compute the variables ``benefits`` read (and their witnesses) at ``month``, one
    ``{variable: value}`` per household."""
    wanted = [v for b in benefits for v in OUTPUTS[b]]
    columns = {v: column(simulation, v, month) for v in wanted}
    for benefit in benefits:
        if benefit in WITNESSES:  # computed by the benefit's own formula: almost free
            variable, offsets = WITNESSES[benefit]
            for offset in offsets:
                at = mo.shift(month, offset)
                key = witness_key(variable, offset)
                columns[key] = np.asarray(simulation.calculate(variable, at), dtype=np.float64)
    if not columns:
        return [{} for _ in range(simulation.populations["famille"].count)]
    values = [column.tolist() for column in columns.values()]
    return [dict(zip(columns, row, strict=True)) for row in zip(*values, strict=True)]


def simulate(households: Sequence[Household], benefits: Sequence[str]) -> list[dict[str, float]]:
    """Raw OpenFisca outputs, one ``{variable: value}`` per household, in order.

    All households must be for the same month (one simulation has one period grid).
    """
    if not households:
        return []
    simulation = prepare(households)
    try:
        return outputs(simulation, households[0].month, benefits)
    finally:
        _release(simulation)
