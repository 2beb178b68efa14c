"""The pages a person reaches from a notification, and GraphiQL, in a real browser: each one
accessible (axe-core: no serious or critical violation), its action reachable with the
keyboard, within its Content-Security-Policy, doing what it says."""

from __future__ import annotations

import json
import re
from typing import Any
from urllib.parse import urlsplit

import httpx
import pytest

from tests.browser.harness import Stack, assert_accessible, keyboard_reach

OPT_OUT_BUTTON = 'form[action="/desinscription"] button[type="submit"]'
DECLINE_BUTTON = 'form[action$="/refus"] button[type="submit"]'
CONTINUE_LINK = 'a:text("Continuer ma demande")'
# GraphiQL: the example tabs, the active one, the page's buttons next to them, the editors.
TABS = '.graphiql-tabs [role="tab"]'
ACTIVE_TAB = '.graphiql-tabs [role="tab"][aria-selected="true"]'
NEW_TAB = "button.unefois-tab-new"
CLOSE_TAB = "button.unefois-tab-close"
QUERY = 'textarea[aria-label="Opération GraphQL"]'
HEADERS = 'textarea[aria-label="En-têtes"]'
RESULT = 'textarea[aria-label="Résultat"]'
EXECUTE = ".graphiql-execute-button"


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
    page: Any, stack: Stack, graphiql_token: str
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
    open_graphiql(page, stack)
    assert not elsewhere, f"GraphiQL asked other hosts: {sorted(set(elsewhere))}"
    assert page.locator(TABS).count() >= 2, "GraphiQL opens without its example tabs"
    assert_accessible(page, "GraphiQL")

    # The header editor takes the token; the first example runs from the keyboard.
    enter_token(page, graphiql_token)
    keyboard_reach(page, EXECUTE)
    with page.expect_response(
        lambda answer: urlsplit(answer.url).path == "/graphql" and answer.request.method == "POST"
    ):
        page.keyboard.press("Enter")
    page.locator(".graphiql-response").get_by_text("SCENARIO-SEUL-SALARIE").first.wait_for()
    assert '"errors"' not in editor_value(page, RESULT)
    assert_accessible(page, "GraphiQL, a result shown")

    stored = page.evaluate(
        "() => ({local: Object.keys(localStorage), session: Object.keys(sessionStorage)})"
    )
    assert stored == {"local": [], "session": []}, f"GraphiQL kept {stored} in the browser"
    assert not elsewhere, f"GraphiQL asked other hosts: {sorted(set(elsewhere))}"


@pytest.mark.parametrize("scheme", ["light", "dark"])
def test_every_view_of_graphiql_is_accessible(
    page: Any, stack: Stack, graphiql_token: str, scheme: str
) -> None:
    page.emulate_media(color_scheme=scheme)
    open_graphiql(page, stack)
    enter_token(page, graphiql_token)
    page.locator(EXECUTE).click()
    page.locator(".graphiql-response").get_by_text("SCENARIO-SEUL-SALARIE").first.wait_for()
    assert_accessible(page, f"GraphiQL ({scheme}), a result shown")
    # The schema, read with the token (GraphiQL reads the headers again once it has run).
    with page.expect_response(
        lambda answer: "IntrospectionQuery" in (answer.request.post_data or "")
    ) as introspection:
        page.get_by_role("button", name="Re-fetch GraphQL schema").click()
    assert introspection.value.status == 200

    page.get_by_role("button", name="Variables", exact=True).click()
    page.locator('textarea[aria-label="Variables"]').wait_for(state="attached")
    assert "SCENARIO-SEUL-SALARIE" in editor_value(page, 'textarea[aria-label="Variables"]')
    assert_accessible(page, f"GraphiQL ({scheme}), variables shown")

    page.get_by_role("button", name="Show Documentation Explorer").click()
    page.get_by_text("Root Types").wait_for()
    assert_accessible(page, f"GraphiQL ({scheme}), documentation")
    page.locator("a.graphiql-doc-explorer-type-name").first.click()
    page.locator(".graphiql-doc-explorer-title").first.wait_for()
    assert_accessible(page, f"GraphiQL ({scheme}), a type's documentation")

    page.get_by_role("button", name="Show History").click()
    page.locator(".graphiql-history-item").first.wait_for()
    assert_accessible(page, f"GraphiQL ({scheme}), history")

    page.locator(QUERY).focus()
    page.keyboard.press("Control+Space")
    page.locator(".CodeMirror-hints").first.wait_for()
    assert_accessible(page, f"GraphiQL ({scheme}), completion list")
    page.keyboard.press("Escape")

    dialogs = {"Open settings dialog": "Settings", "Open short keys dialog": "Short Keys"}
    for button, title in dialogs.items():
        page.get_by_role("button", name=button).click()
        page.get_by_role("dialog").get_by_text(title, exact=True).wait_for()
        assert_accessible(page, f"GraphiQL ({scheme}), {title}")
        page.keyboard.press("Escape")
        page.get_by_role("dialog").wait_for(state="detached")


