"""The simulated board: the sway model rendered as the raw channels of a real sensor.

``SimulatedBoard(kind, fs)`` produces exactly what a device of that kind would send (see
``docs/conventions.md``): a COP stream, a 6-axis force plate (AMTI frame), four corner load cells
(Wii geometry, kg) or a wobble-board IMU (accelerometer g, gyroscope deg/s). The same board feeds
the ``sim://`` source and the device emulator (``nmr-balance emulate``), so the demo and the tests
run the real driver path.
"""

from __future__ import annotations

import dataclasses
import math
import queue
from functools import cached_property
from typing import TYPE_CHECKING

import numpy as np

from drivers.sim.model import Body, Condition, G, PendulumAxis, axis_params
from drivers.sim.patient import Chase, Planned, Reach, SetCondition, SimulatedPatient
from nmr_balance.instruction import Instruction
from nmr_balance.stream import Channel, SensorKind, StreamInfo

if TYPE_CHECKING:
    from scipy.spatial.transform import Rotation

#: Wii Balance Board: 433 mm between left and right sensors, 238 mm between front and back.
WII_CELLS_XY_MM = ((216.5, 119.0), (216.5, -119.0), (-216.5, 119.0), (-216.5, -119.0))
#: Wobble board: degrees of tilt per mm of equivalent COP excursion.
TILT_DEG_PER_MM = 0.25
_MAX_STEP_S = 0.001  # the model is integrated at >= 1 kHz whatever the output rate


# --- intents -------------------------------------------------------------------------------------
@dataclasses.dataclass(frozen=True)
class Lean:
    """Move the COP towards (x_mm, y_mm) after a reaction time, with a minimum-jerk movement,
    and hold it there."""

    x_mm: float
    y_mm: float
    reaction_s: float = 0.25
    movement_s: float = 0.8
    hold_s: float = math.inf  # time constant (s) of drifting back to the centre once there


@dataclasses.dataclass(frozen=True)
class Follow:
    """Track a moving reference: ``path(t_s) -> (x_mm, y_mm)`` with a lag (s)."""

    path: object
    lag_s: float = 0.3


@dataclasses.dataclass(frozen=True)
class StepOff:
    """Step off the board: the load drops to zero (COP undefined)."""


@dataclasses.dataclass(frozen=True)
class StepOn:
    """Step back on the board."""


@dataclasses.dataclass(frozen=True)
class LoseBalance:
    """Control fails for ``duration_s`` (sway grows, then a corrective step brings it back)."""

    duration_s: float = 1.5


@dataclasses.dataclass(frozen=True)
class _Recover:
    """End of a LoseBalance: a corrective step puts the base of support back under the body."""


def _min_jerk(u: np.ndarray) -> np.ndarray:
    u = np.clip(u, 0.0, 1.0)
    return u**3 * (10 - 15 * u + 6 * u * u)


