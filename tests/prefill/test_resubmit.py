"""A dossier brought back from démarches-simplifiées, read as a submission: field by field,
what the person confirmed, corrected and provided, against the form prefilled again."""

from __future__ import annotations

import dataclasses
from datetime import date
from pathlib import Path
from typing import Any

import pytest

import sandbox as sandbox_package
from prefill import FieldDef, FilledField, FormDef, PrefilledForm, Provenance, load_forms
from prefill.errors import IncompleteSubmission, InvalidValue
from prefill.procedure import ChampMapping, load_procedure_file
from prefill.resubmit import settled_fields, submission_of
from prefill.submission import apply_submission
from tests.prefill.test_sandbox_mappings import descriptors

AGENCY = Provenance("CAF", "caf.logement", date(2025, 6, 30))
ROW_COLUMNS = (
    FieldDef("prenom", "Prénom", "text", "household.children[].given_names"),
    FieldDef("date_naissance", "Date de naissance", "date", "household.children[].birth_date"),
    FieldDef("sexe", "Sexe", "choice", "household.children[].sex", choices=("M", "F")),
)
FORM = FormDef(
    id="demo",
    title="Demande",
    benefit=None,
    fields=(
        FieldDef("nom_usage", "Nom d'usage", "text", "identity.usage_name"),
        FieldDef("nom_naissance", "Nom de naissance", "text", "identity.birth_name"),
        FieldDef("date_naissance", "Date de naissance", "date", "identity.birth_date"),
        FieldDef("adresse", "Adresse", "text", "address.lines", confirm=True),
        FieldDef("loyer", "Loyer", "money", "housing.monthly_rent", confirm=True),
        FieldDef("charges", "Charges", "money", "housing.monthly_charges", confirm=True),
        FieldDef(
            "enfants",
            "Enfants",
            "repetition",
            "household.children",
            confirm=True,
            children=ROW_COLUMNS,
        ),
        FieldDef("nationalite", "Nationalité", "choice", choices=("francaise", "autre")),
        FieldDef("aide", "Aide au logement", "boolean", "benefits.housingAid.receiving"),
        FieldDef("hors_procedure", "Non montré", "text", "address.city", confirm=True),
    ),
    source_file="demo.yaml",
)
CHILD = {"prenom": "LÉA", "date_naissance": "2015-09-01", "sexe": "F"}
SETTLED = frozenset(f.id for f in FORM.fields) - {"hors_procedure"}


def known(field_id: str, value: Any) -> FilledField:
    return FilledField(field_id, field_id, value, AGENCY, "KNOWN")


def to_confirm(field_id: str, value: Any) -> FilledField:
    return FilledField(field_id, field_id, value, AGENCY, "TO_CONFIRM")


def filled(**overrides: FilledField) -> PrefilledForm:
    fields = {
        "nom_usage": FilledField("nom_usage", "Nom d'usage", None, None, "TO_PROVIDE"),
        "nom_naissance": known("nom_naissance", "MARTIN"),
        "date_naissance": known("date_naissance", "1988-03-14"),
        "adresse": to_confirm("adresse", "12 RUE DES LILAS  APPT 4"),
        "loyer": to_confirm("loyer", 480),
        "charges": to_confirm("charges", 40.0),
        "enfants": to_confirm("enfants", [{**CHILD, "nom": "MARTIN"}]),
        "nationalite": FilledField("nationalite", "Nationalité", None, None, "TO_PROVIDE"),
        "aide": FilledField(
            "aide", "Aide", None, None, "CONSENT_REQUIRED", "CONSENT_REQUIRED", ("logement",)
        ),
        "hors_procedure": to_confirm("hors_procedure", "LYON"),
    }
    fields.update(overrides)
    return PrefilledForm("demo", tuple(fields.values()), ())


def as_prefilled(**changes: Any) -> dict[str, Any]:
    """The dossier as DS gives it back when the person changed nothing but ``changes``."""
    back: dict[str, Any] = {
        "nom_naissance": "MARTIN",
        "date_naissance": "1988-03-14",
        "adresse": "12 RUE DES LILAS  APPT 4",
        "loyer": 480,
        "charges": 40.0,
        "enfants": [dict(CHILD)],
    }
    back.update(changes)
    return {k: v for k, v in back.items() if v is not ...}


def test_values_kept_as_prefilled_are_confirmed_and_known_ones_need_no_confirmation() -> None:
    sub = submission_of(FORM, filled(), as_prefilled(), SETTLED)
    assert sub.form == "demo"
    assert sub.confirmed == ("adresse", "loyer", "charges", "enfants")
    assert not sub.corrections and not sub.provided


def test_a_changed_value_is_a_correction() -> None:
    sub = submission_of(FORM, filled(), as_prefilled(loyer=520.5, nom_naissance="DURAND"), SETTLED)
    assert sub.corrections == {"nom_naissance": "DURAND", "loyer": 520.5}
    assert "loyer" not in sub.confirmed


