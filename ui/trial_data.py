"""A stored trial made ready for the views: trial-relative time, sway samples, events, figures."""

from __future__ import annotations

import dataclasses

import numpy as np

from nmr_balance.stream import SampleBlock, StreamInfo, sample_time
from ui.live_metrics import whole_trial_figures


@dataclasses.dataclass
class LoadedTrial:
    """One trial's processed stream with time starting at 0.

    Attributes
    ----------
    trial : recordings.Trial
    info : StreamInfo
        Processed-stream description (``has_device_time`` False: time is ``counter / fs``).
    block : SampleBlock
        Processed samples; counters start at 0 (gaps keep their jumps).
    t : ndarray, shape (n,)
        Trial time of each sample, s.
    events : list of (t_s, kind, payload)
    figures : dict
        Stored metrics, completed with the time-domain sway set when the store lacks it.
    """

    trial: object
    info: StreamInfo
    block: SampleBlock
    t: np.ndarray
    events: list[tuple[float, str, dict]]
    figures: dict

    @property
    def duration_s(self) -> float:
        return float(self.t[-1]) if len(self.t) else 0.0

    def index_at(self, t_s: float) -> int:
        """Number of samples with time <= ``t_s``."""
        return int(np.searchsorted(self.t, t_s, side="right"))

    def event_lines(self) -> list[tuple[float, str]]:
        """Events as (t, short label) for the time series."""
        out = []
        for t, kind, payload in self.events:
            text = payload.get("text") or kind.replace("_", " ")
            out.append((t, text[:24]))
        return out


def completed_figures(metrics: dict, xy: np.ndarray, fs: float, unit: str) -> dict:
    """``metrics`` plus any time-domain sway metric the store does not hold yet (computed by
    :func:`ui.live_metrics.whole_trial_figures`); stored values win."""
    if "mean_velocity" in metrics and "ellipse_angle_deg" in metrics:
        return dict(metrics)
    return {**whole_trial_figures(xy, fs, unit), **metrics}


def load_trial(store, trial_id: int) -> LoadedTrial:
    """Read a trial from ``store`` (a ``recordings.Store``) for replay and comparison."""
    data = store.load_trial(trial_id)
    block = data.processed
    info = data.info.replace(has_device_time=False)
    if len(block):
        counter = block.counter - block.counter[0]
        block = SampleBlock(block.t_host_ns, block.t_device, counter, block.data)
    t = sample_time(block, info)  # the nominal clock (info says so): replay runs on counters
    events = [(e.t, e.kind, e.payload) for e in data.events]
    figures = completed_figures(data.metrics, block.data[:, :2], info.fs, info.units[0])
    return LoadedTrial(data.trial, info, block, t, events, figures)


__all__ = ["LoadedTrial", "completed_figures", "load_trial"]