class SimulatedBoard:
    """A person standing on a sensor, sample by sample.

    Parameters
    ----------
    kind : SensorKind or str
        ``cop``, ``plate``, ``cells`` or ``imu`` (``tilt`` gives tilt angles directly).
    fs : float
        Output sample rate, Hz (10-2000).
    seed : int
        Same seed, same samples.
    condition : Condition
        Vision, surface, stance.
    body : Body
        Mass and height.
    noise : bool
        Add sensor noise to raw channels (load cells, plate, IMU).
    patient : SimulatedPatient, optional
        Who stands on the board and follows a protocol's instructions (given with
        :meth:`set_intent`); None: a person who only stands (instructions change nothing).
    """

    def __init__(
        self,
        kind: SensorKind | str = SensorKind.COP,
        fs: float = 100.0,
        seed: int = 0,
        condition: Condition = Condition("open", "firm"),
        body: Body = Body(),
        noise: bool = True,
        source: str = "sim://",
        patient: SimulatedPatient | None = None,
    ):
        self.kind = SensorKind(kind)
        if not 10 <= fs <= 2000:
            raise ValueError(f"simulated rate must be 10-2000 Hz, got {fs}")
        self.fs = float(fs)
        self.condition, self.body, self.noise = condition, body, noise
        self.patient = patient
        self.sub = max(1, math.ceil(1.0 / (_MAX_STEP_S * fs)))
        # one random stream per axis and one for the sensor: the samples do not depend on how
        # generation is cut into chunks (intents split it at their own times)
        self._rngs = [np.random.default_rng(s) for s in np.random.SeedSequence(seed).spawn(3)]
        self.rng = self._rngs[2]
        self.n = 0  # samples produced
        self.on_board = True
        self._ref_from = np.zeros(2)
        self._lean: Lean | None = None
        self._lean_t0 = 0.0
        self._follow: Follow | None = None
        self._chase: tuple[np.ndarray, np.ndarray, float, float] | None = None  # from, to, t0, tau
        self._losing = False
        self._pending: queue.SimpleQueue = queue.SimpleQueue()
        self._schedule: list[tuple[float, object]] = []
        self._tilt_prev: Rotation | None = None
        self.info = self._stream_info(source)

    # The pendulums are built on first use: their noise filter needs scipy.signal, whose import
    # (about a second) would otherwise slow down merely checking a sim:// URL.
    @cached_property
    def ml(self) -> PendulumAxis:
        """The medio-lateral pendulum."""
        return self._axis("ml")

    @cached_property
    def ap(self) -> PendulumAxis:
        """The antero-posterior pendulum."""
        return self._axis("ap")

    def _axis(self, name: str) -> PendulumAxis:
        gain = self.patient.noise_gain if self.patient is not None else 1.0
        rng = self._rngs[0 if name == "ml" else 1]
        return PendulumAxis(axis_params(self.condition, name, gain), self.body, self._dt, rng)

    def _set_condition(self, condition: Condition) -> None:
        """New controller parameters; the body keeps its current lean and velocity."""
        if condition == self.condition:
            return
        self.condition = condition
        for name in ("ml", "ap"):
            old = self.__dict__.get(name)
            if old is None:
                continue  # not built yet: built with the new condition on first use
            new = self._axis(name)
            new.theta, new.omega, new.gain = old.theta, old.omega, old.gain
            setattr(self, name, new)

    @property
    def _dt(self) -> float:
        return 1.0 / (self.fs * self.sub)

    # --- intents ---------------------------------------------------------------------------
    def set_intent(self, intent: object) -> None:
        """Apply ``intent`` from the next sample on (thread-safe). An
        :class:`~nmr_balance.instruction.Instruction` goes to the :attr:`patient`, who schedules
        what the body does about it."""
        self._pending.put(intent)

    def schedule(self, t_s: float, intent: object) -> None:
        """Apply ``intent`` when the board's clock reaches ``t_s`` seconds."""
        self._schedule.append((t_s, intent))
        self._schedule.sort(key=lambda p: p[0])

    def _apply(self, intent: object, t: float) -> None:
        if isinstance(intent, Instruction):
            if self.patient is not None:
                for when, action in self.patient.respond(intent):
                    self.schedule(when, action)
        elif isinstance(intent, Planned):
            if self.patient is not None and intent.plan == self.patient.plan:
                self._apply(intent.intent, t)
        elif isinstance(intent, Chase):
            start = self._reference(np.array([t]))[0]
            self._chase = (start, np.array([intent.x_mm, intent.y_mm]), t, intent.tau_s)
            self._lean = self._follow = None
        elif isinstance(intent, Reach):
            self._apply(Lean(intent.x_mm, intent.y_mm, 0.0, intent.movement_s, intent.hold_s), t)
        elif isinstance(intent, SetCondition):
            self._set_condition(intent.condition)
        elif isinstance(intent, Lean):
            self._ref_from = self._reference(np.array([t]))[0]
            self._lean, self._lean_t0, self._follow, self._chase = intent, t, None, None
        elif isinstance(intent, Follow):
            self._follow, self._lean, self._chase = intent, None, None
        elif isinstance(intent, StepOff):
            self.on_board = False
        elif isinstance(intent, StepOn):
            self.on_board = True
        elif isinstance(intent, LoseBalance):
            self._losing = True
            self.schedule(t + intent.duration_s, _Recover())
        elif isinstance(intent, _Recover):
            self._losing = False
            for axis in (self.ml, self.ap):
                axis.theta *= 0.2
                axis.omega *= 0.2
        else:
            raise TypeError(f"unknown intent {intent!r}")

    def _reference(self, t: np.ndarray) -> np.ndarray:
        """Reference COP (mm), shape (len(t), 2), from the current intent."""
        if self._follow is not None:
            return np.array([self._follow.path(ti - self._follow.lag_s) for ti in t], dtype=float)
        if self._chase is not None:
            start, aim, t0, tau = self._chase
            decay = np.exp(-np.clip(t - t0, 0.0, None) / tau)[:, None]
            return aim + (start - aim) * decay
        if self._lean is None:
            return np.zeros((len(t), 2))
        lean = self._lean
        since = t - self._lean_t0 - lean.reaction_s
        u = _min_jerk(since / lean.movement_s)[:, None]
        target = np.array([lean.x_mm, lean.y_mm])
        ref = self._ref_from + (target - self._ref_from) * u
        if math.isfinite(lean.hold_s):  # the lean fades once there
            ref *= np.exp(-np.clip(since - lean.movement_s, 0.0, None) / lean.hold_s)[:, None]
        return ref

    # --- generation ------------------------------------------------------------------------
    def generate(self, n: int) -> np.ndarray:
        """The next ``n`` samples of raw channel data, shape (n, n_channels)."""
        if n <= 0:
            return np.empty((0, self.info.n_channels))
        out = []
        while n > 0:
            t_now = self.n / self.fs
            while not self._pending.empty():
                self._apply(self._pending.get(), t_now)
            while self._schedule and self._schedule[0][0] <= t_now:
                self._apply(self._schedule.pop(0)[1], t_now)
            # run up to the next scheduled change in one go
            m = n
            if self._schedule:
                m = max(1, min(n, math.ceil((self._schedule[0][0] - t_now) * self.fs)))
            out.append(self._render(*self._simulate(m)))
            n -= m
        return np.concatenate(out)

    def _simulate(self, n: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Integrate n output samples; return cop (n, 2) mm, com acceleration (n, 2) m/s^2, t."""
        sub = self.sub
        t = (self.n + np.arange(n * sub) / sub) / self.fs
        ref_mm = self._reference(t)
        for axis in (self.ml, self.ap):
            axis.gain = 0.3 if self._losing else 1.0  # control fails: the body starts to fall
        cop_ml, acc_ml = self.ml.run(ref_mm[:, 0] * 1e-3 / self.ml.h)
        cop_ap, acc_ap = self.ap.run(ref_mm[:, 1] * 1e-3 / self.ap.h)
        # each output sample is the mean over its sub-steps, as a sensor's ADC integrates
        cop = np.stack([cop_ml, cop_ap], axis=1).reshape(n, sub, 2).mean(axis=1) * 1e3
        acc = np.stack([acc_ml, acc_ap], axis=1).reshape(n, sub, 2).mean(axis=1)
        t_out = (self.n + np.arange(n)) / self.fs
        self.n += n
        return cop, acc, t_out

    def _render(self, cop: np.ndarray, acc: np.ndarray, t: np.ndarray) -> np.ndarray:
        n = len(cop)
        m = self.body.mass_kg
        on = 1.0 if self.on_board else 0.0
        fz = np.full(n, m * G * on)
        noisy = self.noise and self.kind is not SensorKind.COP

        def jitter(sd: float, shape) -> np.ndarray:
            return self.rng.normal(0.0, sd, shape) if noisy else np.zeros(shape)

        if self.kind is SensorKind.COP:
            xy = cop if self.on_board else np.full_like(cop, np.nan)
            return np.column_stack([xy, fz])
        if self.kind is SensorKind.FORCE_PLATE:
            dz = self.info.geometry["surface_offset_mm"] * 1e-3
            f_ap, f_ml = -m * acc[:, 1] * on, -m * acc[:, 0] * on  # reaction of the body's push
            c_ml, c_ap = cop[:, 0] * 1e-3, cop[:, 1] * 1e-3
            mx = fz * c_ml + f_ml * dz
            my = -fz * c_ap - f_ap * dz
            mz = jitter(0.05, n)
            data = np.column_stack([f_ap, f_ml, fz, mx, my, mz])
            return data + np.column_stack([jitter(0.2, (n, 3)), jitter(0.02, (n, 3))])
        if self.kind is SensorKind.LOAD_CELLS:
            w, length = 433.0, 238.0
            ux, uy = cop[:, 0] / w, cop[:, 1] / length
            share = np.column_stack(
                [
                    (0.5 + ux) * (0.5 + uy),
                    (0.5 + ux) * (0.5 - uy),
                    (0.5 - ux) * (0.5 + uy),
                    (0.5 - ux) * (0.5 - uy),
                ]
            )
            return share * (fz / G)[:, None] + jitter(0.03, (n, 4))
        # IMU / tilt: the board tilts with the equivalent COP excursion
        tilt = cop * TILT_DEG_PER_MM
        if self.kind is SensorKind.TILT:
            return np.column_stack([tilt, fz])
        return self._imu(tilt) + np.column_stack([jitter(0.004, (n, 3)), jitter(0.3, (n, 3))])

    def _imu(self, tilt_deg: np.ndarray) -> np.ndarray:
        """Accelerometer (g) and gyro (deg/s) of an IMU on a board tilted by ``tilt_deg``."""
        from scipy.spatial.transform import Rotation  # half a second to import: on first use

        phi, theta = np.radians(tilt_deg[:, 0]), np.radians(tilt_deg[:, 1])
        rot = Rotation.from_euler("YX", np.column_stack([phi, -theta]))
        acc = rot.inv().apply([0.0, 0.0, 1.0])
        prev = self._tilt_prev if self._tilt_prev is not None else rot[0]
        all_rot = Rotation.concatenate([prev, rot])
        rel = all_rot[:-1].inv() * all_rot[1:]
        gyro = np.degrees(rel.as_rotvec()) * self.fs
        self._tilt_prev = rot[-1]
        return np.column_stack([acc, gyro])

    # --- description -----------------------------------------------------------------------
    def _stream_info(self, source: str) -> StreamInfo:
        kind = self.kind
        if kind is SensorKind.COP:
            chans, geometry = (("x", "mm"), ("y", "mm"), ("fz", "N")), {}
        elif kind is SensorKind.TILT:
            chans, geometry = (("x", "deg"), ("y", "deg"), ("fz", "N")), {}
        elif kind is SensorKind.FORCE_PLATE:
            chans = tuple((c, "N") for c in ("Fx", "Fy", "Fz")) + tuple(
                (c, "N m") for c in ("Mx", "My", "Mz")
            )
            geometry = {"frame": "amti", "surface_offset_mm": 40.0, "size_mm": [600.0, 400.0]}
        elif kind is SensorKind.LOAD_CELLS:
            chans = tuple((c, "kg") for c in ("tr", "br", "tl", "bl"))
            geometry = {"cells_xy_mm": [list(p) for p in WII_CELLS_XY_MM], "layout": "wii"}
        else:
            chans = tuple((c, "g") for c in ("ax", "ay", "az")) + tuple(
                (c, "deg/s") for c in ("gx", "gy", "gz")
            )
            geometry = {"imu_axes": "x_right_y_forward_z_up"}
        cond = self.condition
        return StreamInfo(
            source=source,
            channels=tuple(Channel(n, u) for n, u in chans),
            fs=self.fs,
            kind=kind,
            geometry=geometry,
            has_device_time=True,
            device=f"simulated {kind.value} ({cond.label()})",
        )
