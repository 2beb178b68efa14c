"""démarches-simplifiées (DS): creating prefilled dossiers and reading them back.

Two of DS's APIs: the public one creates a prefilled dossier (``POST
/api/public/v1/demarches/<number>/dossiers``, a JSON body of ``champ_<id>`` keys, answered
``201`` with the link the person follows); the GraphQL API v2 (``POST /api/v2/graphql``, the
instance's bearer token) describes a procedure's champs and returns dossiers with their values.
The query texts live in this module only, written against DS's published schema: values of
different types under one name are aliased (``integerNumber: value``) as DS's own stored
queries do, since GraphQL refuses one response name with two types.

Every failure is a :class:`~connectors.errors.ConnectorError` with provider ``DS``: a timeout
:class:`UpstreamTimeout`; a refused connection, a 5xx or refused credentials
:class:`UpstreamUnavailable`; an unknown procedure or dossier :class:`NotFound`; a body DS
refuses :class:`DemarchesRefused`; an answer we cannot read or a GraphQL error
:class:`UpstreamInvalid`. Messages carry no value, no URL and no body.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import httpx

from connectors.errors import (
    DemarchesRefused,
    NotFound,
    UpstreamInvalid,
    UpstreamTimeout,
    UpstreamUnavailable,
)

PROVIDER = "DS"
PAGE_SIZE = 100
MAX_PAGES = 1000  # a bound against an answer that never ends: 100,000 dossiers at once

log = logging.getLogger(__name__)

_DESCRIPTOR_FIELDS = """
    __typename
    id
    label
    description
    required
    ... on DropDownListChampDescriptor { options otherOption }
    ... on MultipleDropDownListChampDescriptor { options }
"""

DESCRIPTOR_QUERY = f"""
query getDemarcheDescriptor($number: Int!) {{
  demarcheDescriptor(demarche: {{ number: $number }}) {{
    number
    title
    revision {{
      champDescriptors {{
        {_DESCRIPTOR_FIELDS}
        ... on RepetitionChampDescriptor {{
          champDescriptors {{
            {_DESCRIPTOR_FIELDS}
          }}
        }}
      }}
    }}
  }}
}}
"""

_CHAMP_FIELDS = """
    __typename
    id
    champDescriptorId
    label
    stringValue
    ... on TextChamp { value }
    ... on DropDownListChamp { value }
    ... on IntegerNumberChamp { integerNumber: value }
    ... on DecimalNumberChamp { decimalNumber: value }
    ... on DateChamp { date }
    ... on DatetimeChamp { datetime }
    ... on CheckboxChamp { checked: value }
    ... on YesNoChamp { selected: value }
    ... on MultipleDropDownListChamp { values }
    ... on CommuneChamp { commune { name code postalCode } }
    ... on PaysChamp { pays { code name } }
    ... on DepartementChamp { departement { code name } }
    ... on AddressChamp { address { label postalCode cityName cityCode } }
"""

_DOSSIER_FIELDS = f"""
    id
    number
    state
    dateDepot
    dateDerniereModification
    demarche {{ number }}
    demandeur {{
      __typename
      ... on PersonnePhysique {{ civilite nom prenom }}
    }}
    champs {{
      {_CHAMP_FIELDS}
      ... on RepetitionChamp {{
        rows {{
          champs {{
            {_CHAMP_FIELDS}
          }}
        }}
      }}
    }}
