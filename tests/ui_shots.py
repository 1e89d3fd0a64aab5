"""Helpers for the GUI tests: a check that no text on screen is cut off (elided or clipped),
answering the app's questions, letting layouts settle; the screenshots themselves are
:func:`_helpers.save_shot`."""

from __future__ import annotations

from PySide6 import QtCore, QtGui, QtWidgets

#: The clinic screens the console must fit (a laptop and a desktop monitor), px.
SCREEN_SIZES = ((1366, 768), (1920, 1080))


def _shown(w: QtWidgets.QWidget, top: QtWidgets.QWidget) -> bool:
    """Visible on screen: shown, not zero-sized, inside the visible part of a scroll area."""
    if not w.isVisibleTo(top) or w.width() <= 0 or w.height() <= 0:
        return False
    return not w.visibleRegion().isEmpty() or not top.isVisible()


def _clipped_sideways(w: QtWidgets.QWidget) -> str | None:
    """Cut on the left or right by a container (a column too narrow for its contents: a scroll
    area without a horizontal scroll bar clips them). Partly scrolled out of view vertically is
    fine: the scroll bar shows the rest."""
    seen = w.visibleRegion().boundingRect()
    if seen.isEmpty() or not w.isVisible():
        return None
    if seen.left() > 0 or seen.right() < w.width() - 1:
        return f"only x {seen.left()}..{seen.right()} of {w.width()} px shown (clipped by its container)"
    return None


def _label_problem(w: QtWidgets.QLabel) -> str | None:
    text = w.text()
    if not text or not w.isVisible():
        return None
    m = w.margin() * 2 + max(w.indent(), 0)
    room = w.contentsRect().adjusted(0, 0, -m, -m)
    rich = w.textFormat() == QtCore.Qt.RichText or (
        w.textFormat() == QtCore.Qt.AutoText and QtGui.Qt.mightBeRichText(text)
    )
    if w.wordWrap() or rich:
        # the layout's own measure: the height it needs at this width vs the height it has
        need_h = w.heightForWidth(w.width()) if w.wordWrap() else w.sizeHint().height()
        # wrapped text still needs its longest word (or a table its columns) in one line
        need_w = w.minimumSizeHint().width() if w.wordWrap() else w.sizeHint().width()
        if need_h > w.height() + 1:
            return f"needs {need_h} px height, has {w.height()}"
        if need_w > w.width() + 1:
            return f"needs {need_w} px width, has {w.width()}"
        return None
    fm = w.fontMetrics()
    lines = text.split("\n")
    wide = max(fm.horizontalAdvance(line) for line in lines)
    high = fm.height() * len(lines)
    if wide > room.width():
        return f"text {wide} px wide in {room.width()} px"
    if high > room.height() + 2:
        return f"text {high} px high in {room.height()} px"
    return None


def _button_problem(w: QtWidgets.QAbstractButton) -> str | None:
    text = w.text().replace("&&", "\0").replace("&", "").replace("\0", "&")
    if not text:
        return None
    fm = w.fontMetrics()
    if isinstance(w, QtWidgets.QPushButton):
        opt = QtWidgets.QStyleOptionButton()
        w.initStyleOption(opt)
        room = w.style().subElementRect(QtWidgets.QStyle.SE_PushButtonContents, opt, w)
    elif isinstance(w, (QtWidgets.QCheckBox, QtWidgets.QRadioButton)):
        opt = QtWidgets.QStyleOptionButton()
        w.initStyleOption(opt)
        element = (
            QtWidgets.QStyle.SE_CheckBoxContents
            if isinstance(w, QtWidgets.QCheckBox)
            else QtWidgets.QStyle.SE_RadioButtonContents
        )
        room = w.style().subElementRect(element, opt, w)
    else:
        room = w.contentsRect()
    wide = fm.horizontalAdvance(text) + (w.iconSize().width() if not w.icon().isNull() else 0)
    if wide > room.width():
        return f"text {wide} px wide in {room.width()} px"
    if fm.ascent() + fm.descent() > room.height() + 2:
        return f"text {fm.height()} px high in {room.height()} px"
    return None


