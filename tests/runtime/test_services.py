"""The composition root's démarches-simplifiées parts."""

from __future__ import annotations

import re
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path

from runtime.services import Services, ds_webhook_secret
from runtime.settings import Settings, load


def test_the_webhook_secret_is_the_configured_one_or_derived() -> None:
    settings = Settings()
    derived = ds_webhook_secret(settings, b"k" * 32)
    assert re.fullmatch(r"[A-Za-z0-9_-]{43}", derived)
    assert ds_webhook_secret(settings, b"k" * 32) == derived  # every replica alike
    assert ds_webhook_secret(settings, b"j" * 32) != derived
    configured = replace(settings, ds_webhook_secret="c" * 40)
    assert ds_webhook_secret(configured, b"k" * 32) == "c" * 40


async def test_the_services_carry_the_ds_parts(tmp_path: Path) -> None:
    settings = load({"UNEFOIS_DATA_DIR": str(tmp_path), "UNEFOIS_DS_WEBHOOK_SECRET": "s" * 32})
    async with Services.open(settings, lambda: datetime.now(UTC)) as services:
        assert await services.procedures.all() == []
        assert await services.dossiers.pending(datetime.now(UTC)) == []
        assert services.ds_webhook_secret == "s" * 32
        assert services.demarches is not None
