"""Patient, session and trial controls: pick/create a patient, start a session, choose a free
recording or a protocol from the library (and its level), start (the free quiet-stance trial
after a countdown; a protocol, the free target exercise included, runs its own) / stop / abort,
cues, markers, notes."""

from __future__ import annotations

import math
import time

from PySide6 import QtCore, QtWidgets

from nmr_balance.engine.messages import StartSession
from nmr_balance.record import STANCES, CueType
from nmr_balance.reporting import fmt
from recordings.recorder import STALL_GRACE_S
from ui.exercises import FREE_RECORDINGS, Choice, library

VISION = (("eyes open", "eyes_open"), ("eyes closed", "eyes_closed"))
SURFACE = (("firm", "firm"), ("foam", "foam"))
#: The core's stances (one vocabulary: what the store accepts), as a therapist reads them.
STANCE = tuple((s.replace("_", " "), s) for s in STANCES)


#: The core's cue types (the record's vocabulary) the therapist picks from.
CUE_TYPES = tuple((t.value, t.value) for t in CueType if t is not CueType.UNSPECIFIED)
#: Pain: 0-10 numeric rating scale; Borg: rating of perceived exertion, 6-20.
PAIN_RANGE, BORG_RANGE = (0, 10), (6, 20)


def scale_box(lo: int, hi: int, tip: str) -> QtWidgets.QSpinBox:
    """A rating from ``lo`` to ``hi``; one below ``lo`` reads "not asked" (None)."""
    box = QtWidgets.QSpinBox(minimum=lo - 1, maximum=hi, value=lo - 1)
    box.setSpecialValueText("not asked")
    box.setToolTip(tip)
    return box


def scale_value(box: QtWidgets.QSpinBox) -> int | None:
    return None if box.value() < box.minimum() + 1 else box.value()


def _combo(items) -> QtWidgets.QComboBox:
    box = QtWidgets.QComboBox()
    for label, value in items:
        box.addItem(label, value)
    return box


#: Whole-trial figures shown after a free trial: stored metric key, label, unit ("L" = the sway
#: unit), significant digits.
TRIAL_SUMMARY = (
    ("duration_s", "duration", "s", 3),
    ("mean_velocity", "mean velocity", "L/s", 3),
    ("ellipse_area_95_chi2", "95 % ellipse area", "L\u00b2", 3),
    ("path_length", "path length", "L", 3),
    ("rms_distance", "RMS distance", "L", 2),
)


def trial_summary(trial_id: int, metrics: dict, unit: str) -> str:
    """``<b>Trial #3</b> (complete): duration 30.0 s, mean velocity 10.3 mm/s, ...`` (rich
    text); a figure that could not be computed says why when the store says so."""
    status = metrics.get("status") or ""
    parts = []
    for key, label, u, digits in TRIAL_SUMMARY:
        v = metrics.get(key)
        if isinstance(v, (int, float)) and math.isfinite(v):
            parts.append(f"{label} <b>{fmt.number(v, digits)}</b> {u.replace('L', unit)}")
    reason = metrics.get("reason")
    head = f"<b>Trial #{trial_id}</b>" + (f" ({status})" if status else "")
    body = ", ".join(parts) if parts else "no sway figures (too short or no valid samples)"
    return f"{head}: {body}" + (f"<br>{reason}" if reason else "")


def _ask(parent, title: str, text: str) -> bool:
    box = QtWidgets.QMessageBox(QtWidgets.QMessageBox.Question, title, text, parent=parent)
    box.setStandardButtons(QtWidgets.QMessageBox.Yes | QtWidgets.QMessageBox.No)
    box.setDefaultButton(QtWidgets.QMessageBox.No)  # Enter does not throw a trial away
    box.button(QtWidgets.QMessageBox.Yes).setText("Abort")
    box.button(QtWidgets.QMessageBox.No).setText("Keep going")
    return box.exec() == QtWidgets.QMessageBox.Yes