"""

DOSSIER_QUERY = f"""
query getDossier($number: Int!) {{
  dossier(number: $number) {{
    {_DOSSIER_FIELDS}
  }}
}}
"""

DOSSIERS_QUERY = f"""
query getDossiers(
  $number: Int!
  $updatedSince: ISO8601DateTime
  $state: DossierState
  $first: Int
  $after: String
) {{
  demarche(number: $number) {{
    dossiers(updatedSince: $updatedSince, state: $state, first: $first, after: $after) {{
      pageInfo {{ hasNextPage endCursor }}
      nodes {{
        {_DOSSIER_FIELDS}
      }}
    }}
  }}
}}
"""

DOSSIER_STATES = ("en_construction", "en_instruction", "accepte", "refuse", "sans_suite")


@dataclass(frozen=True)
class CreatedDossier:
    url: str  # where the person goes to sign in and finish the dossier
    id: str  # DS's typed id (base64 of "Dossier-<number>")
    number: int
    state: str  # "prefilled" until someone claims it, then DS's dossier state
    prefill_token: str | None = None


def _obj(value: Any, what: str) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise UpstreamInvalid(f"{PROVIDER}: malformed answer ({what})", provider=PROVIDER)
    return value


def _positive_number(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and value > 0


def parse_created(body: Any) -> CreatedDossier:
    data = _obj(body, "dossier")
    url, dossier_id, number, state = (
        data.get("dossier_url"),
        data.get("dossier_id"),
        data.get("dossier_number"),
        data.get("state"),
    )
    token = data.get("dossier_prefill_token")
    if (
        not isinstance(url, str)
        or not url.startswith(("http://", "https://"))
        or not isinstance(dossier_id, str)
        or not dossier_id
        or not _positive_number(number)
        or not isinstance(state, str)
        or not (token is None or isinstance(token, str))
    ):
        raise UpstreamInvalid(f"{PROVIDER}: malformed created dossier", provider=PROVIDER)
    assert isinstance(number, int)
    return CreatedDossier(url=url, id=dossier_id, number=number, state=state, prefill_token=token)


def _graphql_failure(errors: Any) -> Exception:
    """The typed error for a GraphQL ``errors`` list: DS's ``extensions.code`` decides."""
    codes: list[str] = []
    if isinstance(errors, list):
        for error in errors:
            extensions = error.get("extensions") if isinstance(error, dict) else None
            code = extensions.get("code") if isinstance(extensions, dict) else None
            if isinstance(code, str):
                codes.append(code)
    if "not_found" in codes:
        return NotFound(f"{PROVIDER}: not found", provider=PROVIDER)
    if "unauthorized" in codes or "deprecated_token" in codes:
        return UpstreamUnavailable(f"{PROVIDER}: the API token was refused", provider=PROVIDER)
    named = ", ".join(sorted(set(codes))) or "no code"
    return UpstreamInvalid(f"{PROVIDER}: GraphQL errors ({named})", provider=PROVIDER)


