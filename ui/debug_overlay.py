"""Debug overlay (F12): frame cost, frame rate and how far the screen lags the newest sample."""

from __future__ import annotations

import collections
import math
import time

import numpy as np
from PySide6 import QtCore, QtWidgets


class DebugOverlay(QtWidgets.QLabel):
    """A small translucent box in the top-right corner of ``parent``.

    :meth:`frame_done` is called once per frame with the frame's cost (update + paint, ms) and
    the host time of the newest sample drawn.
    """

    def __init__(self, parent: QtWidgets.QWidget):
        super().__init__(parent)
        self.setStyleSheet(
            "background: rgba(31, 41, 51, 200); color: #F0E442; padding: 6px;"
            "font-family: monospace; font-size: 11px; border-radius: 4px;"
        )
        self.setAttribute(QtCore.Qt.WA_TransparentForMouseEvents)
        self.costs: collections.deque[float] = collections.deque(maxlen=240)
        self.ages: collections.deque[float] = collections.deque(maxlen=240)
        self.stamps: collections.deque[float] = collections.deque(maxlen=240)
        self.hide()

    def frame_done(self, cost_ms: float, newest_t_host_ns: int) -> None:
        now = time.monotonic_ns()
        self.costs.append(cost_ms)
        self.stamps.append(now / 1e9)
        if newest_t_host_ns:
            self.ages.append((now - newest_t_host_ns) / 1e6)
        if self.isVisible() and len(self.stamps) % 15 == 0:
            self.setText(self.summary())
            self.adjustSize()
            self.move(self.parentWidget().width() - self.width() - 8, 8)
            self.raise_()

    def figures(self) -> dict[str, float]:
        """frame_ms_p50, frame_ms_max, fps and sample_age_ms_p50 over the recent frames."""
        costs = np.asarray(self.costs) if self.costs else np.array([np.nan])
        ages = np.asarray(self.ages) if self.ages else np.array([np.nan])
        span = self.stamps[-1] - self.stamps[0] if len(self.stamps) > 1 else 0.0
        return {
            "frame_ms_p50": float(np.median(costs)),
            "frame_ms_max": float(np.max(costs)),
            "fps": (len(self.stamps) - 1) / span if span > 0 else math.nan,
            "sample_age_ms_p50": float(np.median(ages)),
        }

    def summary(self) -> str:
        f = self.figures()
        return (
            f"frame {f['frame_ms_p50']:.1f} ms (max {f['frame_ms_max']:.1f})\n"
            f"{f['fps']:.0f} frames/s\nsample\u2192screen {f['sample_age_ms_p50']:.0f} ms"
        )

    def toggle(self) -> None:
        self.setVisible(not self.isVisible())
        if self.isVisible():
            self.setText(self.summary())
            self.adjustSize()
            self.move(self.parentWidget().width() - self.width() - 8, 8)
            self.raise_()


__all__ = ["DebugOverlay"]
