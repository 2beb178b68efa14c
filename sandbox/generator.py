"""People and their incomes: the first pass of population generation.

Draws households (singles, couples, families, students, pensioners), gives every adult an
activity and the income streams that follow from it over the 24-month window, including
the life events proactive triggers look for (job loss, resource drop, end of unemployment
benefits). Housing and rights are decided afterwards from these incomes (``entitlement``).
"""

from __future__ import annotations

import random
from datetime import date, timedelta

from sandbox.draft import HouseholdDraft, PersonDraft
from sandbox.gazetteer import (
    COMMUNES,
    COUNTRIES,
    FEMALE_NAMES,
    FRANCE,
    FRANCE_TRAVAIL_SIRET,
    MALE_NAMES,
    PENSION_FUNDS,
    STREETS,
    SURNAMES,
    siret,
)
from sandbox.months import add_years, age_on, first_day, last_day, month_of
from sandbox.person import (
    TURNOVER_CATEGORIES,
    Activity,
    Address,
    Identity,
    JobSeeker,
    Pension,
    Sex,
    Situation,
    Stream,
)

# Relative weights of household kinds, close to INSEE's household structure.
KINDS: tuple[tuple[str, int], ...] = (
    ("single", 24),
    ("couple", 12),
    ("couple_children", 20),
    ("single_parent", 9),
    ("student", 9),
    ("pensioner_single", 16),
    ("pensioner_couple", 10),
)
_KIND_NAMES = [k for k, _ in KINDS]
_KIND_WEIGHTS = [w for _, w in KINDS]
_EMPLOYERS = tuple(siret(3100000000000 + n * 7919) for n in range(300))
_LETTERS = "ABCDEFGHJK"
_FUNDS = dict(PENSION_FUNDS)
_WORKING: list[Activity] = ["salarie", "chomeur", "independant", "inactif"]
_COUPLES: list[Situation] = ["marie", "pacse", "concubin"]
_LONE_PARENTS: list[Situation] = ["celibataire", "divorce"]
_WIDOWS: list[Situation] = ["veuf", "celibataire", "divorce"]


