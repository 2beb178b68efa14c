"""The sandbox agencies' raw answers about one household, over plain HTTP.

The recomputation bench reads the agencies itself, in their own protocols (API Particulier's
pivot-identity parameters and ``recipient``; OAuth2 client credentials for the other
agencies), so that nothing the gateway does stands between the agencies and the rules.
Answers are kept as the agencies sent them (the ``data`` member of their envelope); an
answer that is not a 200 is kept as its status and error code.
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import httpx

from sandbox.oauth import SANDBOX_CLIENT_ID, SANDBOX_CLIENT_SECRET
from sandbox.runner import SANDBOX_API_PARTICULIER_TOKEN

Params = list[tuple[str, str]]
ATTEMPTS = 3  # a GET is repeated after a transport error
Json = dict[str, Any]


@dataclass(frozen=True)
class Failure:
    """An answer other than a 200: its status and the agency's error code, if any."""

    status: int
    code: str | None


Answer = Json | Failure


@dataclass
class RawAdult:
    """What each agency answered about one adult of the household."""

    pivot: Mapping[str, Any]  # the identity asked with, in API Particulier's names
    civil: Answer  # civil registry: the registry's record (death date)
    resources: Answer  # GIP-MDS: monthly declarations
    pensions: Answer  # CNAV: pensions (gross and net) and ASPA
    student: Answer  # MESRI: admissions, or the 404 "no student found"
    tax: Answer  # DGFiP: the tax household
    aah: Answer  # CAF (API Particulier DSS): the AAH status
    asf: Answer  # CAF (API Particulier DSS): the ASF status
    job_status: Answer | None = None  # France Travail, when an identifier is known
    job_payments: Answer | None = None
    grant: Answer | None = None  # CNOUS: the grant paid, or the 404 "no grant holder found"


@dataclass
class RawHousehold:
    """The raw answers the recomputation reads for one person asked about."""

    month: str  # the month evaluated, YYYY-MM
    caf: Answer  # API Particulier DSS quotient familial: the CAF household
    housing: Answer  # CAF housing record of the person asked
    adults: list[RawAdult] = field(default_factory=list)  # the person asked first
    # DGFiP: the tax household of the person asked for the income of year N-2, which the
    # family benefits are means-tested on (CSS D521-4); None when not asked.
    tax_n2: Answer | None = None
    # Why an adult named by the CAF could not be read (ambiguous or unknown identity).
    unidentified: list[str] = field(default_factory=list)


def shift(month: str, delta: int) -> str:
    year, number = int(month[:4]), int(month[5:7])
    index = year * 12 + number - 1 + delta
    return f"{index // 12:04d}-{index % 12 + 1:02d}"


def pivot_query(pivot: Mapping[str, Any]) -> Params:
    """API Particulier's civility parameters (``prenoms[]`` repeated)."""
    params: Params = []
    for key, value in pivot.items():
        if key == "prenoms":
            params += [("prenoms[]", str(v)) for v in value]
        else:
            params.append((key, str(value)))
    return params


def mesri_query(pivot: Mapping[str, Any]) -> Params:
    """The MESRI's variant: one given name, and the birth commune or country in one field."""
    place = pivot.get("codeCogInseeCommuneNaissance") or pivot["codeCogInseePaysNaissance"]
    return [
        ("nomNaissance", str(pivot["nomNaissance"])),
        ("prenoms[]", str(pivot["prenoms"][0])),
        ("anneeDateNaissance", str(pivot["anneeDateNaissance"])),
        ("moisDateNaissance", str(pivot["moisDateNaissance"])),
        ("jourDateNaissance", str(pivot["jourDateNaissance"])),
        ("sexeEtatCivil", str(pivot["sexeEtatCivil"])),
        ("codeCogInseeCommuneNaissance", str(place)),
    ]


