"""The CNOUS's student grant status (API Particulier v3, "statut étudiant boursier") and the
law's ``boursier``, which reads the same rule."""

from __future__ import annotations

from dataclasses import fields
from datetime import date
from typing import Any

import httpx

from sandbox import RunningSandbox
from sandbox.agencies.cnous_view import ECHELONS, GRANT_MONTHS, grant_from, holds_grant, rentree
from sandbox.draft import HouseholdDraft, PersonDraft
from sandbox.generator import Generator
from sandbox.law import _simulation, housing_aid_by_law
from sandbox.months import month_of, month_text, parse_month
from sandbox.person import Address, Housing, Identity, Person, Rights
from sandbox.population import DEFAULT_MONTH, DEFAULT_SEED, Population
from tests.sandbox.conftest import RECIPIENT, particulier, persons

IDENTITE = "/v3/cnous/etudiant_boursier/identite"
FRANCE_CONNECT = "/v3/cnous/etudiant_boursier/france_connect"
REF = parse_month("2025-06")
Params = dict[str, str | int | list[str]]
# The spec's 200 schema: every property required, no other allowed (``identite`` in the
# civility mode only).
SPEC_FIELDS: dict[str, Any] = {
    "est_boursier": bool,
    "periode_versement_bourse": {"date_rentree": str, "duree": (int, float)},
    "etablissement_etudes": {"nom_commune": str, "nom_etablissement": str},
    "echelon_bourse": {"echelon": str, "echelon_bourse_regionale_provisoire": bool},
    "email": str,
}
SPEC_IDENTITE: dict[str, Any] = {
    "nom": str,
    "prenoms": list,
    "date_naissance": str,
    "nom_commune_naissance": str,
    "sexe": str,
}


def _params(identity: Identity) -> Params:
    """The CNOUS's civility parameters: every given name, the birth commune or, for a person
    born abroad, the country's code in its place."""
    place = identity.code_commune_naissance or identity.code_pays_naissance
    return {
        "recipient": RECIPIENT,
        "nomNaissance": identity.nom_naissance,
        "prenoms[]": list(identity.prenoms),
        "anneeDateNaissance": identity.date_naissance.year,
        "moisDateNaissance": identity.date_naissance.month,
        "jourDateNaissance": identity.date_naissance.day,
        "sexeEtatCivil": identity.sexe,
        "codeCogInseeCommuneNaissance": place,
    }


def _named(population: Population, person: Person) -> bool:
    """Whether the civility names this person alone (homonyms answer 404)."""
    identity = person.identity
    key = (identity.nom_naissance, identity.prenoms[0], identity.date_naissance.year)
    return (
        sum(
            (p.identity.nom_naissance, p.identity.prenoms[0], p.identity.date_naissance.year) == key
            and p.identity.sexe == identity.sexe
            for p in population.persons
        )
        == 1
    )


def _students(sandbox: RunningSandbox, holder: bool, count: int) -> list[Person]:
    population = sandbox.population
    found = [
        p
        for p in population.persons
        if p.activity == "etudiant"
        and holds_grant(p, population.reference) == holder
        and population.household_of(p).kind == "student"
        and _named(population, p)
    ]
    assert len(found) >= count
    return found[:count]


def _check_spec(data: dict[str, object], with_identity: bool) -> None:
    expected: dict[str, Any] = {
        **SPEC_FIELDS,
        **({"identite": SPEC_IDENTITE} if with_identity else {}),
    }
    assert set(data) == set(expected)
    for key, kind in expected.items():
        if isinstance(kind, dict):
            block = data[key]
            assert isinstance(block, dict) and set(block) == set(kind)
            for name, inner in kind.items():
                assert isinstance(block[name], inner), (key, name)
        else:
            assert isinstance(data[key], kind), key


def _not_found(answer: httpx.Response) -> None:
    assert answer.status_code == 404, answer.text
    error = answer.json()["errors"][0]
    assert (error["code"], error["title"], error["meta"]) == (
        "26003",
        "Entité non trouvée",
        {"provider": "CNOUS"},
    )
    assert error["detail"] == (
        "Aucun étudiant boursier n'a pu être trouvé avec les critères de recherche fournis."
    )


