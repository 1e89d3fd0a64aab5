"""``sim://`` — the simulated board as a source.

Paced in real time by default (``speed`` scales it); ``realtime=0`` produces samples as fast as
the reader asks, for tests and batch jobs. ``duration`` makes it finite (the source then ends).

The simulated person plays along with a running protocol: :meth:`SimSource.instruct` hands each
:class:`~nmr_balance.instruction.Instruction` to the :class:`~drivers.sim.patient.SimulatedPatient`
(``respond=0`` for a person who only stands). Faster than real time, ``run`` pulls the samples at
the protocol's pace (a pull-mode pipeline), so the board is never more than one read
(1/20 s) ahead of the protocol, and the patient, who acts at least 0.2 s after a cue, acts on time.
"""

from __future__ import annotations

import math
import time

import numpy as np

from drivers.sim.board import SimulatedBoard
from drivers.sim.model import Body, Condition
from drivers.sim.patient import DEFAULT_SKILL, SimulatedPatient
from nmr_balance.instruction import Instruction
from nmr_balance.registry import Scheme, SourceURL
from nmr_balance.source import Source
from nmr_balance.stream import SampleBlock, SensorKind, StreamInfo

USAGE = """\
sim://?rate=100&sensor=cop&vision=open&surface=firm&stance=both&seed=0
  rate      samples per second, 10-2000 (default 100)
  sensor    cop (COP in mm), plate (6-axis force plate), cells (Wii-like 4 load cells, kg),
            imu (wobble-board IMU: accelerometer g, gyro deg/s), tilt (board tilt, deg)
  vision    open | closed          surface  firm | foam        stance  both | left | right
  mass, height   body mass (kg) and height (m) of the simulated person (70, 1.70)
  seed      same seed, same samples (default 0)
  realtime  1 = paced like a real sensor (default), 0 = as fast as it is read
  speed     pace multiplier when realtime (default 1)
  duration  stop after this many seconds of signal (default: endless)
  noise     1 = add sensor noise to raw channels (default), 0 = clean
  respond   1 = the person follows a running protocol (default): closes the eyes, steps on the
            foam, leans to the targets; 0 = only stands
  skill     0-1, how well the person balances and reaches (default 0.7, a healthy adult; 0.2
            is slow, imprecise and sometimes loses balance; 1 an athlete)"""


class SimSource(Source):
    """Source wrapping a :class:`SimulatedBoard`.

    Attributes
    ----------
    board : SimulatedBoard
        Scripts go here: ``source.board.set_intent(Lean(30, 0))``, ``board.schedule(t, ...)``.
    """

    def __init__(
        self,
        url: str,
        board: SimulatedBoard,
        *,
        realtime: bool = True,
        speed: float = 1.0,
        duration_s: float | None = None,
    ):
        super().__init__(url)
        self.board = board
        self.realtime, self.speed = realtime, speed
        self.limit = None if duration_s is None else round(duration_s * board.fs)
        self._t0 = 0.0
        self._produced = 0
        self._fast_chunk = max(1, int(board.fs / 20))

    def instruct(self, instruction: Instruction) -> None:
        """The simulated patient hears what the protocol asks (see :mod:`drivers.sim.patient`)."""
        self.board.set_intent(instruction)

    def _do_open(self) -> StreamInfo:
        return self.board.info

    def _do_start(self) -> None:
        self._t0 = time.monotonic() - self._produced / (self.board.fs * self.speed)

    def _do_read(self, timeout: float | None) -> SampleBlock:
        fs = self.board.fs
        if self.realtime:
            due = self._due(time.monotonic())
            if due <= 0:
                wait = (self._produced + 1) / (fs * self.speed) - (time.monotonic() - self._t0)
                if timeout is not None and wait > timeout:
                    time.sleep(max(0.0, timeout))
                    return SampleBlock.empty(self.info.n_channels)
                time.sleep(max(0.0, wait))
                # the next sample is due now: a clock read a hair short of it (float rounding)
                # must not make an endless stream look finished below
                due = max(1, self._due(time.monotonic()))
        else:
            due = self._fast_chunk
        if self.limit is not None:
            due = min(due, self.limit - self._produced)
        if due <= 0:
            self._mark_ended("simulation finished")
            return SampleBlock.empty(self.info.n_channels)
        data = self.board.generate(due)
        counter = np.arange(self._produced, self._produced + due, dtype=np.int64)
        self._produced += due
        block = SampleBlock(
            np.full(due, time.monotonic_ns(), dtype=np.int64), counter / fs, counter, data
        )
        if self.limit is not None and self._produced >= self.limit:
            self._mark_ended("simulation finished")
        return block

    def _due(self, now: float) -> int:
        # cap one read at 0.25 s of samples so a stalled reader catches up in steps
        owed = math.floor((now - self._t0) * self.board.fs * self.speed) - self._produced
        return min(owed, max(1, int(self.board.fs / 4)))


def from_url(parsed: SourceURL) -> SimSource:
    p = parsed.params
    kinds = [k.value for k in SensorKind]
    seed = p.number("seed", 0, lo=0, hi=2**32 - 1, integer=True)
    height = p.number("height", 1.70, lo=0.8, hi=2.3)
    skill = p.number("skill", DEFAULT_SKILL, lo=0, hi=1)
    patient = SimulatedPatient(skill, seed, height) if p.flag("respond", True) else None
    board = SimulatedBoard(
        kind=p.text("sensor", "cop", choices=kinds),
        fs=p.number("rate", 100.0, lo=10, hi=2000),
        seed=seed,
        condition=Condition(
            vision=p.text("vision", "open", choices=("open", "closed")),
            surface=p.text("surface", "firm", choices=("firm", "foam")),
            stance=p.text("stance", "both", choices=("both", "left", "right")),
        ),
        body=Body(
            mass_kg=p.number("mass", 70.0, lo=10, hi=250),
            height_m=height,
        ),
        noise=p.flag("noise", True),
        source=parsed.url,
        patient=patient,
    )
    realtime = p.flag("realtime", True)
    speed = p.number("speed", 1.0, lo=0.01, hi=1000)
    duration = p.number("duration", None, lo=0.01, hi=10 * 24 * 3600)
    p.finish()
    return SimSource(parsed.url, board, realtime=realtime, speed=speed, duration_s=duration)


SCHEME = Scheme("sim", from_url, "simulated board: a person swaying on any sensor kind", USAGE)
