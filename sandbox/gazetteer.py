"""Reference data embedded in the sandbox: names, communes, countries, streets.

Small on purpose: enough variety for realistic homonym rates and address spreads, and
real INSEE COG codes so that a gateway validating codes against the COG accepts them.
"""

from __future__ import annotations

from dataclasses import dataclass

FRANCE = "99100"


@dataclass(frozen=True, slots=True)
class Commune:
    cog: str
    name: str
    postal_code: str
    # Housing-aid zone (1 Paris area, 2 large cities, 3 elsewhere): the official zoning, the
    # table OpenFisca-France derives ``zone_apl`` from; a test keeps them equal.
    zone: int
    department: str
    department_name: str


COMMUNES: tuple[Commune, ...] = (
    Commune("75056", "PARIS", "75011", 1, "75", "Paris"),
    Commune("13055", "MARSEILLE", "13005", 2, "13", "Bouches-du-Rhône"),
    Commune("69123", "LYON", "69003", 2, "69", "Rhône"),
    Commune("31555", "TOULOUSE", "31400", 2, "31", "Haute-Garonne"),
    Commune("06088", "NICE", "06000", 2, "06", "Alpes-Maritimes"),
    Commune("44109", "NANTES", "44000", 2, "44", "Loire-Atlantique"),
    Commune("67482", "STRASBOURG", "67000", 2, "67", "Bas-Rhin"),
    Commune("34172", "MONTPELLIER", "34000", 2, "34", "Hérault"),
    Commune("33063", "BORDEAUX", "33000", 2, "33", "Gironde"),
    Commune("59350", "LILLE", "59000", 2, "59", "Nord"),
    Commune("35238", "RENNES", "35000", 2, "35", "Ille-et-Vilaine"),
    Commune("51454", "REIMS", "51100", 2, "51", "Marne"),
    Commune("42218", "SAINT-ÉTIENNE", "42000", 2, "42", "Loire"),
    Commune("83137", "TOULON", "83000", 2, "83", "Var"),
    Commune("38185", "GRENOBLE", "38000", 2, "38", "Isère"),
    Commune("21231", "DIJON", "21000", 2, "21", "Côte-d'Or"),
    Commune("49007", "ANGERS", "49000", 2, "49", "Maine-et-Loire"),
    Commune("30189", "NÎMES", "30000", 2, "30", "Gard"),
    Commune("63113", "CLERMONT-FERRAND", "63000", 2, "63", "Puy-de-Dôme"),
    Commune("37261", "TOURS", "37000", 2, "37", "Indre-et-Loire"),
    Commune("87085", "LIMOGES", "87000", 2, "87", "Haute-Vienne"),
    Commune("08105", "CHARLEVILLE-MÉZIÈRES", "08000", 3, "08", "Ardennes"),
    Commune("51108", "CHÂLONS-EN-CHAMPAGNE", "51000", 3, "51", "Marne"),
    Commune("29019", "BREST", "29200", 2, "29", "Finistère"),
    Commune("80021", "AMIENS", "80000", 2, "80", "Somme"),
    Commune("45234", "ORLÉANS", "45000", 2, "45", "Loiret"),
    Commune("57463", "METZ", "57000", 2, "57", "Moselle"),
    Commune("14118", "CAEN", "14000", 2, "14", "Calvados"),
    Commune("2A004", "AJACCIO", "20000", 2, "2A", "Corse-du-Sud"),
    Commune("97411", "SAINT-DENIS", "97400", 2, "974", "La Réunion"),
)
COMMUNE_BY_COG: dict[str, Commune] = {c.cog: c for c in COMMUNES}

# Countries of birth other than France (INSEE COG country codes).
COUNTRIES: tuple[str, ...] = (
    "99350",  # Maroc
    "99352",  # Algérie
    "99351",  # Tunisie
    "99139",  # Portugal
    "99127",  # Italie
    "99134",  # Espagne
    "99109",  # Allemagne
    "99131",  # Belgique
    "99341",  # Sénégal
    "99114",  # Roumanie
    "99208",  # Turquie
)

