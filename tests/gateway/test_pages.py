"""The pages' common ground: the home page, the security headers of every page, the shipped
design system, and the CSRF cookie's attributes."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response
from starlette.routing import Route

from eligibility import EligibilityService
from gateway.app import build_app
from gateway.web.csrf import CsrfRejected, checked_form, csrf_token, set_cookie
from gateway.web.security import policy
from gateway.web.sessions import WebSessions
from runtime.settings import Settings, load


async def form_page(request: Request) -> Response:
    """A page with a form, as every page's handler makes one."""
    response = PlainTextResponse(csrf_token(request))
    set_cookie(request, response)
    return response


async def form_post(request: Request) -> Response:
    try:
        form = await checked_form(request)
    except CsrfRejected as refused:
        return PlainTextResponse(refused.reason, status_code=403)
    return PlainTextResponse(f"accepted {form.get('choice')}")


class Clock:
    def __init__(self) -> None:
        self.now = datetime(2026, 12, 3, 10, 0, tzinfo=UTC)

    def __call__(self) -> datetime:
        return self.now


CLOCK = Clock()


async def session_start(request: Request) -> Response:
    response = PlainTextResponse("started")
    await WebSessions(request, CLOCK).start(response, "citizen", {"n": 1})
    return response


async def session_read(request: Request) -> Response:
    found = await WebSessions(request, CLOCK).current(request, "citizen")
    return PlainTextResponse("none" if found is None else str(found.data["n"]))


async def broken_page(request: Request) -> Response:
    raise RuntimeError("the database went away")


async def session_end(request: Request) -> Response:
    response = PlainTextResponse("ended")
    await WebSessions(request, CLOCK).end(request, response, "citizen")
    return response


@asynccontextmanager
async def pages(
    tmp_path: Path, public_url: str = "http://127.0.0.1:8000", *, faults: bool = False
) -> AsyncIterator[httpx.AsyncClient]:
    """The app over ASGI; with ``faults``, a page that fails and the server's view of it (a
    fault answered, not raised into the test)."""
    settings: Settings = load({"UNEFOIS_DATA_DIR": str(tmp_path), "UNEFOIS_PUBLIC_URL": public_url})
    app = build_app(settings, eligibility=EligibilityService(workers=1))  # never started
    app.router.routes.append(Route("/test-form", form_page, methods=["GET"]))
    app.router.routes.append(Route("/test-form", form_post, methods=["POST"]))
    app.router.routes.append(Route("/mon-espace/test-start", session_start, methods=["GET"]))
    app.router.routes.append(Route("/mon-espace/test-read", session_read, methods=["GET"]))
    app.router.routes.append(Route("/mon-espace/test-end", session_end, methods=["GET"]))
    app.router.routes.append(Route("/mon-espace/test-broken", broken_page, methods=["GET"]))
    transport = httpx.ASGITransport(app, raise_app_exceptions=not faults)
    async with (
        app.router.lifespan_context(app),
        httpx.AsyncClient(transport=transport, base_url=public_url) as http,
    ):
        yield http


async def test_the_home_page_links_both_spaces_with_the_page_headers(tmp_path: Path) -> None:
    async with pages(tmp_path) as http:
        home = await http.get("/")
    assert home.status_code == 200
    assert 'href="/mon-espace/"' in home.text and 'href="/console/"' in home.text
    csp = home.headers["content-security-policy"]
    assert "script-src 'self'" in csp and "'unsafe-inline'" not in csp
    assert "frame-ancestors 'none'" in csp
    # Signing out POSTs to us, then is redirected to the identity providers' end of session;
    # the dossier's form, to démarches-simplifiées.
    assert (
        "form-action 'self' http://127.0.0.1:8708 http://127.0.0.1:8712 http://127.0.0.1:8713"
        in csp
    )
    assert home.headers["x-frame-options"] == "DENY"
    assert home.headers["x-content-type-options"] == "nosniff"
    assert home.headers["cache-control"] == "no-store"


async def test_json_answers_get_no_page_headers(tmp_path: Path) -> None:
    async with pages(tmp_path) as http:
        health = await http.get("/healthz")
    assert "content-security-policy" not in health.headers


async def test_the_design_system_is_served_from_the_package(tmp_path: Path) -> None:
    async with pages(tmp_path) as http:
        home = await http.get("/")
        css = await http.get("/static/dsfr/dsfr.min.css")
        ours = await http.get("/static/unefois.css")
        missing = await http.get("/static/dsfr/nothing-here.css")
    assert "/static/dsfr/dsfr.min.css" in home.text
    assert css.status_code == 200 and css.headers["content-type"].startswith("text/css")
    assert ".fr-btn" in css.text
    assert ours.status_code == 200
    assert missing.status_code == 404


