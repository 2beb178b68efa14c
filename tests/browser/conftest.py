"""Browser tests: Playwright drives the system's Chromium against a running stack.

Fixtures:
- ``stack`` (per module): the sandbox and ``unefois serve`` as processes (:class:`Stack`:
  ``gateway_url``, ``url(path)``, ``sandbox``, ``data_dir``, ``campaign(benefit)``);
- ``page`` / ``context``: pytest-playwright's, in Debian's Chromium (never a downloaded
  browser), every page watched for Content-Security-Policy violations (``csp``), which fail
  the test;
- ``assert_accessible(page, context)`` and ``keyboard_reach(page, selector)`` from
  :mod:`tests.browser.harness`.

A failing test's screenshot is kept under ``test-results/``.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Browser, BrowserType, Playwright, sync_playwright

from tests.browser.harness import (
    AXE,
    ROOT,
    CspWatch,
    Stack,
    chromium_path,
    launch_args,
    running_stack,
)

STACK_TIMEOUT = 600  # seconds
VIEWPORT = {"width": 1280, "height": 800}
NOT_INSTALLED = (
    "the browser tests need Debian's chromium package, which `make test` installs "
    "(apt-get install chromium)"
)


def pytest_configure(config: pytest.Config) -> None:
    # pytest-playwright's options, for these tests: a screenshot of each failure, kept.
    if getattr(config.option, "screenshot", None) == "off":
        config.option.screenshot = "only-on-failure"
    if getattr(config.option, "output", None) == "test-results":
        config.option.output = str(ROOT / "test-results")


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    here = Path(__file__).parent
    for item in items:
        if here in Path(str(item.path)).parents:
            item.add_marker(pytest.mark.browser)
            # A module's first test also starts its stack and runs a campaign: a bound for a
            # hung process, far above a loaded machine's minute.
            if item.get_closest_marker("timeout") is None:
                item.add_marker(pytest.mark.timeout(STACK_TIMEOUT))


def _missing(what: str) -> None:
    if os.environ.get("CI") == "true":
        pytest.fail(f"{what} is missing: {NOT_INSTALLED}", pytrace=False)
    pytest.skip(f"{what} is missing: {NOT_INSTALLED}")


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args: dict[str, Any]) -> dict[str, Any]:
    executable = chromium_path()
    if executable is None:
        _missing("Chromium")
        raise AssertionError("unreachable")
    if not AXE.exists():
        _missing("axe-core (npm ci)")
    return {**browser_type_launch_args, **launch_args(executable)}


# pytest-playwright keeps Playwright for the whole session; its synchronous API leaves its
# event loop marked as running between calls, which every asyncio test after these would
# meet. Here Playwright and the browser live for this folder's tests only.


@pytest.fixture(scope="package")
def playwright(_pw_api_request_contexts: Any) -> Iterator[Playwright]:
    driver = sync_playwright().start()
    if _pw_api_request_contexts is not None:
        _pw_api_request_contexts.instrument(driver)
    yield driver
    driver.stop()


@pytest.fixture(scope="package")
def browser_type(playwright: Playwright) -> BrowserType:
    return playwright.chromium  # the system's Chromium is the one browser installed


@pytest.fixture(scope="package")
def launch_browser(
    browser_type_launch_args: dict[str, Any], browser_type: BrowserType
) -> Callable[..., Browser]:
    def launch(**options: Any) -> Browser:
        return browser_type.launch(**{**browser_type_launch_args, **options})

    return launch


@pytest.fixture(scope="package")
def browser(launch_browser: Callable[..., Browser]) -> Iterator[Browser]:
    launched = launch_browser()
    yield launched
    launched.close()


@pytest.fixture(scope="package")
def browser_context_args() -> dict[str, Any]:
    return {"locale": "fr-FR", "viewport": VIEWPORT}


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    with running_stack(tmp_path_factory.mktemp("stack")) as running:
        yield running


@pytest.fixture
def csp(context: Any) -> Iterator[CspWatch]:
    """Every page of the test's browser context watched; a violation fails the test."""
    watch = CspWatch()
    watch.attach(context)
    yield watch
    watch.check()


@pytest.fixture
def page(context: Any, csp: CspWatch) -> Any:
    """pytest-playwright's page, opened once the CSP watch is on."""
    return context.new_page()
