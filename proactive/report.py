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
from html import escape

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


def _bars(chart_id: str, title: str, rows: Sequence[tuple[str, int]]) -> str:
    """A horizontal bar chart with its title and a text description for assistive tools."""
    width, label_w, bar_h = 560, 170, 22
    top = max((v for _, v in rows), default=0) or 1
    height = bar_h * len(rows) + 8
    described = "; ".join(f"{label} : {_number(v)}" for label, v in rows) or "aucune donnée"
    parts = [
        f'<svg role="img" width="{width}" height="{height}" viewBox="0 0 {width} {height}" '
        f'aria-labelledby="{chart_id}-t {chart_id}-d" xmlns="http://www.w3.org/2000/svg">',
        f'<title id="{chart_id}-t">{escape(title)}</title>',
        f'<desc id="{chart_id}-d">{escape(described)}</desc>',
    ]
    for i, (label, value) in enumerate(rows):
        y = 4 + i * bar_h
        length = round((width - label_w - 60) * value / top)
        parts.append(
            f'<text x="0" y="{y + 15}">{escape(label)}</text>'
            f'<rect x="{label_w}" y="{y + 3}" width="{length}" height="{bar_h - 6}" '
            f'fill="#000091"/><text x="{label_w + length + 6}" y="{y + 15}">{_number(value)}</text>'
        )
    parts.append("</svg>")
    return "".join(parts)


def _table(caption: str, head: Sequence[str], rows: Sequence[Sequence[str | int]]) -> str:
    cells = "".join(f'<th scope="col">{escape(h)}</th>' for h in head)
    body = []
    for row in rows:
        first, *rest = row
        tds = "".join(
            f'<td class="n">{_number(v)}</td>' if isinstance(v, int) else f"<td>{escape(v)}</td>"
            for v in rest
        )
        body.append(f'<tr><th scope="row">{escape(str(first))}</th>{tds}</tr>')
    return (
        f"<table><caption>{escape(caption)}</caption><thead><tr>{cells}</tr></thead>"
        f"<tbody>{''.join(body)}</tbody></table>"
    )


def _by_status(offers: Sequence[Offer], key: str, label: str, caption: str) -> str:
    groups: dict[str, Counter[str]] = {}
    for offer in offers:
        name = getattr(offer, key) or UNKNOWN_TERRITORY
        groups.setdefault(name, Counter())[offer.status] += 1
    head = [label, *STATUS_LABELS.values(), "total"]
    rows: list[list[str | int]] = [
        [name, *(c[s] for s in STATUSES), sum(c.values())] for name, c in sorted(groups.items())
    ]
    return _table(caption, head, rows)


def _amounts(offers: Sequence[Offer]) -> str:
    rows: list[list[str | int]] = []
    for benefit in sorted({o.benefit for o in offers}):
        known = [o.monthly_amount for o in offers if o.benefit == benefit]
        amounts = [a for a in known if a is not None]
        mean = sum(amounts) / len(amounts) if amounts else None
        rows.append([benefit, len(amounts), _euros(sum(amounts)), _euros(mean)])
    head = ["Prestation", "offres chiffrées", "total mensuel estimé", "moyenne mensuelle"]
    return _table("Montants mensuels estimés", head, rows)


def _detection(found: Mapping[str, Detection]) -> str:
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
    return (
        "<h2>Qualité de la détection (vérité de terrain)</h2><p>Comparée à la vérité de "
        "terrain de la population de test : pour chaque personne, si elle est réellement "
        "non-recourante de la prestation (le droit appliqué aux faits réels de son foyer, "
        "qu'aucune administration ne sert). Précision : vrais positifs / (vrais + faux "
        "positifs). Rappel : vrais positifs / non-recourants connus parmi les personnes "
        "examinées par la campagne.</p>" + _table("Précision et rappel par prestation", head, rows)
    )


def render_report(
    offers: Sequence[Offer], truth: Mapping[str, Mapping[str, bool]] | None, title: str
) -> str:
    """The page; ``truth`` (benefit → pseudonym → real non-claimant) adds detection quality."""
    statuses = Counter(o.status for o in offers)
    by_benefit = Counter(o.benefit for o in offers)
    by_territory = Counter(o.territory or UNKNOWN_TERRITORY for o in offers)
    sections = [
        f"<h1>{escape(title)}</h1>",
        f"<p>{_number(len(offers))} offres. Agrégats seulement : aucune donnée personnelle.</p>",
        "<h2>Offres par statut</h2>",
        _bars("status", "Offres par statut", [(STATUS_LABELS[s], statuses[s]) for s in STATUSES]),
        "<h2>Par prestation</h2>",
        _bars("benefit", "Offres par prestation", sorted(by_benefit.items())),
        _by_status(offers, "benefit", "Prestation", "Offres par prestation et statut"),
        "<h2>Par département</h2>",
        _bars("territory", "Offres par département", sorted(by_territory.items())),
        _by_status(offers, "territory", "Département", "Offres par département et statut"),
        "<h2>Montants</h2>",
        _amounts(offers),
    ]
    if truth is not None:
        sections.append(_detection(detections(offers, truth)))
    return (
        '<!DOCTYPE html><html lang="fr"><head><meta charset="utf-8">'
        f"<title>{escape(title)}</title><style>{_CSS}</style></head>"
        f"<body><main>{''.join(sections)}</main></body></html>\n"
    )
