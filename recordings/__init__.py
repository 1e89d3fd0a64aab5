"""Recordings: the SQLite store of patients, sessions and trials; replay; CSV/C3D exchange.

Entry points::

    from recordings import Store, Condition        # the station database
    from recordings.exchange import export_trial, import_file
    replay:///path/station.db?trial=12&speed=2     # a stored trial as a source (see replay.py)
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from recordings._db import default_db_path, station_db
    from recordings.model import Condition, Event, Patient, Session, Trial, TrialData
    from recordings.store import PROCESSED, RAW, Store

#: Each name this package exports, and the module that defines it. They are imported on first
#: use (PEP 562): importing ``recordings.anything`` runs this file, and the store pulls in NumPy
#: and the results, which every command's ``--help`` (``--db``'s default path) would pay for.
_WHERE = {
    "PROCESSED": "recordings.store",
    "RAW": "recordings.store",
    "Store": "recordings.store",
    "Condition": "recordings.model",
    "Event": "recordings.model",
    "Patient": "recordings.model",
    "Session": "recordings.model",
    "Trial": "recordings.model",
    "TrialData": "recordings.model",
    "default_db_path": "recordings._db",
    "station_db": "recordings._db",
}

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
    "station_db",
]


def __getattr__(name: str):
    if name not in _WHERE:
        raise AttributeError(f"module 'recordings' has no attribute {name!r}")
    return getattr(importlib.import_module(_WHERE[name]), name)


def register_sources() -> None:
    """Register the ``replay://`` scheme (called by ``nmr_balance.app.load_providers``)."""
    from recordings.replay import register

    register()
