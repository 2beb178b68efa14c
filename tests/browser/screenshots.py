"""Screenshots of the pages for the documentation: ``python -m tests.browser.screenshots``.

Starts the sandbox and the gateway (as the browser tests do), opens each registered page in
the system's Chromium and writes ``docs/images/<name>.png``. A page is registered with
:func:`shot`, by its path on the gateway or by an action that takes the browser there (for
pages behind a link of a notification, a sign-in or a click):

    shot("console-accueil", "/console/")
    shot("desinscription-enregistree", opted_out)  # def opted_out(page, stack): ...

Usage: ``python -m tests.browser.screenshots [NAME ...] [--page NAME=PATH ...] [--out DIR]``
(no NAME: every registered page).
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from playwright.sync_api import Page, sync_playwright

from tests.browser.harness import ROOT, CspWatch, Stack, chromium_path, launch_args, running_stack

Action = Callable[[Page, Stack], None]
OUT = ROOT / "docs" / "images"
VIEWPORT = {"width": 1280, "height": 800}


@dataclass(frozen=True)
class Shot:
    name: str  # the file's name, without .png
    target: str | Action  # a path on the gateway, or what takes the page there


SHOTS: list[Shot] = []


def shot(name: str, target: str | Action) -> None:
    """Register a page to capture (a later registration of the same name replaces it)."""
    SHOTS[:] = [s for s in SHOTS if s.name != name]
    SHOTS.append(Shot(name, target))


# --- The pages -------------------------------------------------------------------------------


def _opt_out_page(page: Page, stack: Stack) -> None:
    page.goto(stack.url(stack.take_offer().opt_out))


def _opted_out(page: Page, stack: Stack) -> None:
    _opt_out_page(page, stack)
    page.locator('form[action="/desinscription"] button[type="submit"]').click()
    page.wait_for_load_state()


def _form_landing(page: Page, stack: Stack) -> None:
    page.goto(stack.url(stack.take_offer().form))


def _graphiql(page: Page, stack: Stack) -> None:
    page.goto(stack.url("/graphql"))
    page.locator(".graphiql-container").wait_for(state="visible")


shot("desinscription", _opt_out_page)
shot("desinscription-enregistree", _opted_out)
shot("formulaire-arrivee", _form_landing)
shot("graphiql", _graphiql)


# --- Capture ---------------------------------------------------------------------------------


def capture(shots: Sequence[Shot], out: Path) -> list[Path]:
    """Every shot as ``<out>/<name>.png``, on one stack; the files written."""
    executable = chromium_path()
    if executable is None:
        raise SystemExit("Chromium is missing: `make test` installs it (apt-get install chromium)")
    out.mkdir(parents=True, exist_ok=True)
    written: list[Path] = []
    with (
        tempfile.TemporaryDirectory(prefix="unefois-screenshots-") as workdir,
        running_stack(Path(workdir)) as stack,
        sync_playwright() as driver,
    ):
        browser = driver.chromium.launch(**launch_args(executable))
        try:
            for one in shots:
                written.append(_capture_one(browser, stack, one, out))
        finally:
            browser.close()
    return written


def _capture_one(browser: Any, stack: Stack, one: Shot, out: Path) -> Path:
    context = browser.new_context(locale="fr-FR", viewport=VIEWPORT)
    watch = CspWatch()
    watch.attach(context)
    try:
        page = context.new_page()
        if isinstance(one.target, str):
            page.goto(stack.url(one.target))
        else:
            one.target(page, stack)
        page.wait_for_load_state("networkidle")
        path = out / f"{one.name}.png"
        page.screenshot(path=str(path), full_page=True)
    finally:
        context.close()
    refused = watch.refused()
    if refused:
        print(f"{one.name}: the page violated its CSP: {'; '.join(refused)}", file=sys.stderr)
    return path


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tests.browser.screenshots")
    parser.add_argument("names", nargs="*", help="registered pages to capture (default: all)")
    parser.add_argument(
        "--page",
        action="append",
        default=[],
        metavar="NAME=PATH",
        help="also capture the gateway's PATH as NAME.png",
    )
    parser.add_argument("--out", type=Path, default=OUT, help=f"default: {OUT.relative_to(ROOT)}")
    args = parser.parse_args(argv)
    for extra in args.page:
        name, sep, path = extra.partition("=")
        if not sep or not name or not path.startswith("/"):
            parser.error(f"--page wants NAME=/path, not {extra!r}")
        shot(name, path)
    known = {s.name: s for s in SHOTS}
    unknown = [n for n in args.names if n not in known]
    if unknown:
        parser.error(f"unknown page(s) {', '.join(unknown)}; registered: {', '.join(known)}")
    chosen = [known[n] for n in args.names] if args.names else list(SHOTS)
    chosen += [known[e.partition("=")[0]] for e in args.page if args.names]
    for path in capture(chosen, args.out):
        print(path.relative_to(ROOT) if path.is_relative_to(ROOT) else path)
    return 0


if __name__ == "__main__":
    sys.exit(main())
