"""OpenFisca-France run on one household's situation: the recomputation's verdicts.

The tax-benefit system is OpenFisca-France 176.1.8 with one correction of a stale
parameter: the CSS resource ceiling (``cs.cmu.plafond_base``, 10,166 € from 2024-04-01 in this
release) is revalued to 10,339 € a year for one person from 2025-04-01 (+1.7 %, arrêté
published in the Journal officiel of 29 March 2025; CSS art. L861-1, revaluation every
1 April:
https://www.legifrance.gouv.fr/search/code?query=%22article+L861-1%22+code+de+la+s%C3%A9curit%C3%A9+sociale).
No value is known from 2026-04-01: from that month on CSS is computed with the 2025 ceiling
unchanged and raised by 5 %, and answered only when both give the same verdict and amount.

Households are computed together in simulations of up to 50, each under its own ids: every
formula involved is vectorised per entity, so a result does not depend on its batch-mates
(``tests/bench/test_recompute.py`` checks one household alone and inside a batch).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from bench._openfisca_situation import Situation

CSS_CEILING_2025 = 10339.0
CSS_KNOWN_UNTIL = "2026-03"
# From 2026-04-01 the ceiling is unknown: CSS is recomputed at both ends of a range of its
# revaluation (the L161-25 coefficient, which raised the RSA's basic amount by 4.6 % in 2024,
# 1.7 % in 2025 and 0.8 % in 2026 in this release's parameters) and answered when both agree.
CSS_RAISES_2026 = (0.0, 0.05)

_SYSTEMS: dict[float, Any] = {}


@dataclass(frozen=True)
class Verdict:
    """The law's answer for one benefit: ``amount`` is None when it cannot be recomputed."""

    benefit: str
    eligible: bool | None
    amount: float | None
    reasons: tuple[str, ...] = ()


def system(raise_2026: float = 0.0) -> Any:
    """OpenFisca-France with the 2025 CSS ceiling (raised by ``raise_2026`` from 2026-04-01);
    built once per process and raise."""
    if raise_2026 not in _SYSTEMS:
        from openfisca_core import periods
        from openfisca_core.reforms import Reform
        from openfisca_france import FranceTaxBenefitSystem

        def revalue(parameters: Any) -> Any:
            node = parameters.prestations_sociales.solidarite_insertion.minima_sociaux.cs.cmu
            node.plafond_base.update(start=periods.instant("2025-04-01"), value=CSS_CEILING_2025)
            if raise_2026:
                value = round(CSS_CEILING_2025 * (1 + raise_2026))
                node.plafond_base.update(start=periods.instant("2026-04-01"), value=value)
            return parameters

        class CssCeiling(Reform):  # type: ignore[misc]  # openfisca is untyped
            name = "CSS ceiling revalued on 2025-04-01"

            def apply(self) -> None:
                self.modify_parameters(modifier_function=revalue)

        _SYSTEMS[raise_2026] = CssCeiling(FranceTaxBenefitSystem())
    return _SYSTEMS[raise_2026]


def _merged(situations: list[Situation]) -> dict[str, Any]:
    """One OpenFisca situation holding every household, each under its own ids."""
    merged: dict[str, Any] = {"individus": {}, "familles": {}, "foyers_fiscaux": {}, "menages": {}}
    for h, situation in enumerate(situations):
        entities = situation.entities

        def ids(members: list[str], h: int = h) -> list[str]:
            return [f"h{h}_{m}" for m in members]

        for key, person in entities["individus"].items():
            merged["individus"][f"h{h}_{key}"] = person
        for plural in ("familles", "foyers_fiscaux", "menages"):
            for key, group in entities[plural].items():
                roles = {r: (ids(v) if isinstance(v, list) else v) for r, v in group.items()}
                merged[plural][f"h{h}_{key}"] = roles
    return merged


def run_many(situations: list[Situation], chunk: int = 50) -> list[tuple[dict[str, Verdict], int]]:
    """Each household's verdicts and the zone OpenFisca gave its home, in simulations of up to
    ``chunk`` households."""
    out: list[tuple[dict[str, Verdict], int]] = []
    for start in range(0, len(situations), chunk):
        out += _run_chunk(situations[start : start + chunk])
    return out


