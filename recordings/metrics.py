"""The metrics stored with each trial: what the recording itself tells, plus the DSP sway set.

:func:`trial_metrics` is the one hook the recorder, crash recovery and importers call, so a
live, an interrupted, an imported and a replayed trial are scored alike.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from nmr_balance.stream import SampleBlock, StreamInfo


def recording_metrics(block: SampleBlock, info: StreamInfo) -> dict[str, Any]:
    """Facts about the samples themselves: count, span, gaps, share of valid (loaded) samples."""
    n = len(block)
    out: dict[str, Any] = {
        "n_samples": n,
        "fs_hz": info.fs,
        "unit": info.units[0] if info.units else "",
    }
    if n == 0:
        out.update(duration_s=0.0, gaps=0, valid_fraction=0.0)
        return out
    out["duration_s"] = n / info.fs
    out["gaps"] = block.gaps()
    finite = (
        np.all(np.isfinite(block.data[:, :2]), axis=1)
        if block.n_channels >= 2
        else np.ones(n, bool)
    )
    out["valid_fraction"] = float(np.mean(finite))
    return out


def trial_metrics(processed: SampleBlock, info: StreamInfo) -> dict[str, Any]:
    """All metrics of a trial from its processed (sway) stream. JSON-serialisable.

    The recording facts of :func:`recording_metrics`, then every sway metric of
    :func:`dsp.metrics.trial_metrics` (names in ``dsp.metrics.METRIC_UNITS``), with ``units`` and
    ``notes`` (why a metric is NaN) as nested dicts. Short gaps (nobody on the board for
    <= 0.25 s) are bridged; when the sway metrics cannot be computed, ``sway_error`` says why.
    """
    out = recording_metrics(processed, info)
    if info.channel_names[:2] != ("x", "y"):
        out["sway_error"] = f"not a sway stream (channels {', '.join(info.channel_names)})"
        return out
    from dsp import metrics as dsp_metrics  # deferred: listing trials must not load Numba (~1-4 s)

    try:
        sway = dsp_metrics.trial_metrics(
            processed.data[:, :2], info.fs, unit=info.units[0], nan_policy="interpolate"
        )
    except ValueError as e:
        out["sway_error"] = str(e)
        return out
    # the recording's own counts stay: the DSP's are of the samples it kept (a float after
    # trimming), not facts of the recording
    out.update({k: v for k, v in sway.items() if k not in ("n_samples", "duration_s")})
    out["units"], out["notes"] = dict(sway.units), dict(sway.notes)
    return out
