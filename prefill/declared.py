"""The person-view records with what the person declared on a form, for eligibility to re-run.

``corrected_facts`` gives what the person confirmed by re-typing, corrected or provided,
keyed by source path; ``declared_records`` applies those facts to the records the exchange
released, building a record where none was released (the purpose did not cover it, or the
agency had nothing) and the person's facts are enough to make one. A record built or changed
here carries the provenance ``DECLARED`` (agency ``declaration``, source ``prefill``): the
rules' explanation then says the value was declared by the person.

What the facts change, by source path:

- ``housing.occupancy``, ``housing.monthly_rent``, ``housing.monthly_charges``: the dwelling.
  Without a housing record, one is built once the occupancy is declared; its commune is the
  one the agencies know for the person's address (the CAF file's, else the tax
  household's), the housing-aid zone left to the rules to derive from it. A declared rent is
  the rent of every month of the window the rules read (the form asks for the current rent
  only).
- ``benefits.housingAid.receiving``, ``.monthly_amount``, ``.kind``: the housing aid paid,
  which the RSA, PPA and CSS housing flat rates read.
- ``resources.months[-3:]`` (a per-month table): each listed month's payments of the natures
  the table has columns for; a nature whose declared amount equals the agency's keeps the
  agency's payments (and a micro-entrepreneur's activity category). A month absent from the
  record is added.
- ``resources.months[-N:].payments[nature=X].net_social`` (a total over N months): the
  payments of that nature over those months, scaled to the declared total, or spread evenly
  over the months when the agency had none.
- ``resources.months[-N:].net_social`` (a total of every nature): the months the per-nature
  facts left alone are scaled to it.
- ``household.children``, ``household.claimants``: the CAF household's children and adults;
  without a CAF household, one is built from them (the person as its only adult when the
  adults are not declared).
- ``taxHousehold.marital_status``, ``.declarants``, ``.reference_tax_income``: the tax
  household, when one was released. A situation without a partner (célibataire, divorcé,
  séparé, veuf) declared where no household record exists builds a CAF household of the
  person and the children they declared.
- ``benefits.rsa/primeActivite/aah/asf.receiving``, ``benefits.aspa.receiving``,
  ``healthCoverage.css_receiving``: whether the benefit is paid.
- ``pension.pensions`` (rows) and ``pension.pensions[].monthly_net`` (their total): the
  pensions, their gross amounts scaled with the net when only the total is corrected.
- ``identity.birth_date``: the birth date.

Ignored, because the rules cannot use them: a rent or housing aid declared without any
housing record and without an occupancy; a total of every nature of resources where the
agency knew no payment (its nature is unknown); a total of pensions where no pension is
known (its gross amount is unknown); the tax household's facts when no tax household was
released (its revenu fiscal de référence and year are the DGFiP's); anything else the forms
ask (nationality, address, France Travail registration, assets).
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Callable, Mapping
from datetime import UTC, date, datetime, time
from typing import Any

from connectors import records

DECLARED_AGENCY = "declaration"
DECLARED_SOURCE = "prefill"
# Months of history the rules read before the month evaluated (eligibility's window).
HISTORY_MONTHS = 18

_OCCUPANCY = {
    "locataire": "tenant",
    "locataire_meuble": "tenant_furnished",
    "proprietaire": "owner",
    "heberge_gratuit": "free_lodging",
    "sans_domicile": "homeless",
}
_TENANTS = frozenset({"tenant", "tenant_furnished"})
_PENSION_KINDS = {"droit_propre": "own_right", "reversion": "survivor"}
# payment nature → the payer kind a declared payment is given
_NATURES = {
    "salary": "employer",
    "unemployment_benefit": "unemployment",
    "pension": "pension",
    "self_employed_income": "self_employed",
}
# person-view field → the benefit name of its ``BenefitStatus``
_STATUSES = {
    "benefits.rsa": "rsa",
    "benefits.primeActivite": "ppa",
    "benefits.aah": "aah",
    "benefits.asf": "asf",
}
_WITHOUT_PARTNER = frozenset({"celibataire", "divorce", "separe", "veuf"})
_MONTH = re.compile(r"^\d{4}-(0[1-9]|1[0-2])$")
_NATURE_TOTAL = re.compile(
    r"^resources\.months\[-(\d+):\]\.payments\[nature=([a-z_]+)\]\.net_social$"
)
_ALL_TOTAL = re.compile(r"^resources\.months\[-(\d+):\]\.net_social$")
_TABLE = re.compile(r"^resources\.months\[-(\d+):\]$")


def declared_provenance(on: date) -> records.Provenance:
    """The provenance of what the person declared on ``on``."""
    return records.Provenance(
        DECLARED_AGENCY, DECLARED_SOURCE, on, datetime.combine(on, time(), tzinfo=UTC)
    )


def declared_records(
    fields: Mapping[str, object],
    facts: Mapping[str, Any],
    *,
    on: date,
    history_months: int = HISTORY_MONTHS,
) -> dict[str, object]:
    """``fields`` (person-view field → record) with ``facts`` (source path → declared value,
    as ``corrected_facts`` gives them) applied, for the rules to run on ``on``'s month over
    the ``history_months`` before it. ``fields`` is not modified."""
    out = dict(fields)
    window = _window(on, history_months)
    prov = declared_provenance(on)
    _identity(out, facts)
    _housing(out, facts, window, prov)
    _resources(out, facts, window, prov)
    _household(out, facts, prov, on)
    _tax(out, facts)
    _statuses(out, facts, prov)
    _retirement(out, facts, prov)
    return out


# --- helpers ---------------------------------------------------------------------------------


def _window(on: date, months: int) -> tuple[str, ...]:
    index = on.year * 12 + on.month - 1
    return tuple(f"{i // 12:04d}-{i % 12 + 1:02d}" for i in range(index - months, index))


def _number(value: Any) -> float | None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return float(value)


def _date(value: Any) -> date | None:
    if isinstance(value, date):
        return value
    if isinstance(value, str):
        try:
            return date.fromisoformat(value)
        except ValueError:
            return None
    return None


def _text(value: Any) -> str | None:
    return value if isinstance(value, str) and value.strip() else None


def _changed(before: object, after: object, prov: records.Provenance) -> object:
    """``after`` with the declared provenance when it differs from ``before``."""
    if after == before:
        return before
    return dataclasses.replace(after, provenance=prov)  # type: ignore[type-var]


# --- identity --------------------------------------------------------------------------------


def _identity(out: dict[str, object], facts: Mapping[str, Any]) -> None:
    civil = out.get("identity")
    born = _date(facts.get("identity.birth_date"))
    if isinstance(civil, records.CivilStatus) and born is not None and born != civil.birth_date:
        out["identity"] = dataclasses.replace(civil, birth_date=born)


# --- housing ---------------------------------------------------------------------------------


def _housing(
    out: dict[str, object],
    facts: Mapping[str, Any],
    window: tuple[str, ...],
    prov: records.Provenance,
) -> None:
    occupancy = _OCCUPANCY.get(facts.get("housing.occupancy") or "")
    rent = _number(facts.get("housing.monthly_rent"))
    charges = _number(facts.get("housing.monthly_charges"))
    receiving = facts.get("benefits.housingAid.receiving")
    aid = _number(facts.get("benefits.housingAid.monthly_amount"))
    kind = _text(facts.get("benefits.housingAid.kind"))
    if (
        occupancy is None
        and rent is None
        and charges is None
        and receiving is None
        and (aid is None and kind is None)
    ):
        return
    before = out.get("housing") or out.get("benefits.housingAid")
    if isinstance(before, records.Housing):
        housing = before
    elif occupancy is not None:
        housing = records.Housing(
            occupancy=occupancy,
            monthly_rent=None,
            monthly_charges=None,
            cog_commune=_commune(out),
            zone=None,  # the rules derive it from the commune, as OpenFisca does
            rent_history=(),
            aid_receiving=False,
            aid_kind=None,
            aid_monthly=None,
            provenance=prov,
        )
    else:
        return  # a rent or an aid without knowing the dwelling: nothing the rules can use
    if occupancy is not None and occupancy != housing.occupancy:
        housing = dataclasses.replace(housing, occupancy=occupancy)
    if housing.occupancy not in _TENANTS:
        housing = dataclasses.replace(
            housing, monthly_rent=None, monthly_charges=None, rent_history=()
        )
    elif (rent is not None and rent != housing.monthly_rent) or (
        charges is not None and charges != housing.monthly_charges
    ):
        rent = housing.monthly_rent if rent is None else rent
        charges = housing.monthly_charges if charges is None else charges
        history: tuple[records.MonthlyRent, ...] = ()
        if rent is not None:
            history = tuple(records.MonthlyRent(m, rent, charges or 0.0) for m in window)
        housing = dataclasses.replace(
            housing, monthly_rent=rent, monthly_charges=charges, rent_history=history
        )
    housing = _aid(housing, receiving, aid, kind)
    result = housing if not isinstance(before, records.Housing) else _changed(before, housing, prov)
    out["housing"] = result
    if "benefits.housingAid" in out or not isinstance(before, records.Housing):
        out["benefits.housingAid"] = result


def _aid(
    housing: records.Housing, receiving: Any, amount: float | None, kind: str | None
) -> records.Housing:
    if isinstance(receiving, bool) and receiving != housing.aid_receiving:
        # A newly declared aid's amount is unknown unless declared: the rules compute it.
        housing = dataclasses.replace(
            housing,
            aid_receiving=receiving,
            aid_monthly=0.0 if not receiving else None,
            aid_kind=None if not receiving else housing.aid_kind,
        )
    if amount is not None:
        housing = dataclasses.replace(
            housing, aid_monthly=amount, aid_receiving=housing.aid_receiving or amount > 0
        )
    if kind is not None:
        housing = dataclasses.replace(housing, aid_kind=kind)
    return housing


def _commune(out: Mapping[str, object]) -> str | None:
    """The INSEE code of the commune the agencies know for the person's address."""
    caf = out.get("household")
    if isinstance(caf, records.FamilyQuotient) and caf.address and caf.address.cog_commune:
        return caf.address.cog_commune
    for name in ("address", "taxHousehold"):
        tax = out.get(name)
        if isinstance(tax, records.TaxHousehold) and tax.address.cog_commune:
            return tax.address.cog_commune
    return None


