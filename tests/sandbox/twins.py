"""A population with a twin in it: someone sharing a person's name, given names, birth date
and sex, born elsewhere. Generated homonyms differ by birth date, so only such a pair makes
an identification by traits ambiguous."""

from __future__ import annotations

import dataclasses

from sandbox.person import Person
from sandbox.population import Population, lookup_key

ELSEWHERE = ("99134", None)  # born in Spain


def with_twin(population: Population, of: Person, into: Person) -> Population:
    """``population`` where ``into`` takes the traits of ``of``, born elsewhere."""
    mine = of.identity
    assert (mine.code_pays_naissance, mine.code_commune_naissance) != ELSEWHERE
    twin = dataclasses.replace(
        into.identity,
        nom_naissance=mine.nom_naissance,
        prenoms=mine.prenoms,
        date_naissance=mine.date_naissance,
        sexe=mine.sexe,
        nom_usage=None,
        code_pays_naissance=ELSEWHERE[0],
        code_commune_naissance=ELSEWHERE[1],
    )
    persons = list(population.persons)
    persons[into.index] = dataclasses.replace(into, identity=twin)
    index: dict[tuple[str, str, str, int], list[int]] = {}
    for person in persons:
        who = person.identity
        key = lookup_key(who.nom_naissance, who.prenoms[0], who.sexe, who.date_naissance.year)
        index.setdefault(key, []).append(person.index)
    return dataclasses.replace(
        population,
        persons=tuple(persons),
        _index={k: tuple(v) for k, v in index.items()},
    )
