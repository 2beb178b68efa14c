"""The citizen space's words: dates, offer states, consent durations and states, in French."""

from __future__ import annotations

import calendar
import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

from exchange.consents import MAX_VALIDITY, Consent
from prefill import months
from proactive.notifications.rendering import french_date
from store import Offer

PARIS = ZoneInfo("Europe/Paris")

# An offer's status as the person reads it, and the DSFR badge that shows it.
OFFER_STATES: dict[str, tuple[str, str]] = {
    "detected": ("Proposée", "fr-badge--info"),
    "notified": ("Envoyée", "fr-badge--new"),
    "opened": ("Ouverte", "fr-badge--new"),
    "applied": ("Demandée", "fr-badge--success"),
    "declined": ("Ne vous concerne pas, d'après vous", "fr-badge--warning"),
    "expired": ("Expirée", "fr-badge--error"),
    "obsolete": ("Sans objet (votre situation a changé)", "fr-badge--info"),
}
# Where the journal sends the person to contest an automatic act: the section of the page
# that lists it with its refusal button. An act undone or closed has nothing left to contest.
CONTEST = {
    "css_renewal": "#renouvellements",
    "css_automatic_grant": "#droits-automatiques",
}
# Offers the person may still answer "cette aide ne me concerne pas" to (OfferStore.declined).
DECLINABLE = frozenset({"notified", "opened"})

BENEFITS = {
    "rsa": "Revenu de solidarité active (RSA)",
    "ppa": "Prime d'activité",
    "css": "Complémentaire santé solidaire (CSS)",
    "aspa": "Allocation de solidarité aux personnes âgées (ASPA)",
}


@dataclass(frozen=True)
class Duration:
    id: str
    label: str
    months: int


# The consent durations offered; two years is the longest a consent may last.
DURATIONS = (
    Duration("3m", "3 mois", 3),
    Duration("6m", "6 mois", 6),
    Duration("1a", "1 an", 12),
    Duration("2a", "2 ans", 24),
)


def day(value: date) -> str:
    """``"1er juillet 2026"``, ``"2 juillet 2026"``, as the messages write it."""
    return french_date(value)


def month(value: str) -> str:
    """``2025-06`` → ``juin 2025`` (anything else as it is)."""
    try:
        return months.words(value)
    except ValueError:
        return value


def moment(value: datetime) -> str:
    """A time as a person in France reads it: ``3 juillet 2025 à 14 h 05``."""
    local = value.astimezone(PARIS)
    return f"{day(local.date())} à {local.hour} h {local.minute:02d}"


def add_months(start: date, months: int) -> date:
    month = start.month - 1 + months
    year, month = start.year + month // 12, month % 12 + 1
    return date(year, month, min(start.day, calendar.monthrange(year, month)[1]))


def consent_end(duration: Duration, today: date) -> date:
    """The last day of a consent given today for ``duration``, never past the longest a
    consent may last (two years in days: a leap day would otherwise pass it)."""
    return min(add_months(today, duration.months), today + MAX_VALIDITY)


def consent_state(consent: Consent, today: date) -> tuple[str, str]:
    """The consent's state in words, and its badge."""
    if consent.revoked_at is not None:
        return f"Retiré le {day(consent.revoked_at.astimezone(PARIS).date())}", ""
    if consent.valid_until < today:
        return "Terminé", ""
    if consent.valid_from > today:
        return "À venir", "fr-badge--info"
    return "En cours", "fr-badge--success"


def offer_when(offer: Offer) -> str:
    """The latest thing that happened to the offer, dated."""
    if offer.decided_at is not None:
        return day(offer.decided_at.astimezone(PARIS).date())
    for stamp in (offer.opened_at, offer.notified_at, offer.detected_at):
        if stamp is not None:
            return day(stamp.astimezone(PARIS).date())
    return ""


_CELL = re.compile(r"([a-z0-9_]+)\[(\d+)\]\.([a-z0-9_]+)")


def _field_words(field: str, labels: Mapping[str, str]) -> str:
    """A form field as the person saw it; a table's cell (``table[0].column``) as « Table,
    ligne 1 : Column »."""
    cell = _CELL.fullmatch(field)
    if cell is None:
        return labels.get(field, field)
    table, row, column = cell.groups()
    name = labels.get(table, table)
    return f"{name}, ligne {int(row) + 1} : {labels.get(f'{table}.{column}', column)}"


def dossier_state(
    number: int, status: str, outcome: Mapping[str, Any] | None, labels: Mapping[str, str]
) -> str:
    """Where a dossier prepared on démarches-simplifiées stands, in one sentence; ``labels``:
    the form's field labels, to name what a rejected deposit must change."""
    where = f"Dossier nº {number}"
    if status == "created":
        return f"{where} préparé sur démarches-simplifiées, pas encore déposé."
    if status == "processed":
        return f"{where} déposé sur démarches-simplifiées."
    rejected = (outcome or {}).get("rejected")
    if status == "rejected" and isinstance(rejected, Mapping):
        names = [_field_words(str(f), labels) for f in rejected.get("fields") or ()]
        listed = " ; ".join(f"« {n} »" for n in names) or "certaines réponses"
        verb = (
            "à compléter ou à confirmer" if rejected.get("reason") == "incomplete" else "à corriger"
        )
        return (
            f"{where} déposé sur démarches-simplifiées, mais nous n'avons pas pu le prendre en "
            f"compte : {listed} {verb}. Vous pouvez modifier votre dossier sur "
            "démarches-simplifiées tant qu'il est en construction ; il sera alors pris en compte."
        )
    # Submitted, or its processing failed and is tried again.
    return f"{where} déposé sur démarches-simplifiées, en cours de prise en compte."


def dossier_outcome(outcome: Mapping[str, Any] | None) -> list[str]:
    """What the evaluation after a submitted dossier says, one sentence per benefit: an
    estimate, not a decision (the instructing body decides)."""
    sentences = []
    for result in (outcome or {}).get("eligibility") or ():
        if not isinstance(result, Mapping):
            continue
        name = BENEFITS.get(str(result.get("benefit")), str(result.get("benefit")))
        status, amount = result.get("status"), result.get("monthly_amount")
        if status == "ELIGIBLE" and isinstance(amount, int | float):
            euros = f"{amount:,.2f}".replace(",", "\u202f").replace(".", ",")
            if result.get("benefit") != "css":
                said = f"environ {euros} € par mois"
            elif round(amount, 2) == 0:
                said = "gratuite pour vous"  # the CSS's amount is what the person pays
            else:
                said = f"une participation d'environ {euros} € par mois"
            sentences.append(f"{name} : {said} d'après ce que vous avez déclaré.")
        elif status == "ELIGIBLE":
            sentences.append(f"{name} : vous y auriez droit d'après ce que vous avez déclaré.")
        elif status == "NOT_ELIGIBLE":
            sentences.append(
                f"{name} : d'après ce que vous avez déclaré, vous n'y auriez pas droit."
            )
        else:
            sentences.append(
                f"{name} : le montant sera calculé par l'organisme qui instruit la demande."
            )
    return sentences
