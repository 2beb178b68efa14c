"""GraphiQL shipped with the package: the page loads nothing from another host, every asset it
names is served from the installed package, no inline script; the shipped third-party files are
the pinned npm packages' own; the example operations run against the sandbox."""

from __future__ import annotations

import asyncio
import json
import os
import re
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import urljoin, urlsplit

import httpx
import pytest

from eligibility import EligibilityService
from gateway.app import build_app
from gateway.graphql_http import ide_examples, previous_month
from gateway.web import vendor
from runtime.settings import load
from sandbox import SandboxConfig, start_in_thread
from tests.e2e.conftest import open_gateway

BASE = "http://127.0.0.1:8000"
HTML = {"Accept": "text/html,application/xhtml+xml"}
POLICIES = Path(__file__).resolve().parents[2] / "policies" / "catalogue"
START_JS = vendor.STATIC / "graphiql" / "start.js"


class Page(HTMLParser):
    """Every URL the page loads or links to, its scripts, and what the CSP would refuse."""

    def __init__(self) -> None:
        super().__init__()
        self.urls: list[str] = []
        self.scripts: list[dict[str, str | None]] = []
        self.inline: list[str] = []  # inline code or style attributes
        self.data: dict[str, str] = {}
        self._in_script = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = dict(attrs)
        for name in ("src", "href"):
            if values.get(name):
                self.urls.append(str(values[name]))
        for name in values:
            if name == "style" or name.startswith("on"):
                self.inline.append(f"<{tag} {name}>")
        if tag == "script":
            self.scripts.append(values)
            self._in_script = True
        if tag == "style":
            self.inline.append("<style>")
        if values.get("id") == "graphiql":
            self.data = {k: str(v) for k, v in values.items() if k.startswith("data-")}

    def handle_endtag(self, tag: str) -> None:
        if tag == "script":
            self._in_script = False

    def handle_data(self, data: str) -> None:
        if self._in_script and data.strip():
            self.inline.append(f"<script>{data.strip()[:40]}")


@pytest.fixture
async def http(tmp_path: Path) -> AsyncIterator[httpx.AsyncClient]:
    settings = load({"UNEFOIS_DATA_DIR": str(tmp_path), "UNEFOIS_INTROSPECTION": "true"})
    app = build_app(settings, eligibility=EligibilityService(workers=1))  # never started
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app), base_url=BASE) as client:
        yield client


async def _page(http: httpx.AsyncClient) -> tuple[httpx.Response, Page]:
    answer = await http.get("/graphql", headers=HTML)
    assert answer.status_code == 200, answer.text
    assert answer.headers["content-type"].startswith("text/html")
    page = Page()
    page.feed(answer.text)
    return answer, page


async def test_the_page_loads_everything_from_the_gateway_itself(
    http: httpx.AsyncClient,
) -> None:
    _, page = await _page(http)
    assert page.urls, "the page names no asset"
    for url in page.urls:
        parts = urlsplit(urljoin(BASE + "/graphql", url))
        assert (parts.scheme, parts.netloc) == ("http", "127.0.0.1:8000"), url
        assert parts.path.startswith("/static/graphiql/"), url


async def test_every_asset_is_served_from_the_package_with_its_type(
    http: httpx.AsyncClient,
) -> None:
    _, page = await _page(http)
    types = {".js": ("text/javascript", "application/javascript"), ".css": ("text/css",)}
    names = set()
    for url in page.urls:
        answer = await http.get(url)
        assert answer.status_code == 200, url
        suffix = Path(urlsplit(url).path).suffix
        assert answer.headers["content-type"].split(";")[0] in types[suffix], url
        name = urlsplit(url).path.removeprefix("/static/")
        assert answer.content == (vendor.STATIC / name).read_bytes(), url
        names.add(name)
    assert {
        "graphiql/graphiql.min.js",
        "graphiql/graphiql.min.css",
        "graphiql/react.production.min.js",
        "graphiql/react-dom.production.min.js",
        "graphiql/start.js",
        "graphiql/unefois-graphiql.css",
    } <= names