def _combo_problem(w: QtWidgets.QComboBox) -> str | None:
    text = w.currentText()
    if not text:
        return None
    opt = QtWidgets.QStyleOptionComboBox()
    w.initStyleOption(opt)
    room = w.style().subControlRect(
        QtWidgets.QStyle.CC_ComboBox, opt, QtWidgets.QStyle.SC_ComboBoxEditField, w
    )
    wide = w.fontMetrics().horizontalAdvance(text)
    if wide > room.width():
        return f"text {wide} px wide in {room.width()} px"
    if w.fontMetrics().ascent() + w.fontMetrics().descent() > room.height() + 2:
        return f"text {w.fontMetrics().height()} px high in {room.height()} px"
    return None


def _line_edit_problem(w: QtWidgets.QLineEdit) -> str | None:
    text = w.text() or w.placeholderText()
    if not text:
        return None
    opt = QtWidgets.QStyleOptionFrame()
    w.initStyleOption(opt)
    room = w.style().subElementRect(QtWidgets.QStyle.SE_LineEditContents, opt, w)
    m = w.textMargins()
    room = room.adjusted(m.left() + 2, m.top(), -m.right() - 2, -m.bottom())
    fm = w.fontMetrics()
    if not w.text() and fm.horizontalAdvance(text) > room.width():  # typed text scrolls
        return f"placeholder {fm.horizontalAdvance(text)} px wide in {room.width()} px"
    if fm.ascent() + fm.descent() > room.height() + 1:
        return f"text {fm.ascent() + fm.descent()} px high in {room.height()} px"
    return None


def cut_texts(top: QtWidgets.QWidget) -> list[str]:
    """Every label, button, combo box and line edit shown in ``top`` whose text does not fit
    (wider or taller than the room its widget gives it: Qt would elide or clip it), as
    ``"QPushButton 'Start session': text 82 px wide in 40 px"``. Empty: all text fits."""
    problems = []
    checks = (
        (QtWidgets.QLabel, _label_problem),
        (QtWidgets.QAbstractButton, _button_problem),
        (QtWidgets.QComboBox, _combo_problem),
        (QtWidgets.QLineEdit, _line_edit_problem),
    )
    for w in top.findChildren(QtWidgets.QWidget):
        if not _shown(w, top):
            continue
        if isinstance(w, QtWidgets.QLineEdit) and isinstance(w.parent(), QtWidgets.QComboBox):
            continue  # an editable combo's edit field: checked as the combo
        if isinstance(w, QtWidgets.QTabBar) or isinstance(w.parent(), QtWidgets.QTabBar):
            continue
        for kind, check in checks:
            if isinstance(w, kind):
                why = check(w) or _clipped_sideways(w)
                if why:
                    text = w.text() if hasattr(w, "text") else w.currentText()
                    problems.append(f"{type(w).__name__} {text[:40]!r}: {why}")
                break
    return problems


def answer_dialog(qtbot, button=QtWidgets.QMessageBox.Yes, delay_ms: int = 50) -> None:
    """Click ``button`` of the next modal message box (a question the app is about to ask)."""

    def click() -> None:
        box = QtWidgets.QApplication.activeModalWidget()
        if not isinstance(box, QtWidgets.QMessageBox):
            QtCore.QTimer.singleShot(delay_ms, click)  # not shown yet
            return
        box.button(button).click()

    QtCore.QTimer.singleShot(delay_ms, click)


def settle(qtbot, widget, size: tuple[int, int] | None = None, ms: int = 50) -> None:
    """Resize ``widget`` (a top-level window) and let the layouts and plots settle."""
    if size is not None:
        widget.resize(*size)
    widget.show()
    QtWidgets.QApplication.processEvents()
    qtbot.wait(ms)
    QtGui.QGuiApplication.processEvents()


__all__ = ["SCREEN_SIZES", "answer_dialog", "cut_texts", "settle"]
