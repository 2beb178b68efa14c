"""Every SMS template, rendered with the longest realistic values, goes out in GSM-7 and in
at most two SMS."""

from __future__ import annotations

import uuid
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import pytest

from prefill import load_forms
from proactive.campaign import BENEFIT_SHORT, BENEFIT_TO
from proactive.notifications import PermanentFailure, Renderer, gsm
from proactive.notifications.rendering import SMS_MAX_SEGMENTS, TEMPLATES, french_date

# The longest public URL the SMS are made for (docs/proactive.md): 40 characters.
LONG_BASE = "https://unefois.solidarites-numerique.fr"
TODAY = date(2025, 6, 2)
OFFER = str(uuid.UUID(int=(1 << 128) - 1, version=4))
# A 6-figure monthly amount: far beyond any benefit's, so the limit holds with a margin.
AMOUNT = 999_999.4


def longest_date() -> str:
    """The longest French date of the years a renewal can end in."""
    days = (date(2025, 1, 1) + timedelta(days=n) for n in range(366 * 10))
    return max((french_date(d) for d in days), key=len)


def offer_payloads() -> list[dict[str, Any]]:
    forms = {form.benefit: form_id for form_id, form in load_forms().items()}
    return (
        [
            {
                "benefit_to": BENEFIT_TO[benefit],
                "benefit_short": BENEFIT_SHORT[benefit],
                "monthly_amount": AMOUNT,
                "criteria": ["vos revenus des 3 derniers mois sont bas"],
                "data_used": [{"category": "revenus déclarés", "agency": "DGFiP"}],
                "form": forms[benefit],
                "offer_id": OFFER,
            }
            for benefit in sorted(BENEFIT_SHORT)
        ]
        + [
            # A renewal invitation: the CSS ending on the longest date.
            {
                "benefit": "css",
                "benefit_to": BENEFIT_TO["css"],
                "benefit_short": BENEFIT_SHORT["css"],
                "monthly_amount": AMOUNT,
                "renewal_end": longest_date(),
                "renewal_ended": ended,
                "criteria": [],
                "data_used": [],
                "form": forms["css"],
                "offer_id": OFFER,
            }
            for ended in (False, True)
        ]
        + [
            # The CSS's participation, the longest phrase of its amount.
            {
                "benefit": "css",
                "benefit_to": BENEFIT_TO["css"],
                "benefit_short": BENEFIT_SHORT["css"],
                "monthly_amount": AMOUNT,
                "criteria": [],
                "data_used": [],
                "form": forms["css"],
                "offer_id": OFFER,
            }
        ]
    )


def renewal_payloads() -> list[dict[str, Any]]:
    return [
        {
            "benefit_to": BENEFIT_TO["css"],
            "previous_end": longest_date(),
            "new_end": new_end,
            "with_participation": True,
            "data_used": [{"category": "revenus déclarés", "agency": "DGFiP"}],
            "reference": str(uuid.uuid5(uuid.NAMESPACE_URL, "renewal")),  # 36 characters
        }
        for new_end in (longest_date(), french_date(date(2026, 8, 31)))
    ]


def grant_payloads() -> list[dict[str, Any]]:
    return [
        {
            "rsa_since": longest_date(),
            "start": longest_date(),
            "end": longest_date(),
            "reference": str(uuid.uuid5(uuid.NAMESPACE_URL, "grant")),  # 36 characters
        }
    ]


PAYLOADS = {"offer": offer_payloads(), "renewal": renewal_payloads(), "grant": grant_payloads()}


def test_every_sms_template_is_tested() -> None:
    templates = {p.name.removesuffix("_sms.txt.j2") for p in TEMPLATES.glob("*_sms.txt.j2")}
    assert templates == set(PAYLOADS)


@pytest.mark.parametrize(
    ("template", "payload"),
    [(t, p) for t, payloads in PAYLOADS.items() for p in payloads],
)
def test_every_sms_is_gsm7_within_the_segment_limit(template: str, payload: dict[str, Any]) -> None:
    assert len(LONG_BASE) == 40
    sms = Renderer(LONG_BASE).render(template, "sms", payload, TODAY)
    text = sms.text.strip()
    assert gsm.encoding(text) == "GSM-7"
    assert sms.segments == gsm.segments(text) <= SMS_MAX_SEGMENTS
    assert gsm.septets(text) <= 2 * gsm.GSM7_PART
    assert f"{LONG_BASE}/" in text
    # The templates themselves are GSM-7: transliteration is a safety net, not their spelling.
    assert "peut-etre" not in text


def test_the_offer_sms_keeps_its_accents_and_both_links() -> None:
    [payload, *_] = offer_payloads()
    sms = Renderer(LONG_BASE).render("offer", "sms", payload, TODAY)
    assert "pré-remplie" in sms.text and "999 999 euros" in sms.text
    assert "/formulaires/" in sms.text and "/desinscription?offre=" in sms.text


def test_a_renewal_in_august_is_written_aout() -> None:
    sms = Renderer(LONG_BASE).render("renewal", "sms", renewal_payloads()[1], TODAY)
    assert "31 aout 2026" in sms.text and "complémentaire santé" in sms.text


def test_a_public_url_too_long_for_two_sms_is_refused() -> None:
    with pytest.raises(PermanentFailure) as raised:
        Renderer("https://" + "a" * 60 + ".gouv.fr").render(
            "offer", "sms", offer_payloads()[0], TODAY
        )
    assert raised.value.kind == "sms_too_long"


def test_a_text_left_outside_gsm7_is_refused(tmp_path: Path) -> None:
    (tmp_path / "note_subject.txt.j2").write_text("Note")
    (tmp_path / "note_sms.txt.j2").write_text("Voilà {{ mark }}")
    renderer = Renderer(LONG_BASE, directory=tmp_path)
    assert renderer.render("note", "sms", {"mark": "ô"}, TODAY).text == "Voilà o\n"
    with pytest.raises(PermanentFailure) as raised:
        renderer.render("note", "sms", {"mark": "✓"}, TODAY)
    assert raised.value.kind == "sms_not_gsm7"
