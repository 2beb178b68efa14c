"""A démarches-simplifiées sandbox: DS's prefill API and pages, its GraphQL API v2 and its
webhooks, over a few published procedures (see docs/sandbox.md)."""

from sandbox.demarches.app import SANDBOX_DS_TOKEN, DemarchesState, build_app

__all__ = ["SANDBOX_DS_TOKEN", "DemarchesState", "build_app"]
