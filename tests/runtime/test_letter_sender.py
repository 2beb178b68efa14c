"""The letters' sender block, from UNEFOIS_LETTER_SENDER."""

from __future__ import annotations

import pytest

from runtime.settings import Settings, SettingsError, load


def test_the_default_names_the_product_only() -> None:
    assert load({}).letter_sender == Settings.letter_sender


def test_lines_are_separated_by_a_bar() -> None:
    settings = load(
        {"UNEFOIS_LETTER_SENDER": "Département du Rhône | Service RSA |29-31 cours de la Liberté"}
    )
    assert settings.letter_sender == (
        "Département du Rhône",
        "Service RSA",
        "29-31 cours de la Liberté",
    )


@pytest.mark.parametrize(
    "value",
    ["|".join(["Ligne"] * 7), "Un nom bien plus long que trente-huit caractères en tout"],
)
def test_a_block_an_envelope_window_cannot_take_is_refused(value: str) -> None:
    with pytest.raises(SettingsError) as caught:
        load({"UNEFOIS_LETTER_SENDER": value})
    assert "UNEFOIS_LETTER_SENDER" in str(caught.value)
