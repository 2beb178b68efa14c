"""The sandbox's person listing (``GET /_sandbox/persons`` of its civil registry): who a
``--population`` campaign examines, and the ground truth its report is measured against.

Only the sandbox has such a listing; a production campaign reads its population from the
paying agency's file.
"""

from __future__ import annotations

from typing import Any

import httpx

from connectors import PivotIdentity
from exchange import Pseudonyms
from proactive.campaign import SECTOR
from proactive.population import Subject, identity_or_none

PAGE = 1000  # the sandbox's largest page
Entry = dict[str, Any]


async def sandbox_adults(registry_url: str, limit: int | None) -> list[tuple[PivotIdentity, Entry]]:
    """The living adults with a usable identity, in the listing's order (at most ``limit``),
    each with their listing entry."""
    out: list[tuple[PivotIdentity, Entry]] = []
    offset = 0
    async with httpx.AsyncClient(timeout=30.0) as http:
        while limit is None or len(out) < limit:
            answer = await http.get(
                registry_url.rstrip("/") + "/_sandbox/persons",
                params={"offset": offset, "limit": PAGE, "kind": "adult"},
            )
            answer.raise_for_status()
            body = answer.json()
            for entry in body["data"]:
                identity = None if entry.get("deceased") else identity_or_none(entry["personne"])
                if identity is not None:
                    out.append((identity, entry))
            offset += len(body["data"])
            if not body["data"] or offset >= body["meta"]["total"]:
                break
    return out if limit is None else out[:limit]


async def sandbox_subjects(registry_url: str, limit: int | None) -> list[Subject]:
    """The adults, each with France Travail's identifier when they are registered there (as a
    paying agency's file would name its beneficiaries)."""
    adults = await sandbox_adults(registry_url, limit)
    return [Subject(i, e.get("identifiant_france_travail")) for i, e in adults]


async def sandbox_population(registry_url: str, limit: int | None) -> list[PivotIdentity]:
    return [identity for identity, _ in await sandbox_adults(registry_url, limit)]


async def sandbox_truth(
    registry_url: str, pseudonyms: Pseudonyms, benefit: str, limit: int | None
) -> dict[str, bool]:
    """Proactive pseudonym → real non-claimant of ``benefit``, for the persons a
    ``--population`` campaign examines (the same listing, filter and limit)."""
    flag = f"{benefit}_non_claimant"
    out: dict[str, bool] = {}
    for identity, entry in await sandbox_adults(registry_url, limit):
        if flag not in entry["truth"]:
            raise ValueError(f"the sandbox knows no non-claimants of {benefit!r}")
        out[pseudonyms.pseudonym(identity, SECTOR)] = bool(entry["truth"][flag])
    return out
