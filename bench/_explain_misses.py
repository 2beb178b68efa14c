"""Why a false negative got no offer, in the gateway's own words.

The persons a campaign missed are examined again through the campaign's own code path
(:class:`proactive.campaign.CampaignRunner`: the exchange's fetch under the detection purpose,
the partner's resources, one simulation per batch, the decision) against a sandbox started
for it, with a fresh data directory. What the runner decided is kept for each of them: the
fetch failed, the identity was not released, the paying agency pays it (or does not say),
the rules cannot evaluate them (and the missing data they name), they are not eligible, or
they would be offered now. Counts only, never an identity.
"""

from __future__ import annotations

import asyncio
import subprocess
import tempfile
from collections import Counter
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path

from bench._explain_fixes import smallest_fixes
from bench._procs import HOST, _read_urls, _stop
from bench.campaign import SANDBOX, _env
from connectors import PivotIdentity
from eligibility import BenefitResult, PersonData
from exchange.context import AccessContext
from exchange.errors import ExchangeError
from exchange.service import PersonView
from proactive.campaign import CampaignRunner, Summary, _Fetched, _Unread
from proactive.population import Subject, identity_from_params
from runtime import Services
from runtime.settings import load
from sandbox.admin import person_entry
from sandbox.draft import HouseholdDraft, PersonDraft
from sandbox.population import Population

RECIPIENT = "13002526500013"  # the campaign benchmark's
AGENCIES = 7  # the URLs the sandbox prints once every agency listens


@dataclass(frozen=True)
class Outcome:
    """What the campaign decided for one person, and on what."""

    reason: str
    data: PersonData | None = None
    result: BenefitResult | None = None


def reason_of(result: BenefitResult, partner_unread: bool) -> str:
    """The decision of ``CampaignRunner._decide`` for ``result``, in words."""
    partner = " (partner not read)" if partner_unread else ""
    if result.receiving is True:
        return "receiving: the paying agency says it pays it"
    if result.status == "CANNOT_EVALUATE":
        missing = "; ".join(sorted(result.missing)) or "nothing named"
        return f"cannot evaluate{partner}: {missing}"
    if result.status != "ELIGIBLE":
        return f"{result.status.lower().replace('_', ' ')}{partner}"
    if result.receiving is None:
        return "eligible, but the paying agency does not say whether it pays it"
    return "eligible and not receiving: offered now"


class _Recorder(CampaignRunner):
    """The campaign runner, keeping each person's outcome. One person completed at a time,
    so that the summary's counters say which of its outcomes a person had."""

    def __init__(self, services: Services, clock: Callable[[], datetime]) -> None:
        super().__init__(
            services.exchange,
            services.offers,
            services.outbox,
            services.pseudonyms,
            clock,
            recipient=RECIPIENT,
            concurrency=1,
        )
        self.outcomes: dict[str, Outcome] = {}
        self._unread: set[str] = set()
        self._one = asyncio.Lock()

    async def _complete(
        self,
        identity: PivotIdentity,
        view: PersonView | ExchangeError,
        benefit: str,
        month: str,
        context: AccessContext,
        on: date,
        summary: Summary,
        unread: _Unread,
    ) -> _Fetched | None:
        # One person completed at a time: the counters' change is this person's.
        async with self._one:
            errors, unresolved = summary.errors, summary.partners_unresolved
            fetched = await super()._complete(
                identity, view, benefit, month, context, on, summary, unread
            )
        key = identity.key()
        if fetched is None:
            failed = summary.errors > errors
            self.outcomes[key] = Outcome("fetch failed" if failed else "identity not released")
        elif summary.partners_unresolved > unresolved:
            self._unread.add(key)
        return fetched

    async def _decide(
        self,
        fetched: _Fetched,
        result: BenefitResult,
        month: str,
        form: str,
        campaign_id: str,
        summary: Summary,
    ) -> None:
        key = fetched.identity.key()
        reason = reason_of(result, key in self._unread)
        self.outcomes[key] = Outcome(reason, fetched.data, result)
        await super()._decide(fetched, result, month, form, campaign_id, summary)


@contextmanager
def sandbox(size: int, seed: int, month: str, log: Path) -> Iterator[dict[str, str]]:
    """The sandbox agencies over the generated population (no scenarios), as the campaign
    benchmark starts them; their URLs by name."""
    command = [
        *SANDBOX,
        *("--host", HOST, "--port-base", "0", "--size", str(size), "--month", month),
        *("--scenarios", "none", "--seed", str(seed)),
    ]
    process = subprocess.Popen(  # noqa: S603 - our own interpreter and module
        command, stdout=subprocess.PIPE, stderr=log.open("w", encoding="utf-8"), text=True
    )
    try:
        yield _read_urls(process, process.stdout, expected=AGENCIES, timeout=600.0)
    finally:
        _stop(process)


