"""Start the dashboard: the therapist console (and optionally the patient screen).

Called by ``nmr-balance live`` (the composition root supplies the engine entry and device
discovery, since the UI may not import drivers). With ``screenshot`` it renders for
``duration_s`` seconds (offscreen works) and saves a PNG of the console, for docs and checks.
"""

from __future__ import annotations

import signal
from collections.abc import Callable
from pathlib import Path

from PySide6 import QtCore, QtWidgets

from ui import theme
from ui.console_window import ConsoleWindow
from ui.engine_client import EngineClient
from ui.error_dialog import install_excepthook


def application() -> QtWidgets.QApplication:
    """The QApplication (created once), styled."""
    app = QtWidgets.QApplication.instance() or QtWidgets.QApplication([])
    app.setApplicationName("nmr-balance")
    theme.apply(app)
    return app


def open_store(store_path: str | Path | None):
    """The station database for the console, read-only (the engine process is its one writer;
    see ``docs/recordings.md``), or None without the recordings package.

    A missing file is created and an old schema updated first, by a short read-write open
    (without crash recovery: the engine does that when it opens the database).
    """
    try:
        from recordings import Store
    except ImportError:
        return None
    Store.open(store_path, recover=False).close()
    return Store.open(store_path, read_only=True)


def build_console(
    engine_entry: Callable[..., None],
    source_url: str | None,
    *,
    store_path: str | Path | None = None,
    discover=None,
    patient_screen: bool = False,
    engine_host=None,
) -> ConsoleWindow:
    """Create the console and its engine; connect ``source_url`` when given.

    ``engine_host`` is an :class:`~nmr_balance.engine.host.EngineHost` already started on
    ``source_url`` and ``store_path`` (see :func:`run`); by default the console starts its own.
    """
    store = open_store(store_path)
    engine = EngineClient(
        engine_entry, host=engine_host, store_path=str(store.path) if store is not None else None
    )
    window = ConsoleWindow(engine, store, discover)
    install_excepthook(lambda: window)
    if source_url:
        window.connect_source(source_url)
    if patient_screen:
        window.show_patient_screen(fullscreen=len(QtWidgets.QApplication.screens()) > 1)
    return window


#: The console's size at start (a 1366x768 clinic laptop's screen), px.
CONSOLE_SIZE = (1366, 768)


def fit_to_screen(window, width: int = CONSOLE_SIZE[0], height: int = CONSOLE_SIZE[1]) -> None:
    """Open at ``width`` x ``height`` px, or maximised on a screen smaller than that (its
    available area, without the task bar). Offscreen (screenshots) it is exactly that size."""
    screen = window.screen() or application().primaryScreen()
    area = screen.availableGeometry() if screen is not None else None
    offscreen = QtWidgets.QApplication.platformName() == "offscreen"
    if area is not None and not offscreen and (area.width() < width or area.height() < height):
        window.resize(min(width, area.width()), min(height, area.height()))
        window.setWindowState(window.windowState() | QtCore.Qt.WindowState.WindowMaximized)
    else:
        window.resize(width, height)


def close_on_signals(window) -> None:
    """Ctrl-C in the terminal (SIGINT) or a system shutdown (SIGTERM) closes ``window`` as its
    close button does: the running trial is stored and the engine stops, instead of the process
    dying mid-write. (Python runs the handler at the next timer tick: the console polls at 20 Hz.)
    """

    def close(signum, frame) -> None:
        QtCore.QTimer.singleShot(0, window.close)

    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, close)


def run(
    engine_entry: Callable[..., None],
    source_url: str | None = None,
    *,
    store_path: str | Path | None = None,
    discover=None,
    patient_screen: bool = False,
    screenshot: str | Path | None = None,
    duration_s: float | None = None,
    engine_host=None,
) -> int:
    """Show the console until it is closed (or for ``duration_s``); return an exit status.

    ``engine_host``: an engine already started, as for :func:`build_console`.
    """
    app = application()
    window = build_console(
        engine_entry,
        source_url,
        store_path=store_path,
        discover=discover,
        patient_screen=patient_screen,
        engine_host=engine_host,
    )
    fit_to_screen(window)
    close_on_signals(window)
    window.show()
    print("The console is open: close its window (or press Ctrl-C here) to stop.", flush=True)
    if duration_s is not None:

        def finish() -> None:
            if screenshot:
                path = Path(screenshot)
                path.parent.mkdir(parents=True, exist_ok=True)
                window.grab().save(str(path))
                print(f"saved a screenshot of the console to {path}")
            window.close()

        QtCore.QTimer.singleShot(int(duration_s * 1000), finish)
    app.exec()
    if window.store is not None:
        window.store.close()
    return 0


__all__ = [
    "CONSOLE_SIZE",
    "application",
    "build_console",
    "close_on_signals",
    "fit_to_screen",
    "open_store",
    "run",
]
