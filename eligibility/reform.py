"""Dated corrections of parameters this OpenFisca release left stale, each with its source.

Checked for the five benefits (``tests/eligibility/test_parameters.py`` keeps the check):
the RSA and PPA amounts carry their 1 April 2025 and 2026 revaluations, the ASPA its
1 January ones and the housing-aid scales their October ones, but the CSS resource ceiling
(``cs.cmu.plafond_base``, from which the participation ceiling is derived with the +35 % of
``cs.acs.majoration_plafond_acs``) stops at 10,166 € from 2024-04-01
(``last_value_still_valid_on: 2024-05-01``), while the law revalues it every 1 April
(CSS art. L861-1).

- 2025-04-01: 10,339 € a year for one person in metropolitan France (participation ceiling
  13,957 €), revalued by 1.7 % by an arrêté published in the Journal officiel of 29 March
  2025. Sources: Éditions Francis Lefebvre, "Complémentaire santé solidaire : conditions de
  ressources", plafonds applicables du 1-4-2025 au 1-4-2026 (``CSS_CEILING_SOURCES``);
  econostrum.info on the arrêté of 29 March 2025. The previous value (10,166 € until
  31 March 2025) matches Que Choisir's table "applicable jusqu'au 31 mars 2025".
- 2026-04-01: no sourced value. From 2026-04 on (past ``CSS_SOURCED_UNTIL``) the CSS is
  evaluated at two bounds of the unknown ceiling, the 2025 one unchanged and raised by
  ``CSS_CEILING_MAX_RAISE`` (``eligibility.bounds``): the same answer at both is given with a
  note, a different one is CANNOT_EVALUATE naming the ceiling. The ceiling follows the
  yearly revaluation coefficient of CSS art. L161-25 applied every 1 April (+1.5 % in 2023,
  +4.6 % in 2024, +1.7 % in 2025, as the RSA's basic amount); this release carries that
  coefficient for 1 April 2026 in the RSA (+0.8 %: 646.52 € to 651.69 €), well inside the
  bounds. The reform adds ``css_plafond_hausse`` (the raise, an input per family and
  month, 0 by default) and multiplies ``cmu_c_plafond``, from which both CSS ceilings
  derive, by one plus it.

``tests/eligibility/test_pitfalls.py`` keeps the override and the withheld answers.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Collection
from typing import Any

from openfisca_core import periods
from openfisca_core.reforms import Reform

from eligibility import bounds
from eligibility.household import Household, Unknown

CSS_CEILING_2025 = 10339.0
CSS_SOURCED_UNTIL = "2026-03"  # the last month a sourced CSS ceiling applies to
CSS_CEILING_MAX_RAISE = 0.05  # the upper bound of the unsourced 2026-04-01 revaluation
CSS_CEILING_RAISE = "css_plafond_hausse"  # the input carrying the raise evaluated
CSS_CEILING_UNKNOWN = Unknown(
    f"CSS resource ceiling after {CSS_SOURCED_UNTIL} (no sourced value yet)",
    ("css",),
    "le plafond du 1er avril 2025 relevé de 5 %, puis inchangé",
)
CSS_CEILING_SOURCES = (
    (
        "Éditions Francis Lefebvre — Complémentaire santé solidaire : conditions de ressources "
        "(plafonds du 1-4-2025 au 1-4-2026)",
        "https://efl.fr/chiffres-taux/complementaire-sante-solidaire-conditions-ressources_CT_"
        "7129ce118f6c6dd185e1e33e846b593435cbcf61",
    ),
    (
        "Code de la sécurité sociale, article L861-1 (plafond revalorisé au 1er avril)",
        "https://www.legifrance.gouv.fr/search/code?query=%22article+L861-1%22"
        "+code+de+la+s%C3%A9curit%C3%A9+sociale",
    ),
)


def with_unsourced_ceiling(household: Household, benefits: Collection[str]) -> Household:
    """Past ``CSS_SOURCED_UNTIL``, ``household`` evaluated with the CSS ceiling raised by
    ``CSS_CEILING_MAX_RAISE`` (favourable) and, as alternatives, unchanged; only when the
    CSS is among the ``benefits`` asked (no other reads the ceiling: its rows would only take
    the place of other unknowns' under ``bounds.MAX_ROWS``)."""
    if household.month <= CSS_SOURCED_UNTIL or CSS_CEILING_UNKNOWN in household.unknowns:
        return household
    if "css" not in benefits:
        return household
    raised = dataclasses.replace(
        household,
        css_ceiling_raise=CSS_CEILING_MAX_RAISE,
        variants=tuple(
            dataclasses.replace(v, css_ceiling_raise=CSS_CEILING_MAX_RAISE)
            for v in household.variants
        ),
    )
    return bounds.with_alternatives(
        raised,
        [CSS_CEILING_UNKNOWN],
        lambda row: [dataclasses.replace(row, css_ceiling_raise=0.0)],
    )


def _css_ceiling(parameters: Any) -> Any:
    ceiling = parameters.prestations_sociales.solidarite_insertion.minima_sociaux.cs.cmu
    # Open-ended on purpose: CSS answers past CSS_SOURCED_UNTIL are withheld after the
    # simulation, and formulas reading the ceiling must not fail on a missing value.
    ceiling.plafond_base.update(start=periods.instant("2025-04-01"), value=CSS_CEILING_2025)
    return parameters


def _bounded_ceiling() -> tuple[type, type]:
    """(the raise input, OpenFisca's ceiling raised by it); built here, when the system is,
    so that importing ``eligibility`` does not import OpenFisca-France's model."""
    from openfisca_core.model_api import MONTH, Variable, round_
    from openfisca_france.entities import Famille
    from openfisca_france.model.prestations.minima_sociaux.cs.cmu import (
        cmu_c_plafond as openfisca_ceiling,
    )

    class css_plafond_hausse(Variable):  # type: ignore[misc]  # openfisca is untyped
        value_type = float
        entity = Famille
        label = "Hausse du plafond de la CSS évaluée, faute de valeur sourcée (fraction)"
        definition_period = MONTH
        default_value = 0.0

    class cmu_c_plafond(Variable):  # type: ignore[misc]
        """OpenFisca's ceiling raised by ``css_plafond_hausse``; the rest is the baseline's."""

        def formula(famille: Any, period: Any, parameters: Any) -> Any:
            base = openfisca_ceiling.formula(famille, period, parameters)
            return round_(base * (1 + famille(CSS_CEILING_RAISE, period)))

    return css_plafond_hausse, cmu_c_plafond


class SourcedParameters(Reform):  # type: ignore[misc]  # openfisca is untyped
    name = "Unefois: sourced revaluations missing from OpenFisca-France 176.1.8"

    def apply(self) -> None:
        self.modify_parameters(modifier_function=_css_ceiling)
        raise_, ceiling = _bounded_ceiling()
        self.add_variable(raise_)
        self.update_variable(ceiling)
