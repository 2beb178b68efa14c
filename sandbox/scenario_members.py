"""The ``membres`` of a scenario household: identity, resources month by month, rights."""

from __future__ import annotations

import re
from datetime import date
from typing import cast

from sandbox.gazetteer import FRANCE, FRANCE_TRAVAIL_SIRET, PENSION_FUNDS, siret
from sandbox.months import add_years, first_day, last_day, month_of
from sandbox.person import (
    TURNOVER_CATEGORIES,
    Activity,
    Identity,
    Nature,
    PayerType,
    Right,
    Sex,
    Truth,
    TurnoverCategory,
)
from sandbox.protocol import siret_valid
from sandbox.scenario_reader import Fields
from sandbox.scenario_spec import MemberSpec, PensionKind, ResourceSpec, SeekerSpec, Segment

# The same rules API Particulier applies to names, so every scenario person can be asked for.
_NAME = re.compile(r"^[A-Za-zÀ-ÖØ-öø-ÿ' -]{1,80}$")
_COG = re.compile(r"^[0-9][0-9AB][0-9]{3}$")
_COUNTRY = re.compile(r"^99[0-9]{3}$")
_NATURES: tuple[Nature, ...] = ("salaire", "allocation_chomage", "pension", "revenu_independant")
_PAYERS: dict[Nature, PayerType] = {
    "salaire": "employeur",
    "allocation_chomage": "france_travail",
    "pension": "caisse_retraite",
    "revenu_independant": "independant",
}
_FUNDS = dict(PENSION_FUNDS)
# An employer and a self-employed payer no generated person has, so that a scenario's
# payments are recognisable at a glance; France Travail and the pension funds are the real ones.
_DEFAULT_SIRETS: dict[PayerType, str] = {
    "employeur": siret(3199000000000),
    "france_travail": FRANCE_TRAVAIL_SIRET,
    "independant": siret(5299000000000),
    "caisse_retraite": _FUNDS["CNAV"],
}
_PENSION_KEYS = ("regime", "type_pension", "montant_brut", "date_effet")
_ACTIVITIES = ("salarie", "chomeur", "independant", "etudiant", "retraite", "inactif")
_RIGHTS = ("rsa", "ppa", "aah", "asf", "css", "aspa")
_TRUTH = tuple(Truth.__dataclass_fields__)
WINDOW = 24  # months of history every agency holds, ending at the reference month


def read_member(f: Fields, reference: int) -> MemberSpec:
    child = f.choice("role", ("adult", "child"), "adult") == "child"
    country = f.maybe_text("pays_naissance", _COUNTRY) or FRANCE
    commune = f.maybe_text("commune_naissance", _COG)
    if (country == FRANCE) != (commune is not None):
        raise f.error("commune_naissance", "required for persons born in France, only for them")
    identity = Identity(
        f.text("nom", _NAME),
        f.texts("prenoms", _NAME, 1, 3),
        f.day("date_naissance"),
        cast("Sex", f.choice("sexe", ("M", "F"))),
        country,
        commune,
        f.maybe_text("nom_usage", _NAME),
    )
    if identity.date_naissance > last_day(reference):
        raise f.error("date_naissance", "after the reference month")
    resources = tuple(
        _resource(r, reference, identity.date_naissance) for r in f.items("ressources")
    )
    missing = frozenset(
        _window_month(f, "mois_manquants", v, reference) for v in _list(f, "mois_manquants")
    )
    history = f.boolean("historique_ressources", True)
    activity = f.maybe_text("activite")
    if activity is not None and (child or activity not in _ACTIVITIES):
        raise f.error("activite", f"{activity!r} is not one of {', '.join(_ACTIVITIES)} (adults)")
    seeker = _seeker(f.maybe_mapping("france_travail"))
    member = MemberSpec(
        identity,
        child,
        cast("Activity", "enfant" if child else activity or _activity(resources, seeker)),
        resources,
        missing,
        history,
        _rights(f.maybe_mapping("droits")),
        seeker,
        f.boolean("connu_caf", True),
        _truth(f.maybe_mapping("verite")),
    )
    f.close()
    return member


def _activity(resources: tuple[ResourceSpec, ...], seeker: SeekerSpec | None) -> str:
    natures = {r.nature for r in resources}
    for nature, activity in (
        ("pension", "retraite"),
        ("salaire", "salarie"),
        ("revenu_independant", "independant"),
        ("allocation_chomage", "chomeur"),
    ):
        if nature in natures:
            return activity
    return "chomeur" if seeker is not None else "inactif"


def _list(f: Fields, key: str) -> list[object]:
    value = f.get(key)
    if value is None:
        return []
    if not isinstance(value, list):
        raise f.error(key, "expected a list")
    return value


def _window_month(f: Fields, key: str, value: object, reference: int) -> int:
    month = f.month_value(key, value)
    if not reference - WINDOW + 1 <= month <= reference:
        raise f.error(key, f"{value} is outside the {WINDOW} months ending at the reference month")
    return month


