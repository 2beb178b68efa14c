"""What a notification says about an eligibility answer, in the person's words rather than the
rules'.

The eligibility inputs are named after OpenFisca's variables (``salaire_net``,
``zone_apl``…); a letter says "vos salaires déclarés". Several variables read one fact (the
net and the taxable salary): the person sees it once per agency, and the agency by the name
people know it by (the CAF, not the CNAF that runs it). The reasons are the benefit's legal
criteria only: the notes an answer carries for the agents who read it (the unknowns tried at
their bounds, the range of an amount) are in their words, not the person's.
"""

from __future__ import annotations

from collections.abc import Iterable

from eligibility import BenefitResult, InputUsed
from eligibility.criteria import CITATIONS, CRITERIA

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
    "activite": "votre inscription à France Travail",
    "date_debut_chomage": "la date de début de votre chômage",
    "rpns_auto_entrepreneur_CA_achat_revente": "votre chiffre d'affaires de micro-entrepreneur",
    "rpns_auto_entrepreneur_CA_bic": "votre chiffre d'affaires de micro-entrepreneur",
    "rpns_auto_entrepreneur_CA_bnc": "votre chiffre d'affaires de micro-entrepreneur",
    "aide_logement_verse": "l'aide au logement que vous recevez",
    "prestations_familiales_base_ressources": "le revenu fiscal de référence de votre foyer",
    "asf_verse": "l'allocation de soutien familial",
    "date_deces": "la date de décès",
}
_PARTNER = {
    "salaire_net": "les salaires de votre conjoint(e)",
    "salaire_imposable": "les salaires de votre conjoint(e)",
    "chomage_net": "les allocations chômage de votre conjoint(e)",
    "chomage_imposable": "les allocations chômage de votre conjoint(e)",
    "retraite_nette": "les pensions de retraite de votre conjoint(e)",
    "retraite_imposable": "les pensions de retraite de votre conjoint(e)",
    "retraite_brute": "les pensions de retraite de votre conjoint(e)",
    "activite": "l'inscription de votre conjoint(e) à France Travail",
    "date_debut_chomage": "la date de début du chômage de votre conjoint(e)",
    "rpns_auto_entrepreneur_CA_achat_revente": (
        "le chiffre d'affaires de micro-entrepreneur de votre conjoint(e)"
    ),
    "rpns_auto_entrepreneur_CA_bic": (
        "le chiffre d'affaires de micro-entrepreneur de votre conjoint(e)"
    ),
    "rpns_auto_entrepreneur_CA_bnc": (
        "le chiffre d'affaires de micro-entrepreneur de votre conjoint(e)"
    ),
    "revenu_fiscal_de_reference": "le revenu fiscal de référence de votre conjoint(e)",
}
# The data holders as people know them: the CNAF is "la CAF" on every letter people get.
_AGENCIES = {
    "CNAF": "CAF",
    "DGFIP": "administration fiscale, DGFiP",
    "GIP-MDS": "vos employeurs et organismes payeurs, via le GIP-MDS",
    "INSEE": "INSEE, état civil",
    "MESRI": "ministère de l'Enseignement supérieur",
    "CNAV": "Assurance retraite",
    "CNAM": "Assurance maladie",
}
OTHER = "d'autres informations de votre dossier"


def label(name: str) -> str:
    """The plain-French name of one eligibility input."""
    if name.startswith(PARTNER):
        return _PARTNER.get(name.removeprefix(PARTNER), OTHER)
    return _OWN.get(name, OTHER)


def agency(name: str) -> str:
    """The data holder ``name`` (a provenance's agency) as people know it."""
    return _AGENCIES.get(name, name)


def data_used(inputs: Iterable[InputUsed]) -> list[dict[str, str]]:
    """A notification's ``data_used``: ``[{"category", "agency"}]`` in plain French, each
    pair once, in the order the rules read them."""
    seen = {(label(i.name), agency(i.agency)): None for i in inputs}
    return [{"category": category, "agency": holder} for category, holder in seen]


def reasons(result: BenefitResult) -> list[str]:
    """Why the person may be entitled: the benefit's legal criteria among the answer's, in
    its order. The evaluation's own notes, and the sources cited for a parameter's value, are
    left to the agents' view of the answer."""
    rules = set(CRITERIA.get(result.benefit, ())) - set(CITATIONS)
    return [c.text for c in result.criteria if c in rules]
