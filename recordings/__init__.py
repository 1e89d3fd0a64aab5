"""Recordings: the SQLite store of patients, sessions and trials; replay; CSV/C3D exchange.

Entry points::

    from recordings import Store, Condition        # the station database
    from recordings.exchange import export_trial, import_file
    replay:///path/station.db?trial=12&speed=2     # a stored trial as a source (see replay.py)
"""

from recordings.model import Condition, Event, Patient, Session, Trial, TrialData
from recordings.store import PROCESSED, RAW, Store, default_db_path

__all__ = [
    "PROCESSED",
    "RAW",
    "Condition",
    "Event",
    "Patient",
    "Session",
    "Store",
    "Trial",
    "TrialData",
    "default_db_path",
    "register_sources",
]


def register_sources() -> None:
    """Register the ``replay://`` scheme (called by ``nmr_balance.app.load_providers``)."""
    from recordings.replay import register

    register()