def _resource(f: Fields, reference: int, born: date) -> ResourceSpec:
    nature = cast("Nature", f.choice("nature", _NATURES))
    payer = f.maybe_mapping("payeur")
    payer_type = _PAYERS[nature]
    payer_siret = None
    if payer is not None:
        payer_type = cast(
            "PayerType",
            payer.choice("type", tuple(_DEFAULT_SIRETS), payer_type),
        )
        payer_siret = payer.maybe_text("siret")
        if payer_siret is not None and not siret_valid(payer_siret):
            raise payer.error("siret", f"{payer_siret!r} is not a valid SIRET")
        payer.close()
    turnover = nature == "revenu_independant"
    segments = _segments(f, reference, turnover)
    category: TurnoverCategory | None = None
    if turnover:
        chosen = f.choice("categorie", TURNOVER_CATEGORIES, "bic_services")
        category = cast("TurnoverCategory", chosen)
    elif f.has("categorie"):
        raise f.error("categorie", "only for nature revenu_independant")
    if nature != "pension":
        extra = [k for k in _PENSION_KEYS if f.has(k)]
        if extra:
            raise f.error(extra[0], "only for nature pension")
        f.close()
        return ResourceSpec(
            nature,
            payer_type,
            payer_siret or _DEFAULT_SIRETS[payer_type],
            segments,
            category=category,
        )
    regime = f.choice("regime", tuple(_FUNDS), "CNAV")
    kind = f.choice("type_pension", ("droit_propre", "reversion"), "droit_propre")
    gross = f.maybe_number("montant_brut")
    effective = f.maybe_day("date_effet")
    if effective is None:
        start = segments[0].start
        # An open history means the pension predates the window: from the month after the
        # 62nd birthday (the legal age), or just before the window for anyone younger.
        effective = first_day(
            start
            if start is not None
            else min(month_of(add_years(born, 62)) + 1, reference - WINDOW)
        )
    f.close()
    return ResourceSpec(
        nature,
        payer_type,
        payer_siret or _FUNDS[regime],
        segments,
        regime,
        cast("PensionKind", kind),
        gross,
        effective,
    )


def _segments(f: Fields, reference: int, turnover: bool) -> tuple[Segment, ...]:
    """The amounts paid and when; a ``turnover`` (a micro-entrepreneur's declared turnover)
    has one amount, net social and net taxable alike (``Stream``)."""
    if turnover and f.has("montant_net_fiscal"):
        raise f.error("montant_net_fiscal", "a turnover has one amount: montant_net_social")
    fiscal_of = (lambda social: social) if turnover else _fiscal
    months = list(f.entries("mois"))
    if months:
        for key in (
            "montant_net_social",
            "montant_net_fiscal",
            "mois_stables",
            "depuis",
            "jusqu_a",
        ):
            if f.has(key):
                raise f.error(key, "not with mois (give the amounts month by month)")
        out = []
        for text, value in months:
            where = f"mois.{text}"
            month = _window_month(f, where, text, reference)
            if isinstance(value, dict):
                amounts = Fields(value, f.source, f.where(where))
                social = amounts.number("montant_net_social")
                if turnover and amounts.has("montant_net_fiscal"):
                    raise amounts.error("montant_net_fiscal", "a turnover has one amount")
                fiscal = amounts.number("montant_net_fiscal", fiscal_of(social))
                amounts.close()
            else:
                holder = Fields({"montant_net_social": value}, f.source, f.where(where))
                social = holder.number("montant_net_social")
                fiscal = fiscal_of(social)
            out.append(Segment(month, month, social, fiscal))
        return tuple(sorted(out, key=lambda s: s.start or 0))
    social = f.number("montant_net_social")
    fiscal = f.number("montant_net_fiscal", fiscal_of(social))
    stable = f.integer("mois_stables", 0, 1, WINDOW)
    start, end = f.maybe_month("depuis"), f.maybe_month("jusqu_a")
    if stable and (start is not None or end is not None):
        raise f.error("mois_stables", "not with depuis or jusqu_a")
    if stable:
        start, end = reference - stable + 1, reference
    if start is not None and end is not None and start > end:
        raise f.error("depuis", "after jusqu_a")
    return (Segment(start, end, social, fiscal),)


def _fiscal(social: float) -> float:
    # The sandbox's rule for every generated payment (``Stream.net_fiscal``): CSG non
    # déductible and CRDS are taxed although not received.
    return round(social * 1.03, 2)


def _seeker(f: Fields | None) -> SeekerSpec | None:
    if f is None:
        return None
    seeker = SeekerSpec(f.day("depuis"), f.maybe_day("jusqu_au"), f.integer("categorie", 1, 1, 5))
    f.close()
    return seeker


def _rights(f: Fields | None) -> tuple[tuple[str, Right], ...]:
    if f is None:
        return ()
    out = []
    for name in _RIGHTS:
        spec = f.maybe_mapping(name)
        if spec is None:
            continue
        since = spec.day("depuis")
        amount = spec.maybe_number("montant")
        option: bool | None = None
        renewal = None
        if name in ("rsa", "ppa"):
            option = spec.boolean("majoration", False)
        elif name == "css":
            option = spec.boolean("participation", False)
            renewal = spec.maybe_day("renouvellement") or add_years(since, 1)
        spec.close()
        out.append((name, Right(since, amount, option, renewal)))
    f.close()
    return tuple(out)


def _truth(f: Fields | None) -> tuple[tuple[str, bool], ...]:
    if f is None:
        return ()
    out = tuple((name, f.boolean(name, False)) for name in _TRUTH)
    f.close()
    return tuple(pair for pair in out if pair[1])
