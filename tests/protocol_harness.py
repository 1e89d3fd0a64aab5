"""Test helper: run a protocol on the simulated board, with the simulated patient in step with it.

Everything runs in the test's thread, in sample time: the source is read, the chunk goes
through the front-end into a ring, the protocol reads it from the ring and tells the source what
it asks of the patient (``source.instruct(run.instruction())``, as the product's feeder does),
and the simulated patient plays along (``respond=0`` in the URL: a person who only stands). A
*script* may add its own intents in reaction to the protocol's events (``Lean``, ``Follow``,
``LoseBalance``...): tests that script the person themselves use ``respond=0``. The simulator runs
as fast as it can (``realtime=0``).
"""

from __future__ import annotations

import queue
from collections.abc import Callable

from drivers.sim import SimSource
from nmr_balance.app import open_source
from nmr_balance.frontend.sensors import default_stages
from nmr_balance.frontend.stage import configure_chain, run_chain
from nmr_balance.protocols import ProtocolRun
from nmr_balance.ring import RingBuffer
from nmr_balance.source import Status
from nmr_balance.stream import SampleBlock

#: The built-in protocols the issue asks for.
BUILTINS = (
    "mctsib",
    "romberg",
    "single_leg",
    "los",
    "weight_shift",
    "target",
    "tracking",
    "maze",
    "baps",
    "joint_position",
)

Script = Callable[[object, object, ProtocolRun], None]  # (event, board, run)


def drive(
    protocol,
    url: str = "sim://?realtime=0",
    script: Script | None = None,
    source=None,
    max_s: float = 2000.0,
    **run_kw,
):
    """Run ``protocol`` to the end; return (run, events)."""
    source = source or open_source(url)
    status: queue.SimpleQueue = queue.SimpleQueue()
    source.add_status_listener(status.put)
    source.open()
    stages = default_stages(source.info)
    info = configure_chain(stages, source.info)
    ring = RingBuffer(info.n_channels, int(30 * info.fs))
    reader = ring.reader()
    run = ProtocolRun(protocol, info, **run_kw)
    source.start()
    events = []
    try:
        while not run.finished:
            block = source.read(timeout=0.1)
            ring.push(run_chain(stages, block))
            new = []
            while not status.empty():
                e = status.get()
                new += run.on_status(e.status, e.message)
            new += run.feed(reader.read())
            source.instruct(run.instruction())
            for e in new:
                if script:
                    script(e, source.board, run)
            events += new
            if source.ended and not run.finished:
                events += run.on_status(Status.ENDED, "simulation finished")
            assert run.t_now != run.t_now or run.t_now < max_s, "protocol did not finish"
    finally:
        source.close()
    return run, events


def flaky_sim(seed: int = 1, **kw) -> FlakySource:
    """A 100 Hz simulated COP board, as fast as read, whose link drops (see FlakySource)."""
    from drivers.sim import SimulatedBoard

    return FlakySource("sim://flaky", SimulatedBoard("cop", 100, seed=seed), realtime=False, **kw)


class FlakySource(SimSource):
    """A simulated board whose link drops: at ``lose_at_s`` the status goes ``lost`` for
    ``outage_reads`` reads, the samples of ``gap_s`` are lost, then it streams again."""

    def __init__(
        self,
        *args,
        lose_at_s: float,
        gap_s: float = 1.0,
        outage_reads: int = 3,
        report_status: bool = True,
        **kw,
    ):
        super().__init__(*args, **kw)
        self.lose_at_s, self.gap_s, self.outage_reads = lose_at_s, gap_s, outage_reads
        self.report_status = report_status
        self._lost_reads = 0
        self.lost_once = False

    def _do_read(self, timeout):
        fs = self.board.fs
        if not self.lost_once and self._produced >= self.lose_at_s * fs:
            if self._lost_reads == 0 and self.report_status:
                self._set_status(Status.LOST, "board unplugged")
            self._lost_reads += 1
            if self._lost_reads <= self.outage_reads:
                return SampleBlock.empty(self.info.n_channels)
            gap = int(self.gap_s * fs)
            self.board.generate(gap)  # time passes on the board, nobody receives it
            self._produced += gap
            self.lost_once = True
            if self.report_status:
                self._set_status(Status.STREAMING, "board back")
        return super()._do_read(timeout)


def free_targets_snapshots() -> tuple[list, list]:
    """The console's free 4 targets (``free_targets``) run to its end by a patient who leans to
    each target: the run's events, and ``(event, run.display())`` at each of them."""
    from drivers.sim import Lean
    from nmr_balance.protocols.library import find

    snapshots = []

    def script(e, board, run):
        snapshots.append((e, run.display()))
        if e.kind == "target_shown":
            board.set_intent(Lean(e.data["x"], e.data["y"], 0.3, 0.7))

    _, events = drive(find("free_targets"), "sim://?realtime=0&respond=0&seed=2", script)
    return events, snapshots