# --- resources -------------------------------------------------------------------------------


def _resources(
    out: dict[str, object],
    facts: Mapping[str, Any],
    window: tuple[str, ...],
    prov: records.Provenance,
) -> None:
    before = out.get("resources")
    resources = before if isinstance(before, records.Resources) else None
    touched: set[str] = set()
    for path, value in facts.items():
        if _TABLE.match(path) and isinstance(value, list):
            resources = _table(resources, value, window, prov, touched)
    for n, path, value in sorted(_totals(facts, _NATURE_TOTAL)):
        nature = _NATURE_TOTAL.match(path)[2]  # type: ignore[index]
        if resources is not None and nature in _NATURES:
            resources = _nature_total(resources, n, nature, value, touched)
    for n, _path, value in sorted(_totals(facts, _ALL_TOTAL)):
        if resources is not None:
            resources = _all_total(resources, n, value, touched)
    if resources is None or resources is before:
        return
    out["resources"] = (
        _changed(before, resources, prov) if isinstance(before, records.Resources) else resources
    )


def _totals(facts: Mapping[str, Any], pattern: re.Pattern[str]) -> list[tuple[int, str, float]]:
    found = []
    for path, value in facts.items():
        match = pattern.match(path)
        amount = _number(value)
        if match and amount is not None:
            found.append((int(match[1]), path, amount))
    return found


