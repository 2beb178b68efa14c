"""The person's preview-and-validate step, and the corrected facts eligibility re-reads."""

from __future__ import annotations

from typing import Any

import pytest

from prefill import (
    Failure,
    FilledField,
    IncompleteSubmission,
    InvalidValue,
    PrefilledForm,
    SourceUnavailable,
    Submission,
    UnknownField,
    apply_submission,
    corrected_facts,
    load_forms,
    nir,
    prefill,
)
from tests.prefill.records import person_records

FORM = load_forms()["rsa"]


def filled() -> PrefilledForm:
    return prefill(FORM, person_records())


def submission(
    corrections: dict[str, Any] | None = None, provided: dict[str, Any] | None = None
) -> Submission:
    """Confirms every TO_CONFIRM field not corrected; provides the nationality."""
    corrections = corrections or {}
    provided = {"nationalite": "francaise", **(provided or {})}
    to_confirm = tuple(
        f.id for f in filled().fields if f.state == "TO_CONFIRM" and f.id not in corrections
    )
    return Submission("rsa", to_confirm, corrections, provided)


def test_confirming_everything_keeps_values_and_provenance() -> None:
    form, changed = apply_submission(FORM, filled(), submission())
    assert changed == ("nationalite",)
    assert {f.state for f in form.fields} <= {"KNOWN", "TO_PROVIDE"}
    rent = form.field("loyer_mensuel")
    assert rent is not None and rent.value == 500.0 and rent.provenance is not None
    nationality = form.field("nationalite")
    assert nationality is not None
    assert (nationality.value, nationality.provenance, nationality.state) == (
        "francaise",
        None,
        "KNOWN",
    )


def test_a_correction_is_declared_by_the_person() -> None:
    form, changed = apply_submission(
        FORM, filled(), submission({"loyer_mensuel": "520,50", "code_postal": "69003"})
    )
    rent = form.field("loyer_mensuel")
    assert rent is not None
    assert (rent.value, rent.provenance, rent.state) == (520.5, None, "KNOWN")
    # Re-typing the same value is a confirmation in effect: not a change to audit.
    assert changed == ("nationalite", "loyer_mensuel")
    postal = form.field("code_postal")
    assert postal is not None and postal.provenance is not None


def test_correcting_a_repetition() -> None:
    children = [{"prenom": "LÉA", "nom": "MARTIN", "date_naissance": "2015-09-01", "sexe": "F"}]
    form, changed = apply_submission(FORM, filled(), submission({"enfants": children}))
    field = form.field("enfants")
    assert field is not None and field.value == children
    assert "enfants" in changed


@pytest.mark.parametrize(
    ("corrections", "error", "field"),
    [
        ({"date_naissance": "1988-02-30"}, InvalidValue, "date_naissance"),
        ({"date_naissance": "14/03/1988"}, InvalidValue, "date_naissance"),
        ({"loyer_mensuel": -10}, InvalidValue, "loyer_mensuel"),
        ({"loyer_mensuel": "beaucoup"}, InvalidValue, "loyer_mensuel"),
        ({"loyer_mensuel": True}, InvalidValue, "loyer_mensuel"),
        ({"loyer_mensuel": float("nan")}, InvalidValue, "loyer_mensuel"),
        ({"situation_familiale": "fiance"}, InvalidValue, "situation_familiale"),
        ({"percoit_aah": "peut-être"}, InvalidValue, "percoit_aah"),
        ({"adresse": 12}, InvalidValue, "adresse"),
        ({"adresse": "x" * 501}, InvalidValue, "adresse"),
        ({"age": 40}, UnknownField, "age"),
        ({"enfants": [{"prenom": "LÉA", "age": 9}]}, UnknownField, "enfants[0].age"),
        (
            {"enfants": [{"date_naissance": "2015-13-01"}]},
            InvalidValue,
            "enfants[0].date_naissance",
        ),
        ({"enfants": "LÉA"}, InvalidValue, "enfants"),
        ({"nom_naissance": None}, InvalidValue, "nom_naissance"),
    ],
)
def test_bad_corrections_are_typed_errors_naming_the_field(
    corrections: dict[str, Any], error: type[Exception], field: str
) -> None:
    with pytest.raises(error) as caught:
        apply_submission(FORM, filled(), submission(corrections))
    assert isinstance(caught.value, InvalidValue | UnknownField)
    assert caught.value.field == field
    assert caught.value.code == "BAD_USER_INPUT"


def test_a_choice_outside_choices_is_refused_when_provided() -> None:
    with pytest.raises(InvalidValue, match="nationalite: 'martienne' is not one of"):
        apply_submission(FORM, filled(), submission(provided={"nationalite": "martienne"}))


def test_fields_left_unconfirmed_are_named() -> None:
    whole = submission()
    partial = Submission("rsa", whole.confirmed[1:], {}, whole.provided)
    with pytest.raises(IncompleteSubmission) as caught:
        apply_submission(FORM, filled(), partial)
    assert caught.value.fields == (whole.confirmed[0],)


