"""The geographic reference data DS takes from geo.api.gouv.fr, trimmed for the sandbox.

Communes: the sandbox population's (``sandbox.gazetteer``) and a few of Seine-Saint-Denis;
départements: all of them; countries: ISO 3166 alpha-2 codes with their French names, the
ones the sandbox's persons are born in and their neighbours.
"""

from __future__ import annotations

from dataclasses import dataclass

from sandbox.gazetteer import COMMUNES as _GAZETTEER


@dataclass(frozen=True)
class GeoCommune:
    code: str  # INSEE (COG) code
    name: str
    postal_code: str  # the one the sandbox's addresses use
    departement: str
    postal_codes: tuple[str, ...] = ()  # all of the commune's, as geo.api.gouv.fr lists them

    def __post_init__(self) -> None:
        if not self.postal_codes:
            object.__setattr__(self, "postal_codes", (self.postal_code,))


# Every postcode of the communes with more than one (La Poste's "Base officielle des codes
# postaux", through the @etalab/decoupage-administratif package, 2026 edition): DS finds a
# commune by any of them.
_POSTAL_CODES: dict[str, tuple[str, ...]] = {
    "75056": (*(f"750{n:02d}" for n in range(1, 21)), "75116"),
    "13055": tuple(f"130{n:02d}" for n in range(1, 17)),
    "69123": tuple(f"6900{n}" for n in range(1, 10)),
    "31555": ("31000", "31100", "31200", "31300", "31400", "31500"),
    "06088": ("06000", "06100", "06200", "06300"),
    "44109": ("44000", "44100", "44200", "44300"),
    "67482": ("67000", "67100", "67200"),
    "34172": ("34000", "34070", "34080", "34090"),
    "33063": ("33000", "33100", "33200", "33300", "33800"),
    "59350": ("59000", "59160", "59260", "59777", "59800"),
    "35238": ("35000", "35200", "35700"),
    "42218": ("42000", "42100", "42230"),
    "83137": ("83000", "83100", "83200"),
    "38185": ("38000", "38100"),
    "49007": ("49000", "49100"),
    "30189": ("30000", "30900"),
    "63113": ("63000", "63100"),
    "37261": ("37000", "37100", "37200"),
    "87085": ("87000", "87100", "87280"),
    "80021": ("80000", "80080", "80090"),
    "45234": ("45000", "45100"),
    "57463": ("57000", "57050", "57070"),
    "2A004": ("20000", "20090", "20167"),
    "97411": ("97400", "97417", "97490"),
    "93066": ("93200", "93210", "93380"),
}


_SMALL_WORDS = {"en", "sur", "le", "la", "les", "de", "du", "des", "sous", "lès", "l'", "d'"}


def _name(upper: str) -> str:
    words = upper.lower().split("-")
    return "-".join(w if i and w in _SMALL_WORDS else w.capitalize() for i, w in enumerate(words))


COMMUNES: tuple[GeoCommune, ...] = (
    *(
        GeoCommune(c.cog, _name(c.name), c.postal_code, c.department, _POSTAL_CODES.get(c.cog, ()))
        for c in _GAZETTEER
    ),
    GeoCommune("93008", "Bobigny", "93000", "93"),
    GeoCommune("93066", "Saint-Denis", "93200", "93", _POSTAL_CODES["93066"]),
    GeoCommune("93048", "Montreuil", "93100", "93"),
    GeoCommune("93001", "Aubervilliers", "93300", "93"),
    GeoCommune("93070", "Saint-Ouen-sur-Seine", "93400", "93"),
)


def communes_by_postal_code(postal_code: str) -> list[GeoCommune]:
    return [c for c in COMMUNES if postal_code in c.postal_codes]


