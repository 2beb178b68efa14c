"""The schema's check of the forms' purposes against the loaded policy catalogue."""

from __future__ import annotations

import dataclasses

from policies import load_catalogue
from prefill import load_forms
from schema.prefill import unknown_form_purposes


def test_every_shipped_form_names_purposes_of_the_shipped_catalogue() -> None:
    assert unknown_form_purposes(load_forms(), load_catalogue()) == {}


def test_a_purpose_the_catalogue_lacks_is_named_with_its_form() -> None:
    forms = dict(load_forms())
    forms["css"] = dataclasses.replace(
        forms["css"], purposes=(*forms["css"].purposes, "css_pilot", "css_trial")
    )
    assert unknown_form_purposes(forms, load_catalogue()) == {"css": ("css_pilot", "css_trial")}
