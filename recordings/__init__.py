"""Recordings: the SQLite store, replay source, import and export."""


def register_sources() -> None:
    """Register the URL schemes this package provides (called by nmr_balance.app)."""