def test_required_fields_must_end_with_a_value() -> None:
    whole = submission()
    with pytest.raises(IncompleteSubmission) as caught:
        apply_submission(FORM, filled(), Submission("rsa", whole.confirmed))
    assert caught.value.fields == ("nationalite",)


@pytest.mark.parametrize(
    ("sub", "words"),
    [
        (Submission("rsa", ("numero_allocataire",)), "nothing to confirm"),
        (Submission("rsa", ("loyer_mensuel",), {"loyer_mensuel": 1}), "more than once"),
        (Submission("ppa", ()), "for 'ppa'"),
    ],
)
def test_a_refused_list_names_the_field(sub: Submission, words: str) -> None:
    with pytest.raises(InvalidValue, match=words):
        apply_submission(FORM, filled(), sub)


def test_a_field_the_agency_failed_to_give_is_provided() -> None:
    partial = prefill(FORM, person_records(), failures=["housing"])
    whole = submission()
    confirmed = tuple(c for c in whole.confirmed if c not in ("statut_logement", "loyer_mensuel"))
    sub = Submission(
        "rsa",
        tuple(c for c in confirmed if c != "charges_mensuelles"),
        {},
        {**whole.provided, "statut_logement": "heberge_gratuit"},
    )
    form, changed = apply_submission(FORM, partial, sub)
    assert changed == ("nationalite", "statut_logement")
    assert [m.source for m in form.missing_sources] == ["housing"]


def test_a_field_withheld_for_lack_of_consent_may_be_typed_by_the_person() -> None:
    withheld = Failure("CONSENT_REQUIRED", "the person has not consented to logement")
    partial = prefill(FORM, person_records(), {"housing": withheld}, {"housing": "logement"})
    assert partial.field("loyer_mensuel") == FilledField(
        "loyer_mensuel",
        "Loyer mensuel hors charges",
        None,
        None,
        "CONSENT_REQUIRED",
        "CONSENT_REQUIRED",
        ("logement",),
    )
    whole = submission()
    housing = ("statut_logement", "loyer_mensuel", "charges_mensuelles")
    confirmed = tuple(c for c in whole.confirmed if c not in housing)
    sub = Submission(
        "rsa",
        confirmed,
        {},
        {**whole.provided, "statut_logement": "locataire", "loyer_mensuel": 480},
    )
    form, changed = apply_submission(FORM, partial, sub)
    assert changed == ("nationalite", "statut_logement", "loyer_mensuel")
    rent = form.field("loyer_mensuel")
    assert rent is not None
    assert (rent.value, rent.provenance, rent.state, rent.reason) == (480.0, None, "KNOWN", None)
    charges = form.field("charges_mensuelles")  # left as it was: the person did not type it
    assert charges is not None and charges.state == "CONSENT_REQUIRED"
    # Nothing to confirm in a withheld field: the person types it (in either list).
    wrong = Submission("rsa", (*confirmed, "loyer_mensuel"), {}, whole.provided)
    with pytest.raises(InvalidValue, match="nothing to confirm"):
        apply_submission(FORM, partial, wrong)
    provided = {**whole.provided, "statut_logement": "locataire"}
    typed = Submission("rsa", confirmed, {"loyer_mensuel": 480}, provided)
    form, changed = apply_submission(FORM, partial, typed)
    assert changed == ("nationalite", "statut_logement", "loyer_mensuel")


def test_a_value_typed_in_a_field_shown_empty_counts_when_its_source_answers_later() -> None:
    # Shown with the housing agency failing: the person typed rent and status. Read again
    # at submission, the agency answers: what the person typed is their declaration.
    whole = submission()
    housing = ("statut_logement", "loyer_mensuel", "charges_mensuelles")
    confirmed = tuple(c for c in whole.confirmed if c not in housing)
    shown = {f.id: f.value for f in filled().fields}
    # Status and charges typed as the agency now gives them, the rent different.
    typed = {
        "statut_logement": shown["statut_logement"],
        "loyer_mensuel": 480,
        "charges_mensuelles": shown["charges_mensuelles"],
    }
    sub = Submission("rsa", confirmed, {}, {**whole.provided, **typed})
    form, changed = apply_submission(FORM, filled(), sub)
    rent = form.field("loyer_mensuel")
    assert rent is not None and (rent.value, rent.provenance, rent.state) == (480.0, None, "KNOWN")
    # Typed equal to what the agency now says: a confirmation in effect, the agency its source.
    assert changed == ("nationalite", "loyer_mensuel")
    charges = form.field("charges_mensuelles")
    assert charges is not None and charges.provenance is not None and charges.state == "KNOWN"


