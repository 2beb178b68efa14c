"""Every sandbox procedure, a dossier there and back: the gateway's payload prefills a dossier
in the sandbox démarches-simplifiées, the person completes what no agency gave and deposits
it, and the dossier read through DS's GraphQL API is settled as a submission — whatever the
procedure's champs (a département drawn from the postcode, communes, repetitions…).

In process: the sandbox's store and GraphQL schema, the gateway's payload, reading and
settling; the same journey over HTTP is walked by ``tests/gateway/test_dossier_webhook.py``.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import UTC, date, datetime
from typing import Any

import pytest

from connectors.demarches import DOSSIER_QUERY
from prefill import FieldDef, FilledField, FormDef, PrefilledForm, Provenance, load_forms
from prefill.champs import stable_id
from prefill.ds_payload import ds_payload, from_dossier
from prefill.errors import InvalidValue
from prefill.model import Submission
from prefill.procedure import Procedure, load_procedure_file
from prefill.resubmit import commune_fields, settled_fields, submission_of
from prefill.submission import apply_submission
from sandbox.demarches import graphql_api
from sandbox.demarches.prefill import prefill
from sandbox.demarches.procedures import load_procedures
from sandbox.demarches.store import DossierStore
from sandbox.demarches.typing import prefill_value
from tests.prefill.test_sandbox_mappings import PROCEDURES, ROOT, descriptors

AGENCY = Provenance("CAF", "caf.logement", date(2026, 9, 1))
TEXTS = {
    "code_postal": "93000",
    "commune": "BOBIGNY",
    "commune_naissance": "93008",
    "pays_naissance": "99100",
    "mois": "2026-06",
    "identifiant_france_travail": "1234567A",
    "numero_allocataire": "1234567",
    "adresse": "12 RUE DE LA PAIX",
}
NIR = "2800593008123"
# What the person types on DS where the gateway sent nothing, by champ type.
TYPED = {
    "address": "12 Rue de la Paix 93000 Bobigny",
    "text": "Complément",
    "textarea": "Complément",
    "checkbox": "true",
    "yes_no": "false",
    "decimal_number": "0",
    "integer_number": "0",
    "date": "2026-01-01",
}


def nir() -> str:
    return NIR + f"{97 - int(NIR) % 97:02d}"


def sample(field: FieldDef, texts: dict[str, str] = TEXTS) -> Any:
    if field.type == "repetition":
        return [{c.id: sample(c, texts) for c in field.children}]
    if field.type == "date":
        return "1980-05-02"
    if field.type == "money":
        return 450.0
    if field.type == "boolean":
        return False
    if field.type == "choice":
        return field.choices[0]
    if field.type == "nir":
        return nir()
    return texts.get(field.id, "DUPONT")


def filled(form: FormDef, texts: dict[str, str] = TEXTS) -> PrefilledForm:
    """Every field known from an agency, those a person confirms to confirm."""
    return PrefilledForm(
        form.id,
        tuple(
            FilledField(
                f.id, f.label, sample(f, texts), AGENCY, "TO_CONFIRM" if f.confirm else "KNOWN"
            )
            for f in form.fields
        ),
        (),
    )


Edit = Callable[[Procedure, dict[str, Any]], None]


def deposit(
    path: str,
    emptied: tuple[str, ...] = (),
    edit: Edit | None = None,
    texts: dict[str, str] | None = None,
) -> tuple[Submission, tuple[str, ...], set[str]]:
    """The trip for the procedure at ``path``, the person emptying the champs of the
    ``emptied`` form fields (and ``edit`` changing the dossier as DS's API gives it back),
    the agencies' texts ``texts`` over ``TEXTS``: the submission read, the fields the
    validated form changed, and those the gateway left out of the payload."""
    procedure = load_procedure_file(ROOT / "mappings" / f"{path}.yaml")
    form = load_forms()[procedure.form]
    champs = descriptors(procedure.number)
    shown = filled(form, TEXTS | (texts or {}))
    payload = ds_payload(form, shown, procedure, champs)

    procedures = load_procedures()
    ds = procedures[procedure.number]
    store = DossierStore()
    dossier = prefill(store, ds, json.loads(json.dumps(payload.body)), datetime.now(UTC))
    for field_id in emptied:
        dossier.values.pop(stable_id(procedure.champs[field_id].champ))
    # The person completes the required champs left empty, then deposits the dossier.
    for champ in ds.champs:
        if champ.required and champ.stable_id not in dossier.values and champ.type in TYPED:
            dossier.values[champ.stable_id] = prefill_value(champ, TYPED[champ.type])
    dossier.state = "en_construction"

    answer = graphql_api.execute(DOSSIER_QUERY, {"number": dossier.number}, None, procedures, store)
    assert "errors" not in answer, answer
    if edit is not None:
        edit(procedure, answer["data"]["dossier"])
    back = from_dossier(form, procedure, champs, answer["data"]["dossier"])
    settled = settled_fields(form, procedure, champs)
    not_sent = {f.field for f in payload.left_out}  # as the gateway's processing does
    communes = commune_fields(procedure, champs)
    submission = submission_of(form, shown, back, settled, procedure.identity, not_sent, communes)
    validated, changed = apply_submission(form, shown, submission, settled)
    assert validated.form == form.id
    return submission, changed, not_sent


@pytest.mark.parametrize("entry", PROCEDURES, ids=lambda p: p["path"])
def test_a_dossier_deposited_as_prefilled_is_settled(entry: dict[str, Any]) -> None:
    submission, changed, left_out = deposit(entry["path"])
    # Nothing the person left as it was reads as a correction: only what they typed where
    # the dossier was created without a value is theirs, provided.
    assert set(changed) <= left_out
    assert not submission.corrections, submission
    assert set(changed) <= set(submission.provided)


def test_a_prefilled_value_emptied_on_ds_is_a_correction_to_nothing() -> None:
    # The only child removed from the table, the charges emptied: no longer a dossier that
    # fails on every try, but the person's word that there are none.
    _, changed, _ = deposit("demande-rsa", emptied=("enfants", "charges_mensuelles"))
    assert {"enfants", "charges_mensuelles"} <= set(changed)


def test_a_departement_champ_settles_nothing_it_cannot_give_back() -> None:
    procedure = load_procedure_file(ROOT / "mappings" / "demande-rsa-seine-saint-denis.yaml")
    form = load_forms()[procedure.form]
    settled = settled_fields(form, procedure, descriptors(procedure.number))
    # "commune" feeds the département champ (from the postcode): it is not read back.
    assert procedure.champs["commune"].from_fields and "commune" not in settled
    assert "code_postal" in settled  # its own champ


def test_months_go_to_ds_in_words_and_come_back_as_months() -> None:
    procedure = load_procedure_file(ROOT / "mappings" / "demande-rsa.yaml")
    form = load_forms()[procedure.form]
    champs = descriptors(procedure.number)
    body = ds_payload(form, filled(form), procedure, champs).body
    table = body["champ_" + procedure.champs["ressources_trimestre"].champ]
    month_champ = "champ_" + procedure.champs["ressources_trimestre"].children["mois"].champ
    assert [row[month_champ] for row in table] == ["juin 2026"]


def _champ_node(procedure: Procedure, dossier: dict[str, Any], field_id: str) -> dict[str, Any]:
    wanted = stable_id(procedure.champs[field_id].champ)
    return next(
        n for n in dossier["champs"] if stable_id(n.get("champDescriptorId") or n["id"]) == wanted
    )


def test_a_value_that_cannot_be_read_back_is_refused_naming_its_field() -> None:
    # More decimals than an amount has: not "no charges", but a value to correct.
    def decimals(procedure: Procedure, dossier: dict[str, Any]) -> None:
        node = _champ_node(procedure, dossier, "charges_mensuelles")
        node["decimalNumber"] = node["value"] = 85.12345

    with pytest.raises(InvalidValue) as refused:
        deposit("demande-rsa", edit=decimals)
    assert refused.value.field == "charges_mensuelles"

    # A month in no known form in a table's cell: the cell is named, the row not confirmed.
    def month(procedure: Procedure, dossier: dict[str, Any]) -> None:
        table = _champ_node(procedure, dossier, "ressources_trimestre")
        column = stable_id(procedure.champs["ressources_trimestre"].children["mois"].champ)
        for cell in table["rows"][0]["champs"]:
            if stable_id(cell.get("champDescriptorId") or cell["id"]) == column:
                cell["stringValue"] = cell["value"] = "le mois dernier"

    with pytest.raises(InvalidValue) as refused:
        deposit("demande-rsa", edit=month)
    assert refused.value.field == "ressources_trimestre[0].mois"


@pytest.mark.parametrize(
    ("born", "sent"),
    [("93008", ["93000", "93008"]), ("75112", ["75012", "75056"]), ("69123", ["69001", "69123"])],
)
def test_a_birth_commune_goes_with_a_postcode_and_comes_back_as_it_was(
    born: str, sent: list[str]
) -> None:
    """The civil registry gives an INSEE code alone: sent with a postcode of the commune (an
    arrondissement as its commune with its own postcode), taken by DS, and read back as the
    same place — confirmed, never a correction."""
    path = "demande-rsa"
    procedure = load_procedure_file(ROOT / "mappings" / f"{path}.yaml")
    form = load_forms()[procedure.form]
    champs = descriptors(procedure.number)
    body = ds_payload(form, filled(form, TEXTS | {"commune_naissance": born}), procedure, champs)
    assert body.body["champ_" + procedure.champs["commune_naissance"].champ] == sent
    submission, changed, left_out = deposit(path, texts={"commune_naissance": born})
    assert "commune_naissance" not in left_out | set(changed)
    assert "commune_naissance" not in submission.corrections


def test_a_birth_commune_changed_on_ds_is_a_correction_to_the_place_chosen() -> None:
    # The person picks « Lyon (69003) »: born in Lyon's 3rd arrondissement, as INSEE codes it.
    def lyon(procedure: Procedure, dossier: dict[str, Any]) -> None:
        node = _champ_node(procedure, dossier, "commune_naissance")
        node["commune"] = {"code": "69123", "postalCode": "69003", "name": "Lyon"}

    submission, changed, _ = deposit("demande-rsa", edit=lyon)
    assert submission.corrections["commune_naissance"] == "69383"
    assert "commune_naissance" in changed
