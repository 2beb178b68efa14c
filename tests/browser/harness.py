"""What the browser tests stand on: Chromium, a running stack, axe-core, keyboard and CSP checks.

The stack is the sandbox and one ``unefois serve`` as real processes on loopback (the helpers
of :mod:`tests.system._stack`), the gateway on an embedded SQLite database in a temporary data
directory. Offers are made the way an operator makes them, with ``unefois campaign run``
against the same data directory, so the pages show what a person's link really opens.
"""

from __future__ import annotations

import contextlib
import os
import re
import shutil
import socket
import sqlite3
import subprocess
import sys
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import httpx

import policies
from database import DEFAULT_FILE
from prefill import load_forms
from proactive.links import form_url, opt_out_url
from tests.system._stack import (
    HOST,
    Gateway,
    Sandbox,
    free_port,
    gateway_env,
    previous_month,
    running_sandbox,
    tail,
)

ROOT = Path(__file__).resolve().parents[2]
AXE = ROOT / "node_modules" / "axe-core" / "axe.min.js"
SANDBOX_SIZE = 40  # the generated persons; the scenario households come after them
RECIPIENT = "13002526500013"
GATEWAY_START_TIMEOUT = 120.0  # a loaded machine's start, not a busy one's
CAMPAIGN_TIMEOUT = 300.0  # only ever reached when something hangs
BLOCKING = ("serious", "critical")
TAB_LIMIT = 60  # presses of Tab before a control counts as out of the keyboard's reach


# --- Chromium ---------------------------------------------------------------------------------


def chromium_path() -> str | None:
    """The system's Chromium (Debian's ``chromium`` package, installed by ``make test``)."""
    return shutil.which("chromium")


def launch_args(executable: str) -> dict[str, Any]:
    """Playwright's launch options for the system's Chromium: headless, and without the
    sandbox only as root (Chromium refuses to start sandboxed there)."""
    args: dict[str, Any] = {"executable_path": executable, "headless": True}
    if os.geteuid() == 0:
        args["args"] = ["--no-sandbox"]
    return args


# --- The stack ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class OfferLinks:
    """One offer of a campaign and the two links its notification carries."""

    offer_id: str
    benefit: str
    form: str  # the form link's path and query, on the gateway
    opt_out: str  # the opt-out link's path and query, on the gateway