class Generator:
    """Draws households one after the other from a single seeded random stream."""

    def __init__(self, seed: int, reference_month: int) -> None:
        self.rng = random.Random(seed)
        self.ref = reference_month
        self.ref_date = last_day(reference_month)
        self.first = reference_month - 23
        self.persons: list[PersonDraft] = []
        self.households: list[HouseholdDraft] = []

    # --- households -----------------------------------------------------------------------

    def run(self, size: int) -> None:
        rng = self.rng
        while len(self.persons) < size:
            kind = rng.choices(_KIND_NAMES, _KIND_WEIGHTS)[0]
            room = size - len(self.persons)
            if kind in ("couple", "pensioner_couple") and room < 2:
                kind = "single"
            if kind == "couple_children" and room < 3:
                kind = "single"
            if kind == "single_parent" and room < 2:
                kind = "single"
            self._household(kind, room)

    def _household(self, kind: str, room: int) -> None:
        rng = self.rng
        hid = len(self.households)
        address = self._address()
        situation: Situation = "celibataire"
        household = HouseholdDraft(hid, kind, [], [], situation, address)
        self.households.append(household)
        if kind in ("couple", "couple_children", "pensioner_couple"):
            ages = (66, 92) if kind == "pensioner_couple" else (25, 62)
            first_age = rng.randint(*ages)
            surname = rng.choice(SURNAMES)
            situation = rng.choices(_COUPLES, [55, 25, 20])[0]
            if kind == "pensioner_couple":
                situation = "marie"
            self._adult(household, "M", first_age, surname)
            wife_age = max(ages[0] if kind != "couple" else 22, first_age + rng.randint(-6, 3))
            married = situation == "marie" and rng.random() < 0.6
            self._adult(household, "F", wife_age, None, usage=surname if married else None)
            household.situation = situation
            youngest = min(first_age, wife_age)
            if kind == "couple_children":
                self._children(household, surname, youngest, rng.randint(1, 4), room - 2)
        elif kind == "single_parent":
            sex: Sex = "F" if rng.random() < 0.85 else "M"
            age = rng.randint(22, 55)
            surname = rng.choice(SURNAMES)
            self._adult(household, sex, age, surname)
            household.situation = rng.choices(_LONE_PARENTS, [60, 40])[0]
            self._children(household, surname, age, rng.randint(1, 3), room - 1)
        elif kind == "student":
            self._adult(household, self._sex(), rng.randint(18, 25), None, activity="etudiant")
        elif kind == "pensioner_single":
            age = rng.randint(62, 97)
            self._adult(household, "F" if rng.random() < 0.6 else "M", age, None)
            household.situation = rng.choices(_WIDOWS, [50, 25, 25])[0]
        else:
            age = rng.randint(25, 64)
            self._adult(household, self._sex(), age, None)
            if age > 35 and rng.random() < 0.3:
                household.situation = "divorce"

    def _children(
        self, household: HouseholdDraft, surname: str, parent_age: int, count: int, room: int
    ) -> None:
        rng = self.rng
        for _ in range(max(1, min(count, room))):
            age_days = rng.randint(0, max(1, min(parent_age - 18, 19)) * 365)
            born = self.ref_date - timedelta(days=age_days)
            identity = self._identity(self._sex(), born, surname, household.address.commune)
            self._add(household, identity, "enfant", child=True)

    def _adult(
        self,
        household: HouseholdDraft,
        sex: Sex,
        age: int,
        surname: str | None,
        usage: str | None = None,
        activity: Activity | None = None,
    ) -> PersonDraft:
        rng = self.rng
        born = add_years(self.ref_date, -age) - timedelta(days=rng.randint(1, 364))
        identity = self._identity(sex, born, surname or rng.choice(SURNAMES), None, usage)
        if activity is None:
            if age >= 63:
                activity = "retraite"
            else:
                activity = rng.choices(_WORKING, [62, 12, 8, 18])[0]
        person = self._add(household, identity, activity)
        self._income(person)
        return person

    def _add(
        self, household: HouseholdDraft, identity: Identity, activity: Activity, child: bool = False
    ) -> PersonDraft:
        person = PersonDraft(len(self.persons), identity, household.id, activity)
        self.persons.append(person)
        (household.children if child else household.adults).append(person.index)
        return person

    # --- identities and addresses ---------------------------------------------------------

    def _sex(self) -> Sex:
        return "M" if self.rng.random() < 0.5 else "F"

    def _identity(
        self, sex: Sex, born: date, surname: str, commune: str | None, usage: str | None = None
    ) -> Identity:
        rng = self.rng
        pool = MALE_NAMES if sex == "M" else FEMALE_NAMES
        count = rng.choices([1, 2, 3], [35, 45, 20])[0]
        names = tuple(rng.sample(pool, count))
        if commune is None and rng.random() < 0.14:
            return Identity(surname, names, born, sex, rng.choice(COUNTRIES), None, usage)
        place = commune if commune is not None else rng.choice(COMMUNES).cog
        return Identity(surname, names, born, sex, FRANCE, place, usage)

    def _address(self) -> Address:
        rng = self.rng
        return Address(rng.randint(1, 180), rng.choice(STREETS), rng.choice(COMMUNES).cog)

    # --- incomes --------------------------------------------------------------------------

    def _income(self, person: PersonDraft) -> None:
        rng = self.rng
        activity = person.activity
        if activity == "salarie":
            self._salary(person)
        elif activity == "chomeur":
            since = first_day(self.first - rng.randint(0, 30))
            person.job_seeker = self._job_seeker(person, since)
            if rng.random() < 0.5:
                end = rng.randint(self.first, self.ref - 3)
                amount = round(rng.uniform(650, 1300), 2)
                person.streams.append(
                    Stream(
                        FRANCE_TRAVAIL_SIRET,
                        "france_travail",
                        "allocation_chomage",
                        amount,
                        None,
                        end,
                    )
                )
        elif activity == "independant":
            amount = round(rng.uniform(400, 3500), 2)  # the monthly turnover declared
            payer = siret(5200000000000 + person.index)
            # From the index, not the random stream: every other draw stays as it was.
            category = TURNOVER_CATEGORIES[person.index % len(TURNOVER_CATEGORIES)]
            person.streams.append(
                Stream(payer, "independant", "revenu_independant", amount, None, None, category)
            )
        elif activity == "etudiant" and rng.random() < 0.4:
            start = rng.randint(self.first, self.ref - 2)
            end = min(self.ref, start + rng.randint(2, 12))
            amount = round(rng.uniform(300, 750), 2)
            person.streams.append(
                Stream(rng.choice(_EMPLOYERS), "employeur", "salaire", amount, start, end)
            )
        elif activity == "retraite":
            self._pension(person)
        if person.streams and rng.random() < 0.02:
            months = range(self.first, self.ref + 1)
            person.missing_months.update(rng.sample(months, rng.randint(1, 3)))

    def _salary(self, person: PersonDraft) -> None:
        rng = self.rng
        band = rng.random()
        if band < 0.3:
            salary = rng.uniform(1100, 1500)
        elif band < 0.75:
            salary = rng.uniform(1500, 2500)
        else:
            salary = rng.uniform(2500, 5000)
        salary = round(salary, 2)
        employer = rng.choice(_EMPLOYERS)
        scenario = rng.random()
        if scenario < 0.10:
            # Job loss inside the window: salary stops, unemployment benefit starts.
            lost = rng.randint(self.first + 3, self.ref - 1)
            person.streams.append(Stream(employer, "employeur", "salaire", salary, None, lost - 1))
            benefit = round(salary * 0.65, 2)
            person.streams.append(
                Stream(
                    FRANCE_TRAVAIL_SIRET,
                    "france_travail",
                    "allocation_chomage",
                    benefit,
                    lost,
                    None,
                )
            )
            person.job_seeker = self._job_seeker(person, first_day(lost))
        elif scenario < 0.18:
            # Resource drop: a move to part time, same employer.
            drop = rng.randint(self.first + 3, self.ref - 1)
            person.streams.append(Stream(employer, "employeur", "salaire", salary, None, drop - 1))
            reduced = round(salary * 0.55, 2)
            person.streams.append(Stream(employer, "employeur", "salaire", reduced, drop, None))
        else:
            person.streams.append(Stream(employer, "employeur", "salaire", salary, None, None))

    def _job_seeker(self, person: PersonDraft, since: date) -> JobSeeker:
        rng = self.rng
        ident = f"{1000000 + person.index:07d}{_LETTERS[person.index % len(_LETTERS)]}"
        until = None
        if rng.random() < 0.1:
            until = min(self.ref_date, since + timedelta(days=rng.randint(120, 500)))
        return JobSeeker(ident, since, until, rng.choices([1, 2, 3, 4, 5], [60, 15, 10, 5, 10])[0])

    def _pension(self, person: PersonDraft) -> None:
        rng = self.rng
        born = person.identity.date_naissance
        # A retiree has reached the age at which their pension started: drawn, but never
        # beyond their age on the reference date: a pension due later would leave a retiree
        # without any income until the reference month.
        pension_age = min(rng.choice([62, 63, 64, 65, 67]), age_on(born, self.ref_date))
        birthday = add_years(born, pension_age)
        # Pensions are paid from the first day of the month following the birthday.
        start_month = min(month_of(birthday) + 1, self.ref)
        since = first_day(start_month)
        start = start_month if start_month > self.first else None
        low = rng.random() < 0.28
        funds = [("CNAV", rng.uniform(300, 900) if low else rng.uniform(800, 1900))]
        if not low:
            funds.append(("AGIRC-ARRCO", rng.uniform(150, 1400)))
        for regime, amount in funds:
            payer = _FUNDS[regime]
            gross = round(amount, 2)
            net = round(gross * 0.91, 2)
            person.pensions.append(Pension(regime, payer, "droit_propre", gross, net, since))
            person.streams.append(Stream(payer, "caisse_retraite", "pension", net, start, None))
