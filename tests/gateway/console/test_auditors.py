"""Who may audit: the catalogue's auditors.yaml, loaded and checked with the rest."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from exchange.catalogue import FIELDS
from policies import SHIPPED, CatalogueError, load_catalogue

DPO_SIRET = "22990001400015"
CAF_SIRET = "53499001500024"
TOWN_SIRET = "21990101400015"  # the sandbox's agent of an organisation that does not audit


def test_the_shipped_catalogue_lists_the_sandbox_auditors() -> None:
    catalogue = load_catalogue(known_fields=frozenset(FIELDS))
    assert set(catalogue.auditors) == {DPO_SIRET, CAF_SIRET}
    dpo = catalogue.auditors[DPO_SIRET]
    assert catalogue.client_may_use(dpo.client, "audit_control")
    assert dpo.legal_basis.href.startswith("https://")
    assert catalogue.auditor(DPO_SIRET, "camille.martin@departement-demo.test") == dpo
    assert catalogue.auditor(DPO_SIRET, "someone@elsewhere.test") is None  # its domains only
    assert catalogue.auditor(DPO_SIRET, None) is None
    assert catalogue.auditor(CAF_SIRET, None) is not None  # no domain named: any agent
    assert catalogue.auditor(TOWN_SIRET, "lucas.bernard@commune-demo.test") is None


def _catalogue(tmp_path: Path, auditors: str | None) -> Path:
    root = tmp_path / "catalogue"
    shutil.copytree(SHIPPED, root)
    if auditors is None:
        (root / "auditors.yaml").unlink()
    else:
        (root / "auditors.yaml").write_text(auditors, encoding="utf-8")
    return root


def test_without_the_file_nobody_audits(tmp_path: Path) -> None:
    catalogue = load_catalogue(_catalogue(tmp_path, None))
    assert dict(catalogue.auditors) == {}
    assert catalogue.auditor(DPO_SIRET, None) is None


BASIS = "legal_basis: {title: RGPD, href: 'https://eur-lex.europa.eu/eli/reg/2016/679/oj'}"


@pytest.mark.parametrize(
    ("entry", "where"),
    [
        (f"siret: '22990001400016'\n    label: X\n    client: demo-auditor\n    {BASIS}", "siret"),
        (f"siret: '{DPO_SIRET}'\n    label: X\n    client: nobody\n    {BASIS}", "client"),
        (f"siret: '{DPO_SIRET}'\n    label: ' '\n    client: demo-auditor\n    {BASIS}", "label"),
        (
            f"siret: '{DPO_SIRET}'\n    label: X\n    client: demo-auditor\n"
            "    legal_basis: {title: RGPD, href: 'http://example.test'}",
            "legal_basis.href",
        ),
        (
            f"siret: '{DPO_SIRET}'\n    label: X\n    client: demo-auditor\n    {BASIS}\n"
            "    email_domains: ['Not A Domain']",
            "email_domains[0]",
        ),
        (
            f"siret: '{DPO_SIRET}'\n    label: X\n    client: demo-auditor\n    {BASIS}\n"
            "    role: y",
            "role",
        ),
    ],
)
def test_a_wrong_auditor_is_refused_naming_its_key(tmp_path: Path, entry: str, where: str) -> None:
    with pytest.raises(CatalogueError) as refused:
        load_catalogue(_catalogue(tmp_path, f"auditors:\n  - {entry}\n"))
    assert refused.value.file == "auditors.yaml"
    assert refused.value.path == f"auditors[0].{where}"


def test_an_organisation_is_listed_once(tmp_path: Path) -> None:
    one = f"  - siret: '{DPO_SIRET}'\n    label: X\n    client: demo-auditor\n    {BASIS}\n"
    with pytest.raises(CatalogueError, match="duplicate organisation"):
        load_catalogue(_catalogue(tmp_path, "auditors:\n" + one + one))
