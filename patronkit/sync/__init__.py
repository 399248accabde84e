"""Moves changes between storefronts and core: inbox, outbox, import, reconcile."""
