"""What a report is made of: the clinic's header and one :class:`~nmr_balance.summary.SessionSummary`
with the patient's earlier ones.

The records themselves are the core's (:mod:`nmr_balance.record`, :mod:`nmr_balance.summary`):
``recordings.report_data`` fills them from the station database, tests build them by hand, and
the note builder and the PDF renderer read them. Times are timezone-aware datetimes; durations
in seconds.
"""

from __future__ import annotations

import dataclasses

from nmr_balance.record import Addendum, Patient, Signature
from nmr_balance.summary import SessionSummary


@dataclasses.dataclass(frozen=True)
class ClinicInfo:
    """The header of every page: who hands out the report."""

    name: str = "Balance & Proprioception Clinic"
    address: str = ""
    phone: str = ""
    logo_path: str = ""
    provider_label: str = "Therapist"


@dataclasses.dataclass(frozen=True)
class SessionReport:
    """Everything one session's report shows.

    ``history`` holds the patient's sessions up to and including this one, oldest first (for
    the progress charts); ``previous`` and ``baseline`` are taken from it. ``count_pauses``:
    the time between trials counts as instruction only when the clinic's billing config says so
    (rests and countdowns are not instruction by default). ``signature`` and ``addenda``: the
    signed note and what was added to it since (None and empty for a draft).
    """

    clinic: ClinicInfo
    patient: Patient
    session: SessionSummary
    history: tuple[SessionSummary, ...] = ()
    units_rule: str = "cms_8_minute"
    max_gap_instruction_s: float = 180.0
    count_pauses: bool = False
    signature: Signature | None = None
    addenda: tuple[Addendum, ...] = ()

    @property
    def earlier(self) -> tuple[SessionSummary, ...]:
        return tuple(
            s for s in self.history if s.started < self.session.started and s.id != self.session.id
        )

    @property
    def previous(self) -> SessionSummary | None:
        return self.earlier[-1] if self.earlier else None

    @property
    def baseline(self) -> SessionSummary | None:
        return self.earlier[0] if self.earlier else None
