"""The French texts of a notification, from Jinja2 templates in ``proactive/templates``.

A message's payload (stored in the outbox) carries what the templates need:

- ``benefit_to``: the benefit as it follows "vous avez droit" ("au revenu de solidarité
  active (RSA)", "à la prime d'activité"): French articles depend on the benefit;
- ``benefit_short``: the same, as short as it stays clear ("au RSA"), for text messages;
- ``monthly_amount``: the estimated amount in euros per month;
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

from proactive import links
from proactive.notifications import gsm
from proactive.notifications.errors import PermanentFailure

TEMPLATES = Path(__file__).resolve().parent.parent / "templates"
# At most two concatenated SMS, 306 GSM-7 septets: the sentence and both links fit, the
# price stays twice one SMS's, and a longer chain is more often split or reordered badly.
SMS_MAX_SEGMENTS = 2
_MONTHS = (
    "janvier",
    "février",
    "mars",
    "avril",
    "mai",
    "juin",
    "juillet",
    "août",
    "septembre",
    "octobre",
    "novembre",
    "décembre",
)


@dataclass(frozen=True)
class Rendered:
    subject: str
    text: str
    html: str | None = None
    segments: int = 0  # the SMS a text message is sent as; 0 for other channels


def euros(amount: float) -> str:
    """``1234.6`` → ``"1 235 euros"``: whole euros read better, and it is an estimate."""
    return f"{round(amount):,d}".replace(",", " ") + " euros"


def french_date(day: date) -> str:
    return f"{day.day} {_MONTHS[day.month - 1]} {day.year}"


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
        return {
            **payload,
            **space,
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
