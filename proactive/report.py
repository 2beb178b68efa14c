"""A campaign's report: one self-contained, accessible HTML page.

No script and no external asset, so the page can be mailed, archived or opened offline, and a
screen reader reads every chart: each SVG has a title and description, and its figures are
also in a table next to it. Only pseudonymous aggregates appear — counts by status, benefit
and département, amounts — never an offer's person.

Detection quality (on the sandbox, whose population knows who really is a non-claimant: its
ground truth, the law applied to each household's true facts): ``truth`` maps each benefit to
a map of proactive pseudonym → whether that person is a real non-claimant of it, over the
persons the campaign examined. Per benefit, precision is the share of offers made to real
non-claimants among the offers whose person ``truth`` knows; recall is the share of the
non-claimants among the persons examined who got an offer, so its denominator is whoever the
caller put in ``truth`` for that benefit (the CLI: the adults a ``--population`` campaign
examines, the same listing, filter and limit).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from jinja2 import Environment, PackageLoader, StrictUndefined, select_autoescape

from store.offers import STATUSES, Offer

UNKNOWN_TERRITORY = "inconnu"
STATUS_LABELS = {
    "detected": "détectées",
    "notified": "notifiées",
    "opened": "ouvertes",
    "applied": "demandes déposées",
    "declined": "refusées",
    "expired": "expirées",
}
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


def _by_status(offers: Sequence[Offer], key: str, label: str, caption: str) -> Table:
    groups: dict[str, Counter[str]] = {}
    for offer in offers:
        name = getattr(offer, key) or UNKNOWN_TERRITORY
        groups.setdefault(name, Counter())[offer.status] += 1
    head = [label, *STATUS_LABELS.values(), "total"]
    rows: list[list[str | int]] = [
        [name, *(c[s] for s in STATUSES), sum(c.values())] for name, c in sorted(groups.items())
    ]
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


def _detection(found: Mapping[str, Detection]) -> Table:
    head = [
        "Prestation",
        "personnes examinées",
        "non-recourants connus parmi elles",
        "vrais positifs",
        "faux positifs",
        "offres hors de la vérité",
        "faux négatifs",
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
            _percent(d.precision),
            _percent(d.recall),
        ]
        for benefit, d in found.items()
    ]
    return _table("Précision et rappel par prestation", head, rows)


_TEMPLATES = Environment(
    loader=PackageLoader("proactive", "templates"),
    autoescape=select_autoescape(["html.j2"]),
    undefined=StrictUndefined,
    trim_blocks=True,
    lstrip_blocks=True,
)


def render_report(
    offers: Sequence[Offer], truth: Mapping[str, Mapping[str, bool]] | None, title: str
) -> str:
    """The page; ``truth`` (benefit → pseudonym → real non-claimant) adds detection quality."""
    statuses = Counter(o.status for o in offers)
    by_benefit = Counter(o.benefit for o in offers)
    by_territory = Counter(o.territory or UNKNOWN_TERRITORY for o in offers)
    return _TEMPLATES.get_template("report.html.j2").render(
        title=title,
        css=_CSS,
        offers=_number(len(offers)),
        by_status=_bars(
            "status", "Offres par statut", [(STATUS_LABELS[s], statuses[s]) for s in STATUSES]
        ),
        by_benefit=_bars("benefit", "Offres par prestation", sorted(by_benefit.items())),
        benefit_table=_by_status(
            offers, "benefit", "Prestation", "Offres par prestation et statut"
        ),
        by_territory=_bars("territory", "Offres par département", sorted(by_territory.items())),
        territory_table=_by_status(
            offers, "territory", "Département", "Offres par département et statut"
        ),
        amounts=_amounts(offers),
        detection=None if truth is None else _detection(detections(offers, truth)),
    )
