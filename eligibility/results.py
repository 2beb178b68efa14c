"""Raw OpenFisca amounts + completeness + what the paying agency says → ``BenefitResult``."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date

from eligibility import months
from eligibility.adapter import HOUSING_BENEFITS
from eligibility.criteria import CRITERIA, legifrance
from eligibility.household import Household
from eligibility.model import BenefitResult, Criterion, InputUsed, PersonData, Status
from eligibility.reform import CSS_SOURCED_UNTIL

_HOUSING_INPUTS = {"statut_occupation_logement", "loyer", "depcom", "zone_apl"}
# The student status changes the RSA (excluded) and the PPA (excluded below a threshold).
_STUDENT_BENEFITS = ("rsa", "ppa")


def receiving(data: PersonData, benefit: str) -> bool | None:
    """What the paying agency says; the agency records fill in when the map says nothing."""
    known = data.receiving.get(benefit)
    if known is not None:
        return known
    if benefit == "aide_logement" and data.housing is not None:
        return data.housing.aid_receiving
    if benefit == "aspa" and data.retirement is not None:
        return data.retirement.aspa_receiving
    return None


def _inputs(household: Household, benefit: str) -> tuple[InputUsed, ...]:
    inputs = household.inputs
    if benefit not in _STUDENT_BENEFITS:
        inputs = tuple(i for i in inputs if i.name != "etudiant")
    if benefit in HOUSING_BENEFITS:
        return inputs
    return tuple(i for i in inputs if i.name not in _HOUSING_INPUTS)


def unavailable(benefit: str, month: str) -> tuple[str, ...]:
    """Missing data that no record can fill: the model itself lacks a sourced parameter."""
    if benefit == "css" and month > CSS_SOURCED_UNTIL:
        return (f"CSS resource ceiling after {CSS_SOURCED_UNTIL} (no sourced value yet)",)
    return ()


def result(
    data: PersonData,
    household: Household,
    benefit: str,
    raw: Mapping[str, float] | None,
) -> BenefitResult:
    """``raw`` is None when the household was not simulated (nothing evaluable)."""
    missing = household.missing.get(benefit, ()) + unavailable(benefit, household.month)
    status: Status
    amount: float | None = None
    if missing or raw is None:
        status = "CANNOT_EVALUATE"
    elif benefit == "css":
        if raw["cmu_c"]:
            status, amount = "ELIGIBLE", 0.0
        elif raw["css_participation_forfaitaire"] > 0:
            status, amount = "ELIGIBLE", round(raw["css_participation_forfaitaire"], 2)
        else:
            status = "NOT_ELIGIBLE"
    elif raw[benefit] > 0:
        status, amount = "ELIGIBLE", round(raw[benefit], 2)
    else:
        status = "NOT_ELIGIBLE"
    paid = receiving(data, benefit)
    return BenefitResult(
        benefit=benefit,
        status=status,
        monthly_amount=amount,
        receiving=paid,
        non_take_up=status == "ELIGIBLE" and paid is False,
        missing=missing,
        criteria=CRITERIA[benefit],
        inputs=_inputs(household, benefit),
    )


def no_history(data: PersonData, benefit: str, month: str) -> BenefitResult:
    """The answer for a person without any resource history in the window (none released, or
    no month declared): missing data like any other, each month named."""
    return BenefitResult(
        benefit=benefit,
        status="CANNOT_EVALUATE",
        monthly_amount=None,
        receiving=receiving(data, benefit),
        non_take_up=False,
        missing=tuple(f"resources {m}" for m in months.history(month))
        + unavailable(benefit, month),
        criteria=CRITERIA[benefit],
        inputs=(),
    )


def death_by(data: PersonData, month: str) -> date | None:
    """The death the civil registry records on or before the last day of ``month``."""
    died = data.civil.death_date
    return died if died is not None and died <= months.last_day(month) else None


def deceased(data: PersonData, benefit: str, died: date) -> BenefitResult:
    """The answer for a person who died on or before the month evaluated: no rule is run, and
    the explanation gives the death date the civil registry holds, with its provenance."""
    day = died.isoformat()
    why = Criterion(
        f"La personne est décédée le {day} selon l'état civil : aucun droit n'est évalué "
        "pour le mois du décès ni pour les mois suivants.",
        "C. civ. art. 79 (acte de décès)",
        legifrance("79", "code civil"),
    )
    registry = data.civil.provenance
    return BenefitResult(
        benefit=benefit,
        status="DECEASED",
        monthly_amount=None,
        receiving=receiving(data, benefit),
        non_take_up=False,
        missing=(),
        criteria=(why,),
        inputs=(InputUsed("date_deces", day, registry.agency, registry.source, registry.as_of),),
    )