DEPARTEMENTS: dict[str, str] = {
    "01": "Ain", "02": "Aisne", "03": "Allier", "04": "Alpes-de-Haute-Provence",
    "05": "Hautes-Alpes", "06": "Alpes-Maritimes", "07": "Ardèche", "08": "Ardennes",
    "09": "Ariège", "10": "Aube", "11": "Aude", "12": "Aveyron", "13": "Bouches-du-Rhône",
    "14": "Calvados", "15": "Cantal", "16": "Charente", "17": "Charente-Maritime", "18": "Cher",
    "19": "Corrèze", "21": "Côte-d'Or", "22": "Côtes-d'Armor", "23": "Creuse",
    "24": "Dordogne", "25": "Doubs", "26": "Drôme", "27": "Eure", "28": "Eure-et-Loir",
    "29": "Finistère", "2A": "Corse-du-Sud", "2B": "Haute-Corse", "30": "Gard",
    "31": "Haute-Garonne", "32": "Gers", "33": "Gironde", "34": "Hérault",
    "35": "Ille-et-Vilaine", "36": "Indre", "37": "Indre-et-Loire", "38": "Isère", "39": "Jura",
    "40": "Landes", "41": "Loir-et-Cher", "42": "Loire", "43": "Haute-Loire",
    "44": "Loire-Atlantique", "45": "Loiret", "46": "Lot", "47": "Lot-et-Garonne",
    "48": "Lozère", "49": "Maine-et-Loire", "50": "Manche", "51": "Marne", "52": "Haute-Marne",
    "53": "Mayenne", "54": "Meurthe-et-Moselle", "55": "Meuse", "56": "Morbihan",
    "57": "Moselle", "58": "Nièvre", "59": "Nord", "60": "Oise", "61": "Orne",
    "62": "Pas-de-Calais", "63": "Puy-de-Dôme", "64": "Pyrénées-Atlantiques",
    "65": "Hautes-Pyrénées", "66": "Pyrénées-Orientales", "67": "Bas-Rhin", "68": "Haut-Rhin",
    "69": "Rhône", "70": "Haute-Saône", "71": "Saône-et-Loire", "72": "Sarthe", "73": "Savoie",
    "74": "Haute-Savoie", "75": "Paris", "76": "Seine-Maritime", "77": "Seine-et-Marne",
    "78": "Yvelines", "79": "Deux-Sèvres", "80": "Somme", "81": "Tarn", "82": "Tarn-et-Garonne",
    "83": "Var", "84": "Vaucluse", "85": "Vendée", "86": "Vienne", "87": "Haute-Vienne",
    "88": "Vosges", "89": "Yonne", "90": "Territoire de Belfort", "91": "Essonne",
    "92": "Hauts-de-Seine", "93": "Seine-Saint-Denis", "94": "Val-de-Marne", "95": "Val-d'Oise",
    "971": "Guadeloupe", "972": "Martinique", "973": "Guyane", "974": "La Réunion",
    "976": "Mayotte",
}  # fmt: skip

COUNTRIES: dict[str, str] = {
    "FR": "France", "DE": "Allemagne", "BE": "Belgique", "ES": "Espagne", "IT": "Italie",
    "PT": "Portugal", "LU": "Luxembourg", "CH": "Suisse", "NL": "Pays-Bas",
    "GB": "Royaume-Uni", "IE": "Irlande", "PL": "Pologne", "RO": "Roumanie",
    "MA": "Maroc", "DZ": "Algérie", "TN": "Tunisie", "SN": "Sénégal", "ML": "Mali",
    "CI": "Côte d'Ivoire", "CM": "Cameroun", "TR": "Turquie", "VN": "Viêt Nam",
    "CN": "Chine", "US": "États-Unis", "CA": "Canada", "BR": "Brésil", "HT": "Haïti",
}  # fmt: skip


def country_code(name: str) -> str | None:
    """The code of a country given by its French name (case-insensitive), as DS looks it up."""
    folded = name.strip().casefold()
    return next((code for code, n in COUNTRIES.items() if n.casefold() == folded), None)


def departement_code(name: str) -> str | None:
    folded = name.strip().casefold()
    return next((code for code, n in DEPARTEMENTS.items() if n.casefold() == folded), None)
