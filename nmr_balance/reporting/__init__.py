"""Reports: CPT 97112 billing units, the documentation note, the CSV summary (Qt-free).

The PDF is drawn by :mod:`ui.report`; the records are filled from the store by
:mod:`recordings.report_data`; ``nmr-balance report`` wires them (``nmr_balance.app``).
"""

from nmr_balance.reporting.billing import RULES, UnitsRule, units_rule
from nmr_balance.reporting.config import ReportConfig, load_report_config
from nmr_balance.reporting.minutes import TimedMinutes, timed_minutes
from nmr_balance.reporting.model import (
    ClinicInfo,
    SessionReport,
)
from nmr_balance.reporting.note import documentation_note
from nmr_balance.reporting.summary_csv import write_summary_csv

__all__ = [
    "RULES",
    "ClinicInfo",
    "ReportConfig",
    "SessionReport",
    "TimedMinutes",
    "UnitsRule",
    "documentation_note",
    "load_report_config",
    "timed_minutes",
    "units_rule",
    "write_summary_csv",
]
