"""The pages a person reaches from a notification, and GraphiQL, in a real browser: each one
accessible (axe-core: no serious or critical violation), its action reachable with the
keyboard, within its Content-Security-Policy, doing what it says."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

from tests.browser.harness import Stack, assert_accessible, keyboard_reach

OPT_OUT_BUTTON = 'form[action="/desinscription"] button[type="submit"]'
DECLINE_BUTTON = 'form[action$="/refus"] button[type="submit"]'
CONTINUE_LINK = 'a:text("Continuer ma demande")'


def heading(page: Any) -> str:
    return str(page.locator("h1").first.inner_text()).strip()


def test_the_opt_out_page_is_accessible_and_its_button_opts_out(page: Any, stack: Stack) -> None:
    page.goto(stack.url(stack.take_offer().opt_out))
    assert page.locator("html").get_attribute("lang") == "fr"
    assert_accessible(page, "opt-out page")
    keyboard_reach(page, OPT_OUT_BUTTON)

    page.locator(OPT_OUT_BUTTON).click()
    page.wait_for_load_state()
    assert urlsplit(page.url).path == "/desinscription"
    assert heading(page) == "Désinscription enregistrée"
    assert "vous ne recevrez plus d'information" in page.locator("main").inner_text().lower()
    assert_accessible(page, "opt-out recorded")


def test_a_truncated_opt_out_link_says_so(page: Any, stack: Stack) -> None:
    answer = page.goto(stack.url(stack.take_offer().opt_out[:-3]))
    assert answer is not None and answer.status == 400
    assert "n'est pas valide" in page.locator("main").inner_text()
    assert page.locator("button").count() == 0
    assert_accessible(page, "invalid opt-out link")


def test_the_form_landing_page_is_accessible_and_the_person_can_decline(
    page: Any, stack: Stack
) -> None:
    page.goto(stack.url(stack.take_offer().form))
    assert heading(page) == "Votre demande est préparée"
    assert_accessible(page, "form landing page")
    keyboard_reach(page, CONTINUE_LINK)
    keyboard_reach(page, DECLINE_BUTTON)

    # The focused button, pressed with the keyboard.
    page.keyboard.press("Enter")
    page.wait_for_url("**/refus")
    assert heading(page) == "C'est noté"
    assert "nous ne vous relancerons pas" in page.locator("main").inner_text().lower()
    assert_accessible(page, "offer declined")


def test_graphiql_loads_from_the_gateway_alone_and_keeps_nothing_in_the_browser(
    page: Any, stack: Stack
) -> None:
    gateway = urlsplit(stack.gateway_url).netloc
    elsewhere: list[str] = []
    page.on(
        "request",
        lambda request: (
            elsewhere.append(request.url)
            if urlsplit(request.url).scheme in ("http", "https", "ws", "wss")
            and urlsplit(request.url).netloc != gateway
            else None
        ),
    )
    page.goto(stack.url("/graphql"), wait_until="load")
    assert not elsewhere, f"GraphiQL asked other hosts: {sorted(set(elsewhere))}"

    editor = page.locator(".graphiql-container")
    editor.wait_for(state="visible")
    tabs = page.get_by_role("tab")
    assert tabs.count() >= 2, "GraphiQL opens without its example tabs"
    # The page around GraphiQL is ours; GraphiQL's own editor and tabs are a developer tool
    # embedded as published (its release's CodeMirror text areas have no label, its tabs nest
    # buttons in tabs), so they are left out of the check.
    assert_accessible(page, "GraphiQL", exclude=[".graphiql-container"])

    with page.expect_response(
        lambda answer: urlsplit(answer.url).path == "/graphql" and answer.request.method == "POST"
    ):
        page.locator(".graphiql-execute-button").click()
    page.locator(".graphiql-response").get_by_text('"').first.wait_for()

    stored = page.evaluate(
        "() => ({local: Object.keys(localStorage), session: Object.keys(sessionStorage)})"
    )
    assert stored == {"local": [], "session": []}, f"GraphiQL kept {stored} in the browser"
    assert not elsewhere, f"GraphiQL asked other hosts: {sorted(set(elsewhere))}"