class Demarches:
    """A DS instance at ``base_url`` (its API and the links people follow)."""

    def __init__(
        self, base_url: str, api_token: str, http: httpx.AsyncClient, timeout: float = 10.0
    ) -> None:
        self._base = base_url.rstrip("/")
        self._token = api_token
        self._http = http
        self._timeout = timeout

    async def _post(self, path: str, body: Mapping[str, Any]) -> httpx.Response:
        headers = {"Accept": "application/json", "Authorization": f"Bearer {self._token}"}
        try:
            return await self._http.post(
                self._base + path, json=dict(body), headers=headers, timeout=self._timeout
            )
        except httpx.TimeoutException:
            raise UpstreamTimeout(f"{PROVIDER}: no answer in time", provider=PROVIDER) from None
        except httpx.HTTPError as exc:
            raise UpstreamUnavailable(
                f"{PROVIDER}: unreachable ({type(exc).__name__})", provider=PROVIDER
            ) from None

    @staticmethod
    def _status(response: httpx.Response, what: str) -> None:
        status = response.status_code
        if status < 400:
            return
        if status >= 500 or status in (401, 403, 429):
            raise UpstreamUnavailable(f"{PROVIDER}: {what} answered {status}", provider=PROVIDER)
        if status == 404:
            raise NotFound(f"{PROVIDER}: {what}: not found", provider=PROVIDER)
        raise DemarchesRefused(f"{PROVIDER}: {what} refused ({status})", provider=PROVIDER)

    @staticmethod
    def _json(response: httpx.Response) -> Any:
        try:
            return json.loads(response.content)
        except (ValueError, UnicodeDecodeError):
            raise UpstreamInvalid(
                f"{PROVIDER}: the answer is not JSON", provider=PROVIDER
            ) from None

    async def create_dossier(self, procedure: int, body: Mapping[str, Any]) -> CreatedDossier:
        """A new dossier of ``procedure`` prefilled with ``body`` (``champ_<id>`` keys)."""
        response = await self._post(f"/api/public/v1/demarches/{int(procedure)}/dossiers", body)
        self._status(response, "dossier creation")
        if response.status_code != 201:
            raise UpstreamInvalid(
                f"{PROVIDER}: dossier creation answered {response.status_code}", provider=PROVIDER
            )
        created = parse_created(self._json(response))
        log.info("DS dossier created")
        return created

    async def graphql(self, query: str, variables: Mapping[str, Any]) -> dict[str, Any]:
        """The ``data`` of a GraphQL v2 query; its ``errors`` raised as typed errors."""
        response = await self._post(
            "/api/v2/graphql", {"query": query, "variables": dict(variables)}
        )
        if response.status_code >= 400:
            # DS answers some GraphQL failures (a query it cannot parse) with a 400 and a body
            # of errors: the errors say more than the status.
            if response.status_code == 400:
                body = self._json(response)
                if isinstance(body, dict) and body.get("errors"):
                    raise _graphql_failure(body["errors"])
            self._status(response, "GraphQL")
        body = _obj(self._json(response), "GraphQL answer")
        if body.get("errors"):
            raise _graphql_failure(body["errors"])
        return _obj(body.get("data"), "GraphQL data")

    async def descriptor(self, procedure: int) -> dict[str, Any]:
        """The procedure's description: number, title and its revision's ``champDescriptors``
        (with a repetition's own). DS's ``demarcheURL`` (``…/commencer/<path>``) is not
        asked: the sandbox does not serve it yet."""
        data = await self.graphql(DESCRIPTOR_QUERY, {"number": int(procedure)})
        found = data.get("demarcheDescriptor")
        if found is None:
            raise NotFound(f"{PROVIDER}: no such procedure", provider=PROVIDER)
        found = _obj(found, "demarcheDescriptor")
        revision = _obj(found.get("revision"), "revision")
        if not isinstance(revision.get("champDescriptors"), list):
            raise UpstreamInvalid(
                f"{PROVIDER}: malformed answer (champDescriptors)", provider=PROVIDER
            )
        return found

    async def dossier(self, number: int) -> dict[str, Any]:
        """A dossier with its state, dates, procedure, applicant and champs."""
        data = await self.graphql(DOSSIER_QUERY, {"number": int(number)})
        found = data.get("dossier")
        if found is None:
            raise NotFound(f"{PROVIDER}: no such dossier", provider=PROVIDER)
        return _checked_dossier(found)

    async def dossiers(
        self, procedure: int, *, updated_since: datetime | None, state: str | None = None
    ) -> list[dict[str, Any]]:
        """The procedure's dossiers updated since ``updated_since`` (all when None), in
        ``state`` when given, every page read."""
        if updated_since is not None and updated_since.tzinfo is None:
            raise ValueError("updated_since must be timezone-aware")
        if state is not None and state not in DOSSIER_STATES:
            raise ValueError(f"state must be one of {', '.join(DOSSIER_STATES)}")
        variables: dict[str, Any] = {
            "number": int(procedure),
            "updatedSince": None if updated_since is None else updated_since.isoformat(),
            "state": state,
            "first": PAGE_SIZE,
            "after": None,
        }
        out: list[dict[str, Any]] = []
        for _ in range(MAX_PAGES):
            data = await self.graphql(DOSSIERS_QUERY, variables)
            demarche = data.get("demarche")
            if demarche is None:
                raise NotFound(f"{PROVIDER}: no such procedure", provider=PROVIDER)
            page = _obj(_obj(demarche, "demarche").get("dossiers"), "dossiers")
            nodes = page.get("nodes")
            info = _obj(page.get("pageInfo"), "pageInfo")
            if not isinstance(nodes, list):
                raise UpstreamInvalid(f"{PROVIDER}: malformed answer (nodes)", provider=PROVIDER)
            out += [_checked_dossier(node) for node in nodes]
            cursor = info.get("endCursor")
            if info.get("hasNextPage") is not True:
                break
            if not isinstance(cursor, str) or cursor == variables["after"]:
                raise UpstreamInvalid(
                    f"{PROVIDER}: malformed answer (endCursor)", provider=PROVIDER
                )
            variables["after"] = cursor
        else:
            raise UpstreamInvalid(f"{PROVIDER}: too many pages of dossiers", provider=PROVIDER)
        return out


def _checked_dossier(value: Any) -> dict[str, Any]:
    dossier = _obj(value, "dossier")
    if not _positive_number(dossier.get("number")) or not isinstance(dossier.get("state"), str):
        raise UpstreamInvalid(f"{PROVIDER}: malformed answer (dossier)", provider=PROVIDER)
    if not isinstance(dossier.get("champs", []), list):
        raise UpstreamInvalid(f"{PROVIDER}: malformed answer (champs)", provider=PROVIDER)
    return dossier
