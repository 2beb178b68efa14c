"""Who a campaign examines: pivot identities, where they live, how they can be told.

People arrive in API Particulier's parameter names (the agencies' event feeds, the sandbox's
person list); the exchange wants a :class:`PivotIdentity`. How a campaign's persons are shared
among workers is the task engine's business (:mod:`proactive.engine`).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from typing import Literal

from connectors import PivotIdentity, records
from connectors.errors import InvalidInput
from eligibility import PersonData
from eligibility.months import parse
from proactive import postal


@dataclass(frozen=True)
class Subject:
    """A person a campaign examines: the pivot identity, and France Travail's identifier
    for that person when an event of theirs gave it (it is how their contact details are
    asked for)."""

    identity: PivotIdentity
    france_travail_id: str | None = None


def _text(params: Mapping[str, str | list[str]], name: str) -> str | None:
    value = params.get(name)
    return value if isinstance(value, str) and value else None


def identity_from_params(params: Mapping[str, str | list[str]]) -> PivotIdentity:
    """A pivot identity from API Particulier's names (``nomNaissance``, ``prenoms``…).

    Raises ``KeyError``/``ValueError`` (or the identity's own ``InvalidInput``) when it is
    partial: a campaign skips such a person rather than guess who they are.
    """
    given = params.get("prenoms") or params.get("prenoms[]") or []
    names = tuple(given.split() if isinstance(given, str) else given)
    born = date(
        int(str(params["anneeDateNaissance"])),
        int(str(params["moisDateNaissance"])),
        int(str(params["jourDateNaissance"])),
    )
    sex: Literal["M", "F"]
    match _text(params, "sexeEtatCivil"):
        case "M":
            sex = "M"
        case "F":
            sex = "F"
        case _:
            raise ValueError("sex must be M or F")
    return PivotIdentity(
        birth_name=str(params["nomNaissance"]),
        given_names=names,
        birth_date=born,
        sex=sex,
        birth_country=str(params["codeCogInseePaysNaissance"]),
        birth_place=_text(params, "codeCogInseeCommuneNaissance"),
        usage_name=_text(params, "nomUsage"),
    )


def identity_or_none(params: Mapping[str, str | list[str]]) -> PivotIdentity | None:
    """:func:`identity_from_params`, or None for a partial or malformed identity."""
    try:
        return identity_from_params(params)
    except (KeyError, ValueError, InvalidInput):
        return None


def departement(cog_commune: str | None) -> str | None:
    """The département of a commune's COG code: three digits overseas (971…976), else two
    (Corsica's 2A and 2B included)."""
    if not cog_commune or len(cog_commune) != 5:
        return None
    return cog_commune[:3] if cog_commune.startswith("97") else cog_commune[:2]


def territory(data: PersonData | None) -> str | None:
    """The département a person lives in, for reporting: the dwelling's commune, else the
    CAF household's address's (the ASPA reads no housing record), else the tax address's."""
    if data is None:
        return None
    if data.housing is not None and data.housing.cog_commune:
        return departement(data.housing.cog_commune)
    caf = data.household.address if data.household is not None else None
    if caf is not None and caf.cog_commune:
        return departement(caf.cog_commune)
    if data.tax is not None:
        return departement(data.tax.address.cog_commune)
    return None


def recipient(data: PersonData) -> postal.Recipient:
    """The person the letter concerns, as the civil registry names them: the CAF's
    ``destinataire`` may name the other adult of the household, who must not read of this
    person's entitlement."""
    civil = data.civil
    given = civil.given_names[0] if civil.given_names else ""
    return postal.Recipient(civil.sex, given, civil.usage_name or civil.birth_name)


def postal_address(data: PersonData | None) -> str | None:
    """The address block of a letter to the person (NF Z10-011, :mod:`proactive.postal`),
    one line a line: the CAF's address, the freshest, else the tax address. None when
    neither can be laid out; the person then gets no letter."""
    if data is None:
        return None
    known = [
        data.household.address if data.household is not None else None,
        data.tax.address if data.tax is not None else None,
    ]
    for address in known:
        if address is None:
            continue
        try:
            return "\n".join(postal.layout(address, recipient(data)))
        except postal.AddressError:
            continue
    return None


def channels(contact: records.Contact | None, data: PersonData | None) -> list[tuple[str, str]]:
    """Where to tell a person, as ``(channel, address)``: by e-mail and text message when
    France Travail has them, by post only when there is no other way (a letter costs and
    takes days)."""
    out: list[tuple[str, str]] = []
    if contact is not None and contact.email is not None:
        out.append(("email", contact.email))
    if contact is not None and contact.mobile is not None:
        out.append(("sms", contact.mobile))
    if not out:
        address = postal_address(data)
        if address is not None:
            out.append(("letter", address))
    return out


def first_day(month: str) -> date:
    """``"2025-06"`` → 1 June 2025."""
    year, number = parse(month)
    return date(year, number, 1)