@dataclass
class Stack:
    sandbox: Sandbox
    gateway: Gateway
    data_dir: Path
    workdir: Path
    campaigns: list[str] = field(default_factory=list)
    _unused: dict[str, list[OfferLinks]] = field(default_factory=dict)

    @property
    def gateway_url(self) -> str:
        return self.gateway.url

    @property
    def env(self) -> dict[str, str]:
        """The gateway's environment: what ``unefois`` commands need to act on its data."""
        return dict(self.gateway.env)

    def url(self, path: str) -> str:
        return self.gateway_url + path

    def unefois(self, *args: str, timeout: float = CAMPAIGN_TIMEOUT) -> str:
        """Run ``unefois <args>`` on the gateway's data; its standard output."""
        done = subprocess.run(  # noqa: S603 - our own interpreter and module
            [sys.executable, "-m", "cli.main", *args],
            env=self.env,
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
        )
        if done.returncode != 0:
            raise RuntimeError(
                f"unefois {args[0]} exited with code {done.returncode}\n{done.stderr[-3000:]}"
            )
        return done.stdout

    def campaign(self, benefit: str = "rsa", campaign: str | None = None) -> list[OfferLinks]:
        """Run a detection campaign over the sandbox's population; its offers, with the links
        their notifications carry (relative to the gateway)."""
        name = campaign or f"{benefit}-navigateur-{len(self.campaigns) + 1}"
        self.unefois(
            "campaign",
            "run",
            "--benefit",
            benefit,
            "--month",
            previous_month(),
            "--population",
            "--campaign",
            name,
            "--recipient",
            RECIPIENT,
        )
        self.campaigns.append(name)
        return [
            OfferLinks(
                offer_id=offer,
                benefit=benefit,
                form=form_url("", form_of(benefit), offer),
                opt_out=opt_out_url("", offer),
            )
            for offer in self.offers_of(name)
        ]

    def take_offer(self, benefit: str = "rsa") -> OfferLinks:
        """An offer no earlier caller took (a campaign is run when none is left): a test that
        opts out, declines or opens one changes nothing for the others."""
        unused = self._unused.setdefault(benefit, [])
        if not unused:
            unused.extend(self.campaign(benefit))
        if not unused:
            raise RuntimeError(f"a {benefit} campaign made no offer\n{self.logs()}")
        return unused.pop(0)

    def offers_of(self, campaign: str) -> list[str]:
        """The ids of a campaign's offers, in the order they were detected."""
        with contextlib.closing(
            sqlite3.connect(f"file:{self.data_dir / DEFAULT_FILE}?mode=ro", uri=True)
        ) as db:
            rows = db.execute(
                "SELECT id FROM offers WHERE campaign = ? ORDER BY detected_at, id", (campaign,)
            ).fetchall()
        return [str(row[0]) for row in rows]

    # --- The sandbox's mail sink and démarches-simplifiées ---------------------------------

    @property
    def demarches_url(self) -> str:
        """The démarches-simplifiées sandbox's base URL."""
        return self.sandbox.demarches_url

    def deliver(self) -> str:
        """Send the outbox's due messages as an operator does (``unefois campaign
        deliver``), the e-mails through the sandbox's SMTP mail sink; the command's counts."""
        self.gateway.env.update(
            {"UNEFOIS_SMTP_HOST": HOST, "UNEFOIS_SMTP_PORT": str(mail_port(self.sandbox))}
        )
        return self.unefois("campaign", "deliver")

    def mails(self) -> list[dict[str, str]]:
        """What the sandbox's mail sink received (``to``, ``subject``, ``text``), oldest first."""
        answer = httpx.get(self.sandbox.sms_url + "/_sandbox/mails", timeout=30.0)
        answer.raise_for_status()
        found: list[dict[str, str]] = answer.json()["data"]
        return found

    def set_ds_webhook(self, procedure: int, url: str | None) -> None:
        """A procedure's webhook on the démarches-simplifiées sandbox, as its administrator
        sets it (``None``: none)."""
        answer = httpx.put(
            f"{self.demarches_url}/_sandbox/demarches/{procedure}/webhook",
            json={"url": url},
            timeout=30.0,
        )
        answer.raise_for_status()

    def ds_webhook(self, procedure: int) -> dict[str, Any]:
        """A procedure's webhook URL on the démarches-simplifiées sandbox and the calls made."""
        answer = httpx.get(
            f"{self.demarches_url}/_sandbox/demarches/{procedure}/webhook", timeout=30.0
        )
        answer.raise_for_status()
        found: dict[str, Any] = answer.json()
        return found

    def offer_status(self, offer_id: str) -> str:
        """An offer's status, read from the gateway's database."""
        with contextlib.closing(
            sqlite3.connect(f"file:{self.data_dir / DEFAULT_FILE}?mode=ro", uri=True)
        ) as db:
            row = db.execute("SELECT status FROM offers WHERE id = ?", (offer_id,)).fetchone()
        if row is None:
            raise LookupError(f"no offer {offer_id}")
        return str(row[0])

    def logs(self) -> str:
        return f"{self.gateway.log_tail()}\n--- sandbox\n{tail(self.sandbox.log)}"


def form_of(benefit: str) -> str:
    """The form a benefit's offers link to: the prefilled form of that benefit, as the
    campaign chooses it."""
    for form_id, form in load_forms().items():
        if form.benefit == benefit:
            return str(form_id)
    raise ValueError(f"no prefilled form for {benefit!r}")


