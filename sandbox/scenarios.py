"""Scenario persons: hand-specified households served next to the generated population.

Golden eligibility cases need persons whose every fact is known in advance (a 35-year-old
alone in Lyon paying 500 € rent with no income, …) and who reach the gateway exactly as any
other person does: over HTTP, from the agencies. A scenario file describes such households
compactly (anything not said takes a default) and ``load_scenarios`` reads it strictly. The
format is described in ``docs/sandbox.md``; ``scenarios/golden.yaml`` is the shipped file.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Literal, cast

import yaml

from sandbox.person import Situation
from sandbox.population import lookup_key
from sandbox.scenario_build import derived_tax
from sandbox.scenario_housing import read_housing, read_tax
from sandbox.scenario_members import read_member
from sandbox.scenario_reader import Fields, ScenarioError
from sandbox.scenario_spec import MemberSpec, Scenario, ScenarioSet

SHIPPED = Path(__file__).with_name("scenarios") / "golden.yaml"
_ID = re.compile(r"^[a-z0-9][a-z0-9-]{0,62}$")


def load_scenarios(path: Path) -> ScenarioSet:
    """Read and check a scenario file; ``ScenarioError`` names the file and the key."""
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    except yaml.YAMLError as exc:
        raise ScenarioError(f"{path.name}: not YAML: {exc}") from None
    return read_scenarios(raw, path.name)


def read_scenarios(raw: object, source: str) -> ScenarioSet:
    top = Fields(raw, source, "")
    reference = top.maybe_month("mois_reference")
    if reference is None:
        raise top.error("mois_reference", "required")
    scenarios = tuple(_scenario(f, reference) for f in top.items("scenarios", required=True))
    top.close()
    seen_ids: set[str] = set()
    seen_persons: dict[tuple[str, str, str, int], str] = {}
    for number, scenario in enumerate(scenarios):
        if scenario.id in seen_ids:
            raise top.error(f"scenarios[{number}].id", f"{scenario.id!r} is used twice")
        seen_ids.add(scenario.id)
        for member in scenario.members:
            # Agencies find persons by name, first given name, sex and birth year: two scenario
            # persons sharing those would both be answered 404, as real homonyms are.
            who = member.identity
            key = lookup_key(who.nom_naissance, who.prenoms[0], who.sexe, who.date_naissance.year)
            if key in seen_persons:
                raise top.error(
                    f"scenarios[{number}]",
                    f"a member has the same identity as in {seen_persons[key]}",
                )
            seen_persons[key] = scenario.id
        _check_tax(top, f"scenarios[{number}].foyer_fiscal", scenario, reference)
    return ScenarioSet(source, reference, scenarios)


def _check_tax(top: Fields, where: str, scenario: Scenario, reference: int) -> None:
    """Written tax facts must be what the DGFiP will serve: a golden case relying on an RFR
    the agencies do not answer would pass or fail for the wrong reason."""
    latest = reference // 12 - 1  # the DGFiP serves the three income years before this one
    for year, rfr in scenario.tax.rfr:
        if not latest - 2 <= year <= latest:
            raise top.error(f"{where}.rfr.{year}", f"the DGFiP serves {latest - 2} to {latest}")
        derived = derived_tax(scenario, year)[0]
        if rfr != derived:
            raise top.error(
                f"{where}.rfr.{year}", f"{rfr} written, {derived} derived from the resources"
            )
    parts = scenario.tax.parts
    if parts is not None and parts != derived_tax(scenario, latest)[1]:
        raise top.error(
            f"{where}.parts", f"{parts:g} written, {derived_tax(scenario, latest)[1]:g} derived"
        )


def _scenario(f: Fields, reference: int) -> Scenario:
    ident = f.text("id", _ID)
    description = f.maybe_text("description") or ""
    members = tuple(read_member(m, reference) for m in f.items("membres", required=True))
    adults = [m for m in members if not m.child]
    if not 1 <= len(adults) <= 2:
        raise f.error("membres", "a household has one or two adults")
    couple = len(adults) == 2
    options = ("marie", "pacse", "concubin") if couple else ("celibataire", "divorce", "veuf")
    situation = f.choice("situation", options, options[0])
    kind = f.choice("type_menage", _KINDS, _kind(members, adults))
    regime = f.choice("regime", ("CNAF", "MSA"), "CNAF")
    housing = read_housing(f, reference)
    tax = read_tax(f)
    f.close()
    return Scenario(
        ident,
        description,
        kind,
        cast("Situation", situation),
        cast("Literal['CNAF', 'MSA']", regime),
        housing,
        members,
        tax,
    )


_KINDS = (
    "single",
    "couple",
    "couple_children",
    "single_parent",
    "student",
    "pensioner_single",
    "pensioner_couple",
)


def _kind(members: tuple[MemberSpec, ...], adults: list[MemberSpec]) -> str:
    """The generator's household kind that fits, so ``?kind=single`` finds scenarios too."""
    children = len(members) > len(adults)
    retired = all(a.activity == "retraite" for a in adults)
    if len(adults) == 2:
        if children:
            return "couple_children"
        return "pensioner_couple" if retired else "couple"
    if children:
        return "single_parent"
    if adults[0].activity == "etudiant":
        return "student"
    return "pensioner_single" if retired else "single"


__all__ = ["SHIPPED", "ScenarioError", "ScenarioSet", "load_scenarios", "read_scenarios"]
