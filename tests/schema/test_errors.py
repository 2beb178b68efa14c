from __future__ import annotations

from graphql import GraphQLError

from schema import CODES, format_error, typed_error


def test_typed_error_carries_code_provider_and_retry() -> None:
    error = typed_error("slow down", "RATE_LIMITED", provider="CNAF", retry_in=7.0)
    assert error.extensions == {"code": "RATE_LIMITED", "provider": "CNAF", "retryIn": 7}
    assert format_error(error, executed=True)["extensions"]["code"] == "RATE_LIMITED"


def test_pre_execution_errors_are_bad_user_input() -> None:
    out = format_error(GraphQLError("Syntax Error"), executed=False)
    assert out["extensions"] == {"code": "BAD_USER_INPUT"}
    assert out["message"] == "Syntax Error"


def test_unexpected_exceptions_are_masked() -> None:
    secret = RuntimeError("connection to http://internal:5432 failed")
    error = GraphQLError(
        "connection to http://internal:5432 failed", original_error=secret, path=["person"]
    )
    out = format_error(error, executed=True)
    assert out == {
        "message": "internal error",
        "extensions": {"code": "INTERNAL"},
        "path": ["person"],
    }


def test_untyped_resolver_errors_are_masked() -> None:
    out = format_error(GraphQLError("raw detail"), executed=True)
    assert out["extensions"]["code"] == "INTERNAL"
    assert "raw detail" not in str(out)


def test_codes_are_design_codes() -> None:
    assert "UPSTREAM_TIMEOUT" in CODES and "CONSENT_REQUIRED" in CODES and len(CODES) == 10
