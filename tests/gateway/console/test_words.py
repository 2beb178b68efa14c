"""The console's words for what the log records in codes."""

from __future__ import annotations

from gateway.console.words import OUTCOMES, detail, reason


def test_each_of_several_reasons_is_said() -> None:
    said = reason("purpose 'x' is not in force on 2025-01-01; client 'c' may not use purpose 'x'")
    assert said == (
        "la finalité n'était pas en vigueur à cette date ; "
        "l'organisme n'est pas autorisé pour cette finalité"
    )
    assert reason("FORBIDDEN") == "la finalité ne permet pas de transmettre cette donnée"
    assert reason("something new") == "motif enregistré : something new"


def test_recorded_details_read_in_words() -> None:
    assert detail("agent_siret", "22990001400015") == (
        "SIRET de l'organisme de l'agent",
        "22990001400015",
    )
    assert detail("action", "css_renewal") == (
        "Acte",
        "Renouvellement automatique de votre complémentaire santé solidaire",
    )
    assert detail("from", "2026-12-01T00:00:00+00:00") == (
        "Filtre : à partir du",
        "01/12/2026 à 01:00:00",
    )
    assert detail("outcome", "refused")[1] == OUTCOMES["refused"]
    assert detail("something_new", "x") == ("Précision enregistrée « something_new »", "x")


def test_every_person_view_field_has_its_words() -> None:
    from exchange.catalogue import FIELDS
    from gateway.console.words import FIELD_NAMES, field_name

    assert set(FIELDS) <= set(FIELD_NAMES)
    assert field_name("benefits.rsa") == "Revenu de solidarité active perçu"
    assert field_name("gone.field") == "gone.field"  # a field the view no longer has
