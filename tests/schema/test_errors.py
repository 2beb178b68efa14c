from __future__ import annotations

import pytest
from graphql import GraphQLError

from audit import AuditUnavailable
from connectors.errors import Ambiguous, UpstreamTimeout
from eligibility import BadMonth, EngineUnavailable
from exchange.errors import AccessRefused, NotRecorded, PersonTokenRefused
from policies import PolicyError
from prefill import DefinitionError, UnknownForm
from schema import CODES, client_error, format_error, typed_error
from schema.errors import typed
from store import ConsentNotFound, StoreUnavailable


def _during(exc: Exception) -> GraphQLError:
    return GraphQLError(str(exc), original_error=exc, path=["person"])


def test_typed_error_carries_code_provider_and_retry() -> None:
    error = typed_error("slow down", "RATE_LIMITED", provider="CNAF", retry_in=7.0)
    assert error.extensions == {"code": "RATE_LIMITED", "provider": "CNAF", "retryIn": 7}
    # An unrounded wait is told in whole seconds, rounded up: a client never retries early.
    assert typed_error("slow", "RATE_LIMITED", retry_in=6.02).extensions["retryIn"] == 7
    during = GraphQLError("slow down", original_error=error, path=["person"])
    assert format_error(typed(during))["extensions"]["code"] == "RATE_LIMITED"


def test_errors_without_a_path_are_the_requests() -> None:
    out = format_error(typed(GraphQLError("Unknown argument 'x'. Did you mean 'y'?")))
    assert out["extensions"] == {"code": "BAD_USER_INPUT"}
    assert out["message"] == "Unknown argument 'x'."


def test_unexpected_exceptions_are_masked() -> None:
    out = format_error(typed(_during(RuntimeError("connection to http://internal:5432 failed"))))
    assert out == {
        "message": "internal error",
        "extensions": {"code": "INTERNAL"},
        "path": ["person"],
    }


def test_untyped_resolver_errors_are_masked() -> None:
    out = format_error(typed(GraphQLError("raw detail", path=["person"])))
    assert out["extensions"]["code"] == "INTERNAL"
    assert "raw detail" not in str(out)


def test_codes_are_design_codes() -> None:
    assert "UPSTREAM_TIMEOUT" in CODES and "CONSENT_REQUIRED" in CODES and len(CODES) == 10


@pytest.mark.parametrize(
    ("error", "code"),
    [
        (AccessRefused("no"), "FORBIDDEN"),
        (PersonTokenRefused("Access token expired"), "UNAUTHENTICATED"),
        (UpstreamTimeout("slow", provider="DGFiP", retry_in=2.0), "UPSTREAM_TIMEOUT"),
        (Ambiguous("several persons match", provider="INSEE"), "BAD_USER_INPUT"),
        (BadMonth("June"), "BAD_USER_INPUT"),
        (UnknownForm("nope"), "BAD_USER_INPUT"),
        (ConsentNotFound("c-1"), "NOT_FOUND"),
    ],
    ids=lambda v: type(v).__name__ if isinstance(v, Exception) else v,
)
def test_package_errors_of_the_caller_keep_their_message(error: Exception, code: str) -> None:
    mapped = client_error(error)
    assert mapped is not None and mapped.code == code and mapped.message


def test_an_access_not_recorded_says_so() -> None:
    out = format_error(typed(_during(NotRecorded("nothing was released"))))
    assert out["extensions"] == {"code": "INTERNAL"}
    assert out["message"] == "nothing was released"


def test_a_token_limit_raised_while_parsing_is_the_requests() -> None:
    out = format_error(GraphQLError("Document contains more than 2000 tokens."))
    assert out["extensions"] == {"code": "BAD_USER_INPUT"}


@pytest.mark.parametrize(
    "error",
    [
        EngineUnavailable("pool closed"),
        DefinitionError("rsa.yaml", "fields", "broken"),
        StoreUnavailable("postgresql down"),
        AuditUnavailable("postgresql down"),
        PolicyError("broken catalogue"),
        RuntimeError("anything else"),
    ],
    ids=lambda e: type(e).__name__,
)
def test_errors_of_the_operator_are_defects(error: Exception) -> None:
    assert client_error(error) is None
    assert format_error(typed(_during(error)))["message"] == "internal error"
