"""The words a person reads for each code a form's ``choice`` field takes.

The form files keep codes (``heberge_gratuit``), which clients store and send back; a form
shows the person these labels. One vocabulary for every form: a code means the same in each.
A procedure on démarches-simplifiées maps codes to its own option labels (``prefill.procedure``).
"""

from __future__ import annotations

from prefill.model import FieldDef

LABELS: dict[str, str] = {
    # civilité
    "M.": "Monsieur",
    "Mme": "Madame",
    # a child's sex
    "M": "Masculin",
    "F": "Féminin",
    # nationality
    "francaise": "Française",
    "ue_eee_suisse": "Ressortissant(e) de l'Union européenne, de l'EEE ou de la Suisse",
    "autre": "Autre nationalité",
    # family situation
    "celibataire": "Célibataire",
    "marie": "Marié(e)",
    "pacse": "Lié(e) par un Pacs",
    "concubinage": "En concubinage (union libre)",
    "divorce": "Divorcé(e)",
    "separe": "Séparé(e)",
    "veuf": "Veuf ou veuve",
    # housing
    "locataire": "Locataire (logement vide)",
    "locataire_meuble": "Locataire (logement meublé)",
    "proprietaire": "Propriétaire",
    "heberge_gratuit": "Hébergé(e) gratuitement",
    "sans_domicile": "Sans domicile stable",
    # pensions
    "droit_propre": "Pension de droit propre",
    "reversion": "Pension de réversion",
    # the CSS's managing body
    "caisse_assurance_maladie": "Votre caisse d'assurance maladie",
    "organisme_complementaire": "Un organisme complémentaire inscrit sur la liste nationale",
}


def options(field: FieldDef) -> list[tuple[str, str]]:
    """The field's choices with their labels (the code itself for one not in the vocabulary,
    which the shipped forms' test refuses)."""
    return [(code, LABELS.get(code, code)) for code in field.choices]
