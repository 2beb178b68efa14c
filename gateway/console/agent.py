"""The agent signed in to the console, and whether the policy catalogue lets them audit.

An agent may audit when the organisation their identity provider vouches for (its SIRET) is
listed in the catalogue's ``auditors.yaml`` (and their e-mail is in its domains, when it names
some), and the API client it acts as may use the ``audit_control`` purpose on that day. What
the session keeps of them: the subject, the organisation's SIRET, the names and the e-mail to
greet them (server-side only, never logged), the organisation's label and the client.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict, dataclass
from datetime import date
from typing import Any

from exchange.oversight import AUDIT_PURPOSE
from runtime import Services


@dataclass(frozen=True)
class Agent:
    sub: str
    siret: str
    given_name: str
    usual_name: str
    email: str
    organisation: str  # the catalogue's label for the organisation
    client: str  # the auditor client its queries are made as
    legal_basis_title: str
    legal_basis_href: str

    def to_dict(self) -> dict[str, str]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Agent | None:
        try:
            values = {name: data[name] for name in cls.__dataclass_fields__}
        except (KeyError, TypeError):
            return None
        if not all(isinstance(v, str) for v in values.values()):
            return None
        return cls(**values)


def _text(claims: Mapping[str, Any], name: str) -> str:
    value = claims.get(name)
    return value.strip() if isinstance(value, str) else ""


def authorised(services: Services, claims: Mapping[str, Any], on: date) -> Agent | None:
    """The agent these checked claims name, if the catalogue lets them audit on ``on``."""
    catalogue = services.catalogue
    sub, siret, email = _text(claims, "sub"), _text(claims, "siret"), _text(claims, "email")
    if not sub or not siret:
        return None
    organisation = catalogue.auditor(siret, email or None)
    purpose = catalogue.purposes.get(AUDIT_PURPOSE)
    if (
        organisation is None
        or purpose is None
        or not purpose.in_force(on)
        or not catalogue.client_may_use(organisation.client, AUDIT_PURPOSE)
    ):
        return None
    return Agent(
        sub=sub,
        siret=siret,
        given_name=_text(claims, "given_name"),
        usual_name=_text(claims, "usual_name"),
        email=email,
        organisation=organisation.label,
        client=organisation.client,
        legal_basis_title=organisation.legal_basis.title,
        legal_basis_href=organisation.legal_basis.href,
    )
