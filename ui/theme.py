"""Colours, fonts and pyqtgraph defaults shared by every view.

The palette is Okabe & Ito's (2008) colour-blind-safe set; traces never rely on red vs green
alone. Pens stay 1 px wide: wider pens are 10-20x slower on long curves (DESIGN.md §10).
"""

from __future__ import annotations

import pyqtgraph as pg
from PySide6 import QtGui

#: Okabe-Ito palette.
OKABE_ITO = {
    "black": "#000000",
    "orange": "#E69F00",
    "sky_blue": "#56B4E9",
    "green": "#009E73",
    "yellow": "#F0E442",
    "blue": "#0072B2",
    "vermillion": "#D55E00",
    "purple": "#CC79A7",
}

#: Console (therapist) colours: light, calm, clinical.
CONSOLE = {
    "background": "#FFFFFF",
    "panel": "#F4F6F8",
    "grid": "#D8DEE4",
    "grid_line": "#E6EAEE",
    "text": "#1F2933",
    "muted": "#616E7C",
    "trace": OKABE_ITO["blue"],
    "current": OKABE_ITO["vermillion"],
    "ellipse": OKABE_ITO["orange"],
    "target": OKABE_ITO["green"],
    "ml": OKABE_ITO["blue"],
    "ap": OKABE_ITO["vermillion"],
    "load": OKABE_ITO["sky_blue"],
    "event": OKABE_ITO["purple"],
    "ok": OKABE_ITO["green"],
    "warn": OKABE_ITO["orange"],
    "alarm": OKABE_ITO["vermillion"],
}

#: Patient screen colours: dark background, very high contrast.
PATIENT = {
    "background": "#000000",
    "cursor": OKABE_ITO["yellow"],
    "target": OKABE_ITO["sky_blue"],
    "target_active": OKABE_ITO["orange"],
    "target_hit": OKABE_ITO["green"],
    "text": "#FFFFFF",
    "guide": "#3A3A3A",
}

STYLE_SHEET = f"""
QMainWindow, QWidget {{ background: {CONSOLE["background"]}; color: {CONSOLE["text"]}; }}
QGroupBox {{ background: {CONSOLE["panel"]}; border: 1px solid {CONSOLE["grid"]}; border-radius: 6px;
             margin-top: 14px; padding: 8px 6px 6px 6px; font-weight: 600; }}
QGroupBox::title {{ subcontrol-origin: margin; left: 8px; padding: 0 4px; color: {CONSOLE["muted"]}; }}
QGroupBox QWidget {{ background: transparent; }}
QLineEdit, QComboBox, QSpinBox, QDoubleSpinBox, QPlainTextEdit {{ background: #FFFFFF;
             border: 1px solid {CONSOLE["grid"]}; border-radius: 4px; padding: 3px; }}
QLineEdit:disabled, QComboBox:disabled, QSpinBox:disabled, QDoubleSpinBox:disabled,
QPlainTextEdit:disabled {{ background: {CONSOLE["panel"]}; color: #9AA5B1; border: 1px dashed {CONSOLE["grid"]}; }}
QLabel:disabled, QCheckBox:disabled {{ color: #9AA5B1; }}
QLabel#trial_summary {{ background: #FFFFFF; border: 1px solid {CONSOLE["grid"]}; border-radius: 4px; padding: 4px; }}
QPushButton {{ background: #FFFFFF; border: 1px solid #9AA5B1; border-radius: 4px; padding: 4px 10px; }}
QPushButton:hover {{ background: #E4E7EB; }}
QPushButton:disabled {{ color: #9AA5B1; border-color: {CONSOLE["grid"]}; }}
QPushButton#primary {{ background: {OKABE_ITO["blue"]}; color: white; border: none; font-weight: 600; }}
QPushButton#danger {{ background: {OKABE_ITO["vermillion"]}; color: white; border: none; font-weight: 600; }}
QPushButton#primary:disabled, QPushButton#danger:disabled {{ background: #CBD2D9; color: #F5F7FA; }}
QLabel#banner {{ background: {OKABE_ITO["vermillion"]}; color: white; font-weight: 700; padding: 6px; }}
QLabel#notice {{ background: #FFF7D6; color: {CONSOLE["text"]}; padding: 4px; }}
QLabel#metric_value {{ font-size: 18px; font-weight: 600; }}
QLabel#metric_name {{ color: {CONSOLE["muted"]}; }}
QCheckBox::indicator {{ width: 14px; height: 14px; border: 1px solid #9AA5B1; border-radius: 3px; background: #FFFFFF; }}
QCheckBox::indicator:checked {{ background: {OKABE_ITO["blue"]}; border-color: {OKABE_ITO["blue"]}; }}
QLabel#countdown {{ font-size: 20px; font-weight: 700; color: {OKABE_ITO["blue"]}; }}
QStatusBar {{ background: {CONSOLE["panel"]}; border-top: 1px solid {CONSOLE["grid"]}; }}
QTabWidget::pane {{ border: 1px solid {CONSOLE["grid"]}; }}
"""


def configure_pyqtgraph() -> None:
    """Global pyqtgraph options (call before creating plots)."""
    pg.setConfigOptions(
        antialias=False, background=CONSOLE["background"], foreground=CONSOLE["text"]
    )


def pen(colour: str, alpha: int = 255, width: int = 1) -> QtGui.QPen:
    """A cosmetic pen (width in pixels, not data units)."""
    c = QtGui.QColor(colour)
    c.setAlpha(alpha)
    p = pg.mkPen(c, width=width)
    p.setCosmetic(True)
    return p


def brush(colour: str, alpha: int = 255) -> QtGui.QBrush:
    c = QtGui.QColor(colour)
    c.setAlpha(alpha)
    return pg.mkBrush(c)


def apply(app) -> None:
    """Style a QApplication for the console."""
    configure_pyqtgraph()
    app.setStyle("Fusion")
    app.setStyleSheet(STYLE_SHEET)
    font = app.font()
    font.setPointSize(10)
    app.setFont(font)


__all__ = [
    "CONSOLE",
    "OKABE_ITO",
    "PATIENT",
    "STYLE_SHEET",
    "apply",
    "brush",
    "configure_pyqtgraph",
    "pen",
]
