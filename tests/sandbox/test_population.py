from __future__ import annotations

from datetime import date

from sandbox import BirthQuery, Population
from sandbox.gazetteer import FRANCE
from sandbox.person import normalise

POP = Population.generate(10_000)


def test_same_seed_same_persons() -> None:
    again = Population.generate(10_000)
    assert again.persons == POP.persons
    assert again.households == POP.households
    other = Population.generate(10_000, seed=7)
    assert other.persons != POP.persons


def test_size() -> None:
    small = Population.generate(1234, seed=3)
    assert len(small.persons) == 1234
    assert len(POP.persons) == 10_000
    assert [p.index for p in POP.persons] == list(range(10_000))


def test_households_are_consistent() -> None:
    for household in POP.households:
        assert household.adults
        for index in household.members:
            assert POP.persons[index].household == household.id
    kinds = {h.kind for h in POP.households}
    assert {"single", "couple", "couple_children", "single_parent", "student"} <= kinds
    assert {"pensioner_single", "pensioner_couple"} <= kinds


def test_rsa_non_take_up_is_about_a_third() -> None:
    eligible = [p for p in POP.persons if p.truth.rsa_eligible]
    assert len(eligible) > 200
    share = sum(p.truth.rsa_non_claimant for p in eligible) / len(eligible)
    assert 0.25 < share < 0.42
    for person in eligible:
        assert (person.rights.rsa is None) == person.truth.rsa_non_claimant


def test_aspa_non_take_up_is_about_half() -> None:
    eligible = [p for p in POP.persons if p.truth.aspa_eligible]
    assert len(eligible) > 100
    share = sum(p.truth.aspa_non_claimant for p in eligible) / len(eligible)
    assert 0.38 < share < 0.62
    ref = POP.reference_date
    for person in eligible:
        born = person.identity.date_naissance
        assert ref.year - born.year >= 65


def test_edge_cases_are_present() -> None:
    persons = POP.persons
    assert any(p.date_deces is not None for p in persons)
    assert any(p.unknown_to_caf for p in persons)
    assert any(p.missing_months for p in persons)
    assert any(p.job_seeker is not None for p in persons)
    homonyms = [p for p in persons if p.homonym_of is not None]
    assert homonyms
    for person in homonyms:
        other = persons[person.homonym_of or 0].identity
        me = person.identity
        assert normalise(other.nom_naissance) == normalise(me.nom_naissance)
        assert other.prenoms[0] == me.prenoms[0]
        assert other.date_naissance != me.date_naissance


def test_small_population_still_has_edge_cases() -> None:
    tiny = Population.generate(40, seed=11)
    assert any(p.date_deces for p in tiny.persons)
    assert any(p.unknown_to_caf for p in tiny.persons)
    assert any(p.missing_months for p in tiny.persons)


def test_pivot_identities_are_well_formed() -> None:
    for person in POP.persons[:2000]:
        identity = person.identity
        assert 1 <= len(identity.prenoms) <= 3
        assert identity.sexe in ("M", "F")
        if identity.code_pays_naissance == FRANCE:
            assert identity.code_commune_naissance is not None
            assert len(identity.code_commune_naissance) == 5
        else:
            assert identity.code_pays_naissance.startswith("99")
            assert identity.code_commune_naissance is None


def test_lookup_is_normalised_and_uses_the_first_given_name() -> None:
    person = next(p for p in POP.persons if any(c in "ÉÈÊÀÇÔÏËÎ" for c in p.identity.prenoms[0]))
    identity = person.identity
    birth = BirthQuery(
        identity.date_naissance.year,
        identity.date_naissance.month,
        identity.date_naissance.day,
        identity.code_pays_naissance,
        identity.code_commune_naissance,
    )
    found = POP.find(
        normalise(identity.nom_naissance).lower(),
        [normalise(identity.prenoms[0])],
        identity.sexe,
        birth,
    )
    assert person in found
    assert POP.find("NOBODY", ["X"], "M", BirthQuery(1990)) == []


def test_stream_month_arithmetic() -> None:
    ref = POP.reference
    assert POP.reference_month == "2025-06"
    assert POP.reference_date == date(2025, 6, 30)
    losers = [p for p in POP.persons if p.job_seeker and p.activity == "salarie"]
    assert losers
    person = losers[0]
    assert any(s.nature == "allocation_chomage" and s.pays_in(ref) for s in person.streams)


def test_the_asf_is_never_paid_before_the_eldest_child_was_born() -> None:
    paid = 0
    for household in POP.households:
        for adult in household.adults:
            asf = POP.persons[adult].rights.asf
            if asf is None:
                continue
            paid += 1
            births = [POP.persons[c].identity.date_naissance for c in household.children]
            assert births, "an ASF without a child"
            assert asf.since >= min(births).replace(day=1)
    assert paid > 0
