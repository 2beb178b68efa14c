"""The campaign report: its date and parameters, figures, accessible charts, precision and
recall over the persons examined, and the CLI."""

from __future__ import annotations

import argparse
import asyncio
import io
import re
from collections.abc import Iterator
from contextlib import redirect_stdout
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import httpx
import pytest

from cli.campaign import report
from exchange.oversight import Campaign
from proactive.campaign import CLIENT_ID, PURPOSE, SECTOR
from proactive.population import identity_from_params
from proactive.report import (
    PRECISION_LABEL,
    RECALL_LABEL,
    Parameters,
    detection,
    detections,
    render_report,
)
from runtime import Services
from runtime.settings import Settings, load
from sandbox import RunningSandbox, SandboxConfig, start_in_thread
from store import Message
from store.offers import Offer, OfferFollowUp
from tests.upstreams import agency_env

NOW = datetime(2025, 7, 10, 12, 0, tzinfo=UTC)


def offer(person: str, status: str = "detected", **more: object) -> Offer:
    fields: dict[str, object] = {
        "id": person,
        "person": person,
        "benefit": "rsa",
        "month": "2025-06",
        "campaign": "c",
        "territory": "75",
        "monthly_amount": 600.0,
        "status": status,
        **more,
    }
    return Offer(**fields)  # type: ignore[arg-type]


PARAMETERS = Parameters(campaigns=("c",))


def page_of(
    offers: list[Offer],
    truth: dict[str, dict[str, bool]] | None,
    parameters: Parameters = PARAMETERS,
) -> str:
    return render_report([OfferFollowUp(o) for o in offers], truth, parameters, NOW)


OFFERS = [
    offer("p1"),
    offer("p2", "notified", territory="93", monthly_amount=400.5),
    offer("p3", "applied", territory="93", monthly_amount=None),
    offer("p4", "declined", territory=None),
]


def test_precision_and_recall_on_a_hand_made_case() -> None:
    # p1, p2 real non-claimants; p3 is not; p4 outside the truth; n1, n2 missed.
    truth = {"p1": True, "p2": True, "p3": False, "n1": True, "n2": True, "x": False}
    d = detection(OFFERS, truth)
    assert (d.true_positives, d.false_positives, d.unknown) == (2, 1, 1)
    assert (d.false_negatives, d.non_claimants) == (2, 4)
    assert d.precision == pytest.approx(2 / 3) and d.recall == pytest.approx(0.5)
    assert detection([], {}).precision is None and detection([], {}).recall is None
    assert d.examined == len(truth)


def test_each_benefit_is_judged_on_its_own_offers_and_truth() -> None:
    offers = [*OFFERS, offer("p3", benefit="ppa"), offer("q", benefit="ppa")]
    truth = {
        "rsa": {"p1": True, "p2": True, "p3": False, "n1": True},
        "ppa": {"p1": False, "p3": True, "q": True, "r": True, "s": False},
    }
    found = detections(offers, truth)
    assert list(found) == ["rsa", "ppa"]
    rsa, ppa = found["rsa"], found["ppa"]
    # rsa: p1, p2 right, p3 wrong (its ppa offer does not count here), p4 unknown.
    assert (rsa.true_positives, rsa.false_positives, rsa.unknown) == (2, 1, 1)
    assert (rsa.non_claimants, rsa.examined) == (3, 4)
    assert rsa.recall == pytest.approx(2 / 3)
    # ppa: p3 and q right; r missed; p1's rsa offer is no ppa false positive.
    assert (ppa.true_positives, ppa.false_positives, ppa.false_negatives) == (2, 0, 1)
    assert (ppa.precision, ppa.examined) == (1.0, 5)
    page = page_of(offers, truth)
    assert "vérité de terrain du bac à sable" in page and "Précision et rappel" in page
    # Each ratio with what it divides.
    assert "66,7 % (2 ÷ 3)" in page and "100 % (2 ÷ 2)" in page
    assert RECALL_LABEL in page and PRECISION_LABEL in page


def test_the_page_holds_the_figures_and_accessible_charts() -> None:
    page = page_of(OFFERS, {"rsa": {"p1": True, "p3": False, "n": True}})
    assert page.startswith("<!DOCTYPE html>") and '<html lang="fr">' in page
    assert "<script" not in page and "http" not in page.replace("http://www.w3.org/2000/svg", "")
    # Every chart is an image with a title and a description giving its figures.
    charts = re.findall(r"<svg[^>]*>.*?</svg>", page, re.DOTALL)
    assert len(charts) == 3
    for chart in charts:
        assert 'role="img"' in chart and "<title" in chart and "<desc" in chart
    # The funnel: p2 notified, p3 applied and p4 declined were all told.
    assert "détectées : 4; notifiées : 3; notifiées par courriel : 0" in page
    assert "ouvertes : 0; demandes déposées : 1; refusées : 1; désinscrites : 0" in page
    assert "75 : 1; 93 : 2; inconnu : 1" in page
    # Amounts: three known, total 1 600,50 €, mean 533,50 €.
    assert "1\u202f600,50 €" in page and "533,50 €" in page
    assert "Précision" in page and "50 %" in page  # 1 of 2 judged offers, 1 of 2 known
    assert "p1" not in page and "p3" not in page  # no pseudonym in the report


