"""The audit log's codes in plain French, for auditors who are not engineers.

The log keeps what the policy engine and the exchange wrote (English reasons, error codes);
the console shows each in words, and the recorded text beside it when no wording fits, so
that nothing the log holds is hidden.
"""

from __future__ import annotations

import re
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from exchange.oversight import ACTIONS

PARIS = ZoneInfo("Europe/Paris")

OUTCOMES = {
    "released": "Données transmises",
    "partial": "Transmission partielle",
    "refused": "Accès refusé",
    "failed": "Échec",
}
OUTCOME_BADGES = {
    "released": "fr-badge--success",
    "partial": "fr-badge--warning",
    "refused": "fr-badge--error",
    "failed": "fr-badge--info",
}
KINDS = {
    "person_access": "Consultation des données d'une personne",
    "audit_query": "Consultation du journal par un auditeur",
    "consent_change": "Changement de consentement",
    "prefill_submission": "Envoi d'un formulaire prérempli",
    "automatic_act": "Acte automatique",
}
CALLERS = {"client": "Application d'un organisme", "citizen": "La personne elle-même"}

# Error codes a field failed with (the exchange's typed codes).
_CODES = {
    "FORBIDDEN": "la finalité ne permet pas de transmettre cette donnée",
    "CONSENT_REQUIRED": "le consentement de la personne est nécessaire et n'a pas été donné",
    "NOT_FOUND": "l'organisme source ne connaît pas cette personne ou cette donnée",
    "UPSTREAM_TIMEOUT": "l'organisme source n'a pas répondu à temps",
    "UPSTREAM_UNAVAILABLE": "l'organisme source était indisponible",
    "UPSTREAM_INVALID": "l'organisme source a donné une réponse inutilisable",
    "BAD_USER_INPUT": "la demande était incomplète ou mal formée",
    "RATE_LIMITED": "trop de demandes en peu de temps",
    "INTERNAL": "erreur interne de la passerelle",
    "UNAUTHENTICATED": "l'appelant n'était pas authentifié",
}
# The policy engine's reasons, recognised by their wording.
_REASONS = (
    (re.compile(r"is not in the policy catalogue"), "la finalité n'existe pas au catalogue"),
    (re.compile(r"is not in force on"), "la finalité n'était pas en vigueur à cette date"),
    (re.compile(r"may not use purpose"), "l'organisme n'est pas autorisé pour cette finalité"),
    (
        re.compile(r"does not release category|does not allow reading a member"),
        "la finalité ne couvre pas cette catégorie de données",
    ),
    (re.compile(r"needs the person's consent"), _CODES["CONSENT_REQUIRED"]),
    (re.compile(r"belongs to no category"), "la donnée n'appartient à aucune catégorie"),
)
ANOMALY_RULES = {
    "many_persons_one_object": "Beaucoup de personnes consultées sous une même référence",
    "burst": "Pic inhabituel de consultations en une heure",
    "repeated_denials": "Refus répétés dans une même journée",
}


def reason(text: str) -> str:
    """Why a field was not released, in words, each of several reasons (the policy engine
    joins them with ``; ``); the recorded text for one that none fits."""
    if text in _CODES:
        return _CODES[text]
    said = [_one_reason(part.strip()) for part in text.split("; ") if part.strip()]
    return " ; ".join(dict.fromkeys(said)) or f"motif enregistré : {text}"


def _one_reason(text: str) -> str:
    if text in _CODES:
        return _CODES[text]
    for pattern, words in _REASONS:
        if pattern.search(text):
            return words
    return f"motif enregistré : {text}"


# What each recorded detail is, as an auditor reads it (the keys the exchange, the proactive
# runners and the console write; a key not here is shown as recorded).
DETAILS = {
    "agent_sub": "Identifiant de connexion de l'agent",
    "agent_siret": "SIRET de l'organisme de l'agent",
    "action": "Acte",
    "consent": "Consentement",
    "benefit": "Prestation",
    "reason": "Motif",
    "cause": "Cause",
    "renewal": "Renouvellement",
    "renewal_entry": "Entrée du renouvellement",
    "grant": "Droit ouvert automatiquement",
    "grant_entry": "Entrée de l'ouverture du droit",
    "offers": "Propositions concernées",
    "grants": "Droits concernés",
    "form": "Formulaire",
    "changed": "Champs corrigés par la personne",
    "prefill_access": "Accès qui a prérempli le formulaire",
    "corrects": "Corrige l'entrée écrite pendant l'appel des organismes",
    "submission": "Dépôt",
    "format": "Format de l'exportation",
    "seq": "N° de l'entrée consultée",
    "entry": "Identifiant de l'entrée consultée",
    "person": "Personne recherchée (pseudonyme)",
    "client": "Filtre : application",
    "purpose": "Filtre : finalité",
    "from": "Filtre : à partir du",
    "to": "Filtre : avant le",
    "outcome": "Filtre : issue",
    "kind": "Filtre : nature",
    "object": "Filtre : référence du dossier",
    "recipient": "Filtre : destinataire",
    "organisation": "Filtre : organisme",
}


def detail(key: str, value: str) -> tuple[str, str]:
    """A recorded detail as (what it is, its value), both in words where words exist."""
    label = DETAILS.get(key, f"Précision enregistrée « {key} »")
    if key == "action":
        return label, ACTIONS.get(value, value)
    if key in ("from", "to"):
        try:
            return label, paris(datetime.fromisoformat(value))
        except ValueError:
            return label, value
    if key == "outcome":
        return label, OUTCOMES.get(value, value)
    if key == "kind":
        return label, KINDS.get(value, value)
    return label, value


# The person view's fields in words (the log records their paths: benefits.rsa).
FIELD_NAMES = {
    "identity": "État civil",
    "address": "Adresse fiscale",
    "contact": "Courriel et téléphone portable",
    "household": "Composition du foyer et quotient familial",
    "resources": "Ressources mensuelles déclarées",
    "taxHousehold": "Foyer fiscal et revenu fiscal de référence",
    "housing": "Logement (statut, loyer, charges)",
    "pension": "Pensions de retraite",
    "healthCoverage": "Assurance maladie et complémentaire santé solidaire",
    "studentStatus": "Statut étudiant",
    "studentGrant": "Bourse sur critères sociaux",
    "employment.status": "Inscription à France Travail",
    "employment.payments": "Indemnisation par France Travail",
    "benefits.rsa": "Revenu de solidarité active perçu",
    "benefits.primeActivite": "Prime d'activité perçue",
    "benefits.aah": "Allocation aux adultes handicapés perçue",
    "benefits.asf": "Allocation de soutien familial perçue",
    "benefits.css": "Complémentaire santé solidaire perçue",
    "benefits.aspa": "Allocation de solidarité aux personnes âgées perçue",
    "benefits.housingAid": "Aide au logement perçue",
}


def field_name(field: str) -> str:
    """A person-view field in words; its path for one this table does not know."""
    return FIELD_NAMES.get(field, field)


def category(catalogue: Any, field: str) -> str:
    """The label of the catalogue category ``field`` belongs to; empty for a field it no
    longer knows."""
    if field not in catalogue.fields:
        return ""
    return str(catalogue.categories[catalogue.category_of(field)].label)


def paris(moment: datetime) -> str:
    """A time as an auditor in France reads it: ``03/12/2026 à 19:24:05``."""
    local = moment.astimezone(PARIS)
    return local.strftime("%d/%m/%Y à %H:%M:%S")


def paris_iso(moment: datetime) -> str:
    return moment.astimezone(PARIS).isoformat(timespec="seconds")
