"""A local stand-in for API Particulier's staging environment, built from its official cases.

Each case file under ``payloads/<x-operationId>/`` holds YAML documents ``params`` →
``status`` + ``payload``. Case parameters are normalised (``prenoms`` → ``prenoms[]``, the
known typos such as ``anneeDateDaissance`` fixed, numbers as text) and a request is served
the case whose normalised parameters equal the request's, ``recipient`` aside. In
FranceConnect mode the bearer token is looked up in ``payloads/france_connect/*.yml`` and
the identity it introspects to is compared loosely: every identity parameter the case gives
must equal the token's (a token carries no usage name, so ``nomUsage`` is not compared).
The served case is recorded, so a test can check the right case answered.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import orjson
import yaml
from aiohttp import web

REPO_ROOT = Path(__file__).resolve().parents[2]
PAYLOADS = REPO_ROOT.parent / "shared" / "upstream" / "api-particulier" / "payloads"
API_TOKEN = "staging-api-particulier-token"
RETRY_AFTER = "17"
# Staging token names are short ("all_fc"); real FranceConnect access tokens are long and our
# FranceConnectToken insists on 8+ characters, so the access token sent is name + suffix.
FC_SUFFIX = ".staging-access-token"

Params = dict[str, tuple[str, ...]]

TYPOS = {
    "prenoms": "prenoms[]",
    "prenom": "prenoms[]",
    "anneeDateDaissance": "anneeDateNaissance",
    "moisDateDaissance": "moisDateNaissance",
    "jourDateDaissance": "jourDateNaissance",
    "anneeNateNaissance": "anneeDateNaissance",
    "codePaysLieuDaissance": "codeCogInseePaysNaissance",
    "codeInseeLieuDaissance": "codeCogInseeCommuneNaissance",
}


def normalise(params: dict[str, Any]) -> Params:
    out: Params = {}
    for key, value in params.items():
        values = value if isinstance(value, list) else [value]
        out[TYPOS.get(key, key)] = tuple(str(v) for v in values)
    return out


@dataclass(frozen=True)
class Case:
    operation: str
    file: str
    index: int
    params: Params
    status: int
    payload: str

    @property
    def id(self) -> str:
        return f"{self.file}#{self.index}"

    @property
    def france_connect(self) -> bool:
        return self.operation.endswith("_with_france_connect")

    def body(self) -> Any:
        return orjson.loads(self.payload)


def load_cases(operation: str) -> list[Case]:
    cases: list[Case] = []
    folder = PAYLOADS / operation
    files = sorted(p for p in folder.iterdir() if p.suffix in (".yaml", ".yml"))
    for path in files:
        docs = [d for d in yaml.safe_load_all(path.read_text(encoding="utf-8")) if d]
        for index, doc in enumerate(docs):
            cases.append(
                Case(
                    operation=operation,
                    file=path.name,
                    index=index,
                    params=normalise(doc.get("params") or {}),
                    status=int(doc["status"]),
                    payload=str(doc["payload"]),
                )
            )
    return cases


@dataclass(frozen=True)
class FcToken:
    token: str
    scopes: frozenset[str]
    identity: Params


def load_fc_tokens() -> list[FcToken]:
    tokens: list[FcToken] = []
    for path in sorted((PAYLOADS / "france_connect").iterdir()):
        for doc in yaml.safe_load_all(path.read_text(encoding="utf-8")):
            if not doc:
                continue
            info = orjson.loads(doc["payload"])["token_introspection"]
            year, month, day = (str(int(x)) for x in info["birthdate"].split("-"))
            identity: Params = {
                "nomNaissance": (info["family_name"],),
                "prenoms[]": tuple(info["given_name_array"]),
                "anneeDateNaissance": (year,),
                "moisDateNaissance": (month,),
                "jourDateNaissance": (day,),
                "sexeEtatCivil": ("M" if info["gender"] == "male" else "F",),
                "codeCogInseePaysNaissance": (info["birthcountry"],),
            }
            if info.get("birthplace"):
                identity["codeCogInseeCommuneNaissance"] = (info["birthplace"],)
            tokens.append(
                FcToken(doc["params"]["token"], frozenset(info["scope"].split()), identity)
            )
    return tokens


def fc_matches(case: Case, identity: Params) -> bool:
    wanted = {k: v for k, v in case.params.items() if k != "nomUsage"}
    return bool(wanted) and all(identity.get(k) == v for k, v in wanted.items())


def token_for(case: Case, tokens: list[FcToken], scope: str) -> FcToken | None:
    """A FranceConnect token that introspects to the case's person, with the scope if any."""
    fitting = [t for t in tokens if fc_matches(case, t.identity)]
    fitting.sort(key=lambda t: scope not in t.scopes)
    return fitting[0] if fitting else None


def _error(status: int, detail: str) -> web.Response:
    body = {"errors": [{"code": "00000", "title": detail, "detail": detail, "meta": {}}]}
    return web.json_response(body, status=status)


@dataclass
class StagingServer:
    """Routes ``/v3/<...>`` to the cases of one operation per route."""

    routes: dict[str, list[Case]]
    tokens: list[FcToken]
    served: list[str] = field(default_factory=list)

    def app(self) -> web.Application:
        app = web.Application()
        for path in self.routes:
            app.router.add_get(path, self.handle)
        return app

    async def handle(self, request: web.Request) -> web.Response:
        cases = self.routes[request.path]
        query: dict[str, list[str]] = {}
        for key, value in request.query.items():
            query.setdefault(key, []).append(value)
        recipient = query.pop("recipient", [""])
        if len(recipient) != 1 or not recipient[0].isdigit() or len(recipient[0]) != 14:
            return _error(422, "recipient")
        params = {k: tuple(v) for k, v in query.items()}
        bearer = request.headers.get("Authorization", "").removeprefix("Bearer ")
        if cases and cases[0].france_connect:
            name = bearer.removesuffix(FC_SUFFIX)
            found = next((t for t in self.tokens if t.token == name), None)
            if found is None:
                return _error(401, "token")
            case = next((c for c in cases if fc_matches(c, found.identity)), None)
        else:
            if bearer != API_TOKEN:
                return _error(401, "token")
            case = next((c for c in cases if c.params == params), None)
        if case is None:
            self.served.append("none")
            return _error(404, "no staging case")
        self.served.append(case.id)
        headers = {"Retry-After": RETRY_AFTER} if case.status == 429 else {}
        return web.Response(
            status=case.status,
            text=case.payload,
            content_type="application/json",
            headers=headers,
        )


def iter_cases(operations: dict[str, str]) -> Iterator[tuple[str, Case]]:
    for operation, path in operations.items():
        if (PAYLOADS / operation).is_dir():
            for case in load_cases(operation):
                yield path, case