def test_no_truth_no_detection_section() -> None:
    page = page_of(OFFERS, None)
    assert "Précision" not in page and "vérité de terrain" not in page
    assert "rappel" not in page.lower()
    assert "Campagne c" in page


@pytest.fixture(scope="module")
def sandbox() -> Iterator[RunningSandbox]:
    with start_in_thread(SandboxConfig(size=40, reference_month="2025-06")) as running:
        yield running


def settings_for(sandbox: RunningSandbox, data_dir: Path) -> Settings:
    env = {"UNEFOIS_DATA_DIR": str(data_dir), "UNEFOIS_PUBLIC_URL": "http://127.0.0.1:8000"}
    return load(env | agency_env(sandbox))


def living_adults(sandbox: RunningSandbox) -> list[dict[str, Any]]:
    with httpx.Client(timeout=5.0) as client:
        adults = client.get(
            sandbox.urls["civil_registry"] + "/_sandbox/persons",
            params={"kind": "adult", "limit": 1000},
        ).json()["data"]
    return [a for a in adults if not a["deceased"]]


def report_args(output: Path, limit: int | None = None) -> argparse.Namespace:
    return argparse.Namespace(
        campaign_command="report",
        campaign=["rsa-2025-06"],
        output=str(output),
        truth_from_sandbox=True,
        limit=limit,
    )


def test_recall_divides_by_the_non_claimants_the_campaign_examined(
    sandbox: RunningSandbox, tmp_path: Path
) -> None:
    """A campaign over the first persons of the listing, reported without --limit: recall
    used to divide by the whole population's non-claimants (27 % after a 1,079-person
    campaign); it divides by those among the persons the campaign declared it examined."""
    settings = settings_for(sandbox, tmp_path)
    living = living_adults(sandbox)
    flags = [bool(a["truth"]["rsa_non_claimant"]) for a in living]
    # Examined: the listing up to its last non-claimant but one, so that some are left out.
    examined = [i for i, f in enumerate(flags) if f][-1]
    first = living[:examined]
    real = next(a for a in first if a["truth"]["rsa_non_claimant"])
    wrong = next(a for a in first if not a["truth"]["rsa_non_claimant"])
    known = sum(flags[:examined])
    assert 0 < known < sum(flags)

    async def seed() -> None:
        async with Services.open(settings, lambda: NOW) as services:
            await services.oversight.declare_campaign(
                Campaign(
                    "rsa-2025-06",
                    CLIENT_ID,
                    PURPOSE,
                    NOW,
                    NOW + timedelta(days=2),
                    NOW,
                    examined,
                )
            )
            for entry in (real, wrong):
                name = services.pseudonyms.pseudonym(
                    identity_from_params(entry["personne"]), SECTOR
                )
                made = offer(name, id="", campaign="rsa-2025-06")
                assert await services.offers.detect(made, 180, NOW) is not None

    asyncio.run(seed())
    output = tmp_path / "report.html"
    with redirect_stdout(io.StringIO()) as out:
        assert report(settings, report_args(output)) == 0
    line = out.getvalue()
    assert "offers 2 notified 0 opened 0" in line
    assert "benefit rsa offers 2 true_positives 1 false_positives 1 unknown 0" in line
    assert f"non_claimants {known} precision 0.5 recall {1 / known} examined {examined}" in line
    page = output.read_text(encoding="utf-8")
    assert "Campagne rsa-2025-06" in page and RECALL_LABEL in page
    assert f"(1 ÷ {known})" in page
    assert f"ses {examined} premiers adultes" in page and "proactive_detection" in page
    # A --limit other than the population examined would judge other persons: refused.
    with redirect_stdout(io.StringIO()):
        assert report(settings, report_args(output, limit=examined + 1)) == 2
        assert report(settings, report_args(output, limit=examined)) == 0


def test_without_a_declared_population_the_report_asks_for_the_limit(
    sandbox: RunningSandbox, tmp_path: Path
) -> None:
    settings = settings_for(sandbox, tmp_path)
    with redirect_stdout(io.StringIO()):
        assert report(settings, report_args(tmp_path / "r.html")) == 2
        assert report(settings, report_args(tmp_path / "r.html", limit=5)) == 0
    assert "ses 5 premiers adultes" in (tmp_path / "r.html").read_text(encoding="utf-8")


