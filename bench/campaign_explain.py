"""Why a campaign's false positives were offered: ``python -m bench.campaign_explain``.

Reads the offers a ``--population`` campaign recorded (its data directory, as ``bench.campaign``
leaves it), regenerates the sandbox population the campaign examined (same size, seed and
month, without scenarios), and for each offer made to a person the ground truth says is not a
non-claimant, looks for the fact the agencies expose differently from the true one. The law
(``sandbox.law``) is run again over those households with one fact at a time as an agency
exposes it, or as the gateway reads it; a fact is a cause when the law then entitles them:

- ``reference_month_income``: the reference month's income is not declared yet; the gateway
  carries the month before to it (an income that starts or stops in the reference month);
- ``job_seeker``: France Travail's registration (the ``chomeur`` activity) not counted;
- ``housing_aid``: the housing aid computed from the dwelling rather than the one the CAF pays
  (the RSA, PPA and CSS housing flat rates);
- ``student``: the student status not counted;
- ``aah``, ``asf``: the CAF's AAH or ASF not counted in the resources.

An offer to a person who is entitled and receives the benefit is ``receives_it``; anything
else is ``unexplained``, listed with its facts (``--show CAUSE`` lists a cause's too).

False negatives (``--misses``): the persons the ground truth says are non-claimants and who
got no offer, classified by the first fact of their household the gateway cannot read or
can only bound (a self-employed income, a month missing from GIP-MDS, an AAH at its bounds,
a couple's ASPA without the partner's gross pension, a student), else ``other``; and, as a
campaign records counts, not each person's answer, by the answer the campaign's own code
gives them when they are examined again (``bench._explain_misses``: it starts a sandbox over
the same population): receiving, the missing data the rules name, not eligible; and, for
those the rules answered, which input read as the law's truth has it (the ASF paid, the
housing aid paid, the family benefits' resources of year N-2) would have entitled them
(``bench._explain_fixes``). Counts and facts only, never an identity.
"""

from __future__ import annotations

import argparse
import asyncio
import copy
import dataclasses
from collections import Counter
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from pathlib import Path

from bench._explain_misses import print_misses
from proactive.campaign import SECTOR
from proactive.population import identity_from_params
from runtime import Services
from runtime.settings import load
from sandbox.admin import person_entry
from sandbox.draft import HouseholdDraft, PersonDraft
from sandbox.entitlement import Entitlement
from sandbox.generator import Generator
from sandbox.law import HouseholdLaw, by_law
from sandbox.months import age_on, last_day, month_text, parse_month
from sandbox.population import DEFAULT_SEED, Population
from store.offers import Offer

Drafts = list[PersonDraft]
Variant = Callable[[PersonDraft, int], PersonDraft | None]


def _entitled(law: HouseholdLaw, benefit: str, index: int) -> bool:
    if benefit == "aspa":
        return law.aspa > 0 and index in law.aspa_age
    if benefit == "css":
        return law.css_now != "none"
    return float(getattr(law, benefit)) > 0


def _carry_previous_month(person: PersonDraft, ref: int) -> PersonDraft | None:
    streams = []
    for stream in person.streams:
        now, before = stream.pays_in(ref), stream.pays_in(ref - 1)
        if before and not now:
            stream = dataclasses.replace(stream, end=ref)
        elif now and not before:
            stream = dataclasses.replace(stream, start=ref + 1)
        streams.append(stream)
    if streams == person.streams:
        return None
    changed = copy.copy(person)
    changed.streams = streams
    return changed


def _without(attribute: str, value: object) -> Variant:
    def variant(person: PersonDraft, ref: int) -> PersonDraft | None:
        if getattr(person, attribute) == value:
            return None
        changed = copy.copy(person)
        setattr(changed, attribute, value)
        return changed

    return variant


def _without_right(name: str) -> Variant:
    def variant(person: PersonDraft, ref: int) -> PersonDraft | None:
        if name not in person.rights:
            return None
        changed = copy.copy(person)
        changed.rights = {k: v for k, v in person.rights.items() if k != name}
        return changed

    return variant


def _not_student(person: PersonDraft, ref: int) -> PersonDraft | None:
    return _without("activity", "inactif")(person, ref) if person.activity == "etudiant" else None


VARIANTS: dict[str, Variant] = {
    "reference_month_income": _carry_previous_month,
    "job_seeker": _without("job_seeker", None),
    "student": _not_student,
    "aah": _without_right("aah"),
    "asf": _without_right("asf"),
}


def causes(
    persons: Drafts, households: Sequence[HouseholdDraft], ref: int, suspects: dict[int, str]
) -> dict[int, list[str]]:
    """Person index → the facts that, exposed as the agencies do, entitle them by law."""
    chosen = sorted({persons[i].household for i in suspects})
    group = [households[h] for h in chosen]
    found: dict[int, list[str]] = {i: [] for i in suspects}
    for name, variant in VARIANTS.items():
        changed = list(persons)
        touched = False
        for h in group:
            for index in h.adults + h.children:
                other = variant(persons[index], ref)
                if other is not None:
                    changed[index] = other
                    touched = True
        if not touched:
            continue
        law = by_law(changed, group, ref)
        for index, benefit in suspects.items():
            if _entitled(law[persons[index].household], benefit, index):
                found[index].append(name)
    law = by_law(persons, group, ref, housing_aid=False)
    for index, benefit in suspects.items():
        if _entitled(law[persons[index].household], benefit, index):
            found[index].append("housing_aid")
    return found


