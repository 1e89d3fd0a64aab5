"""Errors become dialogs for the therapist: what happened, what to do, details on request.

Typed errors (:class:`~nmr_balance.errors.NmrBalanceError`) show their own message and hint
(e.g. "no serial port /dev/ttyUSB0: is the board plugged in?"). Anything unexpected goes
through :func:`install_excepthook`: a summary plus the traceback under "Show details", and the
app keeps running. Dialogs are parented to the console, never to the patient screen.
"""

from __future__ import annotations

import sys
import traceback

from PySide6 import QtWidgets

from nmr_balance.engine.messages import Error
from nmr_balance.errors import NmrBalanceError

#: error type name -> a title that says what kind of trouble it is.
TITLES = {
    "DeviceNotFoundError": "Device not found",
    "DeviceBusyError": "Device busy",
    "DevicePermissionError": "No permission for the device",
    "NoDataError": "No data from the device",
    "ConnectionLostError": "Connection lost",
    "BluetoothUnavailableError": "Bluetooth unavailable",
    "UnknownSchemeError": "Unknown source",
    "InvalidParameterError": "Invalid setting",
    "DiskFullError": "Disk full",
    "CorruptDatabaseError": "Database damaged",
    "StorageError": "Storage problem",
    "DataFormatError": "Unreadable data",
    "EngineStateError": "Not possible now",
}


def describe(error: BaseException | Error) -> tuple[str, str, str]:
    """(title, message, hint) for an exception or an engine :class:`Error` reply."""
    if isinstance(error, Error):
        return TITLES.get(error.error_type, "Problem"), error.message, error.hint
    if isinstance(error, NmrBalanceError):
        return TITLES.get(type(error).__name__, "Problem"), error.message, error.hint
    return (
        "Unexpected error",
        f"{type(error).__name__}: {error}",
        "The app keeps running. If this repeats, send the details to support.",
    )


def error_box(parent, error: BaseException | Error, details: str = "") -> QtWidgets.QMessageBox:
    """A (non-modal) message box for ``error``; shown, and returned for tests."""
    title, message, hint = describe(error)
    box = QtWidgets.QMessageBox(parent)
    box.setIcon(QtWidgets.QMessageBox.Warning)
    box.setWindowTitle(f"nmr-balance: {title}")
    box.setText(f"<b>{title}</b><br>{message}")
    if hint:
        box.setInformativeText(hint)
    if details:
        box.setDetailedText(details)
    box.setModal(False)
    box.show()
    return box


def install_excepthook(parent_getter) -> None:
    """Route uncaught exceptions (including those raised in Qt slots) to a dialog.

    ``parent_getter()`` returns the window to parent the dialog to (the console).
    """
    shown: list[QtWidgets.QMessageBox] = []

    def hook(kind, value, tb) -> None:
        details = "".join(traceback.format_exception(kind, value, tb))
        sys.stderr.write(details)
        if QtWidgets.QApplication.instance() is None or issubclass(kind, KeyboardInterrupt):
            sys.__excepthook__(kind, value, tb)
            return
        shown[:] = [b for b in shown if b.isVisible()][-3:]  # do not pile up endless dialogs
        shown.append(error_box(parent_getter(), value, details))

    sys.excepthook = hook


__all__ = ["TITLES", "describe", "error_box", "install_excepthook"]