def test_values_typed_where_none_was_prefilled_are_provided() -> None:
    # TO_PROVIDE (no source) and CONSENT_REQUIRED (withheld): the person's own.
    sub = submission_of(FORM, filled(), as_prefilled(nationalite="francaise", aide=False), SETTLED)
    assert sub.provided == {"nationalite": "francaise", "aide": False}
    assert not sub.corrections


@pytest.mark.parametrize("emptied", [None, "", [], ...])
def test_an_emptied_value_is_a_correction_to_nothing(emptied: Any) -> None:
    # The person emptied the rent and removed the only child: they say there is none.
    sub = submission_of(FORM, filled(), as_prefilled(loyer=emptied, enfants=emptied), SETTLED)
    assert "loyer" not in sub.confirmed and "enfants" not in sub.confirmed
    assert sub.corrections == {"loyer": None, "enfants": []}
    assert "loyer" not in sub.provided and "enfants" not in sub.provided
    validated, changed = apply_submission(FORM, filled(), sub, SETTLED)
    assert {"loyer", "enfants"} <= set(changed)
    assert (validated.field("loyer").value, validated.field("enfants").value) == (None, [])


def test_a_field_the_dossier_was_created_without_is_provided_not_corrected() -> None:
    # The agencies' address lines were never sent (an address champ takes a BAN label): what
    # the person typed is theirs, not a correction of a value they never saw.
    typed = as_prefilled(adresse="3 rue Pasteur 69003 Lyon")
    sub = submission_of(FORM, filled(), typed, SETTLED, not_sent={"adresse"})
    assert sub.provided == {"adresse": "3 rue Pasteur 69003 Lyon"}
    assert "adresse" not in sub.corrections and "adresse" not in sub.confirmed
    assert submission_of(FORM, filled(), typed, SETTLED).corrections == {
        "adresse": "3 rue Pasteur 69003 Lyon"
    }
    # Unknown when the dossier was made (nothing shown), known at deposit, left empty: the
    # person said nothing about it — not "there are no charges".
    untouched = submission_of(
        FORM, filled(), as_prefilled(charges=None), SETTLED, not_sent={"charges"}
    )
    assert "charges" not in {**untouched.corrections, **untouched.provided}


def test_an_emptied_required_value_is_refused_as_empty() -> None:
    fields = tuple(
        dataclasses.replace(f, required=True) if f.id == "adresse" else f for f in FORM.fields
    )
    form = dataclasses.replace(FORM, fields=fields)
    sub = submission_of(form, filled(), as_prefilled(adresse=None), SETTLED)
    assert sub.corrections == {"adresse": None}
    with pytest.raises((InvalidValue, IncompleteSubmission)):
        apply_submission(form, filled(), sub, SETTLED)


def test_an_empty_list_shown_and_left_empty_is_confirmed() -> None:
    nobody = filled(enfants=to_confirm("enfants", []))
    backs: tuple[Any, ...] = ([], None, ...)
    for back in backs:
        sub = submission_of(FORM, nobody, as_prefilled(enfants=back), SETTLED)
        assert "enfants" in sub.confirmed, back
    # A child added where none was known: a value provided.
    added = submission_of(FORM, nobody, as_prefilled(enfants=[CHILD]), SETTLED)
    assert added.provided == {"enfants": [CHILD]} and "enfants" not in added.confirmed


def test_an_empty_list_known_needs_no_confirmation() -> None:
    nobody = filled(enfants=known("enfants", []))
    assert "enfants" not in submission_of(FORM, nobody, as_prefilled(enfants=[]), SETTLED).confirmed


def test_repetition_rows_are_compared_on_the_columns_the_procedure_maps() -> None:
    # The prefilled row has a 'nom' the procedure does not map: it does not come back.
    same = submission_of(FORM, filled(), as_prefilled(enfants=[dict(CHILD)]), SETTLED)
    assert "enfants" in same.confirmed
    changed_cell = [{**CHILD, "date_naissance": "2015-09-02"}]
    sub = submission_of(FORM, filled(), as_prefilled(enfants=changed_cell), SETTLED)
    assert sub.corrections == {"enfants": changed_cell}
    added_row = [dict(CHILD), {"prenom": "TOM", "date_naissance": "2018-01-05", "sexe": "M"}]
    sub = submission_of(FORM, filled(), as_prefilled(enfants=added_row), SETTLED)
    assert sub.corrections == {"enfants": added_row}
    removed = submission_of(
        FORM, filled(enfants=to_confirm("enfants", [CHILD, CHILD])), as_prefilled(), SETTLED
    )
    assert removed.corrections == {"enfants": [CHILD]}


def test_a_row_that_is_not_an_object_is_a_correction() -> None:
    sub = submission_of(FORM, filled(), as_prefilled(enfants=["LÉA"]), SETTLED)
    assert sub.corrections == {"enfants": ["LÉA"]}


@pytest.mark.parametrize(
    ("field", "back"),
    [
        ("loyer", 480.0),
        ("loyer", 480.004),  # cents: what a money champ keeps
        ("charges", 40),
        ("adresse", " 12 RUE DES LILAS APPT 4 "),
        ("adresse", "12 RUE DES LILAS\nAPPT 4"),
        ("enfants", [{**CHILD, "prenom": " LÉA"}]),
    ],
)
def test_the_same_value_written_otherwise_is_a_confirmation(field: str, back: Any) -> None:
    sub = submission_of(FORM, filled(), as_prefilled(**{field: back}), SETTLED)
    assert field in sub.confirmed and not sub.corrections


