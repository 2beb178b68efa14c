"""The data a notification says was used, in the person's words rather than the rules'.

The eligibility inputs are named after OpenFisca's variables (``salaire_net``,
``zone_apl``…); a letter says "vos salaires déclarés". Several variables read one fact (the
net and the taxable salary): the person sees it once per agency.
"""

from __future__ import annotations

from collections.abc import Iterable

from eligibility import InputUsed

PARTNER = "partner "  # the prefix of the partner's inputs
_OWN = {
    "date_naissance": "votre date de naissance",
    "salaire_net": "vos salaires déclarés",
    "salaire_imposable": "vos salaires déclarés",
    "chomage_net": "vos allocations chômage",
    "chomage_imposable": "vos allocations chômage",
    "retraite_nette": "vos pensions de retraite",
    "retraite_imposable": "vos pensions de retraite",
    "retraite_brute": "vos pensions de retraite",
    "composition": "la composition de votre foyer",
    "etudiant": "votre statut d'étudiant",
    "statut_occupation_logement": "votre situation de logement",
    "loyer": "votre loyer",
    "depcom": "votre commune",
    "zone_apl": "la zone de votre logement",
}
_PARTNER = {
    "salaire_net": "les salaires de votre conjoint(e)",
    "salaire_imposable": "les salaires de votre conjoint(e)",
    "chomage_net": "les allocations chômage de votre conjoint(e)",
    "chomage_imposable": "les allocations chômage de votre conjoint(e)",
    "retraite_nette": "les pensions de retraite de votre conjoint(e)",
    "retraite_imposable": "les pensions de retraite de votre conjoint(e)",
    "retraite_brute": "les pensions de retraite de votre conjoint(e)",
}
OTHER = "d'autres informations de votre dossier"


def label(name: str) -> str:
    """The plain-French name of one eligibility input."""
    if name.startswith(PARTNER):
        return _PARTNER.get(name.removeprefix(PARTNER), OTHER)
    return _OWN.get(name, OTHER)


def data_used(inputs: Iterable[InputUsed]) -> list[dict[str, str]]:
    """A notification's ``data_used``: ``[{"category", "agency"}]`` in plain French, each
    pair once, in the order the rules read them."""
    seen = {(label(i.name), i.agency): None for i in inputs}
    return [{"category": category, "agency": agency} for category, agency in seen]
