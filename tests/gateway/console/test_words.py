"""The console's words for what the log records in codes."""

from __future__ import annotations

from gateway.console.words import reason


def test_each_of_several_reasons_is_said() -> None:
    said = reason("purpose 'x' is not in force on 2025-01-01; client 'c' may not use purpose 'x'")
    assert said == (
        "la finalité n'était pas en vigueur à cette date ; "
        "l'organisme n'est pas autorisé pour cette finalité"
    )
    assert reason("FORBIDDEN") == "la finalité ne permet pas de transmettre cette donnée"
    assert reason("something new") == "motif enregistré : something new"
