"""Proactive administration: finding non-claimants, telling them, renewing rights."""
