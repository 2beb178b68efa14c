"""The CNAF's answers read with the agency's own tolerance, over every quotient-familial
staging case: misspelt given names are the person's, another birth date or name is not."""

from __future__ import annotations

from datetime import date

import pytest

from connectors import PivotIdentity
from connectors.cnaf import _about, parse_family_quotient
from connectors.records import Provenance
from connectors.resemblance import close_given_name, edit_distance, phonetic_key, resembles
from tests.connectors.conftest import NOW
from tests.connectors.staging import PAYLOADS, Case, load_cases
from tests.connectors.test_api_particulier_contract import identity_of
from tests.services import unavailable

OPERATION = "api_particulier_v3_cnav_quotient_familial_with_civility"
QF_CASES = [c for c in load_cases(OPERATION) if c.status == 200] if PAYLOADS.is_dir() else []
# Answers about someone else: the claimant born 1978 for 1987; BROWN Marge for SIMPSON Marge.
ANOTHER_PERSON = {
    "200-couple-2_enfants-qf_msa_150_sept2024.yaml",
    "200-etranger-celibataire-2_enfants-qf_cnaf_300_sept2024.yaml",
}
# The agency's tolerance for given names, as its staging set shows it.
TOLERATED = {
    "200-identite-cas-limite-erreur-phonetique.yaml",
    "200-identite-cas-limite-faute-de-frappe.yaml",
}
PROVENANCE = Provenance("CNAF", "api_particulier.dss.quotient_familial", NOW.date(), NOW)


def test_the_staging_set_has_both_kinds() -> None:
    if not QF_CASES:
        unavailable(f"staging cases not found at {PAYLOADS.name} beside the repository")
    files = {c.file for c in QF_CASES}
    assert ANOTHER_PERSON <= files and TOLERATED <= files


@pytest.mark.parametrize("case", QF_CASES, ids=lambda c: c.file)
def test_every_quotient_familial_staging_answer(case: Case) -> None:
    data = case.body()["data"]
    qf = parse_family_quotient(data, PROVENANCE)
    identity = identity_of({k: v for k, v in case.params.items() if k not in ("annee", "mois")})
    # A few cases ask by a partial identity, which the gateway never sends: their answer is
    # still read whole, with the month of its computation.
    if identity is not None:
        assert _about(identity, qf) is (case.file not in ANOTHER_PERSON)
    expected = data["quotient_familial"]
    assert (qf.computed_year, qf.computed_month) == (
        expected.get("annee_calcul"),
        expected.get("mois_calcul"),
    )


LEFEBVRE = PivotIdentity("LEFEBVRE", ("ALEXIS",), date(1982, 12, 27), "F", "99100", "08480")


@pytest.mark.parametrize(
    ("birth_name", "given_names", "born", "sex", "same"),
    [
        ("LEFEBVRE", "ALEXIS GÉRÔME", date(1982, 12, 27), "F", True),
        ("Lefebvre", "alexis", date(1982, 12, 27), None, True),
        ("LEFEBVRE", "ALEXI", date(1982, 12, 27), "F", True),  # one letter dropped
        ("LEFEBVRE", "ALEIXS", date(1982, 12, 27), "F", True),  # two letters swapped
        ("LEFEBVRE", "ALEXIS", date(1982, 12, 27), "M", True),  # exact name: sex not needed
        ("LEFEBVRE", "ALEXIA", date(1982, 12, 27), "M", False),  # a twin brother or sister
        ("LEFEBVRE", "ALEXIS", date(1982, 12, 28), "F", False),  # another birth date
        ("LEFEVRE", "ALEXIS", date(1982, 12, 27), "F", False),  # another birth name
        ("LEFEBVRE", "MARIE", date(1982, 12, 27), "F", False),  # another given name
        ("LEFEBVRE", "ALEXIS", None, "F", False),  # no birth date to compare
    ],
)
def test_resemblance(
    birth_name: str, given_names: str, born: date | None, sex: str | None, same: bool
) -> None:
    assert resembles(LEFEBVRE, birth_name, given_names, born, sex) is same


def test_given_name_closeness() -> None:
    assert close_given_name("JEN-PHILIPE", "JEAN-PHILIPPE")  # same sound
    assert close_given_name("GRÉÔME", "GÉRÔME")
    assert not close_given_name("LEA", "LEO")  # short names: an edit is another name
    assert not close_given_name("PAUL", "PAULINE")
    assert phonetic_key("Raphaël") == phonetic_key("RAFAEL")
    assert edit_distance("ALEIXS", "ALEXIS") == 1
    assert edit_distance("", "ABC") == 3