def cnous_query(pivot: Mapping[str, Any]) -> Params:
    """The CNOUS's variant: up to three given names, the birth commune or country in one
    field."""
    place = pivot.get("codeCogInseeCommuneNaissance") or pivot["codeCogInseePaysNaissance"]
    return [
        ("nomNaissance", str(pivot["nomNaissance"])),
        *[("prenoms[]", str(given)) for given in pivot["prenoms"][:3]],
        ("anneeDateNaissance", str(pivot["anneeDateNaissance"])),
        ("moisDateNaissance", str(pivot["moisDateNaissance"])),
        ("jourDateNaissance", str(pivot["jourDateNaissance"])),
        ("sexeEtatCivil", str(pivot["sexeEtatCivil"])),
        ("codeCogInseeCommuneNaissance", str(place)),
    ]


def _answer(response: httpx.Response) -> Answer:
    if response.status_code == 200:
        data: Json = response.json()["data"]
        return data
    code = None
    try:
        code = response.json()["errors"][0]["code"]
    except (ValueError, KeyError, IndexError, TypeError):
        pass
    return Failure(response.status_code, code)


class Agencies:
    """Raw calls to the sandbox agencies (``urls`` as the sandbox prints them)."""

    def __init__(self, urls: Mapping[str, str], recipient: str, client: httpx.AsyncClient):
        self.urls = urls
        self.recipient = recipient
        self.client = client
        self._tokens: dict[str, str] = {}
        self._lock = asyncio.Lock()

    async def _token(self, agency: str) -> str:
        if agency == "api_particulier":
            return SANDBOX_API_PARTICULIER_TOKEN
        async with self._lock:
            if agency not in self._tokens:
                answer = await self.client.post(
                    self.urls[agency] + "/oauth/token",
                    data={"grant_type": "client_credentials"},
                    auth=(SANDBOX_CLIENT_ID, SANDBOX_CLIENT_SECRET),
                )
                answer.raise_for_status()
                self._tokens[agency] = answer.json()["access_token"]
            return self._tokens[agency]

    async def get(self, agency: str, path: str, params: Sequence[tuple[str, str]]) -> Answer:
        token = await self._token(agency)
        for attempt in range(ATTEMPTS):
            try:
                response = await self.client.get(
                    self.urls[agency] + path,
                    params=[("recipient", self.recipient), *params],
                    headers={"Authorization": f"Bearer {token}"},
                )
            except httpx.TransportError as exc:
                # A kept-alive connection the server closed as it was reused: ask again.
                if attempt == ATTEMPTS - 1:
                    return Failure(0, type(exc).__name__)
                continue
            return _answer(response)
        raise AssertionError("unreachable")

    async def adult(self, pivot: Mapping[str, Any], month: str, job_id: str | None) -> RawAdult:
        """Every answer about one adult; resources for the 18 months before and the month."""
        who = pivot_query(pivot)
        window = [("moisDebut", shift(month, -18)), ("moisFin", month)]
        year = [("anneeRevenus", str(int(month[:4]) - 1))]
        calls = [
            self.get("civil_registry", "/v1/etat-civil/identite", who),
            self.get("gip_mds", "/v1/ressources/identite", who + window),
            self.get("cnav", "/v1/retraite/identite", who),
            self.get("api_particulier", "/v3/mesri/statut_etudiant/identite", mesri_query(pivot)),
            self.get("dgfip", "/v1/foyer-fiscal/identite", who + year),
            self.get("api_particulier", "/v3/dss/allocation_adulte_handicape/identite", who),
            self.get("api_particulier", "/v3/dss/allocation_soutien_familial/identite", who),
            self.get("api_particulier", "/v3/cnous/etudiant_boursier/identite", cnous_query(pivot)),
        ]
        if job_id is not None:
            ident = [("identifiant", job_id)]
            calls += [
                self.get("api_particulier", "/v3/france_travail/statut/identifiant", ident),
                self.get("api_particulier", "/v3/france_travail/indemnites/identifiant", ident),
            ]
        answers = await asyncio.gather(*calls)
        civil, resources, pensions, student, tax, aah, asf, grant = answers[:8]
        adult = RawAdult(pivot, civil, resources, pensions, student, tax, aah, asf, grant=grant)
        if job_id is not None:
            adult.job_status, adult.job_payments = answers[8], answers[9]
        return adult

    async def identify(self, member: Mapping[str, Any]) -> Answer:
        """The civil registry's identification of a household member the CAF names by
        traits only (names, birth date, sex): the birth place the other agencies need."""
        born = str(member["date_naissance"])
        params = [("nomNaissance", str(member["nom_naissance"]))]
        params += [("prenoms[]", p) for p in str(member["prenoms"]).split()]
        params += [
            ("anneeDateNaissance", born[:4]),
            ("moisDateNaissance", str(int(born[5:7]))),
            ("jourDateNaissance", str(int(born[8:10]))),
            ("sexeEtatCivil", str(member["sexe"])),
        ]
        return await self.get("civil_registry", "/v1/etat-civil/recherche", params)

    async def household(
        self, pivot: Mapping[str, Any], month: str, job_ids: Mapping[str, str]
    ) -> RawHousehold:
        """The person asked, their CAF household and housing, and every other adult the CAF
        names, identified at the civil registry (``job_ids``: France Travail identifiers by
        birth name + birth date, when known)."""
        who = pivot_query(pivot)
        window = [("moisDebut", shift(month, -18)), ("moisFin", month)]
        n_2 = [("anneeRevenus", str(int(month[:4]) - 2))]
        caf, housing, first, tax_n2 = await asyncio.gather(
            self.get("api_particulier", "/v3/dss/quotient_familial/identite", who),
            self.get("housing", "/v1/logement/identite", who + window),
            self.adult(pivot, month, job_ids.get(_key_of_pivot(pivot))),
            self.get("dgfip", "/v1/foyer-fiscal/identite", who + n_2),
        )
        raw = RawHousehold(month, caf, housing, [first], tax_n2=tax_n2)
        if isinstance(caf, Failure):
            return raw
        for member in caf.get("allocataires", []):
            if _same_person(member, pivot):
                continue
            found = await self.identify(member)
            if isinstance(found, Failure):
                raw.unidentified.append(f"partner ({found.status} {found.code})")
                continue
            partner = _pivot_of(found["identite"], found)
            raw.adults.append(await self.adult(partner, month, job_ids.get(_key_of_pivot(partner))))
        return raw