class SessionPanel(QtWidgets.QGroupBox):
    """Signals carry what the therapist asked for; the console does it (store, engine)."""

    add_patient_requested = QtCore.Signal(str)
    start_session_requested = QtCore.Signal(str)
    start_trial_requested = QtCore.Signal()  # after the countdown
    start_protocol_requested = QtCore.Signal()  # the chosen protocol, at the chosen level
    abort_protocol_requested = QtCore.Signal()
    stop_trial_requested = QtCore.Signal(str)  # "complete" | "aborted"
    cue_requested = QtCore.Signal(str, str)  # text, cue type (verbal | tactile | visual)
    end_session_requested = QtCore.Signal()
    marker_requested = QtCore.Signal()
    report_requested = QtCore.Signal()

    def __init__(self, countdown_s: int = 3, protocol_dir=None):
        super().__init__("Patient and trial")
        #: asks the therapist yes/no (a modal question box): ``confirm(parent, title, text)``
        self.confirm = _ask
        self.countdown_s = countdown_s
        self.choices, self.broken_protocols = library(protocol_dir)
        self.running_protocol = False
        self.protocol_trial = False  # a protocol run is recording one of its trials now
        self.patient = QtWidgets.QComboBox()
        self.new_code = QtWidgets.QLineEdit(placeholderText="new code, e.g. P017")
        self.add_button = QtWidgets.QPushButton("Add")
        self.session_button = QtWidgets.QPushButton("Start session")
        self.session_label = QtWidgets.QLabel("no session")
        self.therapist = QtWidgets.QLineEdit(placeholderText="therapist")
        self.station = QtWidgets.QLineEdit(placeholderText="station")
        self.pain_before = scale_box(*PAIN_RANGE, "Pain before the session, 0-10")
        self.borg_before = scale_box(*BORG_RANGE, "Perceived exertion before (Borg RPE, 6-20)")
        self.end_button = QtWidgets.QPushButton("End session…")
        self.end_button.setToolTip("Pain and exertion after, then review the note before saving")
        self.cue_type = _combo(CUE_TYPES)
        self.report_button = QtWidgets.QPushButton("Report\u2026")
        self.report_button.setToolTip(
            "Save the session report (PDF) and copy the note for the record"
        )
        self.exercise = _combo((c.short_label, c.key) for c in self.choices)
        for i, c in enumerate(self.choices):  # the full title where the short one is not enough
            self.exercise.setItemData(i, c.label, QtCore.Qt.ToolTipRole)
        self.exercise.insertSeparator(sum(c.key in FREE_RECORDINGS for c in self.choices))
        self.level = QtWidgets.QComboBox()
        self.level.setToolTip(
            "Difficulty; 'auto' = from the patient's history and the protocol's rule"
        )
        self.vision, self.surface, self.stance = _combo(VISION), _combo(SURFACE), _combo(STANCE)
        self.duration = QtWidgets.QSpinBox(minimum=5, maximum=600, suffix=" s", value=30)
        self.start_button = QtWidgets.QPushButton("Start trial", objectName="primary")
        self.stop_button = QtWidgets.QPushButton("Stop")
        self.abort_button = QtWidgets.QPushButton("Abort", objectName="danger")
        self.countdown = QtWidgets.QLabel(
            "", objectName="countdown", alignment=QtCore.Qt.AlignCenter
        )
        self.countdown.setWordWrap(True)
        self.countdown.hide()
        self.cue = QtWidgets.QLineEdit(placeholderText="cue + Enter")
        self.marker_button = QtWidgets.QPushButton("Marker")
        self.notes = QtWidgets.QPlainTextEdit(placeholderText="notes for this trial")
        line = self.notes.fontMetrics().lineSpacing()
        self.notes.setFixedHeight(3 * line + 14)  # three lines, never squeezed to one
        self.notes.setTabChangesFocus(True)

        self.protocol_sets = QtWidgets.QLabel(
            "Condition, stance and duration: set by the protocol", objectName="metric_name"
        )
        self.protocol_sets.setWordWrap(True)
        #: what the last free trial measured (from the stored metrics), or where it went
        self.last_trial = QtWidgets.QLabel("", objectName="trial_summary")
        self.last_trial.setWordWrap(True)
        self.last_trial.setTextFormat(QtCore.Qt.RichText)
        self.last_trial.hide()

        self.form = form = QtWidgets.QFormLayout(self)
        form.setFieldGrowthPolicy(QtWidgets.QFormLayout.AllNonFixedFieldsGrow)
        form.setVerticalSpacing(5)
        row = QtWidgets.QHBoxLayout()
        row.addWidget(self.new_code, 1)
        row.addWidget(self.add_button)
        form.addRow("Patient", self.patient)
        form.addRow("", row)
        session_row = QtWidgets.QHBoxLayout()
        session_row.addWidget(self.session_button)
        session_row.addWidget(self.session_label, 1)
        session_row.addWidget(self.report_button)
        who = QtWidgets.QHBoxLayout()
        who.addWidget(self.therapist)
        who.addWidget(self.station)
        form.addRow("By, where", who)
        before = QtWidgets.QHBoxLayout()
        before.addWidget(QtWidgets.QLabel("Before: pain"))
        before.addWidget(self.pain_before, 1)
        before.addWidget(QtWidgets.QLabel("Borg"))
        before.addWidget(self.borg_before, 1)
        form.addRow(before)  # full width: the two scales fit the control column
        form.addRow(session_row)  # full width: the button's text is never squeezed
        form.addRow(self.end_button)
        form.addRow("Exercise", self.exercise)
        form.addRow("Level", self.level)
        self._condition_row = cond = QtWidgets.QHBoxLayout()
        cond.addWidget(self.vision)
        cond.addWidget(self.surface)
        form.addRow("Condition", cond)
        form.addRow("Stance", self.stance)
        form.addRow("Duration", self.duration)
        form.addRow(self.protocol_sets)
        buttons = QtWidgets.QHBoxLayout()
        for b in (self.start_button, self.stop_button, self.abort_button):
            buttons.addWidget(b)
        form.addRow(buttons)
        form.addRow(self.countdown)
        form.addRow(self.last_trial)
        cue_row = QtWidgets.QHBoxLayout()
        cue_row.addWidget(self.cue_type)
        cue_row.addWidget(self.cue, 1)
        cue_row.addWidget(self.marker_button)
        form.addRow("Cue", cue_row)
        form.addRow("Notes", self.notes)

        self.add_button.clicked.connect(self._add_patient)
        self.new_code.returnPressed.connect(self._add_patient)
        self.session_button.clicked.connect(
            lambda: self.start_session_requested.emit(self.patient_code())
        )
        self.start_button.clicked.connect(self._start)
        self.stop_button.clicked.connect(lambda: self._stop("complete"))
        self.abort_button.clicked.connect(self._abort)
        self.cue.returnPressed.connect(self._cue)
        self.marker_button.clicked.connect(self.marker_requested)
        self.report_button.clicked.connect(self.report_requested)
        self.end_button.clicked.connect(self.end_session_requested)
        self.exercise.currentIndexChanged.connect(self._exercise_changed)
        self._tick = QtCore.QTimer(self, interval=200)
        self._tick.timeout.connect(self._on_tick)
        self._count_end = 0.0
        self._trial_t0: float | None = None
        self.set_state(session=False, connected=False, recording=False)
        self._exercise_changed()

    # --- what the therapist chose --------------------------------------------------------------
    def patient_code(self) -> str:
        return self.patient.currentText().strip()

    def chosen(self) -> Choice:
        return next(c for c in self.choices if c.key == self.exercise.currentData())

    def chosen_level(self) -> int | None:
        """1-based level, or None: from the patient's history."""
        return self.level.currentData()

    def condition(self) -> str:
        """``"eyes_closed,foam,tandem"``: the form the store parses."""
        return ",".join(b.currentData() for b in (self.vision, self.surface, self.stance))

    def session_facts(self, code: str) -> StartSession:
        """The command that opens a session for ``code`` with what was entered before it."""
        return StartSession(
            patient=code,
            therapist=self.therapist.text().strip(),
            station=self.station.text().strip(),
            pain_before=scale_value(self.pain_before),
            borg_before=scale_value(self.borg_before),
        )

    def set_patients(self, codes: list[str], current: str | None = None) -> None:
        self.patient.clear()
        self.patient.addItems(codes)
        if current:
            self.patient.setCurrentText(current)

    def set_state(self, *, session: bool, connected: bool, recording: bool) -> None:
        """Enable what makes sense now (``recording``: a free trial or a protocol run)."""
        self._state = (session, connected, recording)
        counting = self._count_end > 0
        busy = recording or counting or self.running_protocol
        free = self.chosen().timed_by_therapist
        self.start_button.setEnabled(session and connected and not busy)
        self.stop_button.setEnabled(recording and not self.running_protocol)
        self.abort_button.setEnabled(busy)
        # cues and markers go with the trial recording now: a free trial, or a protocol's trial
        # (not its countdown or rest)
        logging = recording and (not self.running_protocol or self.protocol_trial)
        self.marker_button.setEnabled(logging)
        self.report_button.setEnabled(session and not busy)
        self.end_button.setEnabled(session and not busy)
        self.cue.setEnabled(logging)
        self.cue_type.setEnabled(logging)
        for w in (self.exercise, self.patient, self.session_button, self.new_code, self.add_button):
            w.setEnabled(not busy)
        # a protocol sets condition, stance and duration itself: its rows give way to a line
        # saying so (showing the free recording's values there would be stale and misleading)
        for field in (self.vision, self.surface, self.stance, self.duration):
            field.setEnabled(not busy and free)
        self._show_condition_rows(free)
        self.level.setEnabled(not busy and self.level.count() > 1)

    def _show_condition_rows(self, free: bool) -> None:
        for row in (self._condition_row, self.stance, self.duration):
            self.form.setRowVisible(row, free)
        self.protocol_sets.setVisible(not free)

    def show_trial_summary(self, trial_id: int, metrics: dict, unit: str) -> None:
        """The whole-trial figures of the free trial just saved (as stored), with units."""
        self.last_trial.setText(trial_summary(trial_id, metrics, unit))
        self.last_trial.show()

    def session_started(self, text: str) -> None:
        self.session_label.setText(text)
        for box in (self.pain_before, self.borg_before):  # asked again for the next session
            box.setValue(box.minimum())

    def protocol_running(self, running: bool) -> None:
        self.running_protocol = running
        self.protocol_trial = False
        self.set_state(session=self._state[0], connected=self._state[1], recording=running)

    def protocol_trial_running(self, on: bool) -> None:
        """A running protocol started (True) or ended (False) one of its trials: cues and
        markers are logged with it while it records."""
        self.protocol_trial = on
        self.set_state(session=self._state[0], connected=self._state[1], recording=self._state[2])

    def say(self, text: str) -> None:
        """The line under the start/stop buttons (countdown, time recorded, what happened);
        hidden while there is nothing to say, so it takes no room."""
        self.countdown.setText(text)
        self.countdown.setVisible(bool(text))

    # --- trial timing --------------------------------------------------------------------------
    def _start(self) -> None:
        if self.chosen().timed_by_therapist:
            self.begin_countdown()
        else:
            self.start_protocol_requested.emit()

    def _abort(self) -> None:
        if self._count_end:  # nothing started yet: cancel without asking
            self._stop("aborted")
            return
        what = (
            "Abort the protocol? The trial in progress is kept, marked aborted and not scored; "
            "the rest of the run is not done."
            if self.running_protocol
            else "Abort this trial? What was recorded is kept, marked aborted."
        )
        if not self.confirm(self, "Abort?", what):
            return
        if self.running_protocol:
            self.abort_protocol_requested.emit()
        else:
            self._stop("aborted")

    def begin_countdown(self) -> None:
        """Count down, then ask for the trial to start."""
        self._count_end = time.monotonic() + self.countdown_s
        self._tick.start()
        self._on_tick()
        self.set_state(session=self._state[0], connected=self._state[1], recording=False)

    def trial_running(self) -> None:
        """The engine confirmed the trial: show the elapsed time until the duration is up."""
        self._trial_t0 = time.monotonic()
        self._tick.start()

    def trial_ended(self, text: str) -> None:
        self._trial_t0 = None
        self._tick.stop()
        self.say(text)

    def _on_tick(self) -> None:
        now = time.monotonic()
        if self._count_end:
            left = self._count_end - now
            if left > 0:
                self.say(f"starting in {int(left) + 1}")
                return
            self._count_end = 0.0
            self._tick.stop()
            self.say("starting\u2026")
            self.start_trial_requested.emit()
        elif self._trial_t0 is not None:
            elapsed, planned = now - self._trial_t0, self.duration.value()
            if elapsed < planned:
                self.say(f"recording {elapsed:4.0f} / {planned} s")
            else:  # the engine ends the trial at its exact last sample and says so
                self.say(f"recording {planned} / {planned} s: saving\u2026")
            if elapsed >= planned + STALL_GRACE_S:
                self._stop("complete")  # the signal stalled (device lost?): end it here

    def _stop(self, status: str) -> None:
        if self._count_end:  # abort during the countdown: nothing was started
            self._count_end = 0.0
            self._tick.stop()
            self.say("cancelled")
            self.set_state(session=self._state[0], connected=self._state[1], recording=False)
            return
        self._trial_t0 = None
        self._tick.stop()
        self.stop_trial_requested.emit(status)

    def _add_patient(self) -> None:
        code = self.new_code.text().strip()
        if code:
            self.add_patient_requested.emit(code)
            self.new_code.clear()

    def _cue(self) -> None:
        text = self.cue.text().strip()
        if text:
            self.cue_requested.emit(text, self.cue_type.currentData())
            self.cue.clear()

    def _exercise_changed(self) -> None:
        choice = self.chosen()
        if choice.timed_by_therapist:
            self.duration.setValue(int(choice.duration_s))
        self.level.clear()
        self.start_button.setText("Start trial" if choice.timed_by_therapist else "Start protocol")
        n = len(choice.protocol.levels)
        self.level.addItem("auto" if n else "\u2014", None)
        for i in range(1, n + 1):
            self.level.addItem(f"level {i}", i)
        self.set_state(session=self._state[0], connected=self._state[1], recording=self._state[2])


__all__ = ["TRIAL_SUMMARY", "SessionPanel", "trial_summary"]