@contextlib.contextmanager
def running_stack(workdir: Path, extra_env: dict[str, str] | None = None) -> Iterator[Stack]:
    """The sandbox, then a gateway told its URLs, both stopped on exit.

    The gateway's port is chosen first so that the sandbox's identity providers can accept
    redirections to it (``UNEFOIS_SANDBOX_GATEWAY_URLS``).
    """
    port = free_port()
    gateway_url = f"http://127.0.0.1:{port}"
    data_dir = workdir / "data"
    data_dir.mkdir(parents=True, exist_ok=True)
    with contextlib.ExitStack() as stack:
        previous = os.environ.get("UNEFOIS_SANDBOX_GATEWAY_URLS")
        os.environ["UNEFOIS_SANDBOX_GATEWAY_URLS"] = gateway_url
        try:
            sandbox = stack.enter_context(running_sandbox(workdir, SANDBOX_SIZE))
        finally:
            if previous is None:
                os.environ.pop("UNEFOIS_SANDBOX_GATEWAY_URLS", None)
            else:
                os.environ["UNEFOIS_SANDBOX_GATEWAY_URLS"] = previous
        env = gateway_env(
            sandbox,
            data_dir,
            Path(policies.__file__).parent / "catalogue",
            {
                "UNEFOIS_PORT": str(port),
                "UNEFOIS_PUBLIC_URL": gateway_url,
                "UNEFOIS_INTROSPECTION": "true",
                "UNEFOIS_CAMPAIGN_RECIPIENT": RECIPIENT,
                **(extra_env or {}),
            },
        )
        # The civil servants' identity provider of the sandbox, when it serves one.
        agent_connect = getattr(sandbox, "agent_connect_url", "")
        if agent_connect and "UNEFOIS_AGENT_CONNECT_ISSUER" not in env:
            env["UNEFOIS_AGENT_CONNECT_ISSUER"] = agent_connect
        gateway = Gateway("navigateur", env, workdir)
        stack.callback(gateway.stop)
        gateway.start()
        gateway.wait_healthy(GATEWAY_START_TIMEOUT)
        yield Stack(sandbox, gateway, data_dir, workdir)


# --- The sandbox's SMTP mail sink ---------------------------------------------------------------

_SOCKET = re.compile(r"socket:\[(\d+)\]")
_LISTEN = "0A"  # TCP_LISTEN in /proc/net/tcp


def listening_ports(pid: int) -> set[int]:
    """The TCP ports a process listens on (Linux: its sockets' inodes in ``/proc``)."""
    inodes = set()
    for fd in Path(f"/proc/{pid}/fd").iterdir():
        with contextlib.suppress(OSError):
            found = _SOCKET.fullmatch(os.readlink(fd))
            if found:
                inodes.add(found.group(1))
    ports = set()
    for table in ("tcp", "tcp6"):
        path = Path(f"/proc/{pid}/net/{table}")
        if not path.exists():
            continue
        for line in path.read_text(encoding="ascii").splitlines()[1:]:
            cells = line.split()
            if cells[3] == _LISTEN and cells[9] in inodes:
                ports.add(int(cells[1].rsplit(":", 1)[1], 16))
    return ports


def _greets_in_smtp(port: int) -> bool:
    """Whether the server on ``port`` speaks first, as an SMTP server does (``220``); an HTTP
    server waits for a request, and answers a line of SMTP with an HTTP error."""
    try:
        with socket.create_connection((HOST, port), timeout=10.0) as conn:
            conn.sendall(b"QUIT\r\n")
            first = conn.recv(64)
    except OSError:  # refused, reset or silent: not the mail sink
        return False
    return first.startswith(b"220")


@cache
def _mail_port(pid: int, http_ports: frozenset[int]) -> int:
    candidates = sorted(listening_ports(pid) - http_ports)
    for port in candidates:
        if _greets_in_smtp(port):
            return port
    raise RuntimeError(f"no SMTP server among the sandbox's ports {candidates}")


def mail_port(sandbox: Sandbox) -> int:
    """The port of the sandbox's SMTP mail sink. ``python -m sandbox`` prints it as a
    ``smtp://`` line which the stack's reader of HTTP servers leaves aside: it is found among
    the ports the sandbox's process listens on."""
    known = [
        *sandbox.urls.values(),
        sandbox.france_connect_url,
        sandbox.sms_url,
        sandbox.agent_connect_url,
        sandbox.demarches_url,
    ]
    http_ports = frozenset(urlsplit(url).port or 0 for url in known if url)
    return _mail_port(sandbox.process.pid, http_ports)


# --- Checks in the page -------------------------------------------------------------------------


@cache
def axe_source() -> str:
    return AXE.read_text(encoding="utf-8")


def axe_violations(page: Any, exclude: Sequence[str] = ()) -> list[dict[str, Any]]:
    """axe-core's violations on the page as shown now (every rule axe runs by default),
    outside the elements of the ``exclude`` selectors.

    The script is evaluated through the browser's debugging protocol, which the page's
    Content-Security-Policy does not govern: the policy stays on and is tested as served.
    """
    if not page.evaluate("() => typeof window.axe === 'object'"):
        page.evaluate(axe_source())
    found: list[dict[str, Any]] = page.evaluate(
        """async (exclude) => {
            const context = exclude.length ? {exclude: exclude.map((s) => [s])} : document;
            const results = await window.axe.run(context, {resultTypes: ["violations"]});
            return results.violations.map((v) => ({
                id: v.id,
                impact: v.impact,
                help: v.help,
                targets: v.nodes.map((n) => n.target.join(" ")),
            }));
        }""",
        list(exclude),
    )
    return found