async def test_no_inline_script_and_a_policy_that_allows_none(http: httpx.AsyncClient) -> None:
    answer, page = await _page(http)
    assert page.inline == []
    assert page.scripts and all(script.get("src") for script in page.scripts)
    csp = answer.headers["content-security-policy"]
    directives = dict(
        (part.split()[0], part.split()[1:]) for part in csp.split(";") if part.strip()
    )
    assert directives["script-src"] == ["'self'"]
    assert directives["style-src"] == ["'self'"]
    # GraphiQL's stylesheet embeds its fonts; nothing else is loosened.
    assert directives["font-src"] == ["'self'", "data:"]
    assert directives["connect-src"] == ["'self'"]
    assert answer.headers["cache-control"] == "no-store"


async def test_the_page_gives_the_examples_the_header_and_how_to_get_a_token(
    http: httpx.AsyncClient,
) -> None:
    answer, page = await _page(http)
    assert page.data["data-endpoint"] == "/graphql"
    examples = json.loads(page.data["data-examples"])
    assert json.loads(examples["headers"]) == {"Authorization": "Bearer <paste a token>"}
    queries = [tab["query"] for tab in examples["tabs"]]
    assert any("person(ref: $ref, context: $ctx)" in q for q in queries)
    assert any("eligibility(" in q for q in queries)
    assert any("prefill(" in q for q in queries)
    assert all(tab["headers"] == examples["headers"] for tab in examples["tabs"])
    assert f"{BASE}/oauth/token" in answer.text
    assert "grant_type=client_credentials" in answer.text
    assert "make run" in answer.text


async def test_no_page_without_introspection(tmp_path: Path) -> None:
    settings = load({"UNEFOIS_DATA_DIR": str(tmp_path), "UNEFOIS_INTROSPECTION": "false"})
    app = build_app(settings, eligibility=EligibilityService(workers=1))
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app), base_url=BASE) as client:
        answer = await client.get("/graphql", headers=HTML)
    assert answer.status_code == 405
    assert "graphiql" not in answer.text.lower()


def test_the_script_keeps_nothing_in_the_browser() -> None:
    code = re.sub(r"//[^\n]*", "", START_JS.read_text(encoding="utf-8"))
    assert not re.search(r"\b(localStorage|sessionStorage|indexedDB|document\.cookie)\b", code)
    assert not re.search(r"\bhistory\s*\.|\blocation\s*\.\s*\w+\s*=", code)
    assert "storage: memoryStorage()" in code


def test_the_examples_follow_the_sandbox_month() -> None:
    written = ide_examples("2025-06")
    later = ide_examples("2026-11")
    for tab, moved in zip(written["tabs"], later["tabs"], strict=True):
        before, after = json.loads(tab["variables"]), json.loads(moved["variables"])
        assert before["ref"]["identity"]["birthDate"] == "1990-01-15"
        assert after["ref"]["identity"]["birthDate"] == "1991-06-15"
        assert after["ctx"] == before["ctx"]
        if "month" in before:
            assert (before["month"], after["month"]) == ("2025-06", "2026-11")
    assert previous_month(datetime(2026, 1, 5, tzinfo=UTC).date()) == "2025-12"


def test_the_shipped_assets_are_the_pinned_packages() -> None:
    if not (vendor.NODE_MODULES / "graphiql" / "package.json").is_file():
        if os.environ.get("CI") == "true":
            pytest.fail("node_modules is missing: npm ci")
        pytest.skip("node_modules is absent (npm ci installs it)")
    assert vendor.check(vendor.NODE_MODULES, vendor.STATIC) == []
    assert vendor.main(["--check"]) == 0


