"""What the agencies state that the rules would otherwise compute: the housing aid and the ASF
the CAF pays, the family benefits' resources of year N-2 the DGFiP gives (``eligibility.paid``
feeds them), and the unknowns of a family whose N-2 base or whose parents' N-2 incomes no
record gives."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

from connectors.records import Provenance
from eligibility import bounds
from eligibility.household import Household, Unknown
from eligibility.model import InputUsed, PersonData


@dataclass(frozen=True)
class Stated:
    housing_aid: float | None  # a month; None: not known
    asf: bool | None  # paid; None: not known
    family_base: float | None  # a year; None: not known


def read(data: PersonData, month: str, one_tax_household: bool, inputs: list[InputUsed]) -> Stated:
    """What the records state for ``month``; each value read is added to ``inputs``."""
    return Stated(
        _housing_aid(data, inputs),
        _asf(data, inputs),
        _family_base(data, month, one_tax_household, inputs),
    )


def input_used(name: str, value: str, provenance: Provenance) -> InputUsed:
    """An input the rules read, with the record it came from."""
    return InputUsed(name, value, provenance.agency, provenance.source, provenance.as_of)


def _housing_aid(data: PersonData, inputs: list[InputUsed]) -> float | None:
    """The housing aid the CAF pays a month, which the housing flat rates read (see
    ``eligibility.paid``); None when its record does not say (the rules compute it)."""
    housing = data.housing
    if housing is None:
        return None
    paid = housing.aid_monthly if housing.aid_receiving else 0.0
    if paid is None:
        return None
    inputs.append(
        input_used("aide_logement_verse", f"{paid:.2f} €/month (paid)", housing.provenance)
    )
    return paid


def _family_base(
    data: PersonData, month: str, one_tax_household: bool, inputs: list[InputUsed]
) -> float | None:
    """The family benefits' resources of year N-2: the DGFiP's revenu fiscal de référence of
    that year, when one tax household holds the family (a single parent, or a married or
    PACS couple), or the sum of both partners' when each files their own (the base is the
    couple's income, CSS R532-1); else None, and the rules compute them (see
    ``eligibility.paid``)."""
    year = int(month[:4]) - 2
    tax = data.tax
    if tax is None or tax.income_year != year:
        return None
    if one_tax_household:
        amount = float(tax.reference_tax_income)
        said = f"{amount:.0f} € (revenu fiscal de référence {year})"
        inputs.append(input_used("prestations_familiales_base_ressources", said, tax.provenance))
        return amount
    partner = data.partner_tax
    if partner is None or partner.income_year != year:
        return None
    amount = float(tax.reference_tax_income + partner.reference_tax_income)
    said = (
        f"{amount:.0f} € (revenus fiscaux de référence {year} des deux foyers fiscaux : "
        f"{tax.reference_tax_income} € + {partner.reference_tax_income} €)"
    )
    inputs.append(input_used("prestations_familiales_base_ressources", said, tax.provenance))
    inputs.append(
        input_used(
            "partner revenu_fiscal_de_reference",
            f"{partner.reference_tax_income} € ({year})",
            partner.provenance,
        )
    )
    return amount


# The family benefits' N-2 resources when no record gives them: none (every means-tested family
# benefit in full), then more than any ceiling of theirs (none of them), a year.
FAMILY_BASE_UNKNOWN = Unknown(
    "family benefits' resources of year N-2 (tax household of that year not read)",
    ("rsa", "ppa", "css"),
    "aucune ressource, puis 1 000 000 € par an",
)
_FAMILY_BASE_HIGH = 1_000_000.0


# Whether both parents earned in year N-2: the tax household gives the couple's income, not
# who earned it.
BIACTIVITY_UNKNOWN = Unknown(
    "both parents' professional income of year N-2 (the PAJE's higher ceilings)",
    ("rsa", "ppa", "css"),
    "un seul revenu, puis deux",
)


def with_unknown_family_base(household: Household) -> Household:
    """A family whose N-2 resources no record gives (a tax record of another year, partners
    filing apart): evaluated with them above every ceiling (favourable: no means-tested
    family benefit counted) and, as alternatives, at none. A couple whose N-2 base is known:
    with one income (favourable: the lower ceilings), and with two. Without a child they
    read nothing."""
    if all(m.role != "child" for m in household.members):
        return household
    if household.family_base_n2 is not None:
        if all(m.role != "partner" for m in household.members):
            return household
        single = dataclasses.replace(
            household,
            biactivity=False,
            variants=tuple(dataclasses.replace(v, biactivity=False) for v in household.variants),
        )
        return bounds.with_alternatives(
            single, [BIACTIVITY_UNKNOWN], lambda row: [dataclasses.replace(row, biactivity=True)]
        )
    high = dataclasses.replace(
        household,
        family_base_n2=_FAMILY_BASE_HIGH,
        variants=tuple(
            dataclasses.replace(v, family_base_n2=_FAMILY_BASE_HIGH) for v in household.variants
        ),
    )
    return bounds.with_alternatives(
        high, [FAMILY_BASE_UNKNOWN], lambda row: [dataclasses.replace(row, family_base_n2=0.0)]
    )


def _asf(data: PersonData, inputs: list[InputUsed]) -> bool | None:
    """Whether the CAF pays the ASF (``benefits.asf``); False: none is counted."""
    status = data.asf
    if status is None:
        return None
    if not status.receiving:
        inputs.append(input_used("asf_verse", "0.00 €/month (not paid)", status.provenance))
    return status.receiving
