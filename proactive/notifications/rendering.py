"""The French texts of a notification, from Jinja2 templates in ``proactive/templates``.

A message's payload (stored in the outbox) carries what the templates need:

- ``benefit_to``: the benefit as it follows "vous avez droit" ("au revenu de solidarité
  active (RSA)", "à la prime d'activité"): French articles depend on the benefit;
- ``benefit_short``: the same, as short as it stays clear ("au RSA"), for text messages;
- ``benefit``: the benefit's id (``rsa``, ``css``…), and ``monthly_amount``: the estimated
  amount in euros per month, None when it depends on data nobody holds. For the CSS it is
  what the person would pay (0: free), not what they would get: the templates say so through
  ``amount_sentence`` and ``amount_short`` (:func:`amount_sentence`), never the bare figure;
- ``renewal_end``: for an invitation to renew a right that could not be renewed
  automatically, the day it ends, in words (the message then speaks of that right), and
  ``renewal_ended`` when that day is past;
- ``criteria``: why we think so, each in plain words ("vos revenus des 3 derniers mois sont
  bas");
- ``data_used``: ``[{"category": "revenus déclarés", "agency": "DGFiP"}, ...]``;
- ``form`` (the prefilled form's id) and ``offer_id``: the links name the offer only
  (``proactive.links``).

Links are built here from the public base URL, so a payload never holds a stale host:
``space_url`` (the citizen space, where a renewal can be refused) for every message,
``form_url`` and ``opt_out_url`` for an offer's.

A text message is rewritten into the GSM 7-bit alphabet (:func:`gsm.transliterate`) and must
then be GSM-7 and fit in :data:`SMS_MAX_SEGMENTS` SMS: otherwise it is refused
(:class:`PermanentFailure`) rather than sent in UCS-2, where the same text costs two to three
times as many SMS. Its :attr:`Rendered.segments` is what the provider bills.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

import jinja2

from prefill import months
from proactive import links
from proactive.notifications import gsm
from proactive.notifications.errors import PermanentFailure

TEMPLATES = Path(__file__).resolve().parent.parent / "templates"
# At most two concatenated SMS, 306 GSM-7 septets: the sentence and both links fit, the
# price stays twice one SMS's, and a longer chain is more often split or reordered badly.
SMS_MAX_SEGMENTS = 2


@dataclass(frozen=True)
class Rendered:
    subject: str
    text: str
    html: str | None = None
    segments: int = 0  # the SMS a text message is sent as; 0 for other channels


def euros(amount: float) -> str:
    """``1234.6`` → ``"1 235 euros"``: whole euros read better, and it is an estimate;
    ``"1 euro"`` (French puts the plural from 2)."""
    whole = round(amount)
    return f"{whole:,d}".replace(",", " ") + (" euro" if abs(whole) < 2 else " euros")


def french_date(day: date) -> str:
    """``"1er juillet 2026"``, ``"2 juillet 2026"``: the first of a month is an ordinal."""
    first = "1er" if day.day == 1 else str(day.day)
    return f"{first} {months.NAMES[day.month - 1]} {day.year}"


def amount_sentence(benefit: str | None, amount: float | None) -> str:
    """What a letter or an e-mail says of the amount: an estimate of what the person would
    receive, or for the CSS of what they would pay; or that it will be calculated."""
    if benefit == "css":
        if amount is None:
            return (
                "Votre participation éventuelle dépend d'informations que nous n'avons pas : "
                "elle sera calculée après votre demande."
            )
        if round(amount) == 0:
            return "Elle serait gratuite pour vous."
        return (
            f"Elle vous coûterait environ {euros(amount)} par mois "
            "(une participation qui dépend de l'âge des membres du foyer)."
        )
    if amount is None:
        return (
            "Son montant dépend d'informations que nous n'avons pas : "
            "il sera calculé après votre demande."
        )
    return f"Nous estimons son montant à environ {euros(amount)} par mois."


def amount_short(benefit: str | None, amount: float | None) -> str:
    """The same in a text message, after the benefit's name: ``", environ 573 euros/mois"``."""
    if amount is None:
        return ""
    if benefit == "css":
        return ", gratuite" if round(amount) == 0 else f", pour {euros(amount)}/mois"
    return f", environ {euros(amount)}/mois"


class Renderer:
    """Renders ``<template>_<channel>`` templates; HTML is autoescaped, text is not."""

    def __init__(self, base_url: str, directory: Path = TEMPLATES) -> None:
        self.base_url = base_url.rstrip("/")
        self._env = jinja2.Environment(
            loader=jinja2.FileSystemLoader(directory),
            autoescape=jinja2.select_autoescape(enabled_extensions=("html.j2",), default=False),
            undefined=jinja2.StrictUndefined,
            trim_blocks=True,
            lstrip_blocks=True,
            keep_trailing_newline=False,
        )
        self._env.filters["euros"] = euros
        self._env.filters["french_date"] = french_date

    def context(self, payload: Mapping[str, Any]) -> dict[str, Any]:
        space = {"space_url": links.space_url(self.base_url)}
        if "offer_id" not in payload:
            # A message about no offer (an automatic renewal): no form, no opt-out link.
            return {**payload, **space}
        offer = str(payload["offer_id"])
        # Payloads queued before ``benefit`` was recorded read as any benefit's did.
        benefit = payload.get("benefit")
        amount = payload.get("monthly_amount")
        return {
            "renewal_end": None,
            "renewal_ended": False,
            **payload,
            **space,
            "amount_sentence": amount_sentence(benefit, amount),
            "amount_short": amount_short(benefit, amount),
            "form_url": links.form_url(self.base_url, str(payload["form"]), offer),
            "opt_out_url": links.opt_out_url(self.base_url, offer),
        }

    def render(
        self, template: str, channel: str, payload: Mapping[str, Any], today: date
    ) -> Rendered:
        """The subject and bodies; :class:`PermanentFailure` if the template or payload is
        wrong, since resending the same payload would fail the same way."""
        try:
            context = {**self.context(payload), "today": today}
            subject = self._env.get_template(f"{template}_subject.txt.j2").render(context)
            text = self._env.get_template(f"{template}_{channel}.txt.j2").render(context)
            html = None
            if channel == "email":
                html = self._env.get_template(f"{template}_email.html.j2").render(context)
        except (KeyError, ValueError, jinja2.TemplateError):
            raise PermanentFailure("template") from None
        if channel == "sms":
            return self._sms(subject, text)
        return Rendered(subject=subject.strip(), text=text.strip() + "\n", html=html)

    @staticmethod
    def _sms(subject: str, text: str) -> Rendered:
        sms = gsm.transliterate(text.strip())
        if gsm.encoding(sms) != "GSM-7":
            raise PermanentFailure("sms_not_gsm7")
        count = gsm.segments(sms)
        if count > SMS_MAX_SEGMENTS:
            raise PermanentFailure("sms_too_long")
        return Rendered(subject=subject.strip(), text=sms + "\n", segments=count)