def run(situation: Situation) -> tuple[dict[str, Verdict], int]:
    """One household alone."""
    return _run_chunk([situation])[0]


def _values(situations: list[Situation], paid: bool, raise_2026: float = 0.0) -> dict[str, Any]:
    """Every household's outputs at its month, in one simulation; with ``paid``, the CAF's
    paid amounts (``Situation.paid``) given as the families' inputs."""
    from openfisca_core.simulation_builder import SimulationBuilder

    merged = _merged(situations)
    if paid:
        for h, situation in enumerate(situations):
            family = merged["familles"][f"h{h}_{next(iter(situation.entities['familles']))}"]
            family.update(situation.paid)
    simulation = SimulationBuilder().build_from_entities(system(raise_2026), merged)
    month = situations[0].month
    names: tuple[str, ...] = (
        "rsa",
        "ppa",
        "aspa",
        "aide_logement",
        "cmu_c",
        "css_participation_forfaitaire",
    )
    if raise_2026:
        names = ("cmu_c", "css_participation_forfaitaire")
    values: dict[str, Any] = {v: simulation.calculate(v, month) for v in names}
    values["families"] = list(simulation.populations["famille"].ids)
    values["homes"] = list(simulation.populations["menage"].ids)
    if not raise_2026:
        values["zones"] = simulation.calculate("zone_apl", month).decode()
    return values


def _run_chunk(situations: list[Situation]) -> list[tuple[dict[str, Verdict], int]]:
    """The housing aid is the one the household is entitled to (the dwelling's, computed);
    the RSA, the PPA, the CSS and the ASPA count the housing aid and the ASF the CAF pays, so
    households whose CAF says what it pays are computed again with it, grouped by what it
    says (an input given for some families of a simulation would be 0 for the others)."""
    month = situations[0].month
    if any(s.month != month for s in situations):
        raise ValueError("one month per simulation")
    plain = _verdicts(situations, _values(situations, paid=False), paid=False)
    groups: dict[tuple[str, ...], list[int]] = {}
    for h, situation in enumerate(situations):
        if situation.paid:
            groups.setdefault(tuple(sorted(situation.paid)), []).append(h)
    for members in groups.values():
        group = [situations[h] for h in members]
        again = _verdicts(group, _values(group, paid=True), paid=True)
        for h, (verdicts, _) in zip(members, again, strict=True):
            for benefit in ("rsa", "ppa", "css", "aspa"):
                plain[h][0][benefit] = verdicts[benefit]
    return plain


def _verdicts(
    situations: list[Situation], values: dict[str, Any], paid: bool
) -> list[tuple[dict[str, Verdict], int]]:
    month = situations[0].month
    families, homes, zones = values["families"], values["homes"], values["zones"]
    css_bounds = [(values["cmu_c"], values["css_participation_forfaitaire"])]
    if month > CSS_KNOWN_UNTIL:
        for raise_2026 in CSS_RAISES_2026[1:]:
            other = _values(situations, paid, raise_2026)
            css_bounds.append((other["cmu_c"], other["css_participation_forfaitaire"]))
    out = []
    for h, situation in enumerate(situations):
        f = families.index(f"h{h}_{next(iter(situation.entities['familles']))}")
        m = homes.index(f"h{h}_{next(iter(situation.entities['menages']))}")
        verdicts = {}
        for benefit in ("rsa", "ppa", "aspa", "aide_logement"):
            amount = round(float(values[benefit][f]), 2)
            verdicts[benefit] = Verdict(benefit, amount > 0, amount)
        # The household's participation (every member covered pays by age), 0 when free.
        free = bool(values["cmu_c"][f])
        paying = round(float(values["css_participation_forfaitaire"][f]), 2)
        verdicts["css"] = Verdict("css", free or paying > 0, 0.0 if free else paying)
        answers = {(bool(c[f]), round(float(p[f]), 2)) for c, p in css_bounds}
        if len(answers) > 1:
            reason = "the CSS ceiling after 2026-03 (unknown; the answer changes within +0-5 %)"
            verdicts["css"] = Verdict("css", None, None, (reason,))
        for benefit, reasons in situation.unknown.items():
            if reasons:
                verdicts[benefit] = Verdict(benefit, None, None, tuple(reasons))
        out.append((verdicts, int(zones[m].name[-1])))
    return out
