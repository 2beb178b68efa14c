"""The unified person view: each field resolves from the exchange's answer, or fails typed."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Annotated, Any

import strawberry
from graphql import GraphQLError

from connectors import records
from exchange import NotYet, PersonRequest, PersonView, shift_month
from schema import types as t
from schema.context import RequestContext
from schema.eligibility import (
    BENEFITS,
    MONTH,
    Benefit,
    EligibilityResult,
    evaluate,
    evaluate_household,
)
from schema.errors import typed_error
from schema.federation import read_entity
from schema.scopes import ELIGIBILITY_READ, require

_ELIGIBILITY = frozenset({ELIGIBILITY_READ})


def _get(view: PersonView, field: str) -> Any:
    failure = view.failures.get(field)
    if failure is not None:
        raise typed_error(
            failure.message, failure.code, provider=failure.provider, retry_in=failure.retry_in
        )
    value = view.fields.get(field)
    if value is None:
        # The field was not planned: only happens if selection and schema disagree.
        raise GraphQLError("field was not fetched", extensions={"code": "INTERNAL"})
    return value


@dataclass(frozen=True)
class _Address:
    lines: tuple[str, ...]
    postal_code: str | None
    city: str | None
    cog_commune: str | None
    country: str | None
    provenance: records.Provenance


@dataclass(frozen=True)
class _Aspa:
    receiving: bool
    monthly_amount: float | None
    since: date | None
    provenance: records.Provenance


@dataclass(frozen=True)
class _HousingAid:
    receiving: bool
    kind: str | None
    monthly_amount: float | None
    provenance: records.Provenance


@dataclass(frozen=True)
class _Pension:
    pensions: tuple[records.Pension, ...]
    provenance: records.Provenance


@dataclass(frozen=True)
class _Resources:
    months: tuple[records.MonthlyResources, ...]
    missing_months: tuple[str, ...]
    provenance: records.Provenance


def _last_months(rec: records.Resources, view: PersonView, months: int) -> Any:
    if months >= _window_length(view):
        return rec
    first = shift_month(view.window.last, -(months - 1))
    return _Resources(
        tuple(m for m in rec.months if m.month >= first),
        tuple(m for m in rec.missing_months if m >= first),
        rec.provenance,
    )


def _window_length(view: PersonView) -> int:
    w = view.window
    return (int(w.last[:4]) - int(w.first[:4])) * 12 + int(w.last[5:]) - int(w.first[5:]) + 1


@strawberry.type(description="Benefits, each from the agency that pays it.")
class Benefits:
    _view: strawberry.Private[PersonView]

    @strawberry.field(description="Revenu de solidarité active (CNAF/MSA).")
    def rsa(self) -> t.BenefitStatus | None:
        return _get(self._view, "benefits.rsa")  # type: ignore[no-any-return]

    @strawberry.field(description="Prime d'activité (CNAF/MSA).")
    def prime_activite(self) -> t.BenefitStatus | None:
        return _get(self._view, "benefits.primeActivite")  # type: ignore[no-any-return]

    @strawberry.field(description="Allocation aux adultes handicapés (CNAF/MSA).")
    def aah(self) -> t.BenefitStatus | None:
        return _get(self._view, "benefits.aah")  # type: ignore[no-any-return]

    @strawberry.field(description="Allocation de soutien familial (CNAF/MSA).")
    def asf(self) -> t.BenefitStatus | None:
        return _get(self._view, "benefits.asf")  # type: ignore[no-any-return]

    @strawberry.field(description="Complémentaire santé solidaire.")
    def css(self) -> t.CssStatus | None:
        return _get(self._view, "benefits.css")  # type: ignore[no-any-return]

    @strawberry.field(description="Allocation de solidarité aux personnes âgées (CNAV).")
    def aspa(self) -> t.AspaStatus | None:
        r: records.Retirement = _get(self._view, "benefits.aspa")
        return _Aspa(r.aspa_receiving, r.aspa_monthly, r.aspa_since, r.provenance)  # type: ignore[return-value]

    @strawberry.field(description="Housing aid (APL, ALF, ALS).")
    def housing_aid(self) -> t.HousingAid | None:
        h: records.Housing = _get(self._view, "benefits.housingAid")
        return _HousingAid(h.aid_receiving, h.aid_kind, h.aid_monthly, h.provenance)  # type: ignore[return-value]


@strawberry.type(description="Job-seeker status and unemployment payments (France Travail).")
class Employment:
    _view: strawberry.Private[PersonView]

    @strawberry.field(description="Job-seeker registration (needs ref.franceTravailId).")
    def status(self) -> t.JobSeekerStatus | None:
        return _get(self._view, "employment.status")  # type: ignore[no-any-return]

    @strawberry.field(description="Unemployment payments (needs ref.franceTravailId).")
    def payments(self) -> t.UnemploymentPayments | None:
        return _get(self._view, "employment.payments")  # type: ignore[no-any-return]


@strawberry.federation.type(
    keys=["handle"],
    description="What the administration knows of one person, value by value.",
)
class Person:
    _view: strawberry.Private[PersonView]
    # The request the view answered: a couple's partner is read under the same one.
    _request: strawberry.Private[PersonRequest | None] = None

    @classmethod
    async def resolve_reference(
        cls, info: strawberry.Info[RequestContext, None], handle: str
    ) -> Person:
        """A federation router's ``{__typename: "Person", handle}``: ``schema.federation``."""
        view, request = await read_entity(info, handle)
        return cls(_view=view, _request=request)

    @strawberry.field(description="The audit log's id of this access: quote it to auditors.")
    def access_id(self) -> str:
        return self._view.access_id

    @strawberry.field(
        description="This person's handle for your sector: send it back as ref.handle."
    )
    def handle(self) -> str | None:
        if self._view.awaiting:  # given once every agency answered (exchange.service)
            raise NotYet("handle")
        return self._view.handle

    @strawberry.field(
        description=(
            "Eligibility for benefits in a month (YYYY-MM), from the data above. Needs the "
            "eligibility:read scope, as the root eligibility does."
        )
    )
    async def eligibility(
        self,
        info: strawberry.Info[RequestContext, None],
        benefits: Annotated[list[Benefit], strawberry.argument(description=BENEFITS)],
        month: Annotated[str, strawberry.argument(description=MONTH)],
    ) -> list[EligibilityResult]:
        # Checked before the person is read, from the selection (schema.selection); again here,
        # so that a selection the check did not see fails closed.
        require(info.context, _ELIGIBILITY)
        if self._request is None:
            return await evaluate(info.context.eligibility, self._view, benefits, month)
        return await evaluate_household(info.context, self._request, self._view, benefits, month)

    @strawberry.field(description="Civil status (civil registry).")
    def identity(self) -> t.Identity | None:
        return _get(self._view, "identity")  # type: ignore[no-any-return]

    @strawberry.field(description="Tax address (DGFiP).")
    def address(self) -> t.Address | None:
        h: records.TaxHousehold = _get(self._view, "address")
        a = h.address
        return _Address(a.lines, a.postal_code, a.city, a.cog_commune, a.country, h.provenance)  # type: ignore[return-value]

    @strawberry.field(description="CAF/MSA household and family quotient.")
    def household(self) -> t.Household | None:
        return _get(self._view, "household")  # type: ignore[no-any-return]

    @strawberry.field(description="Monthly resources of the last months (GIP-MDS).")
    def resources(
        self,
        months: Annotated[
            int,
            strawberry.argument(
                description="How many months (1 to 24), ending with the last month before "
                "the reference date."
            ),
        ] = 12,
    ) -> t.Resources | None:
        rec: records.Resources = _get(self._view, "resources")
        return _last_months(rec, self._view, months)  # type: ignore[no-any-return]

    @strawberry.field(description="Tax household (DGFiP).")
    def tax_household(self) -> t.TaxHousehold | None:
        return _get(self._view, "taxHousehold")  # type: ignore[no-any-return]

    @strawberry.field(description="Benefits paid, each from the agency that pays it.")
    def benefits(self) -> Benefits:
        return Benefits(_view=self._view)

    @strawberry.field(description="Job-seeker status and payments (France Travail).")
    def employment(self) -> Employment:
        return Employment(_view=self._view)

    @strawberry.field(
        description="E-mail and mobile number declared to France Travail "
        "(needs ref.franceTravailId)."
    )
    def contact(self) -> t.Contact | None:
        return _get(self._view, "contact")  # type: ignore[no-any-return]

    @strawberry.field(description="Student status: enrolment in higher education (MESRI).")
    def student_status(self) -> t.StudentStatus | None:
        return _get(self._view, "studentStatus")  # type: ignore[no-any-return]

    @strawberry.field(
        description="Higher-education grant on social criteria (CNOUS): whether the person "
        "holds one, its échelon and the months it is paid."
    )
    def student_grant(self) -> t.StudentGrant | None:
        return _get(self._view, "studentGrant")  # type: ignore[no-any-return]

    @strawberry.field(description="Pensions paid (CNAV).")
    def pension(self) -> t.Pension | None:
        r: records.Retirement = _get(self._view, "pension")
        return _Pension(r.pensions, r.provenance)  # type: ignore[return-value]

    @strawberry.field(description="Health insurance and CSS renewal (CNAM).")
    def health_coverage(self) -> t.HealthCoverage | None:
        return _get(self._view, "healthCoverage")  # type: ignore[no-any-return]

    @strawberry.field(description="Housing situation (CAF).")
    def housing(self) -> t.Housing | None:
        return _get(self._view, "housing")  # type: ignore[no-any-return]
