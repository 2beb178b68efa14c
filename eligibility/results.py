"""Raw OpenFisca amounts + completeness + what the paying agency says → ``BenefitResult``."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import date

from eligibility import bounds, months
from eligibility.adapter import HOUSING_BENEFITS
from eligibility.criteria import ASPA_OTHER_MEMBER, CRITERIA, legifrance
from eligibility.household import Household
from eligibility.model import BenefitResult, Criterion, InputUsed, PersonData, Status
from eligibility.reform import CSS_CEILING_UNKNOWN, CSS_SOURCED_UNTIL
from eligibility.student_status import student_benefits

_HOUSING_INPUTS = {
    "statut_occupation_logement",
    "loyer",
    "depcom",
    "zone_apl",
    "aide_logement_verse",
}


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
    claimant = next(m for m in household.members if m.role == "claimant")
    readers = student_benefits(claimant.birth_date, household.month)
    if benefit not in readers:
        inputs = tuple(i for i in inputs if i.name != "etudiant")
    if benefit != "aide_logement" or benefit not in readers:
        inputs = tuple(i for i in inputs if i.name != "boursier")
    if benefit in HOUSING_BENEFITS:
        return inputs
    return tuple(i for i in inputs if i.name not in _HOUSING_INPUTS)


def unavailable(benefit: str, month: str) -> tuple[str, ...]:
    """Missing data that no record can fill, named when the rules are not run: the model
    itself lacks a sourced parameter."""
    if benefit == "css" and month > CSS_SOURCED_UNTIL:
        return (CSS_CEILING_UNKNOWN.what,)
    return ()


def _answer(benefit: str, raw: Mapping[str, float]) -> tuple[Status, float | None]:
    if benefit == "css":
        if raw["cmu_c"]:
            return "ELIGIBLE", 0.0
        if raw["css_participation_forfaitaire"] > 0:
            return "ELIGIBLE", round(raw["css_participation_forfaitaire"], 2)
        return "NOT_ELIGIBLE", None
    if benefit == "aspa" and not raw["aspa_eligibilite"]:
        return "NOT_ELIGIBLE", None  # the household's ASPA is another member's (``_reason``)
    # The housing aid answered is the one the household is entitled to (``eligibility.paid``).
    amount = raw["aide_logement_calcule" if benefit == "aide_logement" else benefit]
    if amount > 0:
        return "ELIGIBLE", round(amount, 2)
    return "NOT_ELIGIBLE", None


def _reason(benefit: str, raws: Sequence[Mapping[str, float]]) -> Criterion | None:
    """Why a person is not entitled to what their household is: the ASPA OpenFisca computes
    for the couple is due to its members of ASPA age only, here the partner (the ASPA is
    positive only when a member is of its age)."""
    if benefit == "aspa" and not raws[0]["aspa_eligibilite"]:
        if any(raw["aspa"] > 0 for raw in raws):
            return ASPA_OTHER_MEMBER
    return None


def _note(household: Household, benefit: str) -> Criterion | None:
    """The unknowns of ``benefit`` that do not change its answer, and the values tried."""
    unknowns = bounds.concerned(household, benefit)
    if not unknowns:
        return None
    tried = " ; ".join(f"{u.what} : {u.bound}" for u in unknowns)
    basis = CRITERIA[benefit][1]  # each benefit's resource criterion
    return Criterion(
        "Données manquantes sans effet sur ce résultat, évaluées à leurs bornes "
        f"({tried}) : même statut et même montant à 1 € près à chacune.",
        basis.title,
        basis.href,
    )


def _range(
    household: Household, benefit: str, answers: Sequence[tuple[Status, float | None]]
) -> Criterion:
    """Why an ELIGIBLE answer has no amount: the values tried and the amounts they give."""
    amounts = [a for _, a in answers if a is not None]
    tried = " ; ".join(f"{u.what} : {u.bound}" for u in bounds.concerned(household, benefit))
    what = "participation" if benefit == "css" else "montant"
    basis = CRITERIA[benefit][1]
    return Criterion(
        f"Droit établi quelles que soient les données manquantes, évaluées à leurs bornes "
        f"({tried}) ; le {what} en dépend : entre {min(amounts):.2f} € et "
        f"{max(amounts):.2f} € par mois.",
        basis.title,
        basis.href,
    )


def result(
    data: PersonData,
    household: Household,
    benefit: str,
    raws: Sequence[Mapping[str, float]] | None,
) -> BenefitResult:
    """``raws``: the raw outputs of the household's rows (``bounds.rows``), None when it was
    not simulated (nothing evaluable). The CSS ceiling past its sourced months is one of the
    household's unknowns (``reform.with_unsourced_ceiling``)."""
    missing = household.missing.get(benefit, ())
    status: Status
    amount: float | None = None
    criteria = CRITERIA[benefit]
    if missing or raws is None:
        status = "CANNOT_EVALUATE"
    else:
        keep = bounds.relevant(household, benefit)
        raws = [raws[i] for i in keep]
        answers = [_answer(benefit, raw) for raw in raws]
        reason = _reason(benefit, raws)
        if reason is not None:
            criteria = (*criteria, reason)
        decisive = bounds.decide(household, benefit, answers, raws)
        if decisive is None:
            status, amount = answers[0]
            note = _note(household, benefit)
            if note is not None:
                criteria = (*criteria, note)
        elif bounds.certain_eligibility(benefit, answers):
            status, missing = "ELIGIBLE", decisive
            criteria = (*criteria, _range(household, benefit, answers))
        else:
            status, missing = "CANNOT_EVALUATE", decisive
    paid = receiving(data, benefit)
    return BenefitResult(
        benefit=benefit,
        status=status,
        monthly_amount=amount,
        receiving=paid,
        non_take_up=status == "ELIGIBLE" and paid is False,
        missing=missing,
        criteria=criteria,
        inputs=_inputs(household, benefit),
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
