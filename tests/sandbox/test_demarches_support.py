"""Shared by the démarches-simplifiées sandbox tests: the procedures and their champs."""

from __future__ import annotations

import re
from html import unescape

import httpx

from sandbox.demarches import SANDBOX_DS_TOKEN
from sandbox.demarches.procedures import ChampDef, Procedure, load_procedures

PROCEDURES = load_procedures()
RSA = PROCEDURES[101]
RSA_93 = PROCEDURES[105]


def champ(procedure: Procedure, label: str, kind: str | None = None) -> ChampDef:
    return next(
        c for c in procedure.all_champs() if c.label == label and (kind is None or c.type == kind)
    )


def graphql(http: httpx.Client, base: str, query: str, **variables: object) -> dict[str, object]:
    answer = http.post(
        base + "/api/v2/graphql",
        json={"query": query, "variables": variables},
        headers={"Authorization": f"Bearer {SANDBOX_DS_TOKEN}"},
    )
    assert answer.status_code == 200, answer.text
    body: dict[str, object] = answer.json()
    return body


def input_value(html: str, name: str) -> str | None:
    """The value of the text-like input named ``name``."""
    match = re.search(
        rf'<input type="[a-z-]+" id="{re.escape(name)}" name="[^"]+"[^>]* value="([^"]*)"', html
    )
    return None if match is None else unescape(match[1])


def checked(html: str, name: str) -> list[str]:
    return [
        unescape(v) for v in re.findall(rf'name="{re.escape(name)}" value="([^"]*)" checked', html)
    ]


def selected(html: str, name: str) -> str | None:
    block = re.search(rf'<select id="{re.escape(name)}".*?</select>', html, re.S)
    if block is None:
        return None
    match = re.search(r'<option value="([^"]*)" selected>', block[0])
    return None if match is None else unescape(match[1])
