"""A campaign's report: one self-contained, accessible HTML page.

No script and no external asset, so the page can be mailed, archived or opened offline, and a
screen reader reads every chart: each SVG has a title and description, and its figures are
also in a table next to it. Only pseudonymous aggregates appear — counts by step, benefit and
département, amounts — never an offer's person.

What the page says, and what each figure measures:

- when it was generated (with its time zone) and the campaign's parameters (:class:`Parameters`:
  benefit, month, population source and size, recipient, declared client, purpose and object);
- a funnel (:func:`funnel`): detected → notified (per channel) → opened → applied, with
  declined, opted out, expired, obsolete (a change of situation made the offer pointless),
  undeliverable and without any message beside it. The counts are
  not exclusive statuses: each one counts the offers that *reached* that step, read from the
  offers' times (``notified_at``, ``opened_at``) as well as their status, so an offer opened
  then declined counts as opened and as declined;
- detection quality, only against the sandbox's ground truth (the law applied to each
  household's true facts, which no administration holds): ``truth`` maps each benefit to a
  map of proactive pseudonym → whether that person is a real non-claimant of it, over exactly
  the persons the campaign examined. Precision divides the offers to real non-claimants by the
  offers whose person the truth knows; recall divides the same offers by the real
  non-claimants among the persons examined — never the whole population's.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo

from jinja2 import Environment, PackageLoader, StrictUndefined, select_autoescape

from store.offers import Offer, OfferFollowUp

PARIS = ZoneInfo("Europe/Paris")
UNKNOWN_TERRITORY = "inconnu"
_TOLD = frozenset({"notified", "opened", "applied", "declined"})
CHANNEL_LABELS = {"email": "courriel", "sms": "SMS", "letter": "courrier"}
_CSS = """
body{font-family:system-ui,sans-serif;max-width:60rem;margin:2rem auto;padding:0 1rem;
color:#161616;line-height:1.5}
table{border-collapse:collapse;margin:1rem 0}th,td{border:1px solid #666;padding:.25rem .5rem}
td.n{text-align:right;font-variant-numeric:tabular-nums}caption{font-weight:bold;text-align:left}
svg text{font-size:12px;fill:#161616}
"""


@dataclass(frozen=True)
class Detection:
    """Detection quality against known non-claimants, with the counts behind it."""

    true_positives: int  # offers to real non-claimants
    false_positives: int  # offers to persons known not to be non-claimants
    unknown: int  # offers whose person the truth does not cover
    false_negatives: int  # known non-claimants without an offer
    non_claimants: int  # recall's denominator: the non-claimants among the persons examined
    examined: int = 0  # the persons the truth covers: those the campaign examined

    @property
    def precision(self) -> float | None:
        judged = self.true_positives + self.false_positives
        return self.true_positives / judged if judged else None

    @property
    def recall(self) -> float | None:
        return self.true_positives / self.non_claimants if self.non_claimants else None


def detection(offers: Sequence[Offer], truth: Mapping[str, bool]) -> Detection:
    """One benefit's detection: ``offers`` made for it, ``truth`` over the persons examined."""
    offered = {o.person for o in offers}
    tp = sum(1 for p in offered if truth.get(p) is True)
    fp = sum(1 for p in offered if truth.get(p) is False)
    unknown = sum(1 for p in offered if p not in truth)
    non_claimants = sum(1 for v in truth.values() if v)
    return Detection(tp, fp, unknown, non_claimants - tp, non_claimants, len(truth))


def detections(
    offers: Sequence[Offer], truth: Mapping[str, Mapping[str, bool]]
) -> dict[str, Detection]:
    """Per benefit of ``truth``, in its order: the offers for that benefit against its truth."""
    return {
        benefit: detection([o for o in offers if o.benefit == benefit], known)
        for benefit, known in truth.items()
    }


def _number(value: float) -> str:
    # French typography: narrow no-break space between thousands, comma for decimals.
    text = f"{value:,.2f}" if value != int(value) else f"{int(value):,}"
    return text.replace(",", "\u202f").replace(".", ",")


def _euros(value: float | None) -> str:
    return "—" if value is None else f"{_number(round(value, 2))} €"


def _percent(value: float | None) -> str:
    if value is None:
        return "—"
    tenths = round(100 * value, 1)
    text = f"{int(tenths)}" if tenths == int(tenths) else f"{tenths:.1f}".replace(".", ",")
    return f"{text} %"


@dataclass(frozen=True)
class Bar:
    label: str
    value: str  # formatted
    y: int
    length: int


@dataclass(frozen=True)
class Chart:
    """A horizontal bar chart with its title and a text description for assistive tools."""

    id: str
    title: str
    description: str
    width: int
    height: int
    label_width: int
    bar_height: int
    bars: tuple[Bar, ...]


@dataclass(frozen=True)
class Table:
    caption: str
    head: tuple[str, ...]
    rows: tuple[tuple[tuple[str, bool], ...], ...]  # each cell: (text, is a number)


def _bars(chart_id: str, title: str, rows: Sequence[tuple[str, int]]) -> Chart:
    width, label_w, bar_h = 560, 170, 22
    top = max((v for _, v in rows), default=0) or 1
    described = "; ".join(f"{label} : {_number(v)}" for label, v in rows) or "aucune donnée"
    bars = tuple(
        Bar(label, _number(value), 4 + i * bar_h, round((width - label_w - 60) * value / top))
        for i, (label, value) in enumerate(rows)
    )
    return Chart(chart_id, title, described, width, bar_h * len(rows) + 8, label_w, bar_h, bars)


def _table(caption: str, head: Sequence[str], rows: Sequence[Sequence[str | int]]) -> Table:
    return Table(
        caption,
        tuple(head),
        tuple(
            tuple(
                (_number(v), True) if isinstance(v, int) and i else (str(v), False)
                for i, v in enumerate(row)
            )
            for row in rows
        ),
    )


@dataclass(frozen=True)
class Parameters:
    """What the campaign was, as the page states it above its figures.

    ``population`` is the number of persons the campaign examined (its declared population),
    ``population_source`` says in words where they came from; ``recipients``, ``client`` and
    ``purpose`` are those its reads were made for and declared under, ``campaigns`` the objects
    (case references) they carry. None or empty: not known, and said so."""

    campaigns: tuple[str, ...]
    benefits: tuple[str, ...] = ()
    months: tuple[str, ...] = ()
    population_source: str | None = None
    population: int | None = None
    recipients: tuple[str, ...] = ()
    client: str | None = None
    purpose: str | None = None
    declared_from: datetime | None = None
    declared_until: datetime | None = None


@dataclass(frozen=True)
class Funnel:
    """How far a campaign's offers got. Not exclusive: an offer counts at every step it
    reached (opened then declined: opened and declined)."""

    detected: int = 0
    notified: int = 0  # at least one message delivered
    by_channel: tuple[tuple[str, int], ...] = ()  # per channel: offers with a message delivered
    opened: int = 0  # the person followed the link
    applied: int = 0
    declined: int = 0
    opted_out: int = 0  # the person asked never to be written to again
    expired: int = 0
    obsolete: int = 0  # a known change of situation (job, birth, move, death) made it moot
    undeliverable: int = 0  # never notified, and every message queued for it was given up
    without_message: int = 0  # no message queued: no address known for any channel


def _notified(o: Offer) -> bool:
    # Applied and declined come only from notified or opened (store.offers' lifecycle).
    return o.notified_at is not None or o.opened_at is not None or o.status in _TOLD


def funnel(follow_ups: Sequence[OfferFollowUp]) -> Funnel:
    """The funnel of these offers, from their times, statuses, messages and opt-outs."""
    channels: Counter[str] = Counter()
    notified = opened = undeliverable = without_message = 0
    for f in follow_ups:
        o = f.offer
        delivered = {channel for channel, status in f.messages if status == "sent"}
        channels.update(delivered)
        if _notified(o) or delivered:
            notified += 1
        elif not f.messages:
            without_message += 1
        elif all(status == "dead" for _, status in f.messages):
            undeliverable += 1
        opened += o.opened_at is not None or o.status == "opened"
    statuses = Counter(f.offer.status for f in follow_ups)
    return Funnel(
        detected=len(follow_ups),
        notified=notified,
        by_channel=tuple((c, channels[c]) for c in CHANNEL_LABELS),
        opened=opened,
        applied=statuses["applied"],
        declined=statuses["declined"],
        opted_out=sum(1 for f in follow_ups if f.opted_out_at is not None),
        expired=statuses["expired"],
        obsolete=statuses["obsolete"],
        undeliverable=undeliverable,
        without_message=without_message,
    )


# The funnel's steps, in order, and the counts beside it: (label, how to read it from a funnel).
_STEPS: tuple[tuple[str, Callable[[Funnel], int]], ...] = (
    ("détectées", lambda f: f.detected),
    ("notifiées", lambda f: f.notified),
    ("ouvertes", lambda f: f.opened),
    ("demandes déposées", lambda f: f.applied),
)
_BESIDE: tuple[tuple[str, Callable[[Funnel], int]], ...] = (
    ("refusées", lambda f: f.declined),
    ("désinscrites", lambda f: f.opted_out),
    ("expirées", lambda f: f.expired),
    ("devenues sans objet", lambda f: f.obsolete),
    ("non distribuables", lambda f: f.undeliverable),
    ("sans aucun message", lambda f: f.without_message),
)


def _funnel_rows(found: Funnel) -> list[list[str | int]]:
    rows: list[list[str | int]] = [[label, read(found)] for label, read in _STEPS[:2]]
    rows += [[f"notifiées par {CHANNEL_LABELS[c]}", n] for c, n in found.by_channel]
    rows += [[label, read(found)] for label, read in _STEPS[2:]]
    rows += [[label, read(found)] for label, read in _BESIDE]
    return rows


def _by_group(
    follow_ups: Sequence[OfferFollowUp],
    key: Callable[[Offer], str | None],
    label: str,
    caption: str,
) -> Table:
    groups: dict[str, list[OfferFollowUp]] = {}
    for f in follow_ups:
        groups.setdefault(key(f.offer) or UNKNOWN_TERRITORY, []).append(f)
    steps = (*_STEPS, *_BESIDE)
    head = [label, *(name for name, _ in steps)]
    rows: list[list[str | int]] = []
    for name, members in sorted(groups.items()):
        found = funnel(members)
        rows.append([name, *(read(found) for _, read in steps)])
    return _table(caption, head, rows)


def _amounts(offers: Sequence[Offer]) -> Table:
    rows: list[list[str | int]] = []
    for benefit in sorted({o.benefit for o in offers}):
        known = [o.monthly_amount for o in offers if o.benefit == benefit]
        amounts = [a for a in known if a is not None]
        mean = sum(amounts) / len(amounts) if amounts else None
        rows.append([benefit, len(amounts), _euros(sum(amounts)), _euros(mean)])
    head = ["Prestation", "offres chiffrées", "total mensuel estimé", "moyenne mensuelle"]
    return _table("Montants mensuels estimés", head, rows)


@dataclass(frozen=True)
class Messages:
    """What telling the persons costs: per channel the messages queued and those delivered;
    the SMS segments the queued text messages go out as (``proactive.notifications.gsm``) and,
    with a segment price set, their estimated cost."""

    by_channel: tuple[tuple[str, int, int], ...] = ()  # (channel, queued, delivered)
    sms_segments: int = 0
    sms_cost: str | None = None  # None: no segment price set


def messages(
    queued: Sequence[tuple[str, str]], sms_segments: int, sms_cost: str | None
) -> Messages:
    """From ``(channel, status)`` of each message queued for the campaigns' offers."""
    made = Counter(channel for channel, _ in queued)
    sent = Counter(channel for channel, status in queued if status == "sent")
    return Messages(tuple((c, made[c], sent[c]) for c in CHANNEL_LABELS), sms_segments, sms_cost)


def _messages(found: Messages) -> Table:
    rows: list[list[str | int]] = [
        [CHANNEL_LABELS[c], queued, sent] for c, queued, sent in found.by_channel
    ]
    return _table("Messages par canal", ["Canal", "mis en file", "remis"], rows)


PRECISION_LABEL = (
    "précision = offres à de vrais non-recourants ÷ offres à des personnes examinées dont la "
    "vérité de terrain est connue"
)
RECALL_LABEL = (
    "rappel = offres à de vrais non-recourants ÷ vrais non-recourants parmi les personnes examinées"
)


def _detection(found: Mapping[str, Detection]) -> Table:
    head = [
        "Prestation",
        "personnes examinées",
        "vrais non-recourants parmi elles",
        "offres à de vrais non-recourants",
        "offres à des personnes qui ne le sont pas",
        "offres à des personnes hors de la vérité",
        "vrais non-recourants sans offre",
        "précision",
        "rappel",
    ]
    rows: list[list[str | int]] = [
        [
            benefit,
            d.examined,
            d.non_claimants,
            d.true_positives,
            d.false_positives,
            d.unknown,
            d.false_negatives,
            f"{_percent(d.precision)} ({d.true_positives} ÷ "
            f"{d.true_positives + d.false_positives})",
            f"{_percent(d.recall)} ({d.true_positives} ÷ {d.non_claimants})",
        ]
        for benefit, d in found.items()
    ]
    return _table("Précision et rappel par prestation, parmi les personnes examinées", head, rows)


def _moment(value: datetime) -> tuple[str, str]:
    """(ISO 8601 with its offset, French text with the time zone named) of an aware time."""
    if value.tzinfo is None or value.utcoffset() is None:
        raise ValueError("the report's times are timezone-aware")
    local = value.astimezone(PARIS)
    offset = local.strftime("%z")
    text = local.strftime("%d/%m/%Y à %H:%M") + f" (heure de Paris, UTC{offset[:3]}:{offset[3:]})"
    return local.isoformat(timespec="seconds"), text


def _or_unknown(values: Sequence[str] | str | None) -> str:
    if values is None or not values:
        return "non connu"
    return values if isinstance(values, str) else ", ".join(values)


def _parameters(p: Parameters) -> list[tuple[str, str]]:
    if p.population is None:
        population = "non connue"
    else:
        population = f"{_number(p.population)} personnes examinées"
    period = "non déclarée"
    if p.declared_from is not None and p.declared_until is not None:
        period = f"du {_moment(p.declared_from)[1]} au {_moment(p.declared_until)[1]}"
    return [
        ("Campagne (objet des lectures)", _or_unknown(p.campaigns)),
        ("Prestation", _or_unknown(p.benefits)),
        ("Mois évalué", _or_unknown(p.months)),
        ("Population", f"{population} ; source : {_or_unknown(p.population_source)}"),
        ("Destinataire des données (SIRET)", _or_unknown(p.recipients)),
        ("Client déclaré", _or_unknown(p.client)),
        ("Finalité déclarée", _or_unknown(p.purpose)),
        ("Période déclarée au journal d'audit", period),
    ]


_TEMPLATES = Environment(
    loader=PackageLoader("proactive", "templates"),
    autoescape=select_autoescape(["html.j2"]),
    undefined=StrictUndefined,
    trim_blocks=True,
    lstrip_blocks=True,
)


def render_report(
    follow_ups: Sequence[OfferFollowUp],
    truth: Mapping[str, Mapping[str, bool]] | None,
    parameters: Parameters,
    generated_at: datetime,
    sent: Messages | None = None,
) -> str:
    """The page; ``truth`` (benefit → pseudonym → real non-claimant, over the persons the
    campaign examined: the sandbox's ground truth) adds detection quality."""
    offers = [f.offer for f in follow_ups]
    found = funnel(follow_ups)
    steps = _funnel_rows(found)
    by_benefit = Counter(o.benefit for o in offers)
    by_territory = Counter(o.territory or UNKNOWN_TERRITORY for o in offers)
    iso, text = _moment(generated_at)
    return _TEMPLATES.get_template("report.html.j2").render(
        title="Campagne " + ", ".join(parameters.campaigns),
        css=_CSS,
        generated_iso=iso,
        generated_text=text,
        parameters=_parameters(parameters),
        offers=_number(len(offers)),
        funnel_chart=_bars("funnel", "Parcours des offres", [(str(a), int(b)) for a, b in steps]),
        funnel_table=_table(
            "Parcours des offres (une offre compte à chaque étape atteinte)",
            ["Étape", "offres"],
            steps,
        ),
        by_benefit=_bars("benefit", "Offres par prestation", sorted(by_benefit.items())),
        benefit_table=_by_group(
            follow_ups, lambda o: o.benefit, "Prestation", "Parcours par prestation"
        ),
        by_territory=_bars("territory", "Offres par département", sorted(by_territory.items())),
        territory_table=_by_group(
            follow_ups, lambda o: o.territory, "Département", "Parcours par département"
        ),
        amounts=_amounts(offers),
        messages=None if sent is None else _messages(sent),
        sms_segments=None if sent is None else _number(sent.sms_segments),
        sms_cost=None if sent is None else sent.sms_cost,
        detection=None if truth is None else _detection(detections(offers, truth)),
        precision_label=PRECISION_LABEL,
        recall_label=RECALL_LABEL,
        population_source=_or_unknown(parameters.population_source),
    )