def _table(
    resources: records.Resources | None,
    rows: list[Any],
    window: tuple[str, ...],
    prov: records.Provenance,
    touched: set[str],
) -> records.Resources | None:
    declared = {
        row["month"]: row
        for row in rows
        if isinstance(row, dict)
        and isinstance(row.get("month"), str)
        and _MONTH.match(row["month"])
    }
    if not declared:
        return resources
    if resources is None:
        resources = records.Resources((), window, prov)
    months = {m.month: m for m in resources.months}
    for month, row in declared.items():
        months[month] = _declared_month(months.get(month, records.MonthlyResources(month, ())), row)
        touched.add(month)
    missing = tuple(m for m in resources.missing_months if m not in declared)
    return dataclasses.replace(
        resources, months=tuple(months[m] for m in sorted(months)), missing_months=missing
    )


def _declared_month(
    month: records.MonthlyResources, row: Mapping[str, Any]
) -> records.MonthlyResources:
    """``month`` with the natures ``row`` has a column for set to the declared amounts."""
    payments = list(month.payments)
    for nature in _NATURES:
        key = f"payments[nature={nature}].net_social"
        if key not in row:
            continue
        amount = _number(row[key]) or 0.0
        payments = _set_nature(payments, nature, amount, month.month)
    return records.MonthlyResources(month.month, tuple(payments))