async def _examine(
    urls: dict[str, str], data_dir: Path, subjects: Sequence[Subject], benefit: str, month: str
) -> dict[str, Outcome]:
    settings = load(_env(urls, data_dir))
    clock = lambda: datetime.now(UTC)  # noqa: E731 - the campaign's real clock
    async with Services.open(settings, clock) as services:
        runner = _Recorder(services, clock)
        await runner.run(subjects, benefit, month, f"explain-{benefit}-{month}")
        return runner.outcomes


def outcomes(
    size: int, seed: int, month: str, missed: Mapping[str, Sequence[Subject]]
) -> dict[str, dict[PivotIdentity, Outcome]]:
    """Benefit → each missed person's outcome, the persons examined again by one runner per
    benefit against one sandbox."""
    workdir = Path(tempfile.mkdtemp(prefix="unefois-explain-"))
    out: dict[str, dict[PivotIdentity, Outcome]] = {}
    with sandbox(size, seed, month, workdir / "sandbox.log") as urls:
        for benefit, subjects in missed.items():
            got = asyncio.run(_examine(urls, workdir / "data", subjects, benefit, month))
            unseen = Outcome("not examined")
            out[benefit] = {s.identity: got.get(s.identity.key(), unseen) for s in subjects}
    return out


def household_fact(
    person: PersonDraft, household: HouseholdDraft, persons: list[PersonDraft]
) -> str:
    """The first fact of the household the gateway cannot read or can only bound."""
    adults = [persons[i] for i in household.adults]
    if any(s.nature == "revenu_independant" for a in adults for s in a.streams):
        return "self-employed income"
    if any(a.missing_months for a in adults):
        return "months missing from GIP-MDS"
    if any("aah" in a.rights for a in adults):
        return "AAH at its bounds"
    if len(adults) > 1 and any(s.nature == "pension" for a in adults for s in a.streams):
        return "couple with a pension (gross pensions of the partner)"
    if person.activity == "etudiant":
        return "student"
    return "other"


def subject_of(population: Population, index: int) -> Subject:
    """The person as a ``--population`` campaign examines them (``cli.listing``)."""
    entry = person_entry(population, population.persons[index])
    identity = identity_from_params(entry["personne"])  # type: ignore[arg-type]
    return Subject(identity, entry["identifiant_france_travail"])  # type: ignore[arg-type]


def print_misses(
    missed: dict[str, list[int]],
    persons: list[PersonDraft],
    households: Sequence[HouseholdDraft],
    population: Population,
    month: str,
) -> None:
    """Per benefit, the false negatives by household fact and by the gateway's answer."""
    subjects = {b: [subject_of(population, i) for i in indexes] for b, indexes in missed.items()}
    answers = outcomes(population.size, population.seed, month, subjects)
    for benefit, indexes in missed.items():
        rows: Counter[tuple[str, str]] = Counter()
        for index, subject in zip(indexes, subjects[benefit], strict=True):
            person = persons[index]
            fact = household_fact(person, households[person.household], persons)
            rows[fact, answers[benefit][subject.identity].reason] += 1
        facts = Counter(fact for (fact, _), count in rows.items() for _ in range(count))
        print(f"## {benefit}: {len(indexes)} false negatives (non-claimants without an offer)")
        print("")
        print("| household fact | the campaign's answer | false negatives |")
        print("|---|---|---:|")
        for fact, _ in facts.most_common():
            for (name, reason), count in rows.most_common():
                if name == fact:
                    print(f"| {fact} | {reason} | {count} |")
        print("")
        _print_fixes(
            benefit,
            [
                (i, answers[benefit][s.identity])
                for i, s in zip(indexes, subjects[benefit], strict=True)
            ],
            persons,
            households,
            month,
        )


def _print_fixes(
    benefit: str,
    missed: list[tuple[int, Outcome]],
    persons: list[PersonDraft],
    households: Sequence[HouseholdDraft],
    month: str,
) -> None:
    """The misses the rules answered, by the reading that would have entitled them."""
    print(
        f"{benefit}: the misses the rules answered, by what would have entitled them "
        "(bench._explain_fixes)"
    )
    print("")
    print("| the rules' answer | read as the law's truth has it | false negatives |")
    print("|---|---|---:|")
    for status in ("NOT_ELIGIBLE", "CANNOT_EVALUATE"):
        chosen = [
            (i, o.data)
            for i, o in missed
            if o.result is not None
            and o.data is not None
            and o.result.status == status
            and o.result.receiving is not True
        ]
        for fix, count in smallest_fixes(benefit, chosen, persons, households, month).most_common():
            if count:
                print(f"| {status} | {fix} | {count} |")
    print("")
