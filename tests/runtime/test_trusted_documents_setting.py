"""UNEFOIS_TRUSTED_DOCUMENTS: off by default, registered on demand, anything else refused at
load with the variable named."""

from __future__ import annotations

import pytest

from runtime.settings import SettingsError, load


def test_off_by_default_and_registered_on_demand() -> None:
    assert load({}).trusted_documents == "off"
    assert load({"UNEFOIS_TRUSTED_DOCUMENTS": "registered"}).trusted_documents == "registered"
    assert load({"UNEFOIS_TRUSTED_DOCUMENTS": "Registered"}).trusted_documents == "registered"


@pytest.mark.parametrize("value", ["on", "true", "registred"])
def test_another_value_is_refused(value: str) -> None:
    with pytest.raises(SettingsError, match="UNEFOIS_TRUSTED_DOCUMENTS must be one of off"):
        load({"UNEFOIS_TRUSTED_DOCUMENTS": value})