def _set_nature(
    payments: list[records.Payment], nature: str, amount: float, month: str
) -> list[records.Payment]:
    """``payments`` whose ``nature`` ones total ``amount``: unchanged when they already do,
    scaled when there were some, else one declared payment."""
    own = [p for p in payments if p.nature == nature]
    current = round(sum(p.net_social for p in own), 2)
    if abs(current - amount) < 0.005:
        return payments
    others = [p for p in payments if p.nature != nature]
    if current > 0:
        ratio = amount / current
        scaled = [
            dataclasses.replace(
                p,
                net_social=round(p.net_social * ratio, 2),
                net_taxable=round(p.net_taxable * ratio, 2),
            )
            for p in own
        ]
        return others + [p for p in scaled if p.net_social]
    if not amount:
        return others
    # Declared by the person: net taxable taken equal to net social (no payer slip).
    return [*others, records.Payment("", _NATURES[nature], nature, amount, amount)]


def _nature_total(
    resources: records.Resources, n: int, nature: str, total: float, touched: set[str]
) -> records.Resources:
    chosen = resources.months[-n:]
    if not chosen:
        return resources
    current = round(sum(p.net_social for m in chosen for p in m.payments if p.nature == nature), 2)
    if abs(current - total) < 0.005:
        touched.update(m.month for m in chosen)  # confirmed as detailed: left as they are
        return resources

    def share(m: records.MonthlyResources) -> float:
        own = sum(p.net_social for p in m.payments if p.nature == nature)
        if current > 0:
            return round(own * total / current, 2)
        return round(total / len(chosen), 2)

    return _rewrite(
        resources,
        {m.month for m in chosen},
        lambda m: records.MonthlyResources(
            m.month, tuple(_set_nature(list(m.payments), nature, share(m), m.month))
        ),
        touched,
    )


def _all_total(
    resources: records.Resources, n: int, total: float, touched: set[str]
) -> records.Resources:
    chosen = resources.months[-n:]
    current = round(sum(m.net_social for m in chosen), 2)
    if abs(current - total) < 0.005:
        return resources
    free = [m for m in chosen if m.month not in touched]
    fixed = current - sum(m.net_social for m in free)
    base = sum(m.net_social for m in free)
    if base <= 0 or total < fixed:
        return resources  # no payment to scale: the nature of the difference is unknown
    ratio = (total - fixed) / base

    def scaled(m: records.MonthlyResources) -> records.MonthlyResources:
        return records.MonthlyResources(
            m.month,
            tuple(
                dataclasses.replace(
                    p,
                    net_social=round(p.net_social * ratio, 2),
                    net_taxable=round(p.net_taxable * ratio, 2),
                )
                for p in m.payments
            ),
        )

    return _rewrite(resources, {m.month for m in free}, scaled, touched)


