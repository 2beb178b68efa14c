"""The département an offer is reported under (``proactive.population.territory``)."""

from __future__ import annotations

from dataclasses import replace

from connectors import records as r
from eligibility.inputs import person_data_from_fields
from proactive.population import territory
from tests.prefill.records import person_records


def test_the_dwelling_then_the_caf_address_then_the_tax_address() -> None:
    fields = person_records()
    data = person_data_from_fields(fields)
    assert data is not None and territory(data) == "69"
    # An ASPA campaign reads no housing record: the CAF household's address still says where.
    caf = fields["household"]
    assert isinstance(caf, r.FamilyQuotient) and caf.address is not None
    elsewhere = replace(caf, address=replace(caf.address, cog_commune="93066"))
    no_housing = {
        k: v for k, v in fields.items() if k not in {"housing", "benefits.housingAid"}
    } | {"household": elsewhere}
    data = person_data_from_fields(no_housing)
    assert data is not None and territory(data) == "93"
    # Unknown to the CAF too: the tax address (69383).
    data = person_data_from_fields({k: v for k, v in no_housing.items() if k != "household"})
    assert data is not None and territory(data) == "69"
