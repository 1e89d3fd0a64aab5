"""The live plots of the console, drawn from a :class:`~ui.live_feed.LiveFeed` once per frame.

One :meth:`LiveView.render` = one frame: statokinesigram tail, ML/AP series, load bars and,
about 10 times a second, the 95 % ellipse and the live figures. A target exercise's hits and time
in target are the protocol engine's (:meth:`LiveView.set_training`): the view never scores. Replay uses the same view, so
live and replayed trials look alike. Each frame's cost is measured (for the debug overlay
and the benchmark).
"""

from __future__ import annotations

import collections
import time

import numpy as np
from PySide6 import QtCore, QtWidgets

from dsp.live import SlidingSway
from nmr_balance.stream import StreamInfo
from ui.live_feed import LiveFeed
from ui.live_metrics import ellipse_outline
from ui.load_bars import LoadBars, half_spans
from ui.metrics_panel import MetricsPanel
from ui.sway_plot import SwayPlot
from ui.time_series_plot import TimeSeriesPlot

#: Seconds of sway used for the live ellipse and velocity.
METRICS_WINDOW_S = 10.0
#: Half-widths offered for the statokinesigram, by unit (the second is the default).
SCALES = {"mm": (20.0, 40.0, 80.0, 160.0), "deg": (4.0, 8.0, 16.0)}


