"""Checking a document offered for registration: the schema's validation under the endpoint's
own limits, and whose allow-list a caller's requests are checked against."""

from __future__ import annotations

from datetime import date

import pytest

from connectors import FranceConnectToken, PivotIdentity
from exchange import Citizen, Client
from gateway.documents import CITIZENS, DocumentChecker, DocumentRejected, owner
from runtime.settings import load
from store import document_hash

WHO = "query Who { __typename }"


def test_a_valid_document_gives_its_hash_and_operations() -> None:
    two = WHO + "\nquery Again { __typename }"
    checked = DocumentChecker(load({}))(two)
    assert (checked.hash, checked.operations) == (document_hash(two), ("Who", "Again"))
    assert DocumentChecker(load({}))("{ __typename }").operations == (None,)


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("", "empty"),
        ("query {", "syntax"),
        ("{ noSuchField }", "noSuchField"),
        ("fragment F on Query { __typename }", "F"),
        ("subscription { __typename }", "subscription"),
        ("query { __typename }\nquery B { __typename }", "anonymous"),
        ("{ __schema { types { name } } }", "introspection"),
    ],
)
def test_what_the_endpoint_would_refuse_is_refused(text: str, reason: str) -> None:
    with pytest.raises(DocumentRejected, match=f"(?i){reason}"):
        DocumentChecker(load({}))(text)


def test_the_limits_are_the_settings() -> None:
    deep = "{ " + "a: __typename " * 5 + "}"
    DocumentChecker(load({}))(deep)
    with pytest.raises(DocumentRejected, match=r"(?i)alias"):
        DocumentChecker(load({"UNEFOIS_MAX_ALIASES": "2"}))(deep)
    with pytest.raises(DocumentRejected, match=r"(?i)token"):
        DocumentChecker(load({"UNEFOIS_MAX_TOKENS": "5"}))(deep)
    # Introspection on (a development setting): an introspection document validates.
    DocumentChecker(load({"UNEFOIS_INTROSPECTION": "true"}))("{ __schema { queryType { name } } }")


def test_citizens_share_one_list_clients_have_their_own() -> None:
    assert owner(Client("caf-web", frozenset())) == "caf-web"
    person = PivotIdentity("DUPONT", ("Jeanne",), date(1980, 1, 1), "F", "99100", "75056")
    citizen = Citizen(identity=person, token=FranceConnectToken("opaque-token"), id="citizen:abc")
    assert owner(citizen) == CITIZENS
