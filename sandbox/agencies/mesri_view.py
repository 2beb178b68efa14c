"""The MESRI's view of a person: their admissions in higher education, or "no student found".

A person whose activity is ``etudiant`` is enrolled ("inscrit", régime formation initiale)
for every academic year (1 September to 31 August) that overlaps the last 24 months and
starts after they turned 17; anyone else gets the MESRI's 404 (code 25003).
"""

from __future__ import annotations

import zlib
from datetime import date

from starlette.datastructures import QueryParams

from sandbox.gazetteer import COMMUNE_BY_COG, FRANCE
from sandbox.person import Person
from sandbox.population import Population
from sandbox.protocol import ProtocolError, not_found, unprocessable


def no_student() -> ProtocolError:
    return not_found(
        "25003",
        "Aucun étudiant n'a pu être trouvé avec les critères de recherche fournis.",
        "MESRI",
    )


_SEPTEMBER = 8  # month index within a year (January is 0)


def pivot_params(params: QueryParams) -> QueryParams:
    """The MESRI's civility parameters as the DSS hub's: one given name at most, and a
    country code (``99xxx``) in ``codeCogInseeCommuneNaissance`` for a person born abroad."""
    if len(params.getlist("prenoms[]") + params.getlist("prenoms")) > 1:
        raise unprocessable("Le paramètre prenoms[] ne doit contenir qu'un seul prénom", "prenoms")
    place = params.get("codeCogInseeCommuneNaissance") or ""
    items = [(k, v) for k, v in params.multi_items() if k != "codeCogInseeCommuneNaissance"]
    if place.startswith("99"):
        items.append(("codeCogInseePaysNaissance", place))
    else:
        items += [("codeCogInseePaysNaissance", FRANCE), ("codeCogInseeCommuneNaissance", place)]
    return QueryParams(items)


def establishment(commune: str) -> dict[str, object]:
    """The establishment the sandbox enrols a student of ``commune`` in (its UAI and name)."""
    uai = f"{zlib.crc32(commune.encode()) % 10_000_000:07d}U"
    return {"uai": uai, "nom": f"Université de {COMMUNE_BY_COG[commune].name}"}


def student_status(population: Population, person: Person) -> dict[str, object]:
    """The ``data`` of a student's answer; ``ProtocolError`` 404 for anyone else."""
    if person.activity != "etudiant":
        raise no_student()
    ref = population.reference
    identity = person.identity
    commune = population.household_of(person).address.commune
    admissions = []
    first_year = (ref - 23 - _SEPTEMBER) // 12
    for year in range(first_year, (ref - _SEPTEMBER) // 12 + 1):
        start = date(year, 9, 1)
        if (start - identity.date_naissance).days < 17 * 365:
            continue
        admissions.append(
            {
                "date_debut": start.isoformat(),
                "date_fin": date(year + 1, 8, 31).isoformat(),
                "est_inscrit": True,
                "regime_formation": {"libelle": "formation initiale", "code": "RF1"},
                "code_cog_insee_commune": commune,
                "etablissement_etudes": establishment(commune),
            }
        )
    if not admissions:
        raise no_student()
    return {
        "identite": {
            "nom_naissance": identity.nom_naissance,
            "prenom": identity.prenoms[0],
            "date_naissance": identity.date_naissance.isoformat(),
        },
        "admissions": admissions,
    }