def _rewrite(
    resources: records.Resources,
    months: set[str],
    change: Callable[[records.MonthlyResources], records.MonthlyResources],
    touched: set[str],
) -> records.Resources:
    touched.update(months)
    return dataclasses.replace(
        resources,
        months=tuple(change(m) if m.month in months else m for m in resources.months),
    )


# --- household -------------------------------------------------------------------------------


def _member(row: Mapping[str, Any], sex: str | None = None) -> records.HouseholdMember:
    return records.HouseholdMember(
        birth_name=_text(row.get("birth_name")) or "",
        usage_name=_text(row.get("usage_name")),
        given_names=_text(row.get("given_names")) or "",
        birth_date=_date(row.get("birth_date")),
        sex=_text(row.get("sex")) or sex,
    )


def _members(
    rows: Any, known: tuple[records.HouseholdMember, ...] = ()
) -> tuple[records.HouseholdMember, ...] | None:
    if not isinstance(rows, list):
        return None
    out = []
    for row in rows:
        if not isinstance(row, dict):
            continue
        member = _member(row)
        same = next(
            (
                k
                for k in known
                if k.birth_date == member.birth_date
                and k.birth_name.casefold() == member.birth_name.casefold()
            ),
            None,
        )
        if same is not None:
            # A column the form does not show keeps the agency's value.
            member = dataclasses.replace(
                member,
                sex=member.sex or same.sex,
                usage_name=member.usage_name if "usage_name" in row else same.usage_name,
            )
        out.append(member)
    return tuple(out)


def _household(
    out: dict[str, object], facts: Mapping[str, Any], prov: records.Provenance, on: date
) -> None:
    before = out.get("household")
    civil = out.get("identity")
    caf = before if isinstance(before, records.FamilyQuotient) else None
    children = _members(facts.get("household.children"), caf.children if caf else ())
    claimants = _members(facts.get("household.claimants"), caf.claimants if caf else ())
    if caf is not None:
        after = dataclasses.replace(
            caf,
            children=caf.children if children is None else children,
            claimants=claimants or caf.claimants,
        )
        out["household"] = _changed(caf, after, prov)
        return
    if not isinstance(civil, records.CivilStatus):
        return
    status = facts.get("taxHousehold.marital_status")
    alone = status in _WITHOUT_PARTNER
    tax = out.get("taxHousehold")
    if claimants is None and children is None and not (alone and tax is None):
        return
    if not claimants:
        # The adults: the person alone when they said so, else the tax household's.
        if not alone and isinstance(tax, records.TaxHousehold) and tax.declarants:
            claimants = tax.declarants
        else:
            claimants = (_self(civil),)
    out["household"] = records.FamilyQuotient(
        regime=DECLARED_AGENCY,
        value=0,  # not computed: no rule reads it
        year=on.year,
        month=on.month,
        claimants=claimants,
        children=children or (),
        address=None,
        provenance=prov,
    )


def _self(civil: records.CivilStatus) -> records.HouseholdMember:
    return records.HouseholdMember(
        civil.birth_name,
        civil.usage_name,
        " ".join(civil.given_names),
        civil.birth_date,
        civil.sex,
    )


