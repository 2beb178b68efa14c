"""API Particulier v3, the protocol: one upstream serving several agencies.

A person is named either by the pivot identity (``…/identite``, our own API Particulier
token) or by the citizen's FranceConnect access token (``…/france_connect``, which then
replaces our token in ``Authorization``). Every call carries ``recipient``, the SIRET of
the public body using the data. Answers are ``{data, links, meta}``; error bodies
``{errors: [{…, meta: {provider}}]}`` are mapped by :mod:`connectors.failures`.

Each agency behind API Particulier fails on its own (a CNAF outage leaves France Travail,
the MESRI and the CNOUS answering), so each has its own circuit breaker, keyed by the agency
the endpoint serves: the CNAF and the MSA through the DSS hub, the CNAM for the
complémentaire santé solidaire, the MESRI, the CNOUS, France Travail. Error bodies name the
hub (``meta.provider`` is "CNAV" for every DSS endpoint), so the key comes from the
endpoint, not from the answer.
"""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable, Sequence
from datetime import date

from connectors.context import CallContext
from connectors.errors import InvalidInput, UpstreamInvalid
from connectors.fields import Malformed, parse_day
from connectors.http import UpstreamClient
from connectors.identity import FranceConnectToken, PivotIdentity, Subject
from connectors.source import Answer
from connectors.url import Encoded, Params

_SIRET = re.compile(r"[0-9]{14}")
# DSS endpoints served by another agency than the CNAF/MSA: their own circuit.
DSS_CIRCUITS = {"complementaire_sante_solidaire": "CNAM"}
DSS_CIRCUIT = "CNAF"


def check_recipient(ctx: CallContext, provider: str) -> None:
    if not _SIRET.fullmatch(ctx.recipient):
        raise InvalidInput("recipient must be a 14-digit SIRET", provider=provider)


# One call of a provider's own endpoint: its ``read`` (the provider's "nobody found" read as
# an answer), given the API, the path, the parameters and the citizen's bearer token, if any.
Reader = Callable[["ApiParticulier", Sequence[str], Params, str | None], Awaitable[Answer]]


async def by_subject(
    api: ApiParticulier,
    route: Sequence[str],
    subject: Subject,
    ctx: CallContext,
    *,
    provider: str,
    identity_params: Callable[[PivotIdentity], Params],
    read: Reader,
) -> Answer:
    """``<route>/identite`` with the provider's own civility parameters, or
    ``<route>/france_connect`` with the citizen's token (the MESRI, the CNOUS)."""
    check_recipient(ctx, provider)
    params: list[tuple[str, str]] = [("recipient", ctx.recipient)]
    if isinstance(subject, PivotIdentity):
        return await read(api, (*route, "identite"), [*params, *identity_params(subject)], None)
    if isinstance(subject, FranceConnectToken):
        return await read(api, (*route, "france_connect"), params, subject.access_token)
    raise InvalidInput("unsupported subject", provider=provider)


def envelope(body: dict[str, object], provider: str) -> Answer:
    """``data`` (an object) and the optional ``meta.as_of`` day of an answer."""
    data = body.get("data")
    meta = body.get("meta", {})
    if not isinstance(data, dict) or not isinstance(meta, dict):
        raise UpstreamInvalid(f"{provider}: answer without data object", provider=provider)
    as_of: date | None = None
    if meta.get("as_of") is not None:
        try:
            as_of = parse_day(meta["as_of"], "meta.as_of")
        except Malformed:
            raise UpstreamInvalid(f"{provider}: malformed meta.as_of", provider=provider) from None
    return Answer(data, as_of)


class ApiParticulier:
    def __init__(self, http: UpstreamClient) -> None:
        self.http = http

    async def call(
        self,
        segments: Sequence[str],
        params: Params,
        *,
        provider: str,
        bearer: str | None = None,
        circuit: str | None = None,
    ) -> Answer:
        """One GET with ready-made parameters (``recipient`` included), counted in the
        breaker of ``circuit`` (``provider``'s by default)."""
        body = await self.http.get_json(
            segments, params, bearer=bearer, provider=provider, circuit=circuit or provider
        )
        return envelope(body, provider)

    async def dss(
        self,
        endpoint: str,
        subject: Subject,
        ctx: CallContext,
        *,
        provider: str,
        extra: Params = (),
    ) -> Answer:
        """``/v3/dss/<endpoint>/identite`` or ``/france_connect`` depending on the subject."""
        check_recipient(ctx, provider)
        circuit = DSS_CIRCUITS.get(endpoint, DSS_CIRCUIT)
        params: list[tuple[str, str] | Encoded] = [("recipient", ctx.recipient)]
        if isinstance(subject, PivotIdentity):
            params.append(subject.query())
            params += extra
            return await self.call(
                ("v3", "dss", endpoint, "identite"), params, provider=provider, circuit=circuit
            )
        if isinstance(subject, FranceConnectToken):
            params += extra
            return await self.call(
                ("v3", "dss", endpoint, "france_connect"),
                params,
                provider=provider,
                bearer=subject.access_token,
                circuit=circuit,
            )
        raise InvalidInput("unsupported subject", provider=provider)

    async def france_travail(self, resource: str, identifier: str, ctx: CallContext) -> Answer:
        """``/v3/france_travail/<resource>/identifiant``."""
        check_recipient(ctx, "France Travail")
        params = [("recipient", ctx.recipient), ("identifiant", identifier)]
        return await self.call(
            ("v3", "france_travail", resource, "identifiant"), params, provider="France Travail"
        )
