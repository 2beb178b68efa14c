"""Upstream URLs: the base path kept, segments and query percent-encoded once, by us."""

from __future__ import annotations

from datetime import date
from urllib.parse import quote, urlencode

import pytest

from connectors import InvalidInput, UpstreamClient
from connectors.identity import PivotIdentity
from connectors.url import Encoded, encode_query
from tests.connectors.conftest import FakeTransport, answer, make_client


def mock() -> UpstreamClient:
    return make_client(
        "https://agency.example/base/v1", transport=FakeTransport(lambda r: answer())
    )


def test_url_keeps_base_path_and_encodes_segments() -> None:
    client = mock()
    assert client.url(["a b", "x/../y", "é?#"]) == (
        "https://agency.example/base/v1/a%20b/x%2F..%2Fy/%C3%A9%3F%23"
    )


@pytest.mark.parametrize("segment", ["", ".", ".."])
def test_url_rejects_dot_and_empty_segments(segment: str) -> None:
    client = mock()
    with pytest.raises(InvalidInput):
        client.url(["ok", segment])


def test_base_url_must_be_plain_http() -> None:
    with pytest.raises(ValueError):
        make_client("ftp://agency.example/")
    with pytest.raises(ValueError):
        make_client("https://agency.example/?q=1")


async def test_query_is_encoded_once_in_order_with_repeated_keys() -> None:
    transport = FakeTransport(lambda r: answer(200, json={}))
    client = make_client("https://agency.example/a%20b/", transport=transport)
    params = [("prenoms[]", "ÉLOÏSE"), ("nom", "A&B=C/D E+F"), ("prenoms[]", "JEAN PAUL")]
    await client.get_json(["x"], params)
    url = transport.requests[0].url
    assert url.raw_path_qs == (
        "/a%20b/x?prenoms%5B%5D=%C3%89LO%C3%8FSE&nom=A%26B%3DC%2FD%20E%2BF"
        "&prenoms%5B%5D=JEAN%20PAUL"
    )
    assert url.query.getall("prenoms[]") == ["ÉLOÏSE", "JEAN PAUL"]
    assert url.query["nom"] == "A&B=C/D E+F"
    assert url.host == "agency.example" and transport.requests[0].method == "GET"


@pytest.mark.parametrize(
    "params",
    [
        [],
        [("nom", "MARTIN"), ("annee", "1980")],
        [("prenoms[]", "ÉLOÏSE"), ("prenoms[]", "JEAN PAUL"), ("prenoms[]", "ÉLOÏSE")],
        [("q", "A&B=C/D E+F?#%~._-"), ("", ""), ("ß", "٣"), ("x", "日本")],
    ],
)
def test_encode_query_is_urlencode_with_quote(params: list[tuple[str, str]]) -> None:
    assert encode_query(params) == urlencode(params, quote_via=quote)


def test_an_encoded_part_goes_in_as_it_is() -> None:
    params = [("a", "1"), Encoded("b=%20&c=d"), ("é", "x y")]
    assert encode_query(params) == "a=1&b=%20&c=d&%C3%A9=x%20y"


@pytest.mark.parametrize(
    "identity",
    [
        PivotIdentity("MARTIN", ("JEAN",), date(1980, 9, 3), "M", "99100", "08480"),
        PivotIdentity(
            "LE ROUX",
            ("ÉLOÏSE", "ANNE MARIE", "ZOÉ"),
            date(2001, 1, 30),
            "F",
            "99350",
            usage_name="D'ARC",
        ),
    ],
)
async def test_an_identity_is_sent_as_its_parameters_would_be(identity: PivotIdentity) -> None:
    expected = urlencode(identity.query_params(), quote_via=quote)
    assert identity.query() == expected
    transport = FakeTransport(lambda r: answer(200, json={}))
    client = make_client("https://agency.example/", transport=transport)
    await client.get_json(["x"], [("recipient", "13002526500013"), identity.query()])
    assert transport.requests[0].url.raw_query_string == "recipient=13002526500013&" + expected