def test_a_grant_holder_answers_every_field_of_the_spec(
    http: httpx.Client, sandbox: RunningSandbox
) -> None:
    url = sandbox.urls["api_particulier"] + IDENTITE
    for person in _students(sandbox, True, 3):
        answer = http.get(url, params=_params(person.identity), headers=particulier(sandbox))
        assert answer.status_code == 200, answer.text
        body = answer.json()
        assert body["links"] == {} and body["meta"] == {}
        data = body["data"]
        _check_spec(data, with_identity=True)
        assert data["est_boursier"] is True
        # The academic year covering June 2025, paid over ten months.
        assert data["periode_versement_bourse"] == {"date_rentree": "2024-09-01", "duree": 10}
        assert data["echelon_bourse"]["echelon"] in ECHELONS
        assert data["echelon_bourse"]["echelon_bourse_regionale_provisoire"] is False
        commune = data["etablissement_etudes"]["nom_commune"]
        assert data["etablissement_etudes"]["nom_etablissement"] == f"Université de {commune}"
        email = data["email"]
        assert email.endswith("@example.org")
        assert person.identity.nom_naissance.lower() not in email
        identity = person.identity
        assert data["identite"]["nom"] == identity.nom_naissance
        assert data["identite"]["prenoms"] == list(identity.prenoms)
        assert data["identite"]["date_naissance"] == identity.date_naissance.isoformat()
        assert data["identite"]["sexe"] == identity.sexe
        # The same answer without the sex (optional in the spec) or with one given name.
        lean = {k: v for k, v in _params(identity).items() if k != "sexeEtatCivil"}
        lean["prenoms[]"] = identity.prenoms[0]
        again = http.get(url, params=lean, headers=particulier(sandbox))
        assert again.status_code == 200 and again.json()["data"] == data


def test_a_person_born_abroad_is_named_without_the_commune(
    http: httpx.Client, sandbox: RunningSandbox
) -> None:
    url = sandbox.urls["api_particulier"] + IDENTITE
    population = sandbox.population
    abroad = next(
        p
        for p in population.persons
        if p.activity == "etudiant"
        and p.identity.code_commune_naissance is None
        and holds_grant(p, population.reference)
        and _named(population, p)
    )
    params = _params(abroad.identity)
    answer = http.get(url, params=params, headers=particulier(sandbox))
    assert answer.status_code == 200, answer.text
    del params["codeCogInseeCommuneNaissance"]
    left_out = http.get(url, params=params, headers=particulier(sandbox))
    assert left_out.status_code == 200 and left_out.json() == answer.json()


def test_a_non_student_and_a_non_holder_get_the_cnous_404(
    http: httpx.Client, sandbox: RunningSandbox
) -> None:
    url = sandbox.urls["api_particulier"] + IDENTITE
    worker = persons(http, sandbox, "salarie", 1)[0]
    index = worker["index"]
    assert isinstance(index, int)
    identity = sandbox.population.persons[index].identity
    _not_found(http.get(url, params=_params(identity), headers=particulier(sandbox)))
    student = _students(sandbox, False, 1)[0]
    _not_found(http.get(url, params=_params(student.identity), headers=particulier(sandbox)))
    # The MESRI still knows the student without a grant.
    mesri = sandbox.urls["api_particulier"] + "/v3/mesri/statut_etudiant/identite"
    first_name = {**_params(student.identity), "prenoms[]": student.identity.prenoms[0]}
    assert http.get(mesri, params=first_name, headers=particulier(sandbox)).status_code == 200
    unknown = {**_params(student.identity), "nomNaissance": "PERSONNE"}
    _not_found(http.get(url, params=unknown, headers=particulier(sandbox)))


def test_errors_answer_like_the_mesri(http: httpx.Client, sandbox: RunningSandbox) -> None:
    url = sandbox.urls["api_particulier"] + IDENTITE
    params = _params(_students(sandbox, True, 1)[0].identity)
    headers = particulier(sandbox)
    assert http.get(url, params=params).status_code == 401
    no_recipient = {k: v for k, v in params.items() if k != "recipient"}
    answer = http.get(url, params=no_recipient, headers=headers)
    assert answer.status_code == 422 and answer.json()["errors"][0]["code"] == "00203"
    bad_recipient = http.get(url, params={**params, "recipient": "123"}, headers=headers)
    assert bad_recipient.status_code == 422
    assert bad_recipient.json()["errors"][0]["code"] == "00210"
    for name, value in (
        ("anneeDateNaissance", "19x0"),
        ("moisDateNaissance", ""),
        ("jourDateNaissance", "32"),
        ("sexeEtatCivil", "X"),
        ("prenoms[]", ["A", "B", "C", "D"]),
        ("codeCogInseeCommuneNaissance", "7511"),
    ):
        answer = http.get(url, params={**params, name: value}, headers=headers)
        assert answer.status_code == 422, (name, answer.text)
        assert answer.json()["errors"][0]["title"] == "Entité non traitable"
    # The birth commune's name with its département is not served: said, not guessed.
    by_name = {k: v for k, v in params.items() if k != "codeCogInseeCommuneNaissance"}
    by_name |= {"nomCommuneNaissance": "Lyon", "codeCogInseeDepartementNaissance": "69"}
    assert http.get(url, params=by_name, headers=headers).status_code == 422


