"""A real campaign run against the anomaly rules: the campaign declares its client, purpose
and object as it starts, so its bulk read is reported as declared; the same bulk read by a
run that declares nothing still raises ``many_persons_one_object``."""

from __future__ import annotations

import argparse
import io
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from audit import AnomalyRules
from cli.campaign import run_campaign
from cli.listing import sandbox_subjects
from proactive.campaign import CLIENT_ID, PURPOSE, CampaignRunner
from runtime import Services
from runtime.settings import Settings, load
from sandbox import RunningSandbox, SandboxConfig, start_in_thread
from tests.upstreams import agency_env

NOW = datetime(2025, 7, 10, 9, 0, tzinfo=UTC)
RECIPIENT = "13002526500013"
LIMIT = 12
RULES = AnomalyRules(distinct_persons=LIMIT)


@pytest.fixture(scope="module")
def sandbox() -> Iterator[RunningSandbox]:
    with start_in_thread(SandboxConfig(size=40, reference_month="2025-06")) as running:
        yield running


def settings_for(sandbox: RunningSandbox, data_dir: Path) -> Settings:
    env = {"UNEFOIS_DATA_DIR": str(data_dir), "UNEFOIS_PUBLIC_URL": "http://127.0.0.1:8000"}
    return load(env | agency_env(sandbox))


async def bulk_anomalies(settings: Settings) -> list[tuple[str, str, bool, bool]]:
    async with Services.open(settings, lambda: NOW) as services:
        found = await services.audit_reader.anomalies(NOW, NOW + timedelta(days=1), RULES)
    # At least the persons examined: a partner read for a person in a couple counts too.
    return [
        (a.client, str(a.object), a.count >= LIMIT, a.declared)
        for a in found
        if a.rule == "many_persons_one_object"
    ]


async def test_a_declared_campaign_run_is_reported_as_declared(
    sandbox: RunningSandbox, tmp_path: Path
) -> None:
    settings = settings_for(sandbox, tmp_path)
    args = argparse.Namespace(
        benefit="rsa",
        month="2025-06",
        population=True,
        from_events=False,
        limit=LIMIT,
        workers=1,
        worker_index=0,
        campaign=None,
        cooldown_days=180,
        recipient=RECIPIENT,
    )
    summary = await run_campaign(settings, args, lambda: NOW, io.StringIO())
    assert summary.fetched == LIMIT
    assert await bulk_anomalies(settings) == [(CLIENT_ID, "rsa-2025-06", True, True)]
    async with Services.open(settings, lambda: NOW) as services:
        (declared,) = await services.audit_reader.campaigns()
    assert (
        declared.object,
        declared.client,
        declared.purpose,
        declared.population,
        declared.source,
    ) == ("rsa-2025-06", CLIENT_ID, PURPOSE, LIMIT, "population")


async def test_the_same_bulk_read_undeclared_is_flagged(
    sandbox: RunningSandbox, tmp_path: Path
) -> None:
    settings = settings_for(sandbox, tmp_path)
    registry = settings.upstreams["civil_registry"].url
    async with Services.open(settings, lambda: NOW) as services:
        runner = CampaignRunner(
            services.exchange,
            services.offers,
            services.outbox,
            services.pseudonyms,
            lambda: NOW,
            recipient=RECIPIENT,
            declare=None,  # the same reads, no declaration
        )
        subjects = await sandbox_subjects(registry, LIMIT)
        summary = await runner.run(subjects, "rsa", "2025-06", "rsa-2025-06")
        assert await services.audit_reader.campaigns() == ()
    assert summary.fetched == LIMIT
    assert await bulk_anomalies(settings) == [(CLIENT_ID, "rsa-2025-06", True, False)]