def facts(person: PersonDraft, household: HouseholdDraft, persons: Drafts, ref: int) -> str:
    """What the false positive is made of, without any identity."""
    born = person.identity.date_naissance
    age = age_on(born, last_day(ref))
    members = [persons[i] for i in household.adults]
    incomes = " / ".join(
        f"{sum(p.net_social(m) for p in members):.0f}" for m in range(ref - 3, ref + 1)
    )
    housing = household.housing
    aid = f"{housing.aid_kind} {housing.aid_amount}" if housing and housing.aid_kind else "none"
    children = ",".join(
        str(age_on(persons[i].identity.date_naissance, last_day(ref))) for i in household.children
    )
    return (
        f"{household.kind}, {person.activity}, aged {age}, children aged [{children}], "
        f"household net incomes M-3..M {incomes}, "
        f"job seeker {'yes' if person.job_seeker else 'no'}, "
        f"rights {sorted(person.rights)}, {housing.occupancy if housing else '?'}, aid {aid}"
    )


async def offers_of(
    data_dir: Path, campaigns: list[str], population: Population
) -> tuple[list[Offer], dict[str, int]]:
    """The campaigns' offers, and the proactive pseudonym → index of every living adult."""
    settings = load({"UNEFOIS_DATA_DIR": str(data_dir)})
    async with Services.open(settings, lambda: datetime.now(UTC)) as services:
        offers = [o for c in campaigns for o in await services.offers.for_campaign(c)]
        by_pseudonym = {}
        for person in population.persons:
            if person.activity == "enfant" or person.date_deces is not None:
                continue
            entry = person_entry(population, person)
            identity = identity_from_params(entry["personne"])  # type: ignore[arg-type]
            by_pseudonym[services.pseudonyms.pseudonym(identity, SECTOR)] = person.index
        return offers, by_pseudonym


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--data-dir", required=True, type=Path, help="the campaigns' data dir")
    parser.add_argument("--size", type=int, required=True)
    parser.add_argument("--seed", type=int, default=DEFAULT_SEED)
    parser.add_argument("--month", default="2025-06")
    parser.add_argument("--benefits", default="rsa,ppa,aspa,css")
    parser.add_argument("--examples", type=int, default=5, help="unexplained ones listed")
    parser.add_argument("--show", default="", help="also list the facts of this cause's ones")
    parser.add_argument("--misses", action="store_true", help="classify the false negatives")
    args = parser.parse_args()
    ref = parse_month(args.month)
    generator = Generator(args.seed, ref)
    generator.run(args.size)
    persons, households = generator.persons, generator.households
    Entitlement(generator.rng, persons, households, ref, generator.ref_date).run()
    population = Population.generate(args.size, args.seed, args.month)
    benefits = args.benefits.split(",")
    campaigns = [f"{b}-{month_text(ref)}" for b in benefits]
    offers, by_pseudonym = asyncio.run(offers_of(args.data_dir, campaigns, population))
    missed: dict[str, list[int]] = {}
    for benefit in benefits:
        suspects: dict[int, str] = {}
        receives = 0
        for offer in (o for o in offers if o.benefit == benefit):
            index = by_pseudonym.get(offer.person)
            if index is None:
                continue
            truth = persons[index].truth
            if truth.get(f"{benefit}_non_claimant"):
                continue
            if truth.get(f"{benefit}_eligible"):
                receives += 1
            else:
                suspects[index] = benefit
        found = causes(persons, households, ref, suspects) if suspects else {}
        classes = Counter("+".join(c) or "unexplained" for c in found.values())
        print(f"## {benefit}: {len(suspects) + receives} false positives")
        print("")
        print("| cause | false positives |")
        print("|---|---:|")
        if receives:
            print(f"| receives_it | {receives} |")
        for name, count in classes.most_common():
            print(f"| {name} | {count} |")
        unexplained = [i for i, c in found.items() if not c][: args.examples]
        shown = [i for i, c in found.items() if args.show and args.show in c][: args.examples]
        for label, indexes in (("unexplained", unexplained), (args.show, shown)):
            for index in indexes:
                person = persons[index]
                print(f"- {label}: {facts(person, households[person.household], persons, ref)}")
        print("")
        if args.misses:
            offered = {by_pseudonym.get(o.person) for o in offers if o.benefit == benefit}
            # Among the adults the campaign examined, as recall's denominator.
            examined = set(by_pseudonym.values())
            missed[benefit] = [
                i
                for i in sorted(examined - offered)
                if persons[i].truth.get(f"{benefit}_non_claimant")
            ]
    if missed:
        print_misses(missed, persons, households, population, args.month)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
