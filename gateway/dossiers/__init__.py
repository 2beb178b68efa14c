"""Dossiers on démarches-simplifiées: created prefilled from an offer's link, brought back
when the person submits them (DS's webhook, or ``unefois procedure sync``)."""
