"""The engine: acquisition, DSP and recorder in their own process while a UI runs.

DESIGN.md §2: while Qt paints, the GIL delays a reader thread by milliseconds, and a frozen UI
would stall it entirely. So whenever a UI runs, the pipeline (and the recorder) live in a
separate ``multiprocessing`` process started with *spawn*; its rings are in shared memory and the
UI maps them with :meth:`RingBuffer.attach` and reads them with its own readers. Commands go
to the engine over a queue; replies (ring names, status, stats, trial ids, errors) come back
over another.

- :mod:`.loop`: the engine process's side (:class:`~.loop.EngineLoop`);
- :mod:`.host`: the UI's side (:class:`~.host.EngineHost`): starts the process, sends commands.

Messages (plain dicts, picklable)
---------------------------------
UI -> engine: ``{"cmd": name, **args}`` with ``name`` one of ``switch_source`` (url),
``start_trial`` (session_id, protocol, condition, parameters; ``parameters["duration_s"]``
ends the trial by itself after exactly that much signal), ``stop_trial`` (status:
``complete`` | ``aborted``), ``marker`` (kind, payload), ``cue`` (text), ``tare``, ``level``,
``start_protocol`` (session_id, patient, protocol: name or TOML path, level: 1-based or None =
from the patient's history, seed), ``abort_protocol`` (reason), ``shutdown``.

Engine -> UI: ``{"kind": name, ...}`` with ``ready`` (url, raw_ring, processed_ring, raw_info,
info: StreamInfo dicts), ``status`` (status, message), ``stats`` (the
:class:`~nmr_balance.pipeline.PipelineStats` fields), ``trial_started`` (trial_id),
``trial_stopped`` (trial_id, status), ``trial_metrics`` (trial_id, metrics), ``notice``
(message), ``error`` (message, hint, error_type); for a protocol run: ``protocol_started``
(:meth:`ProtocolRun.describe` facts: protocol, title, summary_kind, level, levels, n_trials,
total_s, unit, los, los_origin, extent; and level_reason), ``protocol_event`` (event:
:meth:`Event.to_dict`), ``protocol_display`` (display: :meth:`ProtocolRun.display`, ~10 per s),
``protocol_done`` (phase ``done`` | ``aborted``, results, summary, trial_ids, los_path).

Samples never travel over the queues: only ring names, commands and small status messages.
"""