SURNAMES: tuple[str, ...] = (
    "MARTIN", "BERNARD", "THOMAS", "PETIT", "ROBERT", "RICHARD", "DURAND", "DUBOIS",
    "MOREAU", "LAURENT", "SIMON", "MICHEL", "LEFÈVRE", "LEROY", "ROUX", "DAVID",
    "BERTRAND", "MOREL", "FOURNIER", "GIRARD", "BONNET", "DUPONT", "LAMBERT", "FONTAINE",
    "ROUSSEAU", "VINCENT", "MULLER", "LEFEBVRE", "FAURE", "ANDRÉ", "MERCIER", "BLANC",
    "GUÉRIN", "BOYER", "GARNIER", "CHEVALIER", "FRANÇOIS", "LEGRAND", "GAUTHIER", "GARCIA",
    "PERRIN", "ROBIN", "CLÉMENT", "MORIN", "NICOLAS", "HENRY", "ROUSSEL", "MATHIEU",
    "GAUTIER", "MASSON", "MARCHAND", "DUVAL", "DENIS", "DUMONT", "MARIE", "LEMAIRE",
    "NOËL", "MEYER", "DUFOUR", "MEUNIER", "BRUN", "BLANCHARD", "GIRAUD", "JOLY",
    "RIVIÈRE", "LUCAS", "BRUNET", "GAILLARD", "BARBIER", "ARNAUD", "MARTINEZ", "GÉRARD",
    "LE GALL", "LE ROUX", "D'ALMEIDA", "BENOÎT", "SAINT-MARTIN", "BENALI", "DIALLO", "NGUYEN",
    "HADDAD", "FERREIRA", "DA SILVA", "LOPEZ", "SCHMITT", "COLIN", "VIDAL", "CARON",
)  # fmt: skip

MALE_NAMES: tuple[str, ...] = (
    "JEAN", "PIERRE", "MICHEL", "ANDRÉ", "PHILIPPE", "RENÉ", "LOUIS", "ALAIN", "JACQUES",
    "BERNARD", "MARCEL", "DANIEL", "ROGER", "ROBERT", "PAUL", "CLAUDE", "CHRISTIAN", "HENRI",
    "GEORGES", "NICOLAS", "FRANÇOIS", "PATRICK", "GÉRARD", "CHRISTOPHE", "JOSEPH", "JULIEN",
    "DAVID", "FRÉDÉRIC", "PASCAL", "ÉRIC", "LAURENT", "THOMAS", "SÉBASTIEN", "STÉPHANE",
    "LUCAS", "HUGO", "LÉO", "GABRIEL", "RAPHAËL", "ARTHUR", "NATHAN", "ENZO", "MOHAMED",
    "KARIM", "YANNICK", "JÉRÔME", "MAXIME", "ALEXIS", "ANTOINE", "NOAH",
)  # fmt: skip

FEMALE_NAMES: tuple[str, ...] = (
    "MARIE", "JEANNE", "FRANÇOISE", "MONIQUE", "CATHERINE", "NATHALIE", "ISABELLE",
    "JACQUELINE", "ANNE", "SYLVIE", "MARTINE", "MADELEINE", "NICOLE", "SUZANNE", "HÉLÈNE",
    "CHRISTINE", "MARGUERITE", "DENISE", "LOUISE", "CHRISTIANE", "VALÉRIE", "SANDRINE",
    "STÉPHANIE", "CÉLINE", "JULIE", "AURÉLIE", "CAMILLE", "LÉA", "MANON", "CHLOÉ", "EMMA",
    "INÈS", "JADE", "ZOÉ", "LINA", "AMBRE", "ROSE", "ANAÏS", "ÉLODIE", "LAURA", "SARAH",
    "FATIMA", "AÏCHA", "NADIA", "SOPHIE", "AGNÈS", "JOSIANE", "ODILE", "CLAIRE", "ALICE",
)  # fmt: skip

STREETS: tuple[str, ...] = (
    "RUE DE LA RÉPUBLIQUE", "AVENUE JEAN JAURÈS", "RUE VICTOR HUGO", "RUE PASTEUR",
    "BOULEVARD GAMBETTA", "RUE DES ÉCOLES", "AVENUE DU GÉNÉRAL DE GAULLE", "RUE DU MOULIN",
    "PLACE DE L'ÉGLISE", "RUE DE LA GARE", "CHEMIN DES VIGNES", "RUE ARISTIDE BRIAND",
    "IMPASSE DES LILAS", "RUE JULES FERRY", "ALLÉE DES TILLEULS", "RUE DE PARIS",
)  # fmt: skip


def siret(number: int) -> str:
    """A 14-digit SIRET with a valid Luhn key, derived from ``number``."""
    body = f"{number % 10**13:013d}"
    for key in range(10):
        candidate = body + str(key)
        if luhn_valid(candidate):
            return candidate
    raise AssertionError("a Luhn key always exists")  # pragma: no cover


def luhn_valid(digits: str) -> bool:
    total = 0
    for position, char in enumerate(reversed(digits)):
        value = int(char)
        if position % 2 == 1:
            value *= 2
            if value > 9:
                value -= 9
        total += value
    return total % 10 == 0


FRANCE_TRAVAIL_SIRET = siret(1300054810001)
PENSION_FUNDS: tuple[tuple[str, str], ...] = (
    ("CNAV", siret(1800350440002)),
    ("AGIRC-ARRCO", siret(7845003410003)),
    ("MSA", siret(7755600870004)),
)