def _key_of_pivot(pivot: Mapping[str, Any]) -> str:
    born = "{:04d}-{:02d}-{:02d}".format(
        int(pivot["anneeDateNaissance"]),
        int(pivot["moisDateNaissance"]),
        int(pivot["jourDateNaissance"]),
    )
    return f"{pivot['nomNaissance']}|{born}"


def _same_person(member: Mapping[str, Any], pivot: Mapping[str, Any]) -> bool:
    given = str(member["prenoms"]).split()
    return (
        str(member["nom_naissance"]) == str(pivot["nomNaissance"])
        and str(member["date_naissance"]) == _key_of_pivot(pivot).split("|")[1]
        and given[:1] == [str(p) for p in pivot["prenoms"]][:1]
    )


def _pivot_of(identite: Mapping[str, Any], record: Mapping[str, Any]) -> dict[str, Any]:
    """A pivot identity from the civil registry's record."""
    born = str(identite["date_naissance"])
    prenoms = identite["prenoms"]
    pivot: dict[str, Any] = {
        "nomNaissance": identite["nom_naissance"],
        "prenoms": prenoms if isinstance(prenoms, list) else str(prenoms).split(),
        "anneeDateNaissance": born[:4],
        "moisDateNaissance": str(int(born[5:7])),
        "jourDateNaissance": str(int(born[8:10])),
        "sexeEtatCivil": identite["sexe"],
        "codeCogInseePaysNaissance": record["code_cog_insee_pays_naissance"],
    }
    if record.get("code_cog_insee_commune_naissance"):
        pivot["codeCogInseeCommuneNaissance"] = record["code_cog_insee_commune_naissance"]
    if record.get("nom_usage"):
        pivot["nomUsage"] = record["nom_usage"]
    return pivot
