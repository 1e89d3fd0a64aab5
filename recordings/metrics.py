"""The metrics stored with each trial: the store's side of :func:`nmr_balance.results.measure_trial`.

:func:`trial_metrics` is the one hook the recorder, crash recovery and importers call, so a
live, an interrupted, an imported and a replayed trial are scored alike. The computation and
its gap policy live in the core (:mod:`nmr_balance.results`); this returns the stored form.
"""

from __future__ import annotations

from typing import Any

from nmr_balance.results import measure_trial
from nmr_balance.stream import SampleBlock, StreamInfo


def trial_metrics(processed: SampleBlock, info: StreamInfo) -> dict[str, Any]:
    """The stored (JSON) form of :func:`nmr_balance.results.measure_trial`."""
    return measure_trial(processed, info).to_dict()
