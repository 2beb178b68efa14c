"""The CAF's view of a household, shared by the DSS endpoints and the housing agency."""

from __future__ import annotations

from sandbox.gazetteer import COMMUNE_BY_COG
from sandbox.person import Household, Identity, Person
from sandbox.population import Population


def member(identity: Identity) -> dict[str, object]:
    return {
        "nom_naissance": identity.nom_naissance,
        "nom_usage": identity.nom_usage,
        "prenoms": " ".join(identity.prenoms),
        "date_naissance": identity.date_naissance.isoformat(),
        "sexe": identity.sexe,
    }


def postal_address(population: Population, household: Household) -> dict[str, object]:
    first = population.persons[household.adults[0]].identity
    commune = COMMUNE_BY_COG[household.address.commune]
    civility = "Monsieur" if first.sexe == "M" else "Madame"
    name = first.nom_usage or first.nom_naissance
    return {
        "destinataire": f"{civility} {name} {first.prenoms[0].title()}",
        "complement_information": None,
        "complement_information_geographique": None,
        "numero_libelle_voie": f"{household.address.numero} {household.address.voie}",
        "lieu_dit": None,
        "code_postal_ville": f"{commune.postal_code} {commune.name}",
        "pays": "FRANCE",
    }


def caf_parts(household: Household) -> float:
    """CAF shares: 2 for a couple or a lone parent, 1 for a single; children add more."""
    children = len(household.children)
    parts = 2.0 if len(household.adults) == 2 or children else 1.0
    parts += 0.5 * min(children, 2) + 1.0 * max(0, children - 2)
    return parts


def family_quotient(population: Population, person: Person, month: int) -> int:
    """Monthly resources of the 12 previous months plus benefits, divided by the shares."""
    household = population.household_of(person)
    adults = [population.persons[i] for i in household.adults]
    yearly = sum(p.net_social(m) for p in adults for m in range(month - 12, month))
    benefits = sum(
        right.amount or 0.0
        for p in adults
        for right in (p.rights.aah, p.rights.asf, p.rights.aspa)
        if right is not None
    )
    if household.housing.aid_amount:
        benefits += household.housing.aid_amount
    return round((yearly / 12 + benefits) / caf_parts(household))