def assert_accessible(page: Any, context: str = "", exclude: Sequence[str] = ()) -> None:
    """Fail listing every axe-core violation of impact serious or critical (outside the
    elements of the ``exclude`` selectors: a third-party widget the page embeds as is)."""
    blocking = [v for v in axe_violations(page, exclude) if v["impact"] in BLOCKING]
    if blocking:
        lines = [
            f"- {v['id']} ({v['impact']}): {v['help']} — {', '.join(v['targets'][:10])}"
            for v in blocking
        ]
        where = f"{context} ({page.url})" if context else page.url
        raise AssertionError(
            f"{len(blocking)} serious or critical accessibility violation(s) on {where}:\n"
            + "\n".join(lines)
        )


def keyboard_reach(page: Any, selector: str, limit: int = TAB_LIMIT) -> int:
    """Press Tab from the top of the page until the element of ``selector`` has the focus;
    the number of presses. Fails when ``limit`` presses never reach it."""
    target = page.locator(selector)
    assert target.count() == 1, f"{selector!r} matches {target.count()} elements, not one"
    # Back to the top: the body focused for an instant (then not focusable again), which
    # moves the sequential navigation's starting point before every control of the page.
    page.evaluate(
        """() => {
            const body = document.body;
            const had = body.getAttribute("tabindex");
            body.setAttribute("tabindex", "-1");
            body.focus({preventScroll: false});
            if (had === null) body.removeAttribute("tabindex");
            else body.setAttribute("tabindex", had);
            window.scrollTo(0, 0);
        }"""
    )
    seen: list[str] = []
    for presses in range(1, limit + 1):
        page.keyboard.press("Tab")
        if target.evaluate("(el) => el === document.activeElement"):
            return presses
        seen.append(
            page.evaluate(
                """() => {
                    const el = document.activeElement;
                    if (!el || el === document.body) return "(body)";
                    const text = (el.innerText || el.value || "").trim().slice(0, 30);
                    return el.tagName.toLowerCase() + (el.id ? "#" + el.id : "") +
                        (text ? " “" + text + "”" : "");
                }"""
            )
        )
    raise AssertionError(
        f"{selector!r} not reached by {limit} presses of Tab; focus went through: "
        + ", ".join(dict.fromkeys(seen))
    )


# --- Content-Security-Policy --------------------------------------------------------------------

# Reported by an init script, which the debugging protocol runs whatever the page's policy.
_CSP_LISTENER = """
document.addEventListener("securitypolicyviolation", (e) => {
    window.__unefoisCspViolation({
        directive: e.violatedDirective,
        blocked: e.blockedURI,
        source: e.sourceFile,
        line: e.lineNumber,
        sample: e.sample,
        page: document.location.pathname,
    });
}, true);
"""
CSP_BINDING = "__unefoisCspViolation"


@dataclass
class CspWatch:
    """Console messages and ``securitypolicyviolation`` events of a browser context's pages."""

    violations: list[dict[str, Any]] = field(default_factory=list)
    console: list[str] = field(default_factory=list)

    def attach(self, context: Any) -> None:
        context.expose_binding(CSP_BINDING, lambda _source, event: self.violations.append(event))
        context.add_init_script(_CSP_LISTENER)
        context.on("page", self._watch_page)
        for page in context.pages:
            self._watch_page(page)

    def _watch_page(self, page: Any) -> None:
        page.on("console", lambda message: self.console.append(f"{message.type}: {message.text}"))

    def refused(self) -> list[str]:
        """What the policy blocked: the events, and the console's "Refused to …" lines (for
        what happens before the listener exists, such as a blocked ``<script>`` in ``head``)."""
        events = [
            f"{v['directive']} blocked {v['blocked'] or '(inline)'} on {v['page']}"
            + (f" ({v['source']}:{v['line']})" if v.get("source") else "")
            for v in self.violations
        ]
        console = [
            line
            for line in self.console
            if "Content Security Policy" in line or "Refused to" in line
        ]
        return events + console

    def check(self) -> None:
        refused = self.refused()
        if refused:
            raise AssertionError(
                "the page violated its Content-Security-Policy:\n"
                + "\n".join(f"- {line}" for line in dict.fromkeys(refused))
            )
