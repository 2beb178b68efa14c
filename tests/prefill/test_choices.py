"""Every code a shipped form's choice field takes has the words a person reads for it."""

from __future__ import annotations

from prefill import choices, load_forms


def test_every_choice_of_every_shipped_form_has_a_label() -> None:
    missing = []
    for form in load_forms().values():
        for field in form.fields:
            for f in (field, *field.children):
                missing += [f"{form.id}.{f.id}: {c}" for c in f.choices if c not in choices.LABELS]
    assert missing == []


def test_options_keep_the_forms_order() -> None:
    field = load_forms()["rsa"].field("statut_logement")
    assert field is not None
    assert choices.options(field)[3] == ("heberge_gratuit", "Hébergé(e) gratuitement")
    assert [code for code, _ in choices.options(field)] == list(field.choices)
