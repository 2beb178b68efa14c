"""The campaign report: figures, accessible charts, precision and recall, and the CLI."""

from __future__ import annotations

import argparse
import asyncio
import io
import re
from collections.abc import Iterator
from contextlib import redirect_stdout
from datetime import UTC, datetime
from pathlib import Path

import httpx
import pytest

from cli.campaign import report
from proactive.campaign import SECTOR
from proactive.population import identity_from_params
from proactive.report import detection, detections, render_report
from runtime import Services
from runtime.settings import Settings, load
from sandbox import RunningSandbox, SandboxConfig, start_in_thread
from store.offers import Offer

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
    assert (rsa.non_claimants, rsa.examined, rsa.recall) == (3, 4, pytest.approx(2 / 3))
    # ppa: p3 and q right; r missed; p1's rsa offer is no ppa false positive.
    assert (ppa.true_positives, ppa.false_positives, ppa.false_negatives) == (2, 0, 1)
    assert (ppa.precision, ppa.examined) == (1.0, 5)
    page = render_report(offers, truth, "Campagnes")
    assert "vérité de terrain" in page and "Précision et rappel par prestation" in page
    assert "66,7 %" in page and "100 %" in page


def test_the_page_holds_the_figures_and_accessible_charts() -> None:
    page = render_report(OFFERS, {"rsa": {"p1": True, "p3": False, "n": True}}, "Campagne c")
    assert page.startswith("<!DOCTYPE html>") and '<html lang="fr">' in page
    assert "<script" not in page and "http" not in page.replace("http://www.w3.org/2000/svg", "")
    # Every chart is an image with a title and a description giving its figures.
    charts = re.findall(r"<svg[^>]*>.*?</svg>", page, re.DOTALL)
    assert len(charts) == 3
    for chart in charts:
        assert 'role="img"' in chart and "<title" in chart and "<desc" in chart
    assert "détectées : 1; notifiées : 1; ouvertes : 0; demandes déposées : 1" in page
    assert "75 : 1; 93 : 2; inconnu : 1" in page
    # Amounts: three known, total 1 600,50 €, mean 533,50 €.
    assert "1\u202f600,50 €" in page and "533,50 €" in page
    assert "Précision" in page and "50 %" in page  # 1 of 2 judged offers, 1 of 2 known
    assert "p1" not in page and "p3" not in page  # no pseudonym in the report


def test_no_truth_no_detection_section() -> None:
    assert "Précision" not in render_report(OFFERS, None, "c")
    assert "aucune donnée" in render_report([], None, "vide")


@pytest.fixture(scope="module")
def sandbox() -> Iterator[RunningSandbox]:
    with start_in_thread(SandboxConfig(size=40, reference_month="2025-06")) as running:
        yield running


def settings_for(sandbox: RunningSandbox, data_dir: Path) -> Settings:
    env = {"UNEFOIS_DATA_DIR": str(data_dir), "UNEFOIS_PUBLIC_URL": "http://127.0.0.1:8000"}
    for name, url in sandbox.urls.items():
        env[f"UNEFOIS_{name.upper()}_URL"] = url
    return load(env)


def test_the_cli_reports_a_campaign_from_the_store(sandbox: RunningSandbox, tmp_path: Path) -> None:
    settings = settings_for(sandbox, tmp_path)
    with httpx.Client(timeout=5.0) as client:
        adults = client.get(
            sandbox.urls["civil_registry"] + "/_sandbox/persons",
            params={"kind": "adult", "limit": 1000},
        ).json()["data"]
    living = [a for a in adults if not a["deceased"]]
    real = next(a for a in living if a["truth"]["rsa_non_claimant"])
    wrong = next(a for a in living if not a["truth"]["rsa_non_claimant"])
    known = sum(1 for a in living if a["truth"]["rsa_non_claimant"])

    async def seed() -> None:
        async with Services.open(settings, lambda: NOW) as services:
            for entry in (real, wrong):
                name = services.pseudonyms.pseudonym(
                    identity_from_params(entry["personne"]), SECTOR
                )
                made = offer(name, id="", campaign="rsa-2025-06")
                assert await services.offers.detect(made, 180, NOW) is not None

    asyncio.run(seed())
    output = tmp_path / "report.html"
    args = argparse.Namespace(
        campaign_command="report",
        campaign=["rsa-2025-06"],
        output=str(output),
        truth_from_sandbox=True,
        limit=None,
    )
    with redirect_stdout(io.StringIO()) as out:
        assert report(settings, args) == 0
    line = out.getvalue()
    assert "benefit rsa offers 2 true_positives 1 false_positives 1 unknown 0" in line
    # Recall among the persons the campaign examines: the living adults of the listing.
    assert f"non_claimants {known} precision 0.5 recall {1 / known} examined {len(living)}" in line
    page = output.read_text(encoding="utf-8")
    assert "Campagne rsa-2025-06" in page and "Rappel" in page


def test_text_is_escaped_by_the_template() -> None:
    page = render_report(OFFERS, None, 'Campagne <script>alert("x")</script>')
    assert "<script" not in page
    assert "Campagne &lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt;" in page
