"""The sandbox's housing zones are the official ones: those OpenFisca derives from the commune."""

from __future__ import annotations

from eligibility.zoning import official_zone
from sandbox.gazetteer import COMMUNES


def test_every_commune_has_the_official_housing_zone() -> None:
    wrong = {
        c.name: (c.zone, official_zone(c.cog)) for c in COMMUNES if c.zone != official_zone(c.cog)
    }
    assert wrong == {}, "commune: (sandbox zone, official zone)"