def test_the_report_says_where_the_persons_came_from_as_the_campaign_declared(
    sandbox: RunningSandbox, tmp_path: Path
) -> None:
    """A campaign over the agencies' event feeds says so; judging it against the sandbox's
    listing would measure other persons: refused."""
    settings = settings_for(sandbox, tmp_path)

    async def seed() -> None:
        async with Services.open(settings, lambda: NOW) as services:
            await services.oversight.declare_campaign(
                Campaign(
                    "rsa-2025-06",
                    CLIENT_ID,
                    PURPOSE,
                    NOW,
                    NOW + timedelta(days=2),
                    NOW,
                    40,
                    "events",
                )
            )

    asyncio.run(seed())
    output = tmp_path / "report.html"
    with redirect_stdout(io.StringIO()):
        assert report(settings, report_args(output)) == 2
        plain = argparse.Namespace(**{**vars(report_args(output)), "truth_from_sandbox": False})
        assert report(settings, plain) == 0
    page = output.read_text(encoding="utf-8")
    assert "flux d&#39;événements des organismes" in page or "flux d'événements" in page
    assert "40 personnes examinées" in page


def test_text_is_escaped_by_the_template() -> None:
    page = page_of(OFFERS, None, Parameters(campaigns=('<script>alert("x")</script>',)))
    assert "<script" not in page
    assert "Campagne &lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt;" in page


def test_the_page_is_dated_with_its_time_zone_and_states_the_parameters() -> None:
    parameters = Parameters(
        campaigns=("rsa-2025-06",),
        benefits=("rsa",),
        months=("2025-06",),
        population_source="liste des personnes du bac à sable",
        population=1079,
        recipients=("13002526500013",),
        client=CLIENT_ID,
        purpose=PURPOSE,
        declared_from=NOW,
        declared_until=NOW + timedelta(days=2),
    )
    page = page_of(OFFERS, None, parameters)
    # 12:00 UTC on 10 July is 14:00 in Paris (summer time).
    assert '<time datetime="2025-07-10T14:00:00+02:00">' in page
    assert "10/07/2025 à 14:00 (heure de Paris, UTC+02:00)" in page
    for text in (
        "1\u202f079 personnes examinées ; source : liste des personnes du bac à sable",
        "13002526500013",
        "proactive_detection",
        "demo-proactive",
        "2025-06",
        "du 10/07/2025 à 14:00 (heure de Paris, UTC+02:00) au 12/07/2025",
    ):
        assert text in page
    unknown = page_of(OFFERS, None)
    assert "source : non connu" in unknown and "Population</dt><dd>non connue" in unknown
    with pytest.raises(ValueError):
        render_report([], None, PARAMETERS, datetime(2025, 7, 10, 12))


def test_the_report_counts_messages_per_channel_and_what_the_sms_cost(
    sandbox: RunningSandbox, tmp_path: Path
) -> None:
    """The text messages queued for a campaign's offers, in the segments they go out as and
    at the configured segment price."""
    env = {"UNEFOIS_DATA_DIR": str(tmp_path), "UNEFOIS_PUBLIC_URL": "http://127.0.0.1:8000"}
    env |= agency_env(sandbox)
    settings = load({**env, "UNEFOIS_SMS_SEGMENT_PRICE": "0.045"})
    payload = {
        "benefit_to": "au revenu de solidarité active (RSA)",
        "benefit_short": "au RSA",
        "monthly_amount": 612.5,
        "criteria": ["revenus faibles"],
        "data_used": [],
        "form": "rsa",
    }

    async def seed() -> None:
        async with Services.open(settings, lambda: NOW) as services:
            for n, channels in enumerate((("sms", "email"), ("sms",), ("letter",))):
                made = await services.offers.detect(
                    offer(f"person-{n}", id="", campaign="sms-costs"), 180, NOW
                )
                assert made is not None
                for channel in channels:
                    await services.outbox.enqueue(
                        Message(
                            idempotency_key=f"offer:{made.id}:{channel}",
                            channel=channel,
                            address="0600000000" if channel == "sms" else "somewhere",
                            template="offer",
                            payload={**payload, "offer_id": made.id},
                            created_at=NOW,
                            next_attempt_at=NOW,
                            offer_id=made.id,
                        )
                    )

    asyncio.run(seed())
    output = tmp_path / "report.html"
    args = argparse.Namespace(
        campaign_command="report",
        campaign=["sms-costs"],
        output=str(output),
        truth_from_sandbox=False,
        limit=None,
    )
    with redirect_stdout(io.StringIO()) as out:
        assert report(settings, args) == 0
    found = re.search(r"sms_segments (\d+)", out.getvalue())
    assert found is not None
    segments = int(found.group(1))
    assert 2 <= segments <= 4  # two messages, one or two segments each
    page = output.read_text(encoding="utf-8")
    assert f"partent en {segments} segments" in page
    cost = f"{Decimal('0.045') * segments:.2f}".replace(".", ",")
    assert f"Coût estimé : {cost} € HT" in page
    assert re.search(r"<th scope=\"row\">SMS</th><td class=\"n\">2</td>", page)
    assert re.search(r"<th scope=\"row\">courrier</th><td class=\"n\">1</td>", page)