def _tax(out: dict[str, object], facts: Mapping[str, Any]) -> None:
    tax = out.get("taxHousehold")
    if not isinstance(tax, records.TaxHousehold):
        return
    after = tax
    status = _text(facts.get("taxHousehold.marital_status"))
    if status is not None:
        after = dataclasses.replace(after, marital_status=status)
    declarants = _members(facts.get("taxHousehold.declarants"), tax.declarants)
    if declarants:
        after = dataclasses.replace(after, declarants=declarants)
    income = _number(facts.get("taxHousehold.reference_tax_income"))
    if income is not None:
        after = dataclasses.replace(after, reference_tax_income=round(income))
    # The DGFiP's record stays the DGFiP's (its income year is what the rules match on); the
    # declared values replace its own.
    if after != tax:
        out["taxHousehold"] = after


# --- benefits received -----------------------------------------------------------------------


def _statuses(out: dict[str, object], facts: Mapping[str, Any], prov: records.Provenance) -> None:
    for field, benefit in _STATUSES.items():
        receiving = facts.get(f"{field}.receiving")
        if not isinstance(receiving, bool):
            continue
        status = out.get(field)
        if isinstance(status, records.BenefitStatus):
            if status.receiving != receiving:
                out[field] = dataclasses.replace(
                    status, receiving=receiving, since=None, provenance=prov
                )
        else:
            out[field] = records.BenefitStatus(benefit, receiving, None, None, prov)
    css = facts.get("healthCoverage.css_receiving")
    if isinstance(css, bool):
        status = out.get("benefits.css")
        if isinstance(status, records.CssStatus):
            if status.receiving != css:
                out["benefits.css"] = dataclasses.replace(status, receiving=css, provenance=prov)
        else:
            out["benefits.css"] = records.CssStatus(css, None, None, None, prov)


# --- pensions --------------------------------------------------------------------------------


def _pension(row: Mapping[str, Any]) -> records.Pension | None:
    net = _number(row.get("monthly_net"))
    gross = _number(row.get("monthly_gross"))
    if net is None and gross is None:
        return None
    return records.Pension(
        scheme=_text(row.get("scheme")) or "",
        kind=_PENSION_KINDS.get(row.get("kind") or "", "own_right"),
        monthly_gross=gross if gross is not None else (net or 0.0),
        monthly_net=net if net is not None else (gross or 0.0),
        # Without its date the pension counts for the whole window.
        since=_date(row.get("since")) or date(1900, 1, 1),
    )


def _retirement(out: dict[str, object], facts: Mapping[str, Any], prov: records.Provenance) -> None:
    before = out.get("pension") or out.get("benefits.aspa")
    known = before if isinstance(before, records.Retirement) else None
    rows = facts.get("pension.pensions")
    total = _number(facts.get("pension.pensions[].monthly_net"))
    receiving = facts.get("benefits.aspa.receiving")
    if rows is None and total is None and not isinstance(receiving, bool):
        return
    pensions = known.pensions if known else ()
    if isinstance(rows, list):
        pensions = tuple(p for r in rows if isinstance(r, dict) if (p := _pension(r)) is not None)
    current = round(sum(p.monthly_net for p in pensions), 2)
    if total is not None and abs(current - total) >= 0.005 and current > 0:
        ratio = total / current
        pensions = tuple(
            dataclasses.replace(
                p,
                monthly_net=round(p.monthly_net * ratio, 2),
                monthly_gross=round(p.monthly_gross * ratio, 2),
            )
            for p in pensions
        )
    if known is None:
        if not pensions and not isinstance(receiving, bool):
            return
        after = records.Retirement(pensions, bool(receiving), None, None, prov)
    else:
        after = dataclasses.replace(known, pensions=pensions)
        if isinstance(receiving, bool) and receiving != known.aspa_receiving:
            after = dataclasses.replace(
                after,
                aspa_receiving=receiving,
                aspa_monthly=None,
                aspa_since=None,
            )
    result = after if known is None else _changed(known, after, prov)
    if "pension" in out or known is None:
        out["pension"] = result
    if "benefits.aspa" in out:
        out["benefits.aspa"] = result