def test_a_confirmed_field_whose_source_fails_when_read_again_is_retried_not_blamed() -> None:
    # Shown prefilled and confirmed; at submission the housing agency times out.
    timed_out = Failure("UPSTREAM_TIMEOUT", "the housing agency did not answer in time")
    now = prefill(FORM, person_records(), {"housing": timed_out})
    with pytest.raises(SourceUnavailable) as caught:
        apply_submission(FORM, now, submission())
    assert caught.value.code == "UPSTREAM_TIMEOUT"
    assert "loyer_mensuel" in caught.value.fields
    assert "nothing was recorded" in caught.value.message
    # Denied (not a failure that may pass): the person has to type it.
    denied = prefill(FORM, person_records(), {"housing": Failure("FORBIDDEN", "not allowed")})
    with pytest.raises(InvalidValue, match="nothing to confirm"):
        apply_submission(FORM, denied, submission())


def test_a_typed_social_security_number_is_checked_and_normalised() -> None:
    # A provisional number (first digit 7), its key computed: nobody's.
    first13 = "7850599350001"
    typed = f"7 85 05 99 350 001 {nir.key(first13):02d}"
    form, changed = apply_submission(
        FORM, filled(), submission(provided={"numero_securite_sociale": typed})
    )
    number = form.field("numero_securite_sociale")
    assert number is not None and number.value == first13 + f"{nir.key(first13):02d}"
    assert "numero_securite_sociale" in changed
    wrong_key = f"{first13}{(nir.key(first13) % 97) + 1:02d}"
    with pytest.raises(InvalidValue, match=r"numero_securite_sociale: .*key"):
        apply_submission(
            FORM, filled(), submission(provided={"numero_securite_sociale": wrong_key})
        )


def test_corrected_facts_are_keyed_by_the_path_eligibility_reads() -> None:
    rows = [
        {
            "mois": "2025-06",
            "salaires": 450.0,
            "allocations_chomage": 500,
            "pensions": 0,
            "revenus_independants": 0,
        }
    ]
    sub = submission(
        {
            "loyer_mensuel": 520,
            "ressources_trimestre": rows,
            "enfants": [{"prenom": "LÉA", "date_naissance": "2015-09-01"}],
            "adresse": "3 PLACE BELLECOUR",  # not an eligibility input
            "nom_naissance": "MARTIN",
        }
    )
    facts = corrected_facts(FORM, sub)
    assert set(facts) == {"housing.monthly_rent", "resources.months[-3:]", "household.children"}
    assert facts["housing.monthly_rent"] == 520.0
    assert facts["resources.months[-3:]"] == [
        {
            "month": "2025-06",
            "payments[nature=salary].net_social": 450.0,
            "payments[nature=unemployment_benefit].net_social": 500.0,
            "payments[nature=pension].net_social": 0.0,
            "payments[nature=self_employed_income].net_social": 0.0,
        }
    ]
    assert facts["household.children"] == [
        {"given_names": "LÉA", "birth_name": None, "birth_date": "2015-09-01", "sex": None}
    ]


def test_corrected_facts_validate_too() -> None:
    with pytest.raises(InvalidValue):
        corrected_facts(FORM, submission({"loyer_mensuel": -1}))


# --- a procedure's fields only (``settled``) ------------------------------------------------


def test_fields_a_procedure_does_not_show_stay_as_prefilled() -> None:
    whole = submission()
    # The procedure shows the address block and the nationality, nothing else.
    shown = {"adresse", "code_postal", "commune", "nationalite"}
    sub = Submission("rsa", ("adresse", "code_postal", "commune"), {}, whole.provided)
    form, changed = apply_submission(FORM, filled(), sub, settled=shown)
    assert changed == ("nationalite",)
    rent = form.field("loyer_mensuel")  # TO_CONFIRM, not shown: neither asked nor confirmed
    assert rent is not None and rent.state == "TO_CONFIRM" and rent.provenance is not None
    address = form.field("adresse")
    assert address is not None and address.state == "KNOWN"
    # Without ``settled``, the same submission is incomplete: the whole form was shown.
    with pytest.raises(IncompleteSubmission):
        apply_submission(FORM, filled(), sub)


def test_a_required_field_the_procedure_does_not_show_may_stay_empty() -> None:
    whole = submission()
    sub = Submission("rsa", whole.confirmed)  # no nationality typed
    form, changed = apply_submission(FORM, filled(), sub, settled={"loyer_mensuel"})
    assert changed == ()
    nationality = form.field("nationalite")
    assert nationality is not None and nationality.value is None


def test_a_shown_field_must_still_be_settled() -> None:
    shown = {"adresse", "loyer_mensuel", "nationalite"}
    unconfirmed = Submission("rsa", ("adresse",), {}, {"nationalite": "francaise"})
    with pytest.raises(IncompleteSubmission) as caught:
        apply_submission(FORM, filled(), unconfirmed, settled=shown)
    assert caught.value.fields == ("loyer_mensuel",)  # not the unshown TO_CONFIRM ones
    untyped = Submission("rsa", ("adresse", "loyer_mensuel"))
    with pytest.raises(IncompleteSubmission) as caught:
        apply_submission(FORM, filled(), untyped, settled=shown)
    assert caught.value.fields == ("nationalite",)


def test_nothing_shown_nothing_to_settle() -> None:
    form, changed = apply_submission(FORM, filled(), Submission("rsa"), settled=())
    assert changed == () and form == filled()
