"""Anomalies over a period, and the chain's integrity, each an audited query."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from starlette.requests import Request
from starlette.responses import Response

from exchange.errors import AccessRefused, InvalidRequest, NotRecorded
from gateway.console.access import Clock, SignedIn, page, problem_page, signed_in, to_sign_in
from gateway.console.filters import Search, read_period
from gateway.console.journal import REFUSED, UNAVAILABLE
from gateway.console.oversight import caller_of, oversight_for
from gateway.console.words import ANOMALY_RULES, PARIS, paris
from gateway.state import services_of

DEFAULT_DAYS = 7


def _number(value: float) -> str:
    return f"{value:g}".replace(".", ",")


def _sentence(anomaly: Any, organisation: str, purposes: Any) -> str:
    count, threshold = anomaly.count, _number(anomaly.threshold)
    if anomaly.rule == "many_persons_one_object":
        campaign = anomaly.declared_campaign
        text = (
            f"{organisation} a consulté {count} personnes différentes sous la référence "
            f"« {anomaly.object} »"
        )
        if campaign is not None:
            purpose = purposes.get(campaign.purpose)
            label = purpose.label if purpose is not None else campaign.purpose
            expected = (
                f", {campaign.population} personnes prévues"
                if campaign.population is not None
                else ""
            )
            return f"{text}, comme l'annonçait la campagne déclarée pour « {label} »{expected}."
        return f"{text} (seuil : {threshold})."
    if anomaly.rule == "burst":
        return (
            f"{organisation} a fait {count} consultations en une heure, à partir du "
            f"{paris(anomaly.start)} (seuil : {threshold}, tiré de son volume horaire "
            "habituel : plusieurs fois la médiane de ses heures d'activité, avec un minimum)."
        )
    if anomaly.rule == "repeated_denials":
        day = anomaly.start.astimezone(PARIS).strftime("%d/%m/%Y")
        return (
            f"{organisation} a eu {count} accès refusés ou en partie refusés dans la journée "
            f"du {day} (UTC) (seuil : {threshold})."
        )
    return f"{organisation} : {anomaly.description}"


class CheckPages:
    def __init__(self, clock: Clock) -> None:
        self._clock = clock

    def _today(self) -> date:
        return self._clock().astimezone(PARIS).date()

    async def anomalies(self, request: Request) -> Response:
        who = await signed_in(request, self._clock)
        if who is None:
            return to_sign_in()
        today = self._today()
        params = request.query_params
        values = {
            # The last seven days, today included.
            "du": params.get("du", (today - timedelta(days=DEFAULT_DAYS - 1)).isoformat()).strip(),
            "au": params.get("au", today.isoformat()).strip(),
        }
        search = Search(values=values)
        read_period(search, required=True)
        context: dict[str, Any] = {
            "values": values,
            "problems": search.problems,
            "anomalies": None,
            "campaigns": None,
        }
        if search.problems or search.start is None or search.end is None:
            return self._page(request, who, context, 400)
        services = services_of(request)
        oversight = oversight_for(services, who.agent, self._clock)
        try:
            found = await oversight.anomalies(caller_of(who.agent), search.start, search.end, today)
        except (AccessRefused, NotRecorded, InvalidRequest) as exc:
            return _failed(request, who, exc)
        items = []
        for anomaly in found:
            organisation = oversight.organisation(anomaly.client).name
            link = {
                "client": anomaly.client,
                "objet": anomaly.object or "",
                "du": anomaly.start.astimezone(PARIS).date().isoformat(),
                "au": anomaly.end.astimezone(PARIS).date().isoformat(),
            }
            items.append(
                {
                    "rule": ANOMALY_RULES.get(anomaly.rule, anomaly.rule),
                    "sentence": _sentence(anomaly, organisation, services.catalogue.purposes),
                    "declared": anomaly.declared,
                    "link": Search(values=link).link(),
                }
            )
        context["anomalies"] = [i for i in items if not i["declared"]]
        context["campaigns"] = [i for i in items if i["declared"]]
        return self._page(request, who, context, 200)

    def _page(
        self, request: Request, who: SignedIn, context: dict[str, Any], status: int
    ) -> Response:
        return page(
            request, "console/anomalies.html", who, context, section="anomalies", status=status
        )

    async def integrity(self, request: Request) -> Response:
        who = await signed_in(request, self._clock)
        if who is None:
            return to_sign_in()
        oversight = oversight_for(services_of(request), who.agent, self._clock)
        try:
            status = await oversight.chain_status(caller_of(who.agent), on=self._today())
        except (AccessRefused, NotRecorded, InvalidRequest) as exc:
            return _failed(request, who, exc)
        verification = status.last_verification
        checkpoint = status.last_checkpoint
        context = {
            "status": status,
            "verification": verification,
            "verified_at": paris(verification.at) if verification else None,
            "checkpoint": checkpoint,
            "signed_at": paris(checkpoint.signed_at) if checkpoint else None,
            "tail": status.tail,
            "checked_at": paris(self._clock()),
        }
        return page(request, "console/integrite.html", who, context, section="integrite")


def _failed(request: Request, who: SignedIn, exc: Exception) -> Response:
    if isinstance(exc, AccessRefused):
        return problem_page(request, who, "Accès refusé", REFUSED, 403)
    if isinstance(exc, NotRecorded):
        return problem_page(request, who, "Journal indisponible", UNAVAILABLE, 503)
    message = "Cette période n'est pas possible. Vérifiez les dates puis recommencez."
    return problem_page(request, who, "Recherche impossible", message, 400)
