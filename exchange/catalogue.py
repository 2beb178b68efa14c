"""The field catalogue: which agency source holds each field of the person view.

A *field* is a path of the person view at the granularity policies decide on
(``benefits.rsa``, ``resources``…). A *source* is one upstream call. Planning maps the
selected fields to the sources that hold them, so that only those are called.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Literal

from connectors import CallContext, Connectors, PivotIdentity
from exchange.reference import Subjects
from exchange.window import Window

# "any": a FranceConnect token or an identity; "pivot": the identity; "france_travail": its id.
SubjectKind = Literal["any", "pivot", "france_travail"]


Call = Callable[[Connectors, Subjects, CallContext, Window], Awaitable[object]]


@dataclass(frozen=True)
class Source:
    name: str
    upstream: str  # key of the upstream in settings, for health and metrics
    needs: SubjectKind
    call: Call


def _pivot(s: Subjects) -> PivotIdentity:
    return s.identity


def _ft(s: Subjects) -> str:
    assert s.france_travail_id is not None
    return s.france_travail_id


def _benefit(code: str) -> Call:
    async def call(c: Connectors, s: Subjects, ctx: CallContext, w: Window) -> object:
        return await c.cnaf.benefit(s.person, code, ctx)

    return call


async def _css(c: Connectors, s: Subjects, ctx: CallContext, w: Window) -> object:
    return await c.cnaf.css(s.person, ctx)


async def _qf(c: Connectors, s: Subjects, ctx: CallContext, w: Window) -> object:
    return await c.cnaf.family_quotient(s.person, ctx)


async def _ft_status(c: Connectors, s: Subjects, ctx: CallContext, w: Window) -> object:
    return await c.france_travail.status(_ft(s), ctx)


async def _ft_contact(c: Connectors, s: Subjects, ctx: CallContext, w: Window) -> object:
    return await c.france_travail.contact(_ft(s), ctx)


async def _student(c: Connectors, s: Subjects, ctx: CallContext, w: Window) -> object:
    return await c.mesri.student_status(s.person, ctx)


async def _grant(c: Connectors, s: Subjects, ctx: CallContext, w: Window) -> object:
    return await c.cnous.student_grant(s.person, ctx)


async def _ft_payments(c: Connectors, s: Subjects, ctx: CallContext, w: Window) -> object:
    return await c.france_travail.payments(_ft(s), ctx)


async def _resources(c: Connectors, s: Subjects, ctx: CallContext, w: Window) -> object:
    return await c.gip_mds.resources(_pivot(s), ctx, w.first, w.last)


async def _tax(c: Connectors, s: Subjects, ctx: CallContext, w: Window) -> object:
    return await c.dgfip.tax_household(_pivot(s), ctx, w.income_year)


async def _retirement(c: Connectors, s: Subjects, ctx: CallContext, w: Window) -> object:
    return await c.cnav.retirement(_pivot(s), ctx)


async def _health(c: Connectors, s: Subjects, ctx: CallContext, w: Window) -> object:
    return await c.cnam.health_insurance(_pivot(s), ctx)


async def _housing(c: Connectors, s: Subjects, ctx: CallContext, w: Window) -> object:
    return await c.housing.housing(_pivot(s), ctx, w.first, w.last)


async def _civil(c: Connectors, s: Subjects, ctx: CallContext, w: Window) -> object:
    return await c.civil_registry.civil_status(_pivot(s), ctx)


SOURCES: dict[str, Source] = {
    s.name: s
    for s in (
        Source("cnaf.rsa", "api_particulier", "any", _benefit("rsa")),
        Source("cnaf.ppa", "api_particulier", "any", _benefit("ppa")),
        Source("cnaf.aah", "api_particulier", "any", _benefit("aah")),
        Source("cnaf.asf", "api_particulier", "any", _benefit("asf")),
        Source("cnaf.css", "api_particulier", "any", _css),
        Source("cnaf.quotient_familial", "api_particulier", "any", _qf),
        Source("mesri.statut_etudiant", "api_particulier", "any", _student),
        Source("cnous.etudiant_boursier", "api_particulier", "any", _grant),
        Source("france_travail.statut", "api_particulier", "france_travail", _ft_status),
        Source("france_travail.contact", "api_particulier", "france_travail", _ft_contact),
        Source("france_travail.indemnites", "api_particulier", "france_travail", _ft_payments),
        Source("gip_mds.ressources", "gip_mds", "pivot", _resources),
        Source("dgfip.foyer_fiscal", "dgfip", "pivot", _tax),
        Source("cnav.retraite", "cnav", "pivot", _retirement),
        Source("cnam.assurance_maladie", "cnam", "pivot", _health),
        Source("housing.logement", "housing", "pivot", _housing),
        Source("civil_registry.etat_civil", "civil_registry", "pivot", _civil),
    )
}

# Field of the person view → the source that holds it. Several fields may share a source
# (pension and benefits.aspa both come from the CNAV answer): it is called once.
FIELDS: dict[str, str] = {
    "identity": "civil_registry.etat_civil",
    "address": "dgfip.foyer_fiscal",
    "household": "cnaf.quotient_familial",
    "resources": "gip_mds.ressources",
    "taxHousehold": "dgfip.foyer_fiscal",
    "benefits.rsa": "cnaf.rsa",
    "benefits.primeActivite": "cnaf.ppa",
    "benefits.aah": "cnaf.aah",
    "benefits.asf": "cnaf.asf",
    "benefits.css": "cnaf.css",
    "benefits.aspa": "cnav.retraite",
    "benefits.housingAid": "housing.logement",
    "employment.status": "france_travail.statut",
    "employment.payments": "france_travail.indemnites",
    "contact": "france_travail.contact",
    "studentStatus": "mesri.statut_etudiant",
    "studentGrant": "cnous.etudiant_boursier",
    "pension": "cnav.retraite",
    "healthCoverage": "cnam.assurance_maladie",
    "housing": "housing.logement",
}
