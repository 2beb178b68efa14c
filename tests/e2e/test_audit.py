"""The audit log from the outside: auditors, citizens, and nothing released unrecorded."""

from __future__ import annotations

import sqlite3
from typing import Any

from tests.e2e.conftest import RECIPIENT, Gateway, identity, pick

RSA = {"purpose": "rsa_instruction", "recipient": RECIPIENT, "object": "dossier-rsa-7"}
AUDIT = {"purpose": "audit_control", "recipient": RECIPIENT, "object": "controle-2025-07"}
LOG = """query($filter: AuditFilterInput, $first: Int!, $after: String) {
  auditLog(filter: $filter, first: $first, after: $after) {
    entries { position id kind client purpose recipient object person released
              denied { field reason } agencies outcome legalBasis { title } }
    nextCursor } }"""
JOURNAL = """{ myAccessLog { items { organisation time purpose legalBasis { title href }
  categories } nextCursor } }"""


async def _access(gateway: Gateway, entry: dict[str, Any], context: dict[str, str]) -> str:
    body = await gateway.person(
        "accessId identity { birthName } pension { pensions { scheme } }",
        {"identity": identity(entry)},
        context,
        token=gateway.token_for("demo-agency-app"),
    )
    access_id: str = body["data"]["person"]["accessId"]
    return access_id


async def test_auditors_see_each_access_with_its_reasons(
    gateway: Gateway, persons: list[dict[str, Any]]
) -> None:
    entry = pick(persons, household_kind="single", unknown_to_caf=False)
    access_id = await _access(gateway, entry, RSA)
    auditor = gateway.token_for("demo-auditor")
    body = (await gateway.query(LOG, {"first": 10}, token=auditor)).json()
    entries = body["data"]["auditLog"]["entries"]
    mine = next(e for e in entries if e["id"] == access_id)
    assert mine["kind"] == "person_access" and mine["client"] == "demo-agency-app"
    assert mine["purpose"] == "rsa_instruction" and mine["object"] == "dossier-rsa-7"
    assert mine["released"] == ["identity"] and mine["outcome"] == "partial"
    assert [d["field"] for d in mine["denied"]] == ["pension"]
    assert mine["agencies"] == ["civil_registry"]
    assert "L262-40" in mine["legalBasis"]["title"]
    assert entry["personne"]["nomNaissance"] not in str(mine)  # a pseudonym, never a name
    # The auditor's own query is on the log too, before its answer left.
    again = (await gateway.query(LOG, {"first": 1}, token=auditor)).json()
    assert again["data"]["auditLog"]["entries"][0]["kind"] == "audit_query"


async def test_auditors_filter_by_person_and_page(
    gateway: Gateway, persons: list[dict[str, Any]]
) -> None:
    target = pick(persons, household_kind="single", unknown_to_caf=False)
    other = next(p for p in persons if p["index"] != target["index"] and not p["unknown_to_caf"])
    ids = {await _access(gateway, target, RSA) for _ in range(3)}
    await _access(gateway, other, RSA)
    auditor = gateway.token_for("demo-auditor")
    # An auditor names a person by a handle of its own sector, got under its own purpose.
    found = await gateway.person("handle", {"identity": identity(target)}, AUDIT, auditor)
    handle = found["data"]["person"]["handle"]
    seen: list[str] = []
    after = None
    for _ in range(5):
        variables = {
            "filter": {"personHandle": handle, "purpose": "rsa_instruction"},
            "first": 2,
            "after": after,
        }
        page = (await gateway.query(LOG, variables, token=auditor)).json()["data"]["auditLog"]
        seen += [e["id"] for e in page["entries"]]
        after = page["nextCursor"]
        if after is None:
            break
    assert set(seen) == ids and len(seen) == 3


async def test_stats_and_anomalies(gateway: Gateway, persons: list[dict[str, Any]]) -> None:
    for entry in persons[:4]:
        await _access(gateway, entry, RSA)
    auditor = gateway.token_for("demo-auditor")
    q = """query($from: DateTime!, $to: DateTime!) {
      auditStats(from: $from, to: $to) { accesses { client purpose day count } denials { count } }
      auditAnomalies(from: $from, to: $to) { rule client count threshold } }"""
    window = {"from": "2025-07-01T00:00:00Z", "to": "2025-07-31T00:00:00Z"}
    body = (await gateway.query(q, window, token=auditor)).json()
    assert "errors" not in body, body
    rows = body["data"]["auditStats"]["accesses"]
    assert any(r["client"] == "demo-agency-app" and r["count"] >= 4 for r in rows)
    assert isinstance(body["data"]["auditAnomalies"], list)


