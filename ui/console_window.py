"""The therapist console: source, patient and trial controls around the live view, plus the
replay, compare and progress tabs. The GUI thread only pulls: a ~60 Hz timer reads the
engine's shared-memory ring and draws; nothing is pushed per sample.

The console never scores: a free quiet-stance trial is recorded and measured by the engine
process, and every target exercise (the free 4 targets too) is a protocol the engine runs and
scores; the console draws the targets of its ``ProtocolDisplay``, counts the hits in its
``ProtocolEvent`` replies and shows the stored results when the run is done."""

from __future__ import annotations

from pathlib import Path

import numpy as np
from PySide6 import QtCore, QtGui, QtWidgets

from nmr_balance.engine import messages as m
from nmr_balance.reporting.config import station_report_config
from ui.compare_view import CompareView
from ui.debug_overlay import DebugOverlay
from ui.engine_client import EngineClient
from ui.error_dialog import error_box
from ui.live_metrics import Target
from ui.live_view import LiveView
from ui.patient_controls import PatientControls
from ui.patient_screen import PRESETS, PatientScreen
from ui.progress_view import ProgressView
from ui.protocol_progress import SENSORY_KINDS, ProtocolProgress
from ui.replay_view import ReplayView
from ui.report.button import ReportExporter
from ui.session_panel import SessionPanel
from ui.source_panel import Discover, SourcePanel
from ui.status_strip import Banner, StatusStrip
from ui.trial_picker import pick_trial

FRAME_INTERVAL_MS = 16
#: Width of the control column (source, patient and trial, protocol, patient screen), px.
SIDE_WIDTH_PX = 372


def scrolling(widget: QtWidgets.QWidget) -> QtWidgets.QScrollArea:
    """``widget`` in a frameless vertical scroll area: it asks for little height, scrolls when
    the screen is short, and is as wide as ``widget`` wants to be."""
    area = QtWidgets.QScrollArea()
    area.setWidget(widget)
    area.setWidgetResizable(True)
    area.setFrameShape(QtWidgets.QFrame.NoFrame)
    area.setHorizontalScrollBarPolicy(QtCore.Qt.ScrollBarAlwaysOff)
    return area


