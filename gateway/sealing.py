"""Sealing at rest, for the gateway's journeys: the primitive lives in :mod:`store.sealing`,
shared with the campaigns' batches."""

from store.sealing import NONCE_BYTES, VERSION, SealBroken, Sealer

__all__ = ["NONCE_BYTES", "VERSION", "SealBroken", "Sealer"]