def test_graphiql_s_tabs_and_editors_work_with_the_keyboard(page: Any, stack: Stack) -> None:
    open_graphiql(page, stack)
    titles = page.locator(TABS).all_inner_texts()
    assert len(titles) == 3

    # One stop for the tab list; the arrows move between tabs and open them.
    keyboard_reach(page, ACTIVE_TAB)
    page.keyboard.press("ArrowRight")
    assert focused_tab(page) == active_tab(page) == titles[1]
    page.keyboard.press("End")
    assert focused_tab(page) == active_tab(page) == titles[2]
    page.keyboard.press("Home")
    assert focused_tab(page) == active_tab(page) == titles[0]
    assert page.locator(f'{TABS}[tabindex="0"]').count() == 1

    # Delete closes the focused tab; the focus stays in the list.
    page.keyboard.press("ArrowRight")
    page.keyboard.press("Delete")
    page.wait_for_function(f"() => document.querySelectorAll('{TABS}').length === 2")
    assert page.locator(TABS).all_inner_texts() == [titles[0], titles[2]]
    wait_for_focus(page, ACTIVE_TAB)

    # The page's buttons next to the list: a new tab, then closing the active one.
    keyboard_reach(page, NEW_TAB)
    page.keyboard.press("Enter")
    page.wait_for_function(f"() => document.querySelectorAll('{TABS}').length === 3")
    wait_for_focus(page, ACTIVE_TAB)
    assert active_tab(page) not in titles
    keyboard_reach(page, CLOSE_TAB)
    assert page.locator(CLOSE_TAB).get_attribute("aria-label") == (
        f"Fermer l'onglet {active_tab(page)}"
    )
    page.keyboard.press("Enter")
    page.wait_for_function(f"() => document.querySelectorAll('{TABS}').length === 2")
    page.keyboard.press("Enter")
    # A single tab is shown without a list: still accessible, GraphiQL's add button focused.
    page.wait_for_function(f"() => document.querySelectorAll('{TABS}').length === 0")
    assert page.locator(NEW_TAB).is_hidden()
    wait_for_focus(page, '.graphiql-session-header-right button[aria-label="Add tab"]')
    assert_accessible(page, "GraphiQL, a single tab")
    page.keyboard.press("Enter")
    page.wait_for_function(f"() => document.querySelectorAll('{TABS}').length === 2")
    wait_for_focus(page, ACTIVE_TAB)

    # Tab leaves an editor as it leaves any text area; Ctrl+] indents instead.
    page.locator(QUERY).focus()
    first_line = editor_line(page, QUERY)
    page.keyboard.press("Control+]")
    assert editor_line(page, QUERY) == "  " + first_line
    page.keyboard.press("Tab")
    assert page.evaluate("() => document.activeElement.getAttribute('aria-label')") == (
        "Opération GraphQL (défilement)"
    )
    page.keyboard.press("Shift+Tab")
    assert page.locator(QUERY).evaluate("(el) => el === document.activeElement")
    keyboard_reach(page, EXECUTE)


# --- GraphiQL's helpers -------------------------------------------------------------------------


@pytest.fixture(scope="module")
def graphiql_token(stack: Stack) -> str:
    """An access token of the demonstration client the examples are written for."""
    printed = stack.unefois(
        "clients", "add", "demo-agency-app", "--scopes", "person:read,eligibility:read,prefill:read"
    )
    secret = re.search(r"\(shown once\): (\S+)", printed)
    assert secret is not None, printed
    answer = httpx.post(
        stack.url("/oauth/token"),
        data={"grant_type": "client_credentials"},
        auth=("demo-agency-app", secret.group(1)),
        timeout=30.0,
    )
    assert answer.status_code == 200, answer.text
    return str(answer.json()["access_token"])


def open_graphiql(page: Any, stack: Stack) -> None:
    """GraphiQL, once its editors are drawn and named by the page's script."""
    page.goto(stack.url("/graphql"), wait_until="load")
    for editor in (QUERY, HEADERS, RESULT):
        page.locator(editor).wait_for(state="attached")


def enter_token(page: Any, token: str) -> None:
    """The token in the header editor, typed over the placeholder."""
    page.locator(HEADERS).focus()
    page.keyboard.press("Control+a")
    page.keyboard.insert_text(json.dumps({"Authorization": f"Bearer {token}"}))
    assert token in editor_value(page, HEADERS)


def editor_value(page: Any, textarea: str) -> str:
    """The text of the CodeMirror editor a text area belongs to."""
    value: str = page.locator(textarea).evaluate(
        "(el) => el.closest('.CodeMirror').CodeMirror.getValue()"
    )
    return value


def editor_line(page: Any, textarea: str) -> str:
    line: str = page.locator(textarea).evaluate(
        "(el) => el.closest('.CodeMirror').CodeMirror.getLine(0)"
    )
    return line


def wait_for_focus(page: Any, selector: str) -> None:
    """Until the element of ``selector`` has the focus (the page's script moves it once React
    has drawn the tabs again)."""
    page.wait_for_function(
        "(selector) => document.activeElement && document.activeElement.matches(selector)",
        arg=selector,
    )


def active_tab(page: Any) -> str:
    return str(page.locator(ACTIVE_TAB).inner_text()).strip()


def focused_tab(page: Any) -> str | None:
    focused: str | None = page.evaluate(
        f"() => document.activeElement.matches('{TABS}') ? document.activeElement.innerText : null"
    )
    return focused.strip() if focused else None
