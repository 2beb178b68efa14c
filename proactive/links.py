"""The links a notification carries: the prefilled form, the opt-out page, the citizen space.

The first two name the offer, not the person: an offer id is a random UUID4 (122 bits), so a
link cannot be guessed for someone else, and it opens nothing but that offer. In a link the id
is written in 22 characters of unpadded base64url rather than 36, so that a text message with
both links still fits in two SMS. The citizen space's link names nobody: the person signs in.
"""

from __future__ import annotations

import base64
import binascii
import uuid
from urllib.parse import quote

FORM_PATH = "/formulaires"
OPT_OUT_PATH = "/desinscription"
OFFER_PARAM = "offre"
SPACE_PATH = "/mon-espace/"  # where a person signs in to see and refuse what was done for them


def offer_token(offer_id: str) -> str:
    """The short form of an offer id (a UUID) for a link."""
    return base64.urlsafe_b64encode(uuid.UUID(offer_id).bytes).decode().rstrip("=")


def offer_id(token: str) -> str | None:
    """The offer id a link's token stands for; None for anything that is not one."""
    if len(token) != 22:
        return None
    try:
        raw = base64.urlsafe_b64decode(token + "==")
    except (binascii.Error, ValueError):
        return None
    if len(raw) != 16 or offer_token(str(uuid.UUID(bytes=raw))) != token:
        return None  # the canonical spelling only: one link per offer
    return str(uuid.UUID(bytes=raw))


def form_url(base_url: str, form: str, offer: str) -> str:
    return (
        f"{base_url.rstrip('/')}{FORM_PATH}/{quote(form, safe='')}"
        f"?{OFFER_PARAM}={offer_token(offer)}"
    )


def opt_out_url(base_url: str, offer: str) -> str:
    return f"{base_url.rstrip('/')}{OPT_OUT_PATH}?{OFFER_PARAM}={offer_token(offer)}"


def space_url(base_url: str) -> str:
    return f"{base_url.rstrip('/')}{SPACE_PATH}"
