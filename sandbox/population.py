"""The synthetic population: seeded, deterministic, indexed by pivot identity.

``Population.generate(size, seed, reference_month)`` draws households with 24 months of
history ending at the reference month; the same arguments always give the same persons.
Scenario households (``sandbox.scenarios``), when given, come after the generated ones: they
take the next indices and leave every generated person as it would be without them.
Lookups by pivot identity go through a dict keyed on the normalised birth name, first given
name, sex and birth year, so an agency answers in constant time whatever the size.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date

from sandbox.draft import HouseholdDraft, PersonDraft
from sandbox.entitlement import Entitlement
from sandbox.generator import Generator
from sandbox.months import last_day, month_text, parse_month
from sandbox.person import Household, Person, Rights, Truth, normalise
from sandbox.scenario_build import build_drafts
from sandbox.scenario_spec import ScenarioSet

DEFAULT_SEED = 20250601
DEFAULT_MONTH = "2025-06"

LookupKey = tuple[str, str, str, int]


def lookup_key(nom_naissance: str, prenom: str, sexe: str, year: int) -> LookupKey:
    return (
        normalise(nom_naissance),
        normalise(prenom.split()[0]) if prenom.strip() else "",
        sexe,
        year,
    )


@dataclass(frozen=True)
class BirthQuery:
    """What a caller knows of a birth: the year at least, then month, day and place."""

    year: int
    month: int | None = None
    day: int | None = None
    country: str | None = None
    commune: str | None = None


@dataclass(frozen=True)
class Population:
    size: int
    seed: int
    reference_month: str
    persons: tuple[Person, ...]
    households: tuple[Household, ...]
    _index: dict[LookupKey, tuple[int, ...]] = field(repr=False, compare=False)
    _job_seekers: dict[str, int] = field(repr=False, compare=False)
    # Person index → scenario id, for the persons that come from a scenario file.
    scenario_of: Mapping[int, str] = field(default_factory=dict, compare=False)

    @classmethod
    def generate(
        cls,
        size: int = 10_000,
        seed: int = DEFAULT_SEED,
        reference_month: str = DEFAULT_MONTH,
        scenarios: ScenarioSet | None = None,
    ) -> Population:
        """``size`` generated persons, then the scenario persons if ``scenarios`` is given."""
        if size < 1:
            raise ValueError("a population has at least one person")
        ref = parse_month(reference_month)
        generator = Generator(seed, ref)
        generator.run(size)
        Entitlement(
            generator.rng, generator.persons, generator.households, ref, generator.ref_date
        ).run()
        person_drafts, household_drafts = generator.persons, generator.households
        scenario_of: dict[int, str] = {}
        if scenarios is not None:
            # Built after the generator and the entitlement passes have drawn everything, so
            # the random stream, and hence every generated person, is the same as without.
            extra = build_drafts(scenarios, ref, len(person_drafts), len(household_drafts))
            person_drafts = person_drafts + extra.persons
            household_drafts = household_drafts + extra.households
            scenario_of = extra.scenario_of
        persons = tuple(_freeze_person(p) for p in person_drafts)
        households = tuple(_freeze_household(h) for h in household_drafts)
        index = _build_index(persons)
        for number, scenario in scenario_of.items():
            # A homonym would make agencies answer 404 for the generated person too.
            if len(index[_key(persons[number])]) > 1:
                raise ValueError(f"scenario {scenario}: a member has a generated homonym")
        return cls(
            size,
            seed,
            month_text(ref),
            persons,
            households,
            index,
            _seekers(persons),
            scenario_of,
        )

    @property
    def reference(self) -> int:
        """The reference month as a month number (see ``sandbox.months``)."""
        return parse_month(self.reference_month)

    @property
    def reference_date(self) -> date:
        """The day every agency's data describes: the last day of the reference month."""
        return last_day(self.reference)

    def household_of(self, person: Person) -> Household:
        return self.households[person.household]

    def find(
        self, nom_naissance: str, prenoms: Iterable[str], sexe: str, birth: BirthQuery
    ) -> list[Person]:
        """Every person matching the pivot identity; the first given name is enough."""
        first = next(iter(prenoms), "")
        candidates = self._index.get(lookup_key(nom_naissance, first, sexe, birth.year), ())
        found = []
        for index in candidates:
            person = self.persons[index]
            identity = person.identity
            born = identity.date_naissance
            if birth.month is not None and born.month != birth.month:
                continue
            if birth.day is not None and born.day != birth.day:
                continue
            if birth.country is not None and identity.code_pays_naissance != birth.country:
                continue
            if birth.commune is not None and identity.code_commune_naissance != birth.commune:
                continue
            found.append(person)
        return found

    def by_france_travail_id(self, identifiant: str) -> Person | None:
        index = self._job_seekers.get(identifiant.upper())
        return None if index is None else self.persons[index]

    def other_than(self, person: Person, where: Callable[[Person], bool] | None = None) -> Person:
        """A deterministic different person, for faults that answer about someone else."""
        step = max(1, len(self.persons) // 3)
        for offset in range(step, step + len(self.persons)):
            other = self.persons[(person.index + offset) % len(self.persons)]
            if (
                other.household != person.household
                and not other.unknown_to_caf
                and (where is None or where(other))
            ):
                return other
        return person


def _key(person: Person) -> LookupKey:
    identity = person.identity
    return lookup_key(
        identity.nom_naissance, identity.prenoms[0], identity.sexe, identity.date_naissance.year
    )


def _build_index(persons: tuple[Person, ...]) -> dict[LookupKey, tuple[int, ...]]:
    index: dict[LookupKey, list[int]] = {}
    for person in persons:
        index.setdefault(_key(person), []).append(person.index)
    return {k: tuple(v) for k, v in index.items()}


def _seekers(persons: tuple[Person, ...]) -> dict[str, int]:
    return {p.job_seeker.identifiant: p.index for p in persons if p.job_seeker is not None}


def _freeze_person(draft: PersonDraft) -> Person:
    identity = draft.identity
    email = None
    telephone = None
    if draft.job_seeker is not None:
        local = normalise(f"{identity.prenoms[0]}.{identity.nom_naissance}").lower()
        email = local.replace(" ", "-").replace("'", "") + "@example.fr"
        telephone = f"06{10_000_000 + draft.index * 37 % 89_999_999:08d}"
    return Person(
        index=draft.index,
        identity=identity,
        household=draft.household,
        activity=draft.activity,
        streams=tuple(draft.streams),
        missing_months=frozenset(draft.missing_months),
        pensions=tuple(draft.pensions),
        rights=Rights(**draft.rights),
        truth=Truth(**draft.truth),
        job_seeker=draft.job_seeker,
        date_deces=draft.date_deces,
        unknown_to_caf=draft.unknown_to_caf,
        homonym_of=draft.homonym_of,
        email=email,
        telephone=telephone,
    )


def _freeze_household(draft: HouseholdDraft) -> Household:
    assert draft.housing is not None
    return Household(
        id=draft.id,
        kind=draft.kind,
        adults=tuple(draft.adults),
        children=tuple(draft.children),
        situation=draft.situation,
        address=draft.address,
        housing=draft.housing,
        regime="MSA" if draft.regime == "MSA" else "CNAF",
        previous_address=draft.previous_address,
        moved_in=draft.moved_in,
    )
