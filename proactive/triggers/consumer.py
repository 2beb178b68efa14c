"""Reading the agencies' event feeds into triggers: who to re-examine, for which benefits.

Delivery is at least once. :meth:`TriggerConsumer.poll` hands out triggers without recording
anything; :meth:`TriggerConsumer.ack` marks their events processed and only then moves each
feed's persisted cursor past pages whose every trigger was acknowledged. A crash between the
two replays those pages to the next consumer, and events marked before the crash are skipped
(``CursorStore.seen``), so what the caller does with a trigger happens once per event as long
as it acknowledges only what it has durably done.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Protocol

from connectors.errors import ConnectorError
from connectors.records import AgencyEvent, EventPage
from proactive.triggers.rules import ASPA_AGE, AgeRule, Rules
from store.cursors import CursorStore

FRANCE_TRAVAIL_ID = "identifiant_france_travail"  # in the details of France Travail's events

log = logging.getLogger(__name__)


class Feed(Protocol):
    """What the consumer needs of ``connectors.EventFeed``."""

    async def page(self, since: str | None = None, limit: int = 100) -> EventPage: ...


@dataclass(frozen=True)
class Trigger:
    feed: str  # the upstream whose feed reported it, e.g. "gip_mds"
    event_id: str  # the agency's event id; a derived trigger keeps its source event's id
    type: str  # the agency's event type, or a derived one ("aspa_age")
    occurred_on: date  # for aspa_age: the birthday the age is reached
    subject: Mapping[str, str | list[str]]  # the pivot identity in API Particulier's names
    benefits: tuple[str, ...]
    # France Travail's identifier of the person, when the event gives it (a job loss does):
    # the only key to the contact details the person gave France Travail.
    france_travail_id: str | None = None


@dataclass
class _Page:
    """A page handed out and not yet wholly acknowledged: the cursor to store once it is."""

    cursor: str
    events: list[str]  # every event id read, skipped ones included
    outstanding: dict[str, set[str]] = field(default_factory=dict)  # event id → trigger types


def _birthday(subject: Mapping[str, str | list[str]], years: int) -> date | None:
    """The day the subject turns ``years``, or None when the identity's birth date is partial
    (the pivot identity allows an unknown day or month)."""
    try:
        parts = [
            subject[k] for k in ("anneeDateNaissance", "moisDateNaissance", "jourDateNaissance")
        ]
        year, month, day = (int(p) for p in parts if isinstance(p, str))
        born = date(year, month, day)
    except (KeyError, ValueError):
        return None
    try:
        return born.replace(year=born.year + years)
    except ValueError:  # born on 29 February: the birthday is 1 March in common years
        return date(born.year + years, 3, 1)


def _person_key(subject: Mapping[str, str | list[str]]) -> tuple[str, ...]:
    return tuple(" ".join(v) if isinstance(v, list) else v for _, v in sorted(subject.items()))


def _france_travail_id(event: AgencyEvent) -> str | None:
    value = event.details.get(FRANCE_TRAVAIL_ID)
    return value if isinstance(value, str) and value else None


class TriggerConsumer:
    def __init__(
        self,
        feeds: Mapping[str, Feed],
        cursors: CursorStore,
        rules: Rules,
        clock: Callable[[], datetime],
    ) -> None:
        self._feeds = dict(feeds)
        self._cursors = cursors
        self._rules = rules
        self._clock = clock
        self._pending: dict[str, list[_Page]] = {name: [] for name in self._feeds}

    async def poll(self, limit: int = 100) -> list[Trigger]:
        """The triggers of the next page of every feed (``limit`` events per page).

        A feed whose page yields no trigger (events already processed, or without a rule) is
        read on, so that an empty answer means every feed is caught up. An unreachable or
        invalid feed is logged and left for the next poll; the others are still read.
        """
        out: list[Trigger] = []
        for name, feed in self._feeds.items():
            try:
                out.extend(await self._poll_feed(name, feed, limit))
            except ConnectorError as error:
                # The error names the agency, never a person; the events stay unread.
                log.warning("event feed %s not read: %s", name, type(error).__name__)
        return out

    async def _poll_feed(self, name: str, feed: Feed, limit: int) -> list[Trigger]:
        pending = self._pending[name]
        since = pending[-1].cursor if pending else await self._cursors.get(name)
        while True:
            page = await feed.page(since, limit)
            if not page.events:
                return []
            record = _Page(page.next_cursor, [e.id for e in page.events])
            triggers: list[Trigger] = []
            aged: set[tuple[str, ...]] = set()
            for event in page.events:
                if await self._cursors.seen(name, event.id):
                    continue
                for trigger in self._triggers(name, event, aged):
                    record.outstanding.setdefault(event.id, set()).add(trigger.type)
                    triggers.append(trigger)
            pending.append(record)
            log.info("event feed %s: %d events, %d triggers", name, len(page.events), len(triggers))
            if triggers or len(page.events) < limit or page.next_cursor == since:
                return triggers
            since = page.next_cursor

    def _triggers(
        self, name: str, event: AgencyEvent, aged: set[tuple[str, ...]]
    ) -> Iterable[Trigger]:
        benefits = self._rules.benefits_for(event.type)
        if benefits:
            yield Trigger(
                name,
                event.id,
                event.type,
                event.occurred_on,
                event.subject,
                benefits,
                _france_travail_id(event),
            )
        rule = self._rules.aspa_age
        if rule is None:
            return
        birthday = self._reaches(event.subject, rule)
        key = _person_key(event.subject)
        # One age trigger per person and page, however many events they have in it.
        if birthday is not None and key not in aged:
            aged.add(key)
            yield Trigger(
                name,
                event.id,
                ASPA_AGE,
                birthday,
                event.subject,
                rule.benefits,
                _france_travail_id(event),
            )

    def _reaches(self, subject: Mapping[str, str | list[str]], rule: AgeRule) -> date | None:
        birthday = _birthday(subject, rule.age)
        today = self._clock().date()
        window = timedelta(days=rule.within_days)
        if birthday is None or not today - window <= birthday <= today + window:
            return None
        return birthday

    async def ack(self, triggers: Iterable[Trigger]) -> None:
        """Record those triggers as handled: their events, once all of an event's triggers are
        acknowledged, are marked processed; then each feed's cursor moves past the leading
        pages with nothing outstanding. Call it even with no triggers: pages that yielded
        none are then stored as read."""
        at = self._clock()
        done: dict[str, list[str]] = {}
        for trigger in triggers:
            for record in self._pending.get(trigger.feed, ()):
                types = record.outstanding.get(trigger.event_id)
                if types is not None and trigger.type in types:
                    types.discard(trigger.type)
                    if not types:
                        del record.outstanding[trigger.event_id]
                        done.setdefault(trigger.feed, []).append(trigger.event_id)
                    break
        for name, ids in done.items():
            await self._cursors.mark(name, ids, at)
        for name, pending in self._pending.items():
            cursor = None
            while pending and not pending[0].outstanding:
                record = pending.pop(0)
                # Events without a trigger are marked too: a replay then skips them alike.
                await self._cursors.mark(name, record.events, at)
                cursor = record.cursor
            # Mark before advance: a crash in between replays marked events, which are skipped.
            if cursor is not None:
                await self._cursors.advance(name, cursor, at)
