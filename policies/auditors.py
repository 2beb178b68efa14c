"""Who may audit: the organisations whose agents the auditors' console admits.

``auditors.yaml`` lists them by SIRET (the organisation an agent's identity provider vouches
for), each with a label, the legal basis of its control, the API client of the ``auditor``
group its agents act as towards the log, and optionally the e-mail domains its agents must
have (an organisation may share its SIRET with services that do not audit)::

    auditors:
      - siret: "22990001400015"
        label: Département — délégué à la protection des données
        client: demo-auditor
        email_domains: [departement.example]   # optional
        legal_basis: {title: …, href: https://…}

The file is optional: a catalogue without it admits nobody to the console.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from policies.model import ClientPolicy, LegalBasis
from policies.reading import File, kind

FILE = "auditors.yaml"
_KEYS = ("siret", "label", "client", "legal_basis")
_OPTIONAL = ("email_domains",)
_SIRET = re.compile(r"^[0-9]{14}$")
_DOMAIN = re.compile(r"^(?=.{1,253}$)([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z][a-z0-9-]{0,62}$")


@dataclass(frozen=True)
class AuditorOrganisation:
    siret: str
    label: str
    client: str  # the API client its agents act as towards the audit log
    legal_basis: LegalBasis
    email_domains: frozenset[str] = frozenset()  # empty: any agent of the organisation

    def admits(self, email: str | None) -> bool:
        """Whether an agent with this e-mail address may audit for the organisation."""
        if not self.email_domains:
            return True
        if not email or email.count("@") != 1:
            return False
        return email.rsplit("@", 1)[1].lower() in self.email_domains


def luhn_valid(digits: str) -> bool:
    total = 0
    for i, char in enumerate(reversed(digits)):
        value = int(char) * (2 if i % 2 else 1)
        total += value - 9 if value > 9 else value
    return total % 10 == 0


def read_auditors(
    file: File,
    data: Any,
    clients: Mapping[str, ClientPolicy],
    basis: Callable[[File, Any, str], LegalBasis],
) -> dict[str, AuditorOrganisation]:
    entries = file.mapping(data, "", ("auditors",))["auditors"]
    if not isinstance(entries, list):
        raise file.error("auditors", f"expected a list, got {kind(entries)}")
    out: dict[str, AuditorOrganisation] = {}
    for i, entry in enumerate(entries):
        where = f"auditors[{i}]"
        optional: dict[str, Any] = {}
        if isinstance(entry, dict):
            optional = {k: entry[k] for k in _OPTIONAL if k in entry}
            entry = {k: v for k, v in entry.items() if k not in optional}
        item = file.mapping(entry, where, _KEYS)
        siret = item["siret"]
        if not isinstance(siret, str) or not _SIRET.match(siret) or not luhn_valid(siret):
            raise file.error(f"{where}.siret", f"not a SIRET (14 digits, Luhn key): {siret!r}")
        if siret in out:
            raise file.error(f"{where}.siret", f"duplicate organisation {siret!r}")
        client = item["client"]
        if not isinstance(client, str) or client not in clients:
            raise file.error(f"{where}.client", f"unknown client {client!r}")
        domains: list[str] = []
        if "email_domains" in optional:
            domains = file.names(
                optional["email_domains"], f"{where}.email_domains", _DOMAIN, "e-mail domain"
            )
            if not domains:
                raise file.error(f"{where}.email_domains", "list at least one domain, or omit it")
        out[siret] = AuditorOrganisation(
            siret=siret,
            label=file.text(item["label"], f"{where}.label"),
            client=client,
            legal_basis=basis(file, item["legal_basis"], f"{where}.legal_basis"),
            email_domains=frozenset(domains),
        )
    return out