@pytest.mark.parametrize(("field", "back"), [("loyer", 480.01), ("adresse", "12 RUE DES LILAS")])
def test_a_value_close_to_the_prefilled_one_is_still_a_correction(field: str, back: Any) -> None:
    sub = submission_of(FORM, filled(), as_prefilled(**{field: back}), SETTLED)
    assert sub.corrections == {field: back}


def test_fields_the_procedure_does_not_carry_are_ignored() -> None:
    back = as_prefilled(hors_procedure="PARIS", inconnu="x")
    sub = submission_of(FORM, filled(), back, SETTLED)
    assert "hors_procedure" not in {*sub.confirmed, *sub.corrections, *sub.provided}
    assert "inconnu" not in {*sub.corrections, *sub.provided}
    # Carried, the same change is a correction.
    assert submission_of(FORM, filled(), back, SETTLED | {"hors_procedure"}).corrections == {
        "hors_procedure": "PARIS"
    }


IDENTITY = {"nom": ("nom_usage", "nom_naissance")}


def test_the_identity_block_goes_back_to_the_field_that_gave_its_value() -> None:
    # No usage name: DS's 'nom' was filled with the birth name, and comes back under the
    # first field of the list (nom_usage); it is the birth name's, kept as it was.
    back = {k: v for k, v in as_prefilled().items() if k != "nom_naissance"}
    back["nom_usage"] = "MARTIN"
    sub = submission_of(FORM, filled(), back, SETTLED, IDENTITY)
    assert "nom_usage" not in sub.provided and "nom_naissance" not in sub.corrections
    # Changed on DS: a correction of the birth name, not a usage name provided.
    back["nom_usage"] = "DURAND"
    sub = submission_of(FORM, filled(), back, SETTLED, IDENTITY)
    assert sub.corrections == {"nom_naissance": "DURAND"} and not sub.provided
    # Without the identity mapping, the same answer reads as a usage name provided.
    plain = submission_of(FORM, filled(), back, SETTLED)
    assert plain.provided == {"nom_usage": "DURAND"}


def test_a_usage_name_known_keeps_the_identity_block_its_own() -> None:
    with_usage = filled(nom_usage=known("nom_usage", "DUPONT"))
    back = {**as_prefilled(), "nom_usage": "DUPONT-MARTIN"}
    del back["nom_naissance"]
    sub = submission_of(FORM, with_usage, back, SETTLED, IDENTITY)
    assert sub.corrections == {"nom_usage": "DUPONT-MARTIN"}


def test_the_identity_block_not_given_back_changes_nothing() -> None:
    sub = submission_of(FORM, filled(), as_prefilled(), SETTLED, IDENTITY)
    assert sub == submission_of(FORM, filled(), as_prefilled(), SETTLED)


RSA_MAPPING = Path(sandbox_package.__file__).parent / "demarches" / "mappings" / "demande-rsa.yaml"


def test_settled_fields_are_the_procedures_champs_and_identity_block() -> None:
    form = load_forms()["rsa"]
    procedure = load_procedure_file(RSA_MAPPING)
    settled = settled_fields(form, procedure, descriptors(procedure.number))
    assert {"nom_usage", "nom_naissance", "prenoms", "civilite"} <= settled  # identity block
    assert {"loyer_mensuel", "enfants", "nationalite"} <= settled  # champs
    assert "commune_naissance" in settled  # a communes champ fed by its INSEE code
    assert settled <= {f.id for f in form.fields}
    # A champ keyed by something the form does not have is no field to settle.
    odd = dataclasses.replace(
        procedure, champs={**procedure.champs, "inconnu": ChampMapping("inconnu", "Q2hhbXAtOQ==")}
    )
    assert settled_fields(form, odd, descriptors(procedure.number)) == settled


def test_a_former_commune_read_back_as_the_commune_of_today_is_the_same_place() -> None:
    """DS holds today's communes: a birth commune merged since was sent as the commune it is
    part of, and comes back as that commune — what the person confirmed, not a correction."""
    born = FieldDef("commune_naissance", "Commune", "text", "identity.birth_place", confirm=True)
    form = FormDef(id="c", title="C", benefit=None, fields=(born,), source_file="c.yaml")
    shown = PrefilledForm("c", (to_confirm("commune_naissance", "50173"),), ())
    settled = {"commune_naissance"}
    communes = {"commune_naissance"}
    same = submission_of(form, shown, {"commune_naissance": "50129"}, settled, communes=communes)
    assert same.confirmed == ("commune_naissance",) and not same.corrections
    # Read as plain text, the same place would be a correction.
    plain = submission_of(form, shown, {"commune_naissance": "50129"}, settled)
    assert plain.corrections == {"commune_naissance": "50129"}
    other = submission_of(form, shown, {"commune_naissance": "75112"}, settled, communes=communes)
    assert other.corrections == {"commune_naissance": "75112"}