async def test_only_auditors_read_the_log(gateway: Gateway) -> None:
    body = (await gateway.query(LOG, {"first": 5})).json()  # the département's client
    assert body["errors"][0]["extensions"]["code"] == "FORBIDDEN"
    bad = (await gateway.query(LOG, {"first": 0}, token=gateway.token_for("demo-auditor"))).json()
    assert bad["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"
    cursor = (
        await gateway.query(
            LOG, {"first": 5, "after": "not-a-cursor"}, token=gateway.token_for("demo-auditor")
        )
    ).json()
    assert cursor["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"


async def test_citizens_see_who_read_their_data(
    gateway: Gateway, persons: list[dict[str, Any]]
) -> None:
    entry = pick(persons, household_kind="single", unknown_to_caf=False)
    other = next(p for p in persons if p["index"] != entry["index"] and not p["unknown_to_caf"])
    await _access(gateway, entry, RSA)
    await _access(gateway, other, RSA)
    citizen = await gateway.citizen_token(entry["index"])
    journal = (await gateway.query(JOURNAL, token=citizen)).json()["data"]["myAccessLog"]
    (item,) = journal["items"]
    assert item["organisation"].startswith("Conseil départemental")
    assert item["purpose"].startswith("Instruction d'une demande de revenu de solidarité active")
    assert "L262-40" in item["legalBasis"]["title"]
    assert item["categories"] and all(not c.startswith("identity") for c in item["categories"])
    text = str(journal)
    assert "demo-agency-app" not in text and "accessId" not in text  # no internal ids
    assert other["personne"]["nomNaissance"] not in text


async def test_nothing_is_released_when_the_access_cannot_be_recorded(
    gateway: Gateway, persons: list[dict[str, Any]]
) -> None:
    database = gateway.settings.data_dir / "unefois.db"
    with sqlite3.connect(database) as conn:
        conn.execute(
            "CREATE TRIGGER refuse BEFORE INSERT ON audit_entries "
            "BEGIN SELECT RAISE(ABORT, 'disk full'); END"
        )
    try:
        body = await gateway.person(
            "identity { birthName }",
            {"identity": identity(persons[1])},
            RSA,
            token=gateway.token_for("demo-agency-app"),
        )
    finally:
        with sqlite3.connect(database) as conn:
            conn.execute("DROP TRIGGER refuse")
    assert body["data"]["person"] is None
    (error,) = body["errors"]
    assert error["extensions"]["code"] == "INTERNAL"
    assert "nothing was released" in error["message"]
    after = await gateway.person(
        "identity { birthName }",
        {"identity": identity(persons[1])},
        RSA,
        token=gateway.token_for("demo-agency-app"),
    )
    assert after["data"]["person"]["identity"]["birthName"]


NAMED = """query($filter: AuditFilterInput) {
  auditLog(filter: $filter, first: 20) {
    entries { id client object recipient purposeLabel organisation { client name listed } }
    nextCursor } }"""


async def _errors(gateway: Gateway, query: str, variables: dict[str, Any]) -> list[dict[str, Any]]:
    body = (await gateway.query(query, variables, token=gateway.token_for("demo-auditor"))).json()
    errors: list[dict[str, Any]] = body.get("errors", [])
    return errors


async def test_auditors_filter_by_object_identity_and_organisation(
    gateway: Gateway, persons: list[dict[str, Any]]
) -> None:
    target = pick(persons, household_kind="single", unknown_to_caf=False)
    case = {**RSA, "object": "dossier-rsa-filtre"}
    access_id = await _access(gateway, target, case)
    await _access(gateway, target, RSA)
    auditor = gateway.token_for("demo-auditor")
    by_object = {"filter": {"object": "dossier-rsa-filtre", "kind": "person_access"}}
    body = (await gateway.query(NAMED, by_object, token=auditor)).json()
    (found,) = body["data"]["auditLog"]["entries"]
    assert found["id"] == access_id and found["recipient"] == RECIPIENT
    assert found["organisation"] == {
        "client": "demo-agency-app",
        "name": "Conseil départemental (démonstration)",
        "listed": True,
    }
    assert found["purposeLabel"].startswith("Instruction d'une demande de revenu de solidarité")
    # The person by identity, as the person query takes it, with the organisation's name.
    person = {
        "person": identity(target),
        "organisation": "Conseil départemental (démonstration)",
        "recipient": RECIPIENT,
        "from": "2000-01-01",
    }
    body = (await gateway.query(NAMED, {"filter": person}, token=auditor)).json()
    ids = {e["id"] for e in body["data"]["auditLog"]["entries"]}
    assert access_id in ids and len(ids) == 2
    # The auditor's queries are recorded, by pseudonym: the identity is not on the log.
    recorded = {"filter": {"kind": "audit_query", "client": "demo-auditor"}}
    body = (await gateway.query(LOG, {**recorded, "first": 3}, token=auditor)).json()
    text = str(body["data"]["auditLog"]["entries"])
    assert target["personne"]["nomNaissance"] not in text


async def test_auditors_get_clear_errors(gateway: Gateway) -> None:
    cases = [
        ({"outcome": "ok"}, "failed, partial, refused, released"),
        ({"kind": "read"}, "person_access"),
        ({"purpose": "no_such_purpose"}, "rsa_instruction"),
        ({"client": "no-such-client"}, "demo-caf"),
        ({"organisation": "Personne"}, "Conseil départemental (démonstration)"),
        ({"from": "2025-07-10T10:00:00"}, "'from' needs a date-time with its offset"),
        ({"from": "2025-07-10", "to": "2025-07-09"}, "'to' must be after 'from'"),
    ]
    for given, says in cases:
        errors = await _errors(gateway, LOG, {"filter": given, "first": 5})
        assert errors and errors[0]["extensions"]["code"] == "BAD_USER_INPUT", given
        assert says in errors[0]["message"], (given, errors[0]["message"])
        assert "ValueError" not in errors[0]["message"]
    # A date is the whole day in Paris: from and to on the same day answer.
    assert (
        await _errors(
            gateway, LOG, {"filter": {"from": "2025-07-10", "to": "2025-07-10"}, "first": 5}
        )
        == []
    )


async def test_auditors_read_the_chain_status(gateway: Gateway) -> None:
    q = """{ auditChainStatus { size tail { ok start end problem }
      lastCheckpoint { size cosignedBy } lastVerification { ok } } }"""
    body = (await gateway.query(q, {}, token=gateway.token_for("demo-auditor"))).json()
    assert "errors" not in body, body
    status = body["data"]["auditChainStatus"]
    assert status["tail"]["ok"] is True and status["tail"]["end"] == status["size"]
    refused = (await gateway.query(q, {})).json()
    assert refused["errors"][0]["extensions"]["code"] == "FORBIDDEN"


async def test_an_agency_that_does_not_know_the_person_is_corrected_in_the_log(
    gateway: Gateway, persons: list[dict[str, Any]]
) -> None:
    entry = pick(persons, unknown_to_caf=True)
    body = await gateway.person(
        "accessId identity { birthName } household { familyQuotient }",
        {"identity": identity(entry)},
        RSA,
        token=gateway.token_for("demo-agency-app"),
    )
    access_id = body["data"]["person"]["accessId"]
    assert body["data"]["person"]["household"] is None
    auditor = gateway.token_for("demo-auditor")
    query = """query($filter: AuditFilterInput) { auditLog(filter: $filter, first: 50) {
      entries { position id accessId outcome released denied { field reason }
                agencies details { key value } } } }"""
    found = await gateway.query(query, {"filter": {"object": "dossier-rsa-7"}}, token=auditor)
    entries = found.json()["data"]["auditLog"]["entries"]
    # One entry for the access: the correction of the one written while the agencies were
    # called, which said the household would be released.
    (mine,) = [e for e in entries if e["accessId"] == access_id]
    assert mine["id"] != access_id
    assert {"key": "corrects", "value": access_id} in mine["details"]
    assert mine["outcome"] == "partial" and mine["released"] == ["identity"]
    assert {"field": "household", "reason": "NOT_FOUND"} in mine["denied"]
    assert mine["agencies"] == ["civil_registry", "cnaf"]
    # The first entry is still in the chain, as it was written.
    with sqlite3.connect(gateway.settings.data_dir / "unefois.db") as db:
        rows = db.execute(
            "SELECT outcome, corrects FROM audit_entries WHERE id = ?", (access_id,)
        ).fetchall()
    assert rows == [("released", None)]
