"""Fault injection: latency, upstream errors, hangs, malformed bodies, wrong persons, 429s.

Configured per agency at start (``FaultConfig``, or a YAML file mapping agency names, or
``"*"`` for all, to the same keys) and at runtime with ``PUT /_sandbox/faults``. Each draw
uses the agency's own seeded random stream: a rate of 1.0 always fires, 0.0 never does.
"""

from __future__ import annotations

import asyncio
import dataclasses
import random
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml
from starlette.requests import Request
from starlette.responses import Response

from sandbox.protocol import JSONResponse, ProtocolError

_RATES = (
    "error_rate",
    "timeout_rate",
    "malformed_rate",
    "wrong_person_rate",
    "rate_limit_rate",
)


@dataclass(frozen=True)
class FaultConfig:
    latency_ms: float = 0.0
    error_rate: float = 0.0
    timeout_rate: float = 0.0
    malformed_rate: float = 0.0
    wrong_person_rate: float = 0.0
    rate_limit_rate: float = 0.0
    hang_seconds: float = 30.0  # how long a "timeout" hangs: far beyond any client timeout
    retry_after: int = 2  # seconds, sent with 429

    def __post_init__(self) -> None:
        for name in _RATES:
            value = getattr(self, name)
            if not isinstance(value, int | float) or not 0.0 <= value <= 1.0:
                raise ValueError(f"{name} must be a number in [0, 1]")
        if self.latency_ms < 0 or self.hang_seconds < 0 or self.retry_after < 0:
            raise ValueError("latency_ms, hang_seconds and retry_after must be >= 0")

    @classmethod
    def from_mapping(cls, raw: Mapping[str, Any]) -> FaultConfig:
        known = {f.name for f in dataclasses.fields(cls)}
        unknown = set(raw) - known
        if unknown:
            raise ValueError(f"unknown fault keys: {', '.join(sorted(unknown))}")
        for key, value in raw.items():
            if isinstance(value, bool) or not isinstance(value, int | float):
                raise ValueError(f"{key} must be a number")
        return cls(**dict(raw))

    def as_dict(self) -> dict[str, float]:
        return dataclasses.asdict(self)


def load_faults(path: Path) -> dict[str, FaultConfig]:
    """Read ``{agency or "*": {key: value}}``; the ``"*"`` entry applies where none is given."""
    raw = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    if not isinstance(raw, dict):
        raise ValueError(f"{path}: expected a mapping of agency names to fault settings")
    out: dict[str, FaultConfig] = {}
    for agency, settings in raw.items():
        if not isinstance(settings, dict):
            raise ValueError(f"{path}: {agency}: expected a mapping")
        try:
            out[str(agency)] = FaultConfig.from_mapping(settings)
        except ValueError as exc:
            raise ValueError(f"{path}: {agency}: {exc}") from None
    return out


class FaultInjector:
    """The live fault settings of one agency and the random stream they draw from."""

    def __init__(self, provider: str, code_prefix: str, config: FaultConfig, seed: int) -> None:
        self.provider = provider
        self.code_prefix = code_prefix
        self.config = config
        self._rng = random.Random(seed)

    def fires(self, rate: float) -> bool:
        return rate > 0.0 and self._rng.random() < rate

    async def before(self, request: Request) -> Response | None:
        """Faults that replace the answer: ``None`` lets the request through."""
        config = self.config
        if config.latency_ms:
            await asyncio.sleep(config.latency_ms / 1000)
        if self.fires(config.rate_limit_rate):
            return ProtocolError(
                429,
                "00429",
                "Trop de requêtes",
                "Vous avez effectué trop de requêtes",
                headers={"Retry-After": str(config.retry_after)},
            ).response()
        if self.fires(config.error_rate):
            if self._rng.random() < 0.5:
                return ProtocolError(
                    502,
                    f"{self.code_prefix}999",
                    "Erreur inconnue du fournisseur de données",
                    "La réponse retournée par le fournisseur de données est invalide et inconnue "
                    "de notre service.",
                    provider=self.provider,
                ).response()
            return ProtocolError(
                503,
                f"{self.code_prefix}001",
                "Service non disponible",
                "Service du fournisseur de données temporairement indisponible ou en maintenance.",
                provider=self.provider,
            ).response()
        if self.fires(config.timeout_rate):
            await _hang(request, config.hang_seconds)
            return ProtocolError(
                504,
                f"{self.code_prefix}002",
                "Intermédiaire hors-délai",
                "Temps d'attente d'une réponse du fournisseur de données écoulé.",
                provider=self.provider,
            ).response()
        return None

    def wrong_person(self) -> bool:
        return self.fires(self.config.wrong_person_rate)

    def malformed(self) -> Response | None:
        if not self.fires(self.config.malformed_rate):
            return None
        if self._rng.random() < 0.5:
            return Response(b"<html><body>Bad Gateway</body></html>", media_type="application/json")
        return JSONResponse({"data": {"resultat": "inattendu"}, "links": []})


async def _hang(request: Request, seconds: float) -> None:
    """Sleep, but stop as soon as the client goes away so hung tasks do not pile up."""
    sleeper = asyncio.ensure_future(asyncio.sleep(seconds))
    watcher = asyncio.ensure_future(_disconnected(request))
    try:
        await asyncio.wait({sleeper, watcher}, return_when=asyncio.FIRST_COMPLETED)
    finally:
        sleeper.cancel()
        watcher.cancel()


async def _disconnected(request: Request) -> None:
    while True:
        message = await request.receive()
        if message["type"] == "http.disconnect":
            return