class ConsoleWindow(QtWidgets.QMainWindow):
    """Main window.

    Parameters
    ----------
    engine : EngineClient
        The engine process handle (started by :meth:`connect_source`).
    store : recordings.Store, optional
        The station database (patients, sessions, trials), opened read-only: the console reads
        it, and every write (patients, sessions, notes, trials) is a command to the engine
        process, the database's one writer. Without it nothing is recorded.
    discover : callable, optional
        Lists connected devices (from the composition root).
    protocol_dir : path, optional
        The clinic's protocol folder (default: the data directory's).
    """

    def __init__(
        self, engine: EngineClient, store=None, discover: Discover | None = None, protocol_dir=None
    ):
        super().__init__()
        self.setWindowTitle("nmr-balance \u2014 therapist console")
        self.engine, self.store = engine, store
        self.session_id: int | None = None
        self.session_patient = ""
        #: the running protocol's last display snapshot (None: no protocol running) and targets
        self.protocol_view: dict | None = None
        self.protocol_targets: list[Target] = []
        #: the running target trial's hits so far (the engine's target_hit events; None: no
        #: target shown in this trial)
        self.trial_hits: int | None = None
        self.recording = False
        self.patient_screen: PatientScreen | None = None
        self.end_dialog = None  # the end-of-session step, while it is open
        self.messages: list[str] = []
        self._lost = False
        self._trial_t0_s: float | None = None  # stream time of the free trial's start
        self.last_protocol: dict | None = None  # the facts of the last protocol started
        self._scale_before_run: int | None = None  # the sway plot's zoom before a run fitted it

        self.source_panel = SourcePanel(discover)
        self.session_panel = SessionPanel(protocol_dir=protocol_dir)
        self.protocol_progress = ProtocolProgress()
        self.patient_controls = PatientControls()
        self.live = LiveView()
        self.overlay = DebugOverlay(self.live.sway)  # over the plot, clear of the figures
        self.replay = ReplayView(store)
        self.compare = CompareView(store)
        self.progress = ProgressView(store)
        self.banner = Banner()
        self.notice = QtWidgets.QLabel(objectName="notice")
        self.notice.hide()
        self.reporter = ReportExporter(store.path, parent=self) if store is not None else None
        self.status = StatusStrip()
        self.statusBar().addPermanentWidget(self.status, 1)

        self.tabs = QtWidgets.QTabWidget()
        for widget, name in (
            (self.live, "Live"),
            (self.replay, "Replay"),
            (self.compare, "Compare"),
            (self.progress, "Progress"),
        ):
            self.tabs.addTab(widget, name)
        side = QtWidgets.QWidget()
        side_layout = QtWidgets.QVBoxLayout(side)
        side_layout.setContentsMargins(0, 0, 0, 0)
        for w in (
            self.source_panel,
            self.session_panel,
            self.protocol_progress,
            self.patient_controls,
        ):
            side_layout.addWidget(w)
        side_layout.addStretch(1)
        # the controls scroll when the screen is short (a 1366x768 laptop, a protocol's results
        # panel opening): the window never grows past the screen it is on
        self.side = scrolling(side)
        # as wide as its widest row needs (never clipped sideways), at least SIDE_WIDTH_PX
        scroll_bar = self.side.verticalScrollBar().sizeHint().width()
        self.side.setFixedWidth(max(SIDE_WIDTH_PX, side.minimumSizeHint().width() + scroll_bar))
        body = QtWidgets.QHBoxLayout()
        body.addWidget(self.side)
        body.addWidget(self.tabs, 1)
        central = QtWidgets.QWidget()
        layout = QtWidgets.QVBoxLayout(central)
        layout.setContentsMargins(8, 8, 8, 4)
        layout.addWidget(self.banner)
        layout.addWidget(self.notice)
        layout.addLayout(body, 1)
        self.setCentralWidget(central)
        self._wire()
        self._frame_timer = QtCore.QTimer(self, interval=FRAME_INTERVAL_MS)
        self._frame_timer.setTimerType(QtCore.Qt.PreciseTimer)
        self._frame_timer.timeout.connect(self.on_frame)
        self._frame_timer.start()
        self.reload_patients()
        if self.session_panel.broken_protocols:
            self.show_notice(
                "protocol files not loaded: " + "; ".join(self.session_panel.broken_protocols)
            )

    def _wire(self) -> None:
        e, s = self.engine, self.session_panel
        self.source_panel.connect_requested.connect(self.connect_source)
        self.source_panel.tare_requested.connect(lambda: self._send(m.Tare()))
        self.source_panel.level_requested.connect(lambda: self._send(m.Level()))
        self.source_panel.stored_trial_requested.connect(self._pick_stored_trial)
        s.add_patient_requested.connect(self.add_patient)
        s.start_session_requested.connect(self.start_session)
        s.start_trial_requested.connect(self.start_trial)
        s.start_protocol_requested.connect(self.start_protocol)
        s.abort_protocol_requested.connect(lambda: self._send(m.AbortProtocol()))
        s.stop_trial_requested.connect(lambda status: self._send(m.StopTrial(status)))
        s.cue_requested.connect(self.send_cue)
        s.marker_requested.connect(self.send_marker)
        s.report_requested.connect(self.save_report)
        s.end_session_requested.connect(self.end_session)
        if self.reporter is not None:
            self.reporter.finished.connect(
                lambda made: self.show_notice(
                    f"report saved: {made.pdf} (the note is on the clipboard)"
                )
            )
        self.patient_controls.show_requested.connect(self.show_patient_screen)
        self.patient_controls.preset_changed.connect(self._set_preset)
        self.patient_controls.sound_changed.connect(
            lambda on: setattr(self.patient_screen, "sound_on", on) if self.patient_screen else None
        )
        self.source_panel.choice.currentIndexChanged.connect(self._say_what_connect_does)
        self.source_panel.choice.editTextChanged.connect(self._say_what_connect_does)
        e.ready.connect(self._on_ready)
        e.status_changed.connect(self._on_status)
        e.stats_changed.connect(self.status.show_stats)
        e.trial_started.connect(self._on_trial_started)
        e.trial_stopped.connect(self._on_trial_stopped)
        e.trial_metrics.connect(self._on_trial_metrics)
        e.notice.connect(self.show_notice)
        e.protocol_started.connect(self._on_protocol_started)
        e.protocol_display.connect(self._on_protocol_display)
        e.protocol_event.connect(self._on_protocol_event)
        e.protocol_done.connect(self._on_protocol_done)
        e.failed.connect(self._on_engine_error)
        e.patient_added.connect(self._on_patient_added)
        e.session_started.connect(self._on_session_started)
        e.session_ended.connect(self._on_session_ended)
        e.session_signed.connect(self._on_session_signed)
        e.died.connect(self._on_engine_died)
        self.banner.action.connect(self._banner_action)
        self.progress.trial_chosen.connect(self.open_in_replay)
        QtGui.QShortcut(QtGui.QKeySequence("F12"), self, activated=self.overlay.toggle)

    # --- source --------------------------------------------------------------------------------
    def connect_source(self, url: str) -> None:
        self.status.set_state("connecting")
        self.status.set_source(url)
        self.source_panel.show_url(url)
        self.engine.connect_source(url)

    def _pick_stored_trial(self) -> None:
        if self.store is None:
            return
        trial_id = pick_trial(self, self.store)
        if trial_id is not None:
            self.source_panel.add_url(f"Stored trial #{trial_id}", self.replay_url(trial_id))

    def replay_url(self, trial_id: int, speed: float = 1.0) -> str:
        return f"replay://{Path(self.store.path).resolve().as_posix()}?trial={trial_id}&speed={speed:g}"

    def _send(self, command: m.Command) -> None:
        try:
            self.engine.send(command)
        except Exception as e:  # engine down: say so, keep running
            error_box(self, e)

    def _record(self, command: m.Command) -> None:
        """A change to the station database: the engine process, its one writer, makes it (the
        engine is started for it when no source has been connected yet)."""
        if not self.engine.alive:
            self.engine.start()
        self._send(command)

    def _say_what_connect_does(self) -> None:
        streaming = self.engine.url if self.engine.feed is not None and self.engine.alive else None
        self.source_panel.set_streaming(streaming)

    def _on_ready(self, info) -> None:
        self.live.set_stream(info)
        self.source_panel.set_connected(True)
        self._say_what_connect_does()
        self.status.set_state("streaming")
        if self.patient_screen is not None:
            self.patient_screen.set_unit(info.units[0])
        self._set_session_state()

    def _on_status(self, status: str, message: str) -> None:
        self.status.set_state(status)
        if status in ("lost", "reconnecting"):
            self._lost = True
            self.banner.alarm(
                f"Device lost: {message or 'no data'}. The trace and the recording so far "
                "are kept; reconnecting automatically\u2026",
                "Reconnect now",
            )
        elif status == "streaming" and self._lost:
            self._lost = False
            self.banner.clear()
            self.show_notice("device back: streaming again")
        elif status == "ended":
            self.show_notice(message or "the source has ended")

    def _on_engine_error(self, msg: m.Error) -> None:
        self.status.set_state("failed" if not self.engine.feed else self.status.state_name)
        if self.end_dialog is not None and self.end_dialog.isVisible():
            self.end_dialog.sign_failed()
        error_box(self, msg)

    def _on_engine_died(self, exitcode) -> None:
        self.status.set_state("engine_down")
        # its recorder died with it: what it committed is kept, and the restarted engine closes
        # the trial as "interrupted" when it opens the database (the engine is the one writer)
        self.recording = False
        if self.protocol_view is not None:
            self.protocol_view, self.protocol_targets = None, []
            self.session_panel.protocol_running(False)
            self.protocol_progress.step.setText(
                "engine stopped: the run ended; its recorded trials are kept"
            )
        self.session_panel.trial_ended("engine stopped; trial saved")
        self._set_session_state()
        self.banner.alarm(
            f"The acquisition engine stopped unexpectedly (exit code {exitcode}). The trace "
            "stays on screen and the trial so far is saved (marked interrupted when the engine "
            "restarts).",
            "Restart engine",
        )

    def _banner_action(self) -> None:
        self.banner.clear()
        if not self.engine.alive:
            self.status.set_state("connecting")
            self.engine.restart()
        else:
            self.connect_source(self.engine.url)

    def show_notice(self, text: str) -> None:
        self.messages.append(text)
        self.notice.setText(text)
        self.notice.show()
        QtCore.QTimer.singleShot(6000, self.notice.hide)

    def send_cue(self, text: str, cue_type: str = "") -> None:
        """Log a cue (verbal, tactile, visual) with the running trial; acknowledge it and draw it
        on the time series."""
        self._send(m.Cue(text, cue_type))
        said = f"{cue_type} cue" if cue_type else "cue"
        self._mark_live(f"{said}: {text}", f"{said} logged: \u201c{text}\u201d")

    def send_marker(self) -> None:
        self._send(m.Marker())
        self._mark_live("marker", "marker set")

    def _mark_live(self, label: str, said: str) -> None:
        feed = self.engine.feed
        if feed is not None and feed.filled:
            t = float(feed.t[-1])
            self.live.series.add_event(t, label)
            said += f" at {t - self._trial_t0_s:.1f} s" if self._trial_t0_s is not None else ""
        self.show_notice(said)

    # --- patient, session, trial ---------------------------------------------------------------
    def reload_patients(self, current: str | None = None) -> None:
        if self.store is not None:
            self.session_panel.set_patients([p.code for p in self.store.patients()], current)
        self._set_session_state()

    def add_patient(self, code: str) -> None:
        """Ask the engine (the database's one writer) to add the patient; shown when it has."""
        if self.store is not None:
            self._record(m.AddPatient(code))

    def _on_patient_added(self, code: str) -> None:
        self.reload_patients(code)
        self.progress.reload()

    def start_session(self, code: str) -> None:
        if self.store is None or not code:
            self.show_notice("pick or add a patient first")
            return
        self._record(self.session_panel.session_facts(code))

    def _on_session_started(self, session_id: int, code: str) -> None:
        self.session_id, self.session_patient = session_id, code
        self.session_panel.session_started(f"session #{session_id}, {code}")
        self._set_session_state()

    def end_session(self) -> None:
        """The end-of-session step: the patient's state after it, then the note to review."""
        if self.store is None or self.session_id is None:
            return
        if self._report_config() is None:
            return
        from ui.end_session import EndSessionDialog

        dialog = EndSessionDialog(self, self.session_id, self.session_patient)
        dialog.finished_facts.connect(self._record)
        dialog.sign_requested.connect(self._record)
        dialog.open()
        self.end_dialog = dialog
        if self.store.session(self.session_id).signed:  # locked: only its note to show
            dialog.show_note(self.store, self.reporter, self.reporter.config)

    def _on_session_ended(self, session_id: int) -> None:
        dialog = self.end_dialog
        if dialog is not None and dialog.session_id == session_id:
            dialog.show_note(self.store, self.reporter, self.reporter.config)

    def _on_session_signed(self, signed: m.SessionSigned) -> None:
        dialog = self.end_dialog
        if dialog is not None and dialog.session_id == signed.session_id:
            dialog.show_signed(self.store, signed, self.reporter, self.reporter.config)

    def _report_config(self):
        """The station's report settings (clinic, billing rule), read now as ``nmr-balance
        report`` and the engine (which signs) read them, so the note is one whoever makes it;
        None (and the console says why) when there is no store or the file cannot be used."""
        if self.reporter is None:
            return None
        config, problem = station_report_config()
        if config is None:
            self.show_notice(problem)
            return None
        self.reporter.config = config
        return config

    def save_report(self) -> None:
        """Ask where, then write the session's PDF report and note in the background."""
        if self.session_id is not None and self._report_config() is not None:
            self.reporter.ask_and_export(self, self.session_id, self.session_panel.patient_code())

    def start_trial(self) -> None:
        """The free quiet-stance trial, started (and stopped) by the therapist."""
        choice = self.session_panel.chosen()
        params = {
            "duration_s": self.session_panel.duration.value(),
            "preset": self.patient_controls.preset.currentData(),  # the screen the patient saw
            "notes_at_start": self.session_panel.notes.toPlainText(),
        }
        self._send(
            m.StartTrial(
                session_id=self.session_id,
                protocol=choice.key,
                condition=self.session_panel.condition(),
                parameters=params,
            )
        )

    def _on_trial_started(self, trial_id: int) -> None:
        self.recording = True
        feed = self.engine.feed
        self._trial_t0_s = float(feed.t[-1]) if feed is not None and feed.filled else None
        self.live.series.set_events([])
        self.session_panel.trial_running()
        self._set_session_state()
        if self.patient_screen is not None:
            self.patient_screen.set_message(self.session_panel.chosen().instruction)
            self.patient_screen.cue("start")

    def _on_trial_stopped(self, trial_id: int, status: str) -> None:
        self.recording = False
        notes = self.session_panel.notes.toPlainText().strip()
        if self.store is not None and notes:
            self._record(m.SaveTrialNotes(trial_id, notes))
            self.session_panel.notes.clear()
        self.session_panel.trial_ended(f"trial #{trial_id} saved ({status})")
        self._trial_t0_s = None
        self._set_session_state()
        if self.patient_screen is not None:
            self.patient_screen.cue("stop")
        self.replay.picker.reload()
        self.compare.reload()
        self.progress.reload()

    def _on_trial_metrics(self, trial_id: int, metrics: dict) -> None:
        """The free trial's whole-trial figures, as the engine computed and stored them."""
        unit = self.engine.info.units[0] if self.engine.info else "mm"
        self.session_panel.show_trial_summary(trial_id, metrics, unit)

    # --- protocol runs (the engine runs them; the console shows where they stand) ---------------
    def start_protocol(self) -> None:
        """Run the chosen protocol in the engine; a training protocol's targets are scaled to the
        patient preset there (bigger, longer dwell), a test's never."""
        choice, preset = self.session_panel.chosen(), self._preset()
        self._send(
            m.StartProtocol(
                session_id=self.session_id,
                patient=self.session_patient,
                protocol=str(choice.path),
                level=self.session_panel.chosen_level(),
                seed=self.session_id,
                target_scale=preset.target_scale,
                dwell_scale=preset.dwell_scale,
            )
        )

    def _on_protocol_started(self, facts: dict) -> None:
        self.protocol_view, self.protocol_targets = {}, []
        self.trial_hits = None
        self.live.set_training()
        self.last_protocol = facts
        preset = self._preset()
        if facts.get("scaling") is None and (preset.target_scale, preset.dwell_scale) != (1, 1):
            self.show_notice(
                f"{facts.get('title', 'this test')} is a standardized test: its targets are not "
                f"made easier for the {preset.name} preset (only the patient screen is)"
            )
        self.session_panel.protocol_running(True)
        self.session_panel.say("")
        self.protocol_progress.started(facts)
        QtCore.QTimer.singleShot(0, lambda: self.side.ensureWidgetVisible(self.protocol_progress))
        if self.patient_screen is not None and facts.get("extent"):
            self.patient_screen.set_extent(facts["extent"])
        # the therapist's sway plot shows the run's targets too (LOS targets lie ~130 mm out);
        # standing tests have none, and their sway stays at the scale it was
        if facts.get("extent") and facts.get("summary_kind") not in SENSORY_KINDS:
            before = self.live.fit_scale(facts["extent"])
            if before is not None:
                self._scale_before_run = before

    def _on_protocol_display(self, d: dict) -> None:
        if self.protocol_view is None:
            return
        self.protocol_view = d
        self.protocol_targets = [Target(x, y, r) for x, y, r in d.get("targets", [])]
        self.protocol_progress.show_display(d)
        self.live.sway.set_targets(self.protocol_targets, 0 if self.protocol_targets else None)
        if self.patient_screen is not None:
            self.patient_screen.show_protocol(d)

    def _on_protocol_event(self, e: dict) -> None:
        self.protocol_progress.on_event(e)
        kind, data = e["kind"], e["data"]
        self._count_hits(kind, data)
        if kind == "trial_started":  # cues and markers go with this trial while it records
            feed = self.engine.feed
            self._trial_t0_s = float(feed.t[-1]) if feed is not None and feed.filled else None
            self.live.series.set_events([])
            self.session_panel.protocol_trial_running(True)
        elif kind in ("trial_done", "trial_interrupted"):
            self._trial_t0_s = None
            self.session_panel.protocol_trial_running(False)
        if self.patient_screen is not None:
            if kind == "target_hit":
                self.patient_screen.celebrate_hit()
            elif kind == "trial_started":
                self.patient_screen.cue("start")
            elif kind in ("trial_done", "trial_interrupted"):
                self.patient_screen.cue("stop")
        if kind == "trial_interrupted" and data["result"]["status"] == "interrupted":
            self.show_notice(
                f"trial {e['trial'] + 1} interrupted ({data['reason']}): kept, not scored; "
                "it starts over when the device is back"
            )
        elif kind == "trial_done":
            self.replay.picker.reload()

    def _count_hits(self, kind: str, data: dict) -> None:
        """The live hits and time in target of a target trial: the engine's events and score,
        counted and shown (never scored here)."""
        if kind == "trial_started":
            self.trial_hits = None
            self.live.set_training()
        elif kind == "target_shown" and self.trial_hits is None:
            self.trial_hits = 0
        elif kind == "target_hit":
            self.trial_hits = (self.trial_hits or 0) + 1
        elif kind == "trial_done":
            scores = data["result"].get("scores") or {}
            self.live.set_training(self.trial_hits, scores.get("time_in_target_pct"))
            return
        else:
            return
        self.live.set_training(self.trial_hits)

    def _on_protocol_done(self, msg: m.ProtocolDone) -> None:
        self.protocol_view, self.protocol_targets = None, []
        self._trial_t0_s = None
        self.session_panel.protocol_running(False)
        notes = self.session_panel.notes.toPlainText().strip()
        if self.store is not None and notes and msg.trial_ids:  # as `run --note`: the last trial
            self._record(m.SaveTrialNotes(msg.trial_ids[-1], notes))
            self.session_panel.notes.clear()
        self.protocol_progress.done(msg, *self._run_results(msg))
        if self._scale_before_run is not None:  # back to the therapist's zoom
            self.live.scale_box.setCurrentIndex(self._scale_before_run)
            self._scale_before_run = None
        # the results are what the therapist looks for now: scroll them into view
        QtCore.QTimer.singleShot(0, lambda: self.side.ensureWidgetVisible(self.protocol_progress))
        self.live.sway.set_targets([], None)
        if self.patient_screen is not None:  # no frozen instruction or target after the run
            self.patient_screen.show_protocol({"phase": msg.phase})
            self.patient_screen.show_frame(np.empty((0, 2)), 100.0, [], None)
            self.patient_screen.set_extent(self._free_extent())
        self.show_notice(f"protocol {msg.phase}: {len(msg.trial_ids)} trial(s) recorded")
        self.replay.picker.reload()
        self.compare.reload()
        self.progress.reload()

    def _run_results(self, msg: m.ProtocolDone):
        """The run's stored results (the record's one summary of the trials just recorded, read
        from this console's read-only store), or None and why there are none."""
        from recordings.report_data import run_block

        if self.store is None:
            return None, "no station database: nothing was recorded, so no results to show"
        if not msg.trial_ids:
            return None, "no trial was recorded, so there are no results"
        try:
            return run_block(self.store, msg.trial_ids), ""
        except Exception as e:  # e.g. the database went away: say so, keep the console running
            return None, f"the recorded results could not be read ({e}); open the session's note"

    def _set_session_state(self) -> None:
        self.session_panel.set_state(
            session=self.session_id is not None,
            connected=self.engine.feed is not None and self.engine.alive,
            recording=self.recording,
        )

    def _free_extent(self) -> float:
        """The patient screen's reach for a free recording: +-50 mm / 10 deg."""
        info = self.engine.info
        return 10.0 if info and info.units[0] == "deg" else 50.0

    # --- patient screen ------------------------------------------------------------------------
    def _preset(self):
        return PRESETS[self.patient_controls.preset.currentData()]

    def show_patient_screen(self, fullscreen: bool = False) -> PatientScreen:
        if self.patient_screen is None:
            info = self.engine.info
            self.patient_screen = PatientScreen(
                info.units[0] if info else "mm", preset=self.patient_controls.preset.currentData()
            )
            self.patient_screen.sound_on = self.patient_controls.sound.isChecked()
            self.patient_screen.set_message(self.session_panel.chosen().instruction)
            self.patient_screen.set_extent(self._free_extent())
            if self.protocol_view is not None and self.last_protocol:
                self.patient_screen.set_extent(self.last_protocol.get("extent") or 50.0)
            if self.protocol_view:
                self.patient_screen.show_protocol(self.protocol_view)
            if not self.patient_screen.sounds.available:
                self.show_notice(
                    f"sounds: {self.patient_screen.sounds.why_silent}; "
                    "the patient screen flashes instead"
                )
        if fullscreen:
            if not self.patient_screen.go_fullscreen():
                self.show_notice(
                    "only one screen: the patient screen opened in a window so it does not cover "
                    "the console (F11 makes it fullscreen, Esc leaves fullscreen)"
                )
        else:
            self.patient_screen.resize(800, 600)
            self.patient_screen.show()
        return self.patient_screen

    def _set_preset(self, name: str) -> None:
        if self.patient_screen is not None:
            self.patient_screen.set_preset(name)

    # --- the frame -----------------------------------------------------------------------------
    def on_frame(self) -> None:
        """Pull what is new from the engine's ring and draw it (the GUI thread's only work)."""
        feed = self.engine.feed
        if feed is None:
            return
        feed.pull()
        if self.tabs.currentWidget() is self.live:
            self.live.render(feed)
        if self.patient_screen is not None and self.patient_screen.isVisible():
            xy = feed.xy[feed.recent(1.0)]
            if self.protocol_view is not None:  # the current target of the run is the active one
                self.patient_screen.show_frame(
                    xy,
                    feed.info.fs,
                    self.protocol_targets,
                    0 if self.protocol_targets else None,
                    self.trial_hits,
                )
            else:
                self.patient_screen.show_frame(xy, feed.info.fs, [], None)
        cost = (self.live.frame_ms[-1] if self.live.frame_ms else 0.0) + self.live.take_paint_ms()
        self.overlay.frame_done(cost, feed.last_t_host_ns)
        if len(self.overlay.costs) % 30 == 0:
            f = self.overlay.figures()
            self.status.show_frame_cost(f["frame_ms_p50"], f["frame_ms_max"])

    def open_in_replay(self, trial_id: int) -> None:
        self.tabs.setCurrentWidget(self.replay)
        self.replay.picker.reload()
        self.replay.open_trial(trial_id)

    def closeEvent(self, event) -> None:
        self._frame_timer.stop()
        if self.patient_screen is not None:
            self.patient_screen.close()
        if self.reporter is not None:
            self.reporter.wait()
        if self.store is not None:
            # before the engine's: the engine then closes the database's last connection, and
            # only the last one may fold the write-ahead log back (docs/recordings.md)
            self.store.close()
        self.engine.close()
        super().closeEvent(event)


__all__ = ["ConsoleWindow"]
