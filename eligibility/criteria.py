"""The criteria shown with each answer, in plain French, with their legal reference.

References are Légifrance searches naming the article (stable, and no article identifier
is made up); the CSS ceiling also cites where its post-release value comes from.
"""

from __future__ import annotations

from urllib.parse import quote_plus

from eligibility.model import Criterion
from eligibility.reform import CSS_CEILING_SOURCES

_CASF = "code de l'action sociale et des familles"
_CSS = "code de la sécurité sociale"
_CCH = "code de la construction et de l'habitation"


def legifrance(article: str, code: str) -> str:
    return "https://www.legifrance.gouv.fr/search/code?query=" + quote_plus(
        f'"article {article}" {code}'
    )


def _c(text: str, article: str, code: str, code_short: str) -> Criterion:
    return Criterion(text, f"{code_short} art. {article}", legifrance(article, code))


# Where the CSS ceiling in force comes from: sources cited beside the rules, not rules.
CITATIONS = tuple(
    Criterion("Plafond de ressources en vigueur.", title, href)
    for title, href in CSS_CEILING_SOURCES
)

CRITERIA: dict[str, tuple[Criterion, ...]] = {
    "rsa": (
        _c(
            "Avoir au moins 25 ans (ou assumer la charge d'un enfant) et résider en France.",
            "L262-4",
            _CASF,
            "CASF",
        ),
        _c(
            "Les ressources du foyer des trois derniers mois sont inférieures au montant "
            "forfaitaire, qui dépend de la composition du foyer ; un forfait logement est "
            "déduit si le foyer est logé gratuitement, propriétaire ou perçoit une aide au "
            "logement.",
            "L262-2",
            _CASF,
            "CASF",
        ),
        _c(
            "Ne pas être élève, étudiant ou stagiaire (en formation initiale), sauf pour un "
            "parent qui assume seul la charge d'un enfant.",
            "L262-4",
            _CASF,
            "CASF",
        ),
        _c(
            "Toutes les ressources du foyer sont prises en compte, sauf celles qu'un décret "
            "exclut.",
            "L262-3",
            _CASF,
            "CASF",
        ),
    ),
    "ppa": (
        _c(
            "Avoir au moins 18 ans, exercer une activité professionnelle et résider en France.",
            "L842-1",
            _CSS,
            "CSS",
        ),
        _c(
            "Le montant dépend des revenus d'activité et des autres ressources du foyer des "
            "trois derniers mois, et de sa composition.",
            "L841-1",
            _CSS,
            "CSS",
        ),
        _c(
            "La prime est égale à un montant forfaitaire, augmenté d'une part des revenus "
            "d'activité et d'une bonification pour chaque travailleur, diminué des ressources "
            "du foyer.",
            "L842-3",
            _CSS,
            "CSS",
        ),
        _c(
            "Ne pas être élève, étudiant, stagiaire ou apprenti, sauf si les revenus "
            "professionnels dépassent chaque mois le plafond de rémunération de l'article "
            "L512-3 2° (0,78 SMIC).",
            "L842-2",
            _CSS,
            "CSS",
        ),
    ),
    "css": (
        _c(
            "Être assuré social et résider en France ; les ressources des douze derniers "
            "mois du foyer sont comparées à un plafond qui dépend de sa taille.",
            "L861-1",
            _CSS,
            "CSS",
        ),
        _c(
            "Sous le plafond : gratuite ; jusqu'à 35 % au-dessus : participation mensuelle "
            "selon l'âge de chaque membre.",
            "L861-1",
            _CSS,
            "CSS",
        ),
        *CITATIONS,
    ),
    "aspa": (
        _c(
            "Avoir l'âge légal de départ à la retraite (65 ans, ou l'âge légal en cas "
            "d'inaptitude) et résider en France.",
            "L815-1",
            _CSS,
            "CSS",
        ),
        _c(
            "Les ressources du foyer, pensions comprises, sont complétées jusqu'à un plafond "
            "qui dépend de la vie en couple.",
            "L815-9",
            _CSS,
            "CSS",
        ),
    ),
    "aide_logement": (
        _c(
            "Être locataire (ou accédant) de sa résidence principale en France, avec un "
            "loyer à charge.",
            "L821-1",
            _CCH,
            "CCH",
        ),
        _c(
            "Le montant dépend du loyer, de la zone géographique, de la composition du foyer "
            "et de ses ressources des douze derniers mois.",
            "L823-1",
            _CCH,
            "CCH",
        ),
        _c(
            "Pour un étudiant de moins de 28 ans, les ressources retenues sont un forfait "
            "annuel, minoré s'il est boursier, quelles que soient ses ressources réelles "
            "(avant 2021, ce forfait était un plancher, à tout âge).",
            "R822-20",
            _CCH,
            "CCH",
        ),
    ),
}

# Said with an ASPA answer NOT_ELIGIBLE when the household's ASPA is due: OpenFisca computes
# it for the couple, but only a member of ASPA age (``aspa_eligibilite``) is entitled to it.
ASPA_OTHER_MEMBER = _c(
    "L'ASPA n'est due qu'aux membres du couple qui ont l'âge requis (65 ans, ou l'âge légal "
    "de départ à la retraite en cas d'inaptitude au travail) : ici à l'autre membre du "
    "couple, pas à cette personne, qui n'a pas cet âge ; ses ressources comptent néanmoins "
    "dans celles du couple.",
    "L815-1",
    _CSS,
    "CSS",
)
