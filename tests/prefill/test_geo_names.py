"""The départements' and communes' names a person reads (« Seine-Saint-Denis (93) »,
« Lyon (69) »)."""

from __future__ import annotations

import pytest

from prefill import geo


def test_every_departement_has_its_name() -> None:
    names = geo.departement_names()
    assert len(names) == 101  # 96 in metropolitan France, 5 overseas
    assert all(geo.DEPARTEMENT.fullmatch(code) for code in names)
    assert names["93"] == "Seine-Saint-Denis" and names["2A"] == "Corse-du-Sud"
    assert names["974"] == "La Réunion"


def test_a_label_names_the_departement_and_keeps_its_code() -> None:
    assert geo.departement_label("93") == "Seine-Saint-Denis (93)"
    assert geo.departement_label("988") == "988"  # a collectivité, not a département


def test_communes_arrondissements_and_former_communes_have_their_names() -> None:
    communes = geo.communes()
    assert len(communes) > 34_000  # COG 2025: 34,875 communes, with arrondissements and former ones
    assert all(geo.COMMUNE_CODE.fullmatch(code) for code in communes)
    # A département, or an overseas collectivité (975, 977, 978, 984–989), which has no
    # département's name.
    assert all(
        c.departement in geo.departement_names() or geo.DEPARTEMENT.fullmatch(c.departement)
        for c in communes.values()
    )
    assert geo.commune_label("69123") == "Lyon (69)"
    assert geo.commune_label("75101") == "Paris 1er Arrondissement (75)"
    assert geo.commune_label("2A004") == "Ajaccio (2A)"
    assert geo.commune_label("97411") == "Saint-Denis (974)"
    # A commune merged into a new one, still listed as a delegated commune: a birth there is
    # recorded under its own code.
    assert geo.commune_label("50129") == (
        "Cherbourg-Octeville, aujourd'hui Cherbourg-en-Cotentin (50)"
    )
    assert geo.commune_label("99999") is None


def test_every_commune_of_the_sandbox_has_its_name() -> None:
    from sandbox.gazetteer import COMMUNES

    assert all(geo.commune_label(c.cog) for c in COMMUNES)


def test_the_generator_reads_insee_s_own_file() -> None:
    """INSEE's file leaves a delegated commune's département empty: its commune's is taken."""
    import importlib.util

    path = geo.DATA / "make_communes.py"
    spec = importlib.util.spec_from_file_location("make_communes", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    lines = [
        "TYPECOM,COM,REG,DEP,CTCD,ARR,TNCC,NCC,NCCENR,LIBELLE,CAN,COMPARENT",
        "COM,01015,84,01,01D,011,1,ARBOYS EN BUGEY,Arboys en Bugey,Arboys en Bugey,0108,",
        "COMD,01015,,,,,1,ARBIGNIEU,Arbignieu,Arbignieu,,01015",
        "COMD,01340,,,,,1,SAINT BOIS,Saint-Bois,Saint-Bois,,01015",
        "ARM,69381,84,69,69D,691,0,LYON 1ER ARRONDISSEMENT,Lyon 1er Arrondissement,"
        "Lyon 1er Arrondissement,,69123",
    ]
    assert list(module.rows(lines)) == [
        ("01015", "Arbignieu", "Arboys en Bugey", "01"),
        ("01340", "Saint-Bois", "Arboys en Bugey", "01"),
        ("69381", "Lyon 1er Arrondissement", "", "69"),
    ]


@pytest.mark.parametrize(
    ("code", "label"),
    [
        ("98735", "Papeete (987)"),
        ("98818", "Nouméa (988)"),
        ("97502", "Saint-Pierre (975)"),
        ("97701", "Saint-Barthélemy (977)"),
        ("98613", "Uvea (986)"),
    ],
)
def test_the_communes_of_the_collectivites_d_outre_mer_have_their_names(
    code: str, label: str
) -> None:
    assert geo.commune_label(code) == label


def test_the_generator_adds_the_collectivites_communes_from_the_package() -> None:
    import importlib.util

    spec = importlib.util.spec_from_file_location("make_communes", geo.DATA / "make_communes.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    communes = [
        {"code": "98735", "nom": "Papeete", "departement": "987", "zone": "com",
         "type": "commune-actuelle"},
        {"code": "69123", "nom": "Lyon", "departement": "69", "zone": "metro",
         "type": "commune-actuelle"},
    ]  # fmt: skip
    assert list(module.overseas(communes)) == [("98735", "Papeete", "", "987")]
