"""Benefits the CAF pays, counted as paid where the law counts what is received.

OpenFisca computes the housing aid and the ASF a household *could* get, and the rules that
count them read that: the RSA, PPA and CSS housing flat rates apply to a household that
*receives* a housing aid (CASF R262-10, CSS R844-3, CSS R861-5), and the RSA, the PPA and the
CSS count the ASF it *receives* (CASF R262-6, CSS R844-5, CSS R861-4). A lone parent who has
not asked for the ASF, or a tenant who has not asked for housing aid, would be judged on money
they are not paid: richer than they are, so told they are not entitled.

``PaidBenefits`` gives each of ``aide_logement`` and ``asf`` a paid input and its known flag,
per family and month; where the flag is set the variable is the amount paid (what the CAF
says), elsewhere OpenFisca's own computation, kept under ``<variable>_calcule``. A household
whose CAF says nothing is computed as before, so a household's answer still depends on its
own records only. The housing aid the person is *entitled to* (the benefit evaluated) is
``aide_logement_calcule``, whatever they are paid.
"""

from __future__ import annotations

import importlib
import inspect
from collections.abc import Sequence
from typing import Any

import numpy as np
from openfisca_core.reforms import Reform

from eligibility.household import Household

# variable → (the paid amount's input, its known flag, OpenFisca's computation kept)
PAID = {
    name: (f"{name}_verse", f"{name}_verse_connu", f"{name}_calcule")
    for name in ("aide_logement", "asf")
}
# The family benefits' resources (CSS D521-4: the tax household's income of year N-2, which the
# DGFiP gives the CAF), stated the same way: the gateway's history starts in year N-1, and
# OpenFisca would read year N-2 as no income, so every family would get the means-tested
# family benefits (PAJE, complément familial) in full, and look richer to the RSA and the PPA.
FAMILY_BASE = "prestations_familiales_base_ressources"
PAID[FAMILY_BASE] = (f"{FAMILY_BASE}_n_2", f"{FAMILY_BASE}_n_2_connue", f"{FAMILY_BASE}_calculee")
# Whether both parents had a professional income of at least 12 BMAF in year N-2, which
# raises the PAJE's and the complément familial's ceilings (CSS R531-1, R522-2): stated by the
# alternatives of ``adapter`` where the N-2 base is known but not who earned it.
BIACTIVITY = "biactivite"
PAID[BIACTIVITY] = (f"{BIACTIVITY}_n_2", f"{BIACTIVITY}_n_2_connue", f"{BIACTIVITY}_calculee")
_MODULES = {
    "aide_logement": "openfisca_france.model.prestations.aides_logement",
    "asf": "openfisca_france.model.prestations.prestations_familiales.asf",
    FAMILY_BASE: "openfisca_france.model.prestations.prestations_familiales.base_ressource",
    BIACTIVITY: "openfisca_france.model.prestations.prestations_familiales.base_ressource",
}


def _variables(name: str) -> tuple[type, type, type, type]:
    """(paid, known, computed, the variable reading them) for OpenFisca's ``name``; built
    when the system is, so that importing ``eligibility`` does not import the model."""
    from openfisca_core.model_api import MONTH, Variable, where
    from openfisca_france.entities import Famille

    paid_name, known_name, computed_name = PAID[name]
    original = getattr(importlib.import_module(_MODULES[name]), name)

    kind = original.value_type
    paid = type(
        paid_name,
        (Variable,),
        {
            "value_type": kind,
            "entity": Famille,
            "definition_period": MONTH,
            "label": f"{name} : montant versé ou déclaré selon l'organisme qui le connaît",
        },
    )
    known = type(
        known_name,
        (Variable,),
        {
            "value_type": bool,
            "entity": Famille,
            "definition_period": MONTH,
            "default_value": False,
            "label": f"{name} : le montant est connu",
        },
    )

    takes_parameters = len(inspect.signature(original.formula).parameters) == 3

    def compute(famille: Any, period: Any, parameters: Any) -> Any:
        if takes_parameters:
            return original.formula(famille, period, parameters)
        return original.formula(famille, period)

    computed = type(
        computed_name,
        (Variable,),
        {
            "value_type": kind,
            "entity": Famille,
            "definition_period": MONTH,
            "label": f"{name} : calculé par les règles",
            "formula": compute,
        },
    )

    def read(famille: Any, period: Any) -> Any:
        return where(
            famille(known_name, period), famille(paid_name, period), famille(computed_name, period)
        )

    reading = type(name, (Variable,), {"formula": read})
    return paid, known, computed, reading


class PaidBenefits(Reform):  # type: ignore[misc]  # openfisca is untyped
    name = "Unefois: the housing aid and the ASF counted as paid where the CAF says"

    def apply(self) -> None:
        for name in PAID:
            paid, known, computed, reading = _variables(name)
            self.add_variable(paid)
            self.add_variable(known)
            self.add_variable(computed)
            self.update_variable(reading)


def feed(simulation: Any, households: Sequence[Household], months: Sequence[str]) -> None:
    """What the records state, for every month of the window (the CAF's records say what it
    pays now, not since when; the N-2 base holds for year N's months only, earlier ones read
    year N-3); nothing for a variable no household states."""
    year = months[-1][:4]
    _state(simulation, "aide_logement", [h.housing_aid_paid for h in households], months)
    base = [h.family_base_n2 for h in households]
    _state(simulation, FAMILY_BASE, base, [m for m in months if m[:4] == year])
    _state(simulation, BIACTIVITY, [h.biactivity for h in households], months)
    unpaid = [0.0 if h.asf_paid is False else None for h in households]
    _state(simulation, "asf", unpaid, months)


def _state(
    simulation: Any, name: str, values: Sequence[float | bool | None], months: Sequence[str]
) -> None:
    """``name``'s stated input and known flag per family (None: computed) for ``months``."""
    if all(v is None for v in values):
        return
    paid_name, known_name, _ = PAID[name]
    known = np.array([v is not None for v in values], dtype=bool)
    dtype = bool if name == BIACTIVITY else np.float32
    stated = np.array([v or 0 for v in values], dtype=dtype)
    for month in months:
        simulation.set_input(known_name, month, known)
        simulation.set_input(paid_name, month, stated)
