"""Always-visible acquisition status (state, rate, drops, latency) and the alarm banner."""

from __future__ import annotations

import math

from PySide6 import QtCore, QtGui, QtWidgets

from ui import theme

#: Connection state -> (label shown, colour).
STATES = {
    "idle": ("not connected", theme.CONSOLE["muted"]),
    "connecting": ("connecting\u2026", theme.CONSOLE["warn"]),
    "connected": ("connected", theme.CONSOLE["ok"]),
    "streaming": ("streaming", theme.CONSOLE["ok"]),
    "lost": ("DEVICE LOST", theme.CONSOLE["alarm"]),
    "reconnecting": ("reconnecting\u2026", theme.CONSOLE["warn"]),
    "ended": ("ended", theme.CONSOLE["muted"]),
    "closed": ("closed", theme.CONSOLE["muted"]),
    "failed": ("FAILED", theme.CONSOLE["alarm"]),
    "engine_down": ("ENGINE STOPPED", theme.CONSOLE["alarm"]),
}


class StatusStrip(QtWidgets.QWidget):
    """One line: a state pill, source, sample rate, dropped samples, latency, frame cost."""

    def __init__(self):
        super().__init__()
        self.state = QtWidgets.QLabel()
        self.source = QtWidgets.QLabel("no source")
        self.rate = QtWidgets.QLabel("-- Hz")
        self.drops = QtWidgets.QLabel("dropped 0")
        self.latency = QtWidgets.QLabel("latency --")
        self.frame = QtWidgets.QLabel("")
        layout = QtWidgets.QHBoxLayout(self)
        layout.setContentsMargins(6, 2, 6, 2)
        for w in (self.state, self.source, self.rate, self.drops, self.latency):
            layout.addWidget(w)
            layout.addSpacing(14)
        layout.addStretch(1)
        layout.addWidget(self.frame)
        widest = max(f"\u25cf {label}" for label, _ in STATES.values())
        bold = self.state.font()
        bold.setBold(True)
        self.state.setMinimumWidth(QtGui.QFontMetrics(bold).horizontalAdvance(widest) + 40)
        self.set_state("idle")

    def set_state(self, state: str) -> None:
        label, colour = STATES.get(state, (state, theme.CONSOLE["muted"]))
        self.state_name = state
        self.state.setText(f"\u25cf {label}")
        self.state.setStyleSheet(f"color: {colour}; font-weight: 700;")

    def set_source(self, text: str) -> None:
        self.source.setText(text)

    def show_stats(self, stats: dict) -> None:
        rate = stats.get("rate_hz", float("nan"))
        self.rate.setText(f"{rate:.0f} Hz" if math.isfinite(rate) else "-- Hz")
        dropped = int(stats.get("dropped", 0))
        self.drops.setText(f"dropped {dropped}")
        self.drops.setStyleSheet(f"color: {theme.CONSOLE['alarm']};" if dropped else "")
        p99 = stats.get("latency_p99_ms", float("nan"))
        self.latency.setText(f"latency p99 {p99:.1f} ms" if math.isfinite(p99) else "latency --")

    def show_frame_cost(self, median_ms: float, max_ms: float) -> None:
        if math.isfinite(median_ms):
            self.frame.setText(f"frame {median_ms:.1f} ms (max {max_ms:.0f})")


class Banner(QtWidgets.QFrame):
    """A full-width alarm line with an optional action button (reconnect, restart engine)."""

    action = QtCore.Signal()

    def __init__(self):
        super().__init__()
        self.setObjectName("banner_frame")
        self.setStyleSheet(
            f"#banner_frame {{ background: {theme.CONSOLE['alarm']}; }}"
            "QLabel { color: white; background: transparent; font-weight: 700; font-size: 14px; }"
        )
        self.text = QtWidgets.QLabel()
        self.text.setWordWrap(True)
        self.button = QtWidgets.QPushButton()
        self.button.clicked.connect(self.action)
        layout = QtWidgets.QHBoxLayout(self)
        layout.setContentsMargins(10, 6, 10, 6)
        layout.addWidget(self.text, 1)
        layout.addWidget(self.button)
        self.hide()

    def alarm(self, text: str, action: str | None = None) -> None:
        self.text.setText(text)
        self.button.setVisible(bool(action))
        self.button.setText(action or "")
        self.show()

    def clear(self) -> None:
        self.hide()


__all__ = ["STATES", "Banner", "StatusStrip"]
