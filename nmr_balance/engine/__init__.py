"""The engine: acquisition, DSP and recorder in their own process while a UI runs.

DESIGN.md §2: while Qt paints, the GIL delays a reader thread by milliseconds, and a frozen UI
would stall it entirely. So whenever a UI runs, the pipeline (and the recorder) live in a
separate ``multiprocessing`` process started with *spawn*; its rings are in shared memory and the
UI maps them with :meth:`RingBuffer.attach` and reads them with its own readers. Commands go
to the engine over a queue; replies (ring names, status, stats, trial ids, errors) come back
over another.

- :mod:`.loop`: the engine process's side (:class:`~.loop.EngineLoop`);
- :mod:`.host`: the UI's side (:class:`~.host.EngineHost`): starts the process, sends commands;
- :mod:`.messages`: every command and reply, as types.

Messages
--------
Typed, in one module both processes import: :mod:`nmr_balance.engine.messages`. The UI puts
:class:`~.messages.Command` dataclasses on the command queue (``host.send(StartTrial(...))``),
the engine answers with :class:`~.messages.Reply` dataclasses (``TrialStarted``, ``Error``, ...).
Anything else is refused with an :class:`~nmr_balance.errors.EngineStateError` reply, as are
state mistakes (a second trial while one runs, no source connected). ``ProtocolStarted.facts``
are :meth:`ProtocolRun.describe` (protocol, title, summary_kind, level, levels, n_trials,
total_s, unit, los, los_origin, extent) and level_reason. While the dashboard runs,
the engine is the station database's only writer: the console's patients, sessions and notes are
commands too (``docs/recordings.md``, "Who opens the database").

Samples never travel over the queues: only ring names, commands and small status messages.
"""