class LiveView(QtWidgets.QWidget):
    """Statokinesigram, stabilograms, load bars and live figures.

    Parameters
    ----------
    tail_s : float
        Seconds of path shown in the statokinesigram (its tail fades).
    window_s : float
        Seconds shown by the time series (10-30).
    """

    def __init__(self, tail_s: float = 10.0, window_s: float = 20.0, parent=None):
        super().__init__(parent)
        self.tail_s = tail_s
        self.sway = SwayPlot()
        self.series = TimeSeriesPlot(window_s=window_s)
        self.load_bars = LoadBars()
        self.metrics = MetricsPanel()
        #: the running trial's target hits and time in target (%), as the engine scored them
        self.training: dict[str, float] = {}
        self.window: SlidingSway | None = None
        self._fed = (None, 0, 0)  # (feed, its clears, samples of it in the window)
        self.frame_ms: collections.deque[float] = collections.deque(maxlen=240)
        self.last_drawn_t_host_ns = 0
        self._frames = 0
        self._figures: dict[str, float] = {}

        side = QtWidgets.QVBoxLayout()
        load_box = QtWidgets.QGroupBox("Load")
        QtWidgets.QVBoxLayout(load_box).addWidget(self.load_bars)
        metrics_box = QtWidgets.QGroupBox("Sway metrics")
        QtWidgets.QVBoxLayout(metrics_box).addWidget(self.metrics)
        self.window_box = QtWidgets.QComboBox()
        for seconds in (10, 20, 30):
            self.window_box.addItem(f"last {seconds} s", float(seconds))
        self.window_box.setCurrentIndex(self.window_box.findData(float(window_s)))
        self.window_box.currentIndexChanged.connect(
            lambda: setattr(self.series, "window_s", self.window_box.currentData())
        )
        self.scale_box = QtWidgets.QComboBox()
        self._offer_scales("mm")  # before a stream: the plot's own start (never a blank picker)
        self.scale_box.currentIndexChanged.connect(self._rescale)
        view_box = QtWidgets.QGroupBox("View")
        view_row = QtWidgets.QFormLayout(view_box)
        view_row.addRow("sway scale", self.scale_box)
        view_row.addRow("time series", self.window_box)
        side.addWidget(metrics_box)
        side.addWidget(view_box)
        side.addWidget(load_box)
        side.addStretch(1)
        side_widget = QtWidgets.QWidget()
        side_widget.setLayout(side)
        side.setContentsMargins(0, 0, 0, 0)
        # the figures scroll on a short screen instead of pushing the window taller
        side_area = QtWidgets.QScrollArea()
        side_area.setWidget(side_widget)
        side_area.setWidgetResizable(True)
        side_area.setFrameShape(QtWidgets.QFrame.NoFrame)
        side_area.setHorizontalScrollBarPolicy(QtCore.Qt.ScrollBarAlwaysOff)
        side_area.setMinimumWidth(side_widget.minimumSizeHint().width() + 16)
        top = QtWidgets.QHBoxLayout()
        top.addWidget(self.sway, 3)
        top.addWidget(side_area, 2)
        layout = QtWidgets.QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        self.series.setMinimumHeight(160)
        layout.addLayout(top, 3)
        layout.addWidget(self.series, 2)

    def _offer_scales(self, unit: str) -> None:
        """The sway scales of ``unit`` in the picker, the second one chosen (as the plot starts)."""
        self.scale_box.blockSignals(True)
        self.scale_box.clear()
        for half in SCALES.get(unit, SCALES["mm"]):
            self.scale_box.addItem(f"\u00b1{half:g} {unit}", half)
        self.scale_box.setCurrentIndex(1)
        self.scale_box.blockSignals(False)

    def set_stream(self, info: StreamInfo) -> None:
        """Label everything for the stream's unit; show load bars only for force sources."""
        unit = info.units[0]
        self.window = SlidingSway(info.fs, METRICS_WINDOW_S)
        self._fed = (None, 0, 0)
        self._offer_scales(unit)
        self.sway.set_unit(unit, self.scale_box.currentData())
        self.series.set_unit(unit, self.scale_box.currentData())
        self.metrics.set_unit(unit)
        self.load_bars.half_span_mm = half_spans(info.geometry)
        self.load_bars.parentWidget().setVisible(unit == "mm" and "fz" in info.channel_names)

    def _rescale(self) -> None:
        half = self.scale_box.currentData()
        if half is not None:
            self.sway.set_unit(self.sway.unit, half)
            self.series.set_half(half)

    def fit_scale(self, reach: float) -> int | None:
        """Zoom out (never in) to the smallest offered scale showing ``reach`` (stream unit) with
        a 5 % margin, e.g. a protocol's farthest target. Returns the scale index it had (to go
        back to), or None when it already fitted (or no stream is shown yet)."""
        before = self.scale_box.currentIndex()
        halves = [self.scale_box.itemData(i) for i in range(self.scale_box.count())]
        if before < 0 or halves[before] >= 1.05 * reach:
            return None
        fits = [i for i, h in enumerate(halves) if h >= 1.05 * reach]
        self.scale_box.setCurrentIndex(fits[0] if fits else len(halves) - 1)
        return before

    def set_training(
        self, hits: int | None = None, time_in_target_pct: float | None = None
    ) -> None:
        """Show a target trial's hits so far and time in target (%), as the protocol engine
        reported them (its ``target_hit`` events and its trial score); None: not shown (--)."""
        self.training = {
            k: v
            for k, v in (("hits", hits), ("time_in_target", time_in_target_pct))
            if v is not None
        }

    def render(self, feed: LiveFeed, figures: bool = False, t_end: float | None = None) -> None:
        """Draw one frame from ``feed`` (already pulled).

        ``figures`` forces the slow figures now; ``t_end`` is "now" on the time axis (default:
        the newest sample; replay passes its playhead).
        """
        t0 = time.perf_counter()
        self.sway.show_path(feed.xy[feed.recent(self.tail_s)])
        shown = feed.recent(self.series.window_s)  # only filled slots (no NaN times)
        self.series.show_series(feed.t[shown], feed.xy[shown], t_end)
        self._feed_window(feed)
        if figures or self._frames % 6 == 0:  # ~10 Hz at 60 frames/s: plenty for figures and bars
            self._update_figures(feed)
        self._frames += 1
        self.last_drawn_t_host_ns = feed.last_t_host_ns
        self.frame_ms.append((time.perf_counter() - t0) * 1e3)

    def _feed_window(self, feed: LiveFeed) -> None:
        """Hand the samples that arrived since the last frame to the sliding window (O(new))."""
        if self.window is None:
            self.window = SlidingSway(feed.info.fs, METRICS_WINDOW_S)
        last_feed, clears, seen = self._fed
        if last_feed is not feed or clears != feed.clears:
            self.window.reset()  # another source, or a replay seek
            seen = 0
        new = min(feed.total - seen, feed.filled)
        if new > self.window.capacity:
            self.window.reset()  # more than a window arrived: only the newest window matters
            new = self.window.capacity
        if new > 0:
            self.window.update(feed.xy[-new:])
        self._fed = (feed, feed.clears, feed.total)

    def _update_figures(self, feed: LiveFeed) -> None:
        values = self.window.values()
        self.sway.show_ellipse(ellipse_outline(values))
        figures = {
            "mean_velocity": values["mean_velocity"],
            "ellipse_area_95": values["ellipse_area_95_chi2"],
        }
        figures.update(self.training)
        self._figures = figures
        self.metrics.show_values(figures)
        if self.load_bars.isVisible() and feed.filled:
            x, y = feed.xy[-1]
            self.load_bars.show_values(x, y, feed.fz[-1])

    @property
    def figures(self) -> dict[str, float]:
        """The live figures as last shown."""
        return dict(self._figures)

    def take_paint_ms(self) -> float:
        """Time Qt spent painting the plots since the last call, ms."""
        return self.sway.take_paint_ms() + self.series.take_paint_ms()

    def frame_cost(self) -> tuple[float, float]:
        """Median and max frame cost, ms, over the recent frames."""
        if not self.frame_ms:
            return float("nan"), float("nan")
        a = np.asarray(self.frame_ms)
        return float(np.median(a)), float(a.max())

    def sizeHint(self) -> QtCore.QSize:
        return QtCore.QSize(900, 640)


__all__ = ["METRICS_WINDOW_S", "LiveView"]
