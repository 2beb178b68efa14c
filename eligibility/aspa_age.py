"""The ASPA age: below it, no resource, pension or missing month can open the ASPA.

OpenFisca-France opens the ASPA to a member at ``aspa.age_min`` (65, CSS R815-1), or at the
legal retirement age (``aah.age_legal_retraite``, CSS L161-17-2: 64 from 2023-09) when unfit
for work. Unfitness is recorded nowhere the gateway reads, so the earlier of the two ages is
the one that decides. The ASPA is the couple's (``famille.demandeur`` and
``famille.conjoint``): a household whose claimant and partner are both younger is not
eligible, whatever else is missing. The ages are read from OpenFisca's own parameter files,
not retyped, and without building the whole tax-benefit system: ``engine.plan`` runs on the
gateway's event loop.
"""

from __future__ import annotations

from datetime import date
from functools import cache
from pathlib import Path
from typing import Any

from eligibility import months
from eligibility.criteria import legifrance
from eligibility.model import Criterion, PersonData

_AGES = (
    "prestations_sociales/solidarite_insertion/minimum_vieillesse/aspa/age_min.yaml",
    "prestations_sociales/prestations_etat_de_sante/invalidite/aah/age_legal_retraite.yaml",
)


@cache
def _parameters() -> tuple[Any, ...]:
    import openfisca_france
    from openfisca_core.parameters import load_parameter_file

    root = Path(openfisca_france.__file__).parent / "parameters"
    return tuple(load_parameter_file(str(root / path), path) for path in _AGES)


def aspa_age(month: str) -> float:
    """The youngest age, in years, at which the ASPA can open in ``month``."""
    on = months.first_day(month).isoformat()
    return float(min(parameter(on) for parameter in _parameters()))


def _months_old(birth: date, month: str) -> int:
    """Whole months of age on the first day of ``month`` (OpenFisca's age is on that day)."""
    year, mon = months.parse(month)
    return (year - birth.year) * 12 + (mon - birth.month) - (birth.day > 1)


def _adults(data: PersonData) -> tuple[date, ...] | None:
    """The claimant's and the partner's birth dates; None when the couple is not known."""
    civil = data.civil
    if data.household is not None:
        named = data.household.claimants
    elif data.tax is not None:
        named = data.tax.declarants
    else:
        return None  # a partner may exist: nothing is decided for the couple
    partners = [
        m
        for m in named
        if not (
            m.birth_date == civil.birth_date
            and m.birth_name.casefold() == civil.birth_name.casefold()
        )
    ]
    births = [p.birth_date for p in partners]
    if any(b is None for b in births):
        return None
    return (civil.birth_date, *(b for b in births if b is not None))


def too_young(data: PersonData, month: str) -> Criterion | None:
    """Why the ASPA is not open in ``month`` when the claimant and partner are both under
    the ASPA age; None when one of them may reach it (or the couple is not known)."""
    adults = _adults(data)
    if adults is None:
        return None
    age = aspa_age(month)
    # Months, not whole years: the legal retirement age had fractions (60 years 4 months…).
    if any(_months_old(birth, month) >= round(age * 12) for birth in adults):
        return None
    who = "Ni le demandeur ni son conjoint n'ont" if len(adults) > 1 else "Le demandeur n'a pas"
    years = f"{age:g}".replace(".", ",")
    return Criterion(
        f"{who} atteint, au 1er du mois, l'âge minimal de l'ASPA ({years} ans : l'âge légal de "
        "départ à la retraite en cas d'inaptitude au travail, sinon 65 ans) ; l'ASPA n'est pas "
        "ouverte, quelles que soient les ressources, et les données manquantes ne changent "
        "pas ce résultat.",
        "CSS art. L815-1",
        legifrance("L815-1", "code de la sécurité sociale"),
    )