def test_france_connect_answers_for_the_token_s_owner(
    http: httpx.Client, sandbox: RunningSandbox
) -> None:
    base = sandbox.urls["api_particulier"]
    url = base + FRANCE_CONNECT
    holder = _students(sandbox, True, 1)[0]
    other = _students(sandbox, False, 1)[0]
    by_civility = http.get(
        base + IDENTITE, params=_params(holder.identity), headers=particulier(sandbox)
    ).json()["data"]
    for person, status in ((holder, 200), (other, 404)):
        fc = http.post(
            base + "/_sandbox/france_connect/tokens", json={"person": person.index}
        ).json()
        headers = {"Authorization": "Bearer " + fc["access_token"]}
        answer = http.get(url, params={"recipient": RECIPIENT}, headers=headers)
        if status == 404:
            _not_found(answer)
            continue
        assert answer.status_code == 200, answer.text
        data = answer.json()["data"]
        _check_spec(data, with_identity=False)  # the spec's FranceConnect answer has no identite
        assert data == {k: v for k, v in by_civility.items() if k != "identite"}
        assert http.get(url, headers=headers).status_code == 422  # no recipient
    assert (
        http.get(url, params={"recipient": RECIPIENT}, headers=particulier(sandbox)).status_code
        == 401
    )


def test_about_45_percent_of_enrolled_students_hold_a_grant() -> None:
    """On the default population (seed, size and month): the share of grant holders among
    the students the MESRI lists enrolled for the academic year covering the month."""
    ref = parse_month(DEFAULT_MONTH)
    generator = Generator(DEFAULT_SEED, ref)
    generator.run(10_000)
    opening = date(rentree(ref) // 12, 9, 1)
    enrolled = [
        p
        for p in generator.persons
        if p.activity == "etudiant" and (opening - p.identity.date_naissance).days >= 17 * 365
    ]
    holders = [p for p in enrolled if holds_grant(p, ref)]
    assert len(enrolled) > 100
    assert 0.30 <= len(holders) / len(enrolled) <= 0.60
    assert all(p.activity == "etudiant" for p in generator.persons if grant_from(p) is not None)


def _draft(person: Person) -> PersonDraft:
    rights = {
        f.name: getattr(person.rights, f.name)
        for f in fields(Rights)
        if getattr(person.rights, f.name) is not None
    }
    return PersonDraft(
        person.index,
        person.identity,
        person.household,
        person.activity,
        streams=list(person.streams),
        missing_months=set(person.missing_months),
        pensions=list(person.pensions),
        rights=rights,
    )


def test_the_law_s_boursier_matches_the_endpoint(
    http: httpx.Client, sandbox: RunningSandbox
) -> None:
    population = sandbox.population
    url = sandbox.urls["api_particulier"] + IDENTITE
    sample = _students(sandbox, True, 4) + _students(sandbox, False, 4)
    drafts = [_draft(p) for p in population.persons]
    households = []
    for person in sample:
        h = population.household_of(person)
        households.append(
            HouseholdDraft(
                h.id,
                h.kind,
                list(h.adults),
                list(h.children),
                h.situation,
                h.address,
                h.regime,
                housing=h.housing,
            )
        )
    simulation, order = _simulation(drafts, households, population.reference, housing_aid=False)
    rows = {index: row for row, index in enumerate(order)}
    months = range(population.reference - 11, population.reference + 1)
    fed = {m: simulation.calculate("boursier", month_text(m)) for m in months}
    for person in sample:
        answer = http.get(url, params=_params(person.identity), headers=particulier(sandbox))
        if answer.status_code == 404:
            paid: set[int] = set()
        else:
            period = answer.json()["data"]["periode_versement_bourse"]
            start = month_of(date.fromisoformat(period["date_rentree"]))
            paid = set(range(start, start + int(period["duree"])))
        # The endpoint describes the academic year covering the reference month: from its
        # September to the reference month, the law's months paid are the endpoint's.
        for month in months:
            if month >= rentree(population.reference):
                assert bool(fed[month][rows[person.index]]) == (month in paid), (person, month)


def _student(index: int) -> PersonDraft:
    identity = Identity("TEST", ("Camille",), date(2004, 3, 1), "F", "99100", "69123")
    return PersonDraft(index, identity, index, "etudiant")


def _housing_aid(index: int, reference: int) -> float:
    """The housing aid by law of a 21-year-old student with no income, alone in a 500 €
    flat in Lyon."""
    persons = [_student(i) for i in range(index + 1)]
    household = HouseholdDraft(
        index,
        "student",
        [index],
        [],
        "celibataire",
        Address(1, "RUE DE LA REPUBLIQUE", "69123"),
        housing=Housing("locataire", 500.0, 0.0, REF, None, None),
    )
    return housing_aid_by_law(persons, [household], reference)[index]


def test_a_grant_holder_s_housing_aid_counts_the_lower_flat_amount() -> None:
    holder = next(i for i in range(100) if grant_from(_student(i)) is not None)
    other = next(i for i in range(100) if grant_from(_student(i)) is None)
    assert holds_grant(_student(holder), REF) and not holds_grant(_student(other), REF)
    # June, a month paid: the grant holder's resource floor is lower, the aid higher.
    assert _housing_aid(holder, REF) > _housing_aid(other, REF) > 0
    # July, the academic year's grant is not paid: the same aid.
    july = REF + 1
    assert month_text(july) == "2025-07" and GRANT_MONTHS == 10
    assert _housing_aid(holder, july) == _housing_aid(other, july)