def test_the_check_finds_a_changed_or_stray_file(tmp_path: Path) -> None:
    node_modules = tmp_path / "node_modules"
    static = tmp_path / "static"
    for package, files in {
        "graphiql": ["graphiql.min.js", "graphiql.min.css", "LICENSE"],
        "react": ["umd/react.production.min.js", "LICENSE"],
        "react-dom": ["umd/react-dom.production.min.js", "LICENSE"],
        "@gouvfr/dsfr": [
            "dist/dsfr.module.min.js",
            "dist/dsfr.nomodule.min.js",
            "dist/fonts/Marianne-Regular.woff2",
            "dist/fonts/Marianne-Regular.ttf",
            "dist/favicon/favicon.svg",
            "dist/icons/system/close-line.svg",
            "dist/icons/system/unused.svg",
            "LICENSE.md",
        ],
    }.items():
        (node_modules / package).mkdir(parents=True, exist_ok=True)
        (node_modules / package / "package.json").write_text('{"version": "1.0.0"}')
        for name in files:
            (node_modules / package / name).parent.mkdir(parents=True, exist_ok=True)
            (node_modules / package / name).write_text(f"{package}/{name}")
    (node_modules / "@gouvfr/dsfr/dist/dsfr.min.css").write_text(
        ".x{mask-image:url(icons/system/close-line.svg)}"
    )
    assert vendor.main(["--node-modules", str(node_modules), "--static", str(static)]) == 0
    assert vendor.check(node_modules, static) == []
    shipped = {p.relative_to(static).as_posix() for p in static.rglob("*") if p.is_file()}
    assert "dsfr/icons/system/close-line.svg" in shipped
    assert "dsfr/icons/system/unused.svg" not in shipped
    assert "dsfr/fonts/Marianne-Regular.ttf" not in shipped
    assert (static / "VERSIONS").read_text().splitlines()[-1] == "@gouvfr/dsfr@1.0.0"
    (static / "graphiql/graphiql.min.js").write_text("changed")
    (static / "dsfr/stray.css").write_text("")
    (static / "graphiql/start.js").write_text("ours")
    problems = vendor.check(node_modules, static)
    assert [p.split(":")[0] for p in problems] == ["graphiql/graphiql.min.js", "dsfr/stray.css"]
    assert vendor.main(["--check", "--node-modules", str(node_modules), "--static", str(static)])
    vendor.copy(node_modules, static)
    assert vendor.check(node_modules, static) == []
    assert (static / "graphiql/start.js").read_text() == "ours"


@pytest.fixture(scope="module")
def rules() -> Iterator[EligibilityService]:
    service = EligibilityService(workers=1)
    asyncio.run(service.start())
    yield service
    asyncio.run(service.aclose())


async def test_the_examples_run_against_the_sandbox(
    tmp_path: Path, rules: EligibilityService
) -> None:
    # A sandbox describing another month than its scenarios' own: the examples must follow.
    now = datetime(2026, 3, 10, 12, 0, tzinfo=UTC)
    month = previous_month(now.date())
    config = SandboxConfig(size=20, port_base=0, reference_month=month)
    with start_in_thread(config) as running:
        extra = {"UNEFOIS_POLICIES_DIR": str(POLICIES)}  # the shipped catalogue, as `make run`
        async with open_gateway(running, tmp_path, rules, extra) as gateway:
            gateway.clock.now = now
            token = gateway.token_for(
                "demo-agency-app", "person:read eligibility:read prefill:read"
            )
            for tab in ide_examples(month)["tabs"]:
                variables = json.loads(tab["variables"])
                answer = await gateway.query(tab["query"], variables, token=token)
                body = answer.json()
                assert answer.status_code == 200 and "errors" not in body, body
                data = next(iter(body["data"].values()))
                assert data, tab["query"]
                if isinstance(data, dict) and "identity" in data:
                    assert data["identity"]["birthName"] == "SCENARIO-SEUL-SALARIE"
