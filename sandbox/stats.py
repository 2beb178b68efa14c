"""Request counts per path, so that a test can prove an agency was (not) contacted."""

from __future__ import annotations

from collections import Counter

from starlette.types import ASGIApp, Receive, Scope, Send


class RequestStats:
    def __init__(self) -> None:
        self._counts: Counter[str] = Counter()

    def count(self, path: str) -> None:
        self._counts[path] += 1

    def snapshot(self) -> dict[str, object]:
        return {"total": sum(self._counts.values()), "paths": dict(self._counts)}

    def reset(self) -> None:
        self._counts.clear()


class CountingMiddleware:
    """Counts every HTTP request except the sandbox's own admin endpoints."""

    def __init__(self, app: ASGIApp, stats: RequestStats) -> None:
        self.app = app
        self.stats = stats

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and not scope["path"].startswith("/_sandbox"):
            self.stats.count(scope["path"])
        await self.app(scope, receive, send)
