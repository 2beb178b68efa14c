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
- 2026-04-01: no sourced value. CSS answers CANNOT_EVALUATE from 2026-04 on
  (``CSS_SOURCED_UNTIL``) rather than apply an invented figure.

``tests/eligibility/test_pitfalls.py`` keeps the override and the withheld answers.
"""

from __future__ import annotations

from typing import Any

from openfisca_core import periods
from openfisca_core.reforms import Reform

CSS_CEILING_2025 = 10339.0
CSS_SOURCED_UNTIL = "2026-03"  # the last month a sourced CSS ceiling applies to
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


def _css_ceiling(parameters: Any) -> Any:
    ceiling = parameters.prestations_sociales.solidarite_insertion.minima_sociaux.cs.cmu
    # Open-ended on purpose: CSS answers past CSS_SOURCED_UNTIL are withheld after the
    # simulation, and formulas reading the ceiling must not fail on a missing value.
    ceiling.plafond_base.update(start=periods.instant("2025-04-01"), value=CSS_CEILING_2025)
    return parameters


class SourcedParameters(Reform):  # type: ignore[misc]  # openfisca is untyped
    name = "Unefois: sourced revaluations missing from OpenFisca-France 176.1.8"

    def apply(self) -> None:
        self.modify_parameters(modifier_function=_css_ceiling)
