"""Why a delivery failed, in two kinds the dispatcher acts on: retry later, or give up.

``kind`` is a short machine word stored in the outbox and logged: never an address, never a
provider's message (which may echo the recipient).
"""

from __future__ import annotations


class DeliveryError(Exception):
    def __init__(self, kind: str) -> None:
        super().__init__(kind)
        self.kind = kind


class TemporaryFailure(DeliveryError):
    """The channel may accept it later (timeout, connection refused, 4xx SMTP, 5xx HTTP)."""


class PermanentFailure(DeliveryError):
    """Retrying cannot help (address refused, bad request, template error): the message dies."""
