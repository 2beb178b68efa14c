"""The DS prefill body of a filled form, what it leaves out, and the way back from a dossier."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from prefill import geo, load_forms, prefill
from prefill.champs import stable_id
from prefill.ds_payload import LeftOut, ds_payload, from_dossier
from prefill.model import PrefilledForm
from prefill.procedure import load_procedure_file
from tests.prefill.records import person_records
from tests.prefill.test_sandbox_mappings import ROOT, descriptors

RSA = load_forms()["rsa"]
PROCEDURE = load_procedure_file(ROOT / "mappings" / "demande-rsa.yaml")
CHAMPS = descriptors(101)


def with_values(filled: PrefilledForm, **values: Any) -> PrefilledForm:
    fields = tuple(replace(f, value=values[f.id]) if f.id in values else f for f in filled.fields)
    return replace(filled, fields=fields)


def filled() -> PrefilledForm:
    return with_values(
        prefill(RSA, person_records()),
        nationalite="francaise",
        pays_naissance="99100",
        autres_ressources="10012.0",
    )


def test_payload_converts_each_value_to_its_champ() -> None:
    payload = ds_payload(RSA, filled(), PROCEDURE, CHAMPS)
    body = payload.body
    assert body["identite_genre"] == "Mme"
    assert body["champ_Q2hhbXAtMTAxMDA0"] == "FR"  # pays from INSEE's 99100
    assert body["champ_Q2hhbXAtMTAxMDA1"] == "Française"
    assert body["champ_Q2hhbXAtMTAxMDEz"] == "Marié(e)"  # internal code → procedure label
    assert body["champ_Q2hhbXAtMTAxMDMx"] == 10012  # decimal champ, integral value
    assert body["champ_Q2hhbXAtMTAxMDAy"] == "1988-03-14"
    assert all(
        v in ("true", "false") for k, v in body.items() if k.endswith(("MzNw", "Mzg", "Mzk", "NDA"))
    )
    rows = body["champ_Q2hhbXAtMTAxMDE5"]
    assert rows and all(set(r) <= {f"champ_Q2hhbXAtMTAxMDI{n}" for n in "wxyz"} for r in rows)
    # The address is lines, not a BAN label: left out and reported, never sent.
    assert "champ_Q2hhbXAtMTAxMDA5" not in body
    assert LeftOut("adresse", "no Base Adresse Nationale label in the data") in payload.left_out


def test_a_value_that_cannot_convert_is_left_out_and_reported() -> None:
    form = with_values(filled(), loyer_mensuel=500.1234, date_naissance=None)
    enfants = [{"prenom": "LÉA", "date_naissance": "2015-02-30", "sexe": "F"}]
    form = with_values(form, enfants=enfants)
    payload = ds_payload(RSA, form, PROCEDURE, CHAMPS)
    assert "champ_Q2hhbXAtMTAxMDM0" not in payload.body
    assert "champ_Q2hhbXAtMTAxMDAy" not in payload.body  # no value: left out, not reported
    reported = {lo.field for lo in payload.left_out}
    assert {"loyer_mensuel", "enfants[0].date_naissance"} <= reported
    assert "date_naissance" not in reported
    assert payload.body["champ_Q2hhbXAtMTAxMDE5"] == [
        {"champ_Q2hhbXAtMTAxMDIw": "LÉA", "champ_Q2hhbXAtMTAxMDIz": "Fille"}
    ]


def dossier_from(body: dict[str, Any]) -> dict[str, Any]:
    """What DS's GraphQL would answer for a dossier prefilled with ``body``."""
    by_stable = {stable_id(c.id): c for c in CHAMPS}

    def node(champ_key: str, value: Any) -> dict[str, Any]:
        champ = by_stable[stable_id(champ_key.removeprefix("champ_"))]
        if champ is None:
            champ = next(
                d for c in CHAMPS for d in c.children if d.id == champ_key.removeprefix("champ_")
            )
        out: dict[str, Any] = {"id": champ.id, "champDescriptorId": champ.id}
        kind = champ.type
        if kind == "repetition":
            out["rows"] = [
                {"champs": [child_node(k, v, champ) for k, v in row.items()]} for row in value
            ]
        elif kind == "pays":
            out["pays"] = {"code": value}
        elif kind == "yes_no":
            out["selected"] = value == "true"
        elif kind == "decimal_number":
            out["decimalNumber"] = value
        elif kind == "date":
            out["date"] = value
        elif kind == "communes":
            out["commune"] = {"postalCode": value[0], "code": value[1], "name": None}
        else:
            out["value"] = value
        return out

    def child_node(key: str, value: Any, parent: Any) -> dict[str, Any]:
        child = parent.child(key.removeprefix("champ_"))
        out: dict[str, Any] = {"id": child.id, "champDescriptorId": child.id}
        if child.type == "date":
            out["date"] = value
        elif child.type == "decimal_number":
            out["decimalNumber"] = value
        else:
            out["value"] = value
        return out

    champs = [node(k, v) for k, v in body.items() if k.startswith("champ_")]
    demandeur = {
        "nom": body["identite_nom"],
        "prenom": body["identite_prenom"],
        "civilite": "Mme" if body["identite_genre"] == "Mme" else "M",
    }
    return {"champs": champs, "demandeur": demandeur}


def test_from_dossier_gives_back_the_form_values() -> None:
    form = with_values(filled(), nom_usage="DURAND")
    payload = ds_payload(RSA, form, PROCEDURE, CHAMPS)
    back = from_dossier(RSA, PROCEDURE, CHAMPS, dossier_from(payload.body))
    sent = {f.id: f.value for f in form.fields}
    left = {lo.field for lo in payload.left_out}
    for field_id, value in back.items():
        expected = sent[field_id]
        if isinstance(expected, list):  # repetition: the mapped columns with a value
            expected = [
                {
                    k: v
                    for k, v in row.items()
                    if v is not None and k in PROCEDURE.champs[field_id].children
                }
                for row in expected
            ]
        if field_id == "autres_ressources":
            expected = 10012.0
        if field_id == "commune_naissance":
            # Lyon went with its first postcode, which is its 1st arrondissement's too: read
            # back as precisely as that, the same place (``prefill.resubmit``).
            assert (expected, value) == ("69123", "69381")
            assert geo.same_commune(expected, value)
            continue
        assert value == expected, field_id
    mapped_with_value = {
        f for f in PROCEDURE.champs if sent.get(f) not in (None, "", []) and f not in left
    }
    assert mapped_with_value <= set(back)
    assert back["civilite"] == "Mme" and back["nom_usage"] == "DURAND"
