"""``unefois campaign deliver`` over a campaign's outbox: letters written as PDF files and
marked sent, and a second run that sends nothing more."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest

import cli
from cli.outbox import deliver_outbox, expire_offers
from connectors import PivotIdentity
from proactive.campaign import CampaignRunner
from runtime import Services
from runtime.settings import Settings, load
from sandbox import RunningSandbox, SandboxConfig, start_in_thread
from store import LockHeld, connect, database_url_for, exclusive
from tests.proactive.test_campaign import MONTH, NOW, RECIPIENT, adult, settings_for
from tests.upstreams import agency_env


@pytest.fixture(scope="module")
def sandbox() -> Iterator[RunningSandbox]:
    with start_in_thread(SandboxConfig(size=40, reference_month=MONTH)) as running:
        yield running


@pytest.fixture(scope="module")
def non_claimant(sandbox: RunningSandbox) -> PivotIdentity:
    return adult(sandbox, "scenario:seul-35-sans-revenu")


def with_sms(settings: Settings, sandbox: RunningSandbox) -> Settings:
    env = {
        "UNEFOIS_DATA_DIR": str(settings.data_dir),
        "UNEFOIS_SMS_URL": sandbox.sms_url + "/v1/sms",
        "UNEFOIS_SMS_TOKEN": sandbox.sms_token,
        "UNEFOIS_LETTERS_DIR": str(settings.data_dir / "courrier"),
    }
    return load(env | agency_env(sandbox))


async def campaign(settings: Settings, identity: PivotIdentity) -> str:
    """Runs a campaign for that person; the offer's id."""
    async with Services.open(settings, lambda: NOW) as services:
        runner = CampaignRunner(
            services.exchange,
            services.offers,
            services.outbox,
            services.pseudonyms,
            lambda: NOW,
            recipient=RECIPIENT,
        )
        summary = await runner.run([identity], "rsa", MONTH, "deliver")
        assert summary.letters_enqueued == 1
        (letter,) = await services.outbox.due(NOW, 10)
        assert letter.offer_id is not None
        return letter.offer_id


async def test_deliver_writes_the_letters_marks_them_sent_and_is_idempotent(
    sandbox: RunningSandbox, non_claimant: PivotIdentity, tmp_path: Path
) -> None:
    settings = with_sms(settings_for(sandbox, tmp_path), sandbox)
    await campaign(settings, non_claimant)

    counts = await deliver_outbox(settings, 100, lambda: NOW)
    assert (counts.sent, counts.retried, counts.dead) == (1, 0, 0)
    letters = sorted((tmp_path / "courrier").glob("*.pdf"))
    assert len(letters) == 1 and letters[0].read_bytes().startswith(b"%PDF")
    async with Services.open(settings, lambda: NOW) as services:
        stored = [await services.outbox.get(p.stem) for p in letters]
        assert [m.status for m in stored if m is not None] == ["sent"]

    later = NOW + timedelta(days=1)
    again = await deliver_outbox(settings, 100, lambda: later)
    assert (again.sent, again.retried, again.dead) == (0, 0, 0)
    assert sorted((tmp_path / "courrier").glob("*.pdf")) == letters


async def test_the_command_prints_counts(
    sandbox: RunningSandbox,
    non_claimant: PivotIdentity,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    settings = settings_for(sandbox, tmp_path)
    async with Services.open(settings, lambda: NOW) as services:
        runner = CampaignRunner(
            services.exchange,
            services.offers,
            services.outbox,
            services.pseudonyms,
            lambda: NOW,
            recipient=RECIPIENT,
        )
        await runner.run([non_claimant], "rsa", MONTH, "command")
    monkeypatch.setenv("UNEFOIS_DATA_DIR", str(tmp_path))
    args = cli.parser().parse_args(["campaign", "deliver", "--limit", "10"])
    # Outside the test's event loop: the command runs its own.
    code = await asyncio.to_thread(args.func, args)
    assert code == 0
    out = capsys.readouterr().out
    assert "sent" in out and out.split()[1] == "1"
    assert len(list((tmp_path / "letters").glob("*.pdf"))) == 1


async def test_a_second_deliver_sends_nothing_while_one_runs(
    sandbox: RunningSandbox,
    non_claimant: PivotIdentity,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    settings = with_sms(settings_for(sandbox, tmp_path), sandbox)
    await campaign(settings, non_claimant)
    url = database_url_for(settings.data_dir, settings.database_url)
    database = await connect(url, schema=settings.database_schema)
    try:
        # What a deliver already running holds.
        async with exclusive(database, "deliver"):
            with pytest.raises(LockHeld):
                await deliver_outbox(settings, 100, lambda: NOW)
            monkeypatch.setenv("UNEFOIS_DATA_DIR", str(tmp_path))
            monkeypatch.setenv("UNEFOIS_LETTERS_DIR", str(tmp_path / "courrier"))
            args = cli.parser().parse_args(["campaign", "deliver"])
            assert await asyncio.to_thread(args.func, args) == 75
            assert "another 'campaign deliver' is running" in capsys.readouterr().err
            assert list((tmp_path / "courrier").glob("*.pdf")) == []
    finally:
        await database.aclose()
    counts = await deliver_outbox(settings, 100, lambda: NOW)
    assert counts.sent == 1


async def test_expire_closes_offers_nobody_acted_on(
    sandbox: RunningSandbox,
    non_claimant: PivotIdentity,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    settings = with_sms(settings_for(sandbox, tmp_path), sandbox)
    offer = await campaign(settings, non_claimant)
    assert await expire_offers(settings, 90, lambda: NOW + timedelta(days=30)) == 0
    monkeypatch.setenv("UNEFOIS_DATA_DIR", str(tmp_path))
    for bad in ("0", "-3"):
        args = cli.parser().parse_args(["campaign", "expire", "--after-days", bad])
        assert await asyncio.to_thread(args.func, args) == 2
    assert await expire_offers(settings, 90, lambda: NOW + timedelta(days=91)) == 1
    async with Services.open(settings, lambda: NOW) as services:
        assert (await services.offers.get(offer)).status == "expired"
    args = cli.parser().parse_args(["campaign", "expire"])
    assert await asyncio.to_thread(args.func, args) == 0
    assert capsys.readouterr().out.split() == ["expired", "0"]
