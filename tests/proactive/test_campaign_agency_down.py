"""A campaign whose agencies fail to answer: the persons concerned are left unread (counted
in ``errors``, which fail a batch when they are most of it, so that the engine runs it
again), never counted as "incomplete" and never offered anything on partial data; once the
agency answers again, the same persons are examined as if nothing happened."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest

from runtime import Services
from runtime.settings import load
from sandbox import RunningSandbox, SandboxConfig, start_in_thread
from tests.faults import clear_faults, set_faults
from tests.proactive.test_campaign import MONTH, NOW, adult, runner, settings_for
from tests.upstreams import agency_env

AGENCIES = ("civil_registry", "gip_mds", "api_particulier")
# Who answers for each of them: what the operator's warning names.
PROVIDERS = {"civil_registry": "INSEE", "gip_mds": "GIP-MDS", "api_particulier": "CNAV"}


@pytest.fixture(scope="module")
def sandbox() -> Iterator[RunningSandbox]:
    with start_in_thread(SandboxConfig(size=40, reference_month=MONTH)) as running:
        yield running


@pytest.fixture
async def services(sandbox: RunningSandbox, tmp_path: Path) -> AsyncIterator[Services]:
    async with Services.open(settings_for(sandbox, tmp_path), lambda: NOW) as built:
        yield built


@pytest.fixture
def faults_cleared(sandbox: RunningSandbox) -> Iterator[None]:
    yield
    clear_faults(sandbox)


@pytest.mark.parametrize("agency", AGENCIES)
async def test_an_agency_down_leaves_the_persons_unread_not_incomplete(
    sandbox: RunningSandbox,
    services: Services,
    faults_cleared: None,
    agency: str,
    caplog: pytest.LogCaptureFixture,
) -> None:
    non_claimant = adult(sandbox, "scenario:seul-35-sans-revenu")
    await set_faults(sandbox, agency, {"error_rate": 1.0})
    with caplog.at_level(logging.WARNING, logger="proactive.campaign"):
        summary = await runner(services).run([non_claimant], "rsa", MONTH, "rsa-down")
    assert (summary.examined, summary.errors, summary.fetched) == (1, 1, 0)
    assert summary.skipped_incomplete == summary.eligible == summary.offers_created == 0
    assert await services.offers.for_campaign("rsa-down") == []
    # The operator is told which agency failed and how, once for the batch.
    (warning,) = [r.getMessage() for r in caplog.records if r.name == "proactive.campaign"]
    assert warning.startswith("campaign fetch: 1 of 1 persons unread, an agency failing: ")
    assert f"{PROVIDERS[agency]} UPSTREAM_UNAVAILABLE ×1" in warning
    assert non_claimant.birth_name not in caplog.text


async def test_once_the_agency_answers_the_same_person_is_offered_the_benefit(
    sandbox: RunningSandbox,
    tmp_path: Path,
    faults_cleared: None,
    caplog: pytest.LogCaptureFixture,
) -> None:
    non_claimant = adult(sandbox, "scenario:seul-35-sans-revenu")
    await set_faults(sandbox, "gip_mds", {"timeout_rate": 1.0, "hang_seconds": 3.0})
    # A short bound on the resources' call: the agency hangs beyond it.
    env = {"UNEFOIS_DATA_DIR": str(tmp_path), "UNEFOIS_PUBLIC_URL": "http://127.0.0.1:8000"}
    env |= agency_env(sandbox) | {"UNEFOIS_GIP_MDS_TIMEOUT": "0.3"}
    async with Services.open(load(env), lambda: NOW) as built:
        with caplog.at_level(logging.WARNING, logger="proactive.campaign"):
            first = await runner(built).run([non_claimant], "rsa", MONTH, "rsa-later")
        assert (first.errors, first.skipped_incomplete, first.offers_created) == (1, 0, 0)
        assert "an agency failing: GIP-MDS UPSTREAM_TIMEOUT ×1" in caplog.text
        await set_faults(sandbox, "gip_mds", {})
        again = await runner(built).run([non_claimant], "rsa", MONTH, "rsa-later")
        assert (again.errors, again.fetched, again.offers_created) == (0, 1, 1)