async def test_the_csrf_cookie_is_httponly_strict_and_secure_under_https(tmp_path: Path) -> None:
    async with pages(tmp_path / "http") as http:
        plain = await http.get("/test-form")
    async with pages(tmp_path / "https", "https://unefois.example") as https:
        secure = await https.get("/test-form")
    for answer, is_secure in ((plain, False), (secure, True)):
        cookie = answer.headers["set-cookie"].lower()
        assert cookie.startswith("unefois-csrf=")
        assert "httponly" in cookie and "samesite=strict" in cookie and "path=/" in cookie
        assert ("secure" in cookie.split("; ")) is is_secure


async def test_a_post_needs_the_token_of_its_own_cookie(tmp_path: Path) -> None:
    async with pages(tmp_path) as http:
        token = (await http.get("/test-form")).text
        ok = await http.post("/test-form", data={"csrf": token, "choice": "a"})
        none = await http.post("/test-form", data={"choice": "a"})
        wrong = await http.post("/test-form", data={"csrf": "0" * 64, "choice": "a"})
        big = await http.post("/test-form", data={"csrf": token, "choice": "a" * 20_000})
        many = await http.post("/test-form", content="&".join(["x=1"] * 100) + f"&csrf={token}")
        # Another browser (another cookie) cannot replay this browser's token.
        http.cookies.clear()
        await http.get("/test-form")
        replayed = await http.post("/test-form", data={"csrf": token, "choice": "a"})
    assert ok.status_code == 200 and ok.text == "accepted a"
    assert [a.status_code for a in (none, wrong, big, many, replayed)] == [403] * 5
    assert (none.text, wrong.text, big.text, many.text) == (
        "missing token",
        "wrong token",
        "form too large",
        "too many fields",
    )


async def test_a_session_lasts_while_used_and_ends_for_good(tmp_path: Path) -> None:
    async with pages(tmp_path) as http:
        started = await http.get("/mon-espace/test-start")
        cookie = started.headers["set-cookie"].lower()
        assert cookie.startswith("unefois-citoyen=") and "path=/mon-espace" in cookie
        assert "httponly" in cookie and "samesite=lax" in cookie and "max-age" not in cookie
        # Used every 20 minutes, it outlives its 30 idle minutes.
        for _ in range(3):
            CLOCK.now += timedelta(minutes=20)
            assert (await http.get("/mon-espace/test-read")).text == "1"
        # Left alone for longer than that, it is over.
        CLOCK.now += timedelta(minutes=31)
        assert (await http.get("/mon-espace/test-read")).text == "none"
        await http.get("/mon-espace/test-start")
        copied = dict(http.cookies)
        await http.get("/mon-espace/test-end")
        assert (await http.get("/mon-espace/test-read")).text == "none"
        # A cookie copied before the sign-out opens nothing: the session is gone server-side.
        http.cookies.update(copied)
        assert (await http.get("/mon-espace/test-read")).text == "none"


def test_the_policy_names_each_provider_origin_once() -> None:
    text = policy(["https://a.example/path", "https://a.example/other", "http://b.example:81/x"])
    assert text.endswith("form-action 'self' http://b.example:81 https://a.example")


async def test_the_pages_errors_are_french_pages_and_the_machines_keep_theirs(
    tmp_path: Path,
) -> None:
    async with pages(tmp_path, faults=True) as http:
        missing = await http.get("/mon-espace/nulle-part")
        wrong_method = await http.delete("/formulaires/rsa")
        broken = await http.get("/mon-espace/test-broken")
        api_missing = await http.get("/oauth/nothing")
        api_method = await http.put("/graphql")
    assert missing.status_code == 404 and "Page introuvable" in missing.text
    assert missing.headers["content-type"].startswith("text/html")
    assert "frame-ancestors 'none'" in missing.headers["content-security-policy"]
    assert 'href="/"' in missing.text and "Not Found" not in missing.text
    assert wrong_method.status_code == 405 and "Action impossible" in wrong_method.text
    assert "GET" in wrong_method.headers["allow"]
    assert broken.status_code == 500 and "Le service ne répond pas" in broken.text
    assert "database" not in broken.text and "RuntimeError" not in broken.text
    assert (api_missing.status_code, api_missing.text) == (404, "Not Found")
    assert api_method.status_code == 405 and "<html" not in api_method.text
