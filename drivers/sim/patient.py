"""The simulated patient: turns what a protocol asks (:class:`~nmr_balance.instruction.Instruction`)
into what the simulated body does (the board's intents), with a settable skill.

What it does, and why these numbers:

* **Condition.** Eyes closed, foam and single-leg stance change the body's controller
  (:func:`drivers.sim.model.axis_params`) from the moment the step's countdown begins, as when the
  therapist asks the patient to close their eyes or step onto the foam.
* **Reaching.** A target shown on the screen is reached after a *reaction time* with a
  minimum-jerk movement (Flash & Hogan 1985), aimed with an angular and radial error, never further
  than the patient's own limits (a fraction ``capacity`` of the theoretical Limits of Stability,
  NeuroCom's 8 deg forward / 4.5 deg back / 8 deg sideways about the ankles). Healthy adults react
  to an LOS cue in about 0.5-0.8 s and reach 80-100 % of the theoretical limits (Clark et al.
  1997; Hernandez et al. 2016): the default ``skill`` (0.7) sits there.
* **Holding and returning.** The patient holds a target until it goes away, then returns to the
  centre after another reaction time.
* **Moving targets** (tracking, circles, maze) are chased continuously: after a pursuit lag,
  the lean approaches where the target will be (its velocity extrapolated: predictive pursuit of
  a smooth target), with a time constant that grows as skill falls.
* **Reproducing from memory** (joint-position test): the remembered target is reproduced with a
  constant error (an undershoot, as usually reported for joint-position reproduction, Goble 2010)
  and a variable error, both growing as skill falls.
* **Skill** (0 = very impaired, 1 = athlete) scales all of the above; below 0.7 the sway noise
  grows, and below 0.5 the patient sometimes loses balance (a :class:`LoseBalance` during a lean
  or a standing trial), so a training at low skill fails and a test gets retried.

Decisions are drawn from the patient's own random generator (seeded from the URL's ``seed``), so a
run's choices do not depend on how the samples were chunked.
"""

from __future__ import annotations

import dataclasses
import math

import numpy as np

from drivers.sim.model import Condition
from nmr_balance.instruction import Instruction

#: Default skill of the simulated patient (a healthy adult).
DEFAULT_SKILL = 0.7
#: NeuroCom's theoretical LOS about the ankles (deg): forward, back, sideways.
_LOS_DEG = (8.0, 4.5, 8.0)
#: Lag of smooth pursuit behind a moving target (s).
PURSUIT_LAG_S = 0.3
#: Most extra attempts at one target by a patient whose lean fades (each a reaction time after
#: noticing), for a skill of 1.
MAX_RETRIES = 10


@dataclasses.dataclass(frozen=True)
class Reach:
    """Lean to (x_mm, y_mm) from the scheduled time on, over ``movement_s`` (min-jerk), then
    drift back towards the centre with time constant ``hold_s`` (a patient who cannot hold)."""

    x_mm: float
    y_mm: float
    movement_s: float
    hold_s: float = math.inf


@dataclasses.dataclass(frozen=True)
class Chase:
    """Pursue a moving point: from the scheduled time the lean approaches (x_mm, y_mm)
    exponentially with time constant ``tau_s`` (the next Chase takes over from where it is)."""

    x_mm: float
    y_mm: float
    tau_s: float = 0.15


@dataclasses.dataclass(frozen=True)
class SetCondition:
    """Change the test condition (vision, surface, stance) from now on."""

    condition: Condition


@dataclasses.dataclass(frozen=True)
class Planned:
    """An intent that belongs to the patient's plan number ``plan``: dropped if, by the time it
    is due, a newer instruction has replaced that plan (the target moved on)."""

    plan: int
    intent: object


class SimulatedPatient:
    """A patient who follows a protocol's instructions.

    Parameters
    ----------
    skill : float
        0-1; see the module docstring.
    seed : int
        Seeds the patient's decisions (aim errors, losses of balance).
    height_m : float
        Body height, for the patient's own limits of stability.
    tilt_deg_per_mm : float
        Wobble board: degrees of tilt per mm of COP (targets in deg are converted with it).
    max_tilt_deg : float
        Wobble board travel, deg: the patient cannot tilt it further.
    """

    def __init__(
        self,
        skill: float = DEFAULT_SKILL,
        seed: int = 0,
        height_m: float = 1.70,
        tilt_deg_per_mm: float = 0.25,
        max_tilt_deg: float = 15.0,
    ):
        if not 0.0 <= skill <= 1.0:
            raise ValueError(f"skill must be 0-1, got {skill}")
        self.skill = skill
        self.rng = np.random.default_rng([int(seed), 7919])
        self.tilt_deg_per_mm = tilt_deg_per_mm
        self.max_tilt_mm = max_tilt_deg / tilt_deg_per_mm
        com_mm = 0.5527 * height_m * 1000.0
        self._los_mm = tuple(com_mm * math.tan(math.radians(a)) for a in _LOS_DEG)
        self._phase = ""
        self._condition: Condition | None = None
        self._target_key: tuple | None = None
        self.plan = 0  # intents of older plans are dropped when due
        self._chased: tuple[float, np.ndarray] = (0.0, np.zeros(2))  # last moving target seen

    # --- what skill means --------------------------------------------------------------------
    @property
    def noise_gain(self) -> float:
        """Multiplier of the body's sway noise (1 at and above the default skill)."""
        return 1.0 + 1.5 * max(0.0, DEFAULT_SKILL - self.skill)

    @property
    def reaction_s(self) -> float:
        """Mean reaction time to a cue (s): 0.3 s for an athlete, ~0.45 s by default."""
        return 0.3 + 1.5 * (1.0 - self.skill) ** 2

    @property
    def movement_s(self) -> float:
        """Duration of a lean to a target (s)."""
        return 0.7 + 1.6 * (1.0 - self.skill)

    @property
    def capacity(self) -> float:
        """Fraction of the theoretical limits of stability this patient can reach."""
        return min(0.95, max(0.0, 1.6 * self.skill - 0.2))

    @property
    def attempts(self) -> int:
        """How many times the patient tries one target before giving up (when leans fade)."""
        return 1 + round(MAX_RETRIES * self.skill)

    @property
    def hold_s(self) -> float:
        """How long a lean is held: the time constant (s) of drifting back to the centre;
        about 10 s by default, well under a second at low skill."""
        return 0.3 + 40.0 * self.skill**4

    @property
    def loss_chance(self) -> float:
        """Chance of losing balance during one lean or one standing trial."""
        return min(0.6, max(0.0, 1.2 * (0.5 - self.skill)))

    def _limit_mm(self, direction: np.ndarray, unit: str) -> float:
        """How far (mm of COP) this patient can lean along the unit vector ``direction``."""
        if unit == "deg":
            return self.capacity * self.max_tilt_mm
        fwd, back, side = self._los_mm
        ap = fwd if direction[1] >= 0 else back
        return self.capacity / math.hypot(direction[0] / side, direction[1] / ap)

    def _mm(self, value: np.ndarray, unit: str) -> np.ndarray:
        return np.asarray(value, float) / (self.tilt_deg_per_mm if unit == "deg" else 1.0)

    def _reaction(self) -> float:
        return max(0.2, self.reaction_s * (1.0 + 0.15 * self.rng.standard_normal()))

    # --- responding --------------------------------------------------------------------------
    def respond(self, ins: Instruction) -> list[tuple[float, object]]:
        """What the body does about ``ins``: a list of (sample time s, intent) to schedule.

        Every action starts at least a reaction time (>= 0.2 s) after what it answers, so a board
        that has already produced a little more than the protocol has seen still acts on time.
        """
        from drivers.sim.board import LoseBalance

        out: list[tuple[float, object]] = []
        phase_changed = ins.phase != self._phase
        self._phase = ins.phase
        if not ins.running:
            if self._target_key is not None:
                self._new_plan()
                out.append((ins.t_s + self._reaction(), self._planned(Reach(0.0, 0.0, 1.0))))
            self._target_key = None
            return out
        try:
            condition = Condition(**{k: str(v) for k, v in ins.condition.items()})
        except (TypeError, ValueError):
            condition = Condition("open", "firm")  # a clinic's own words: stand as usual
        if condition != self._condition:
            self._condition = condition
            since = ins.target_since_s if phase_changed else ins.t_s
            out.append((since + self._reaction(), SetCondition(condition)))
        standing = phase_changed and ins.phase == "trial" and ins.task in ("stand", "single_leg")
        if standing and self.rng.random() < self.loss_chance:
            when = ins.target_since_s + self.rng.uniform(3.0, 20.0)
            out.append((when, LoseBalance(1.5)))
        if ins.target is None:
            if self._target_key is not None:  # the target went away: back to the centre
                self._new_plan()
                start = ins.target_since_s + self._reaction()
                out.append((start, self._planned(Reach(0.0, 0.0, self.movement_s))))
            self._target_key = None
            return out
        target = self._mm(ins.target, ins.unit)
        if ins.moving:
            # chase: each update starts a short lean towards where the target was a lag ago
            # (one plan for the whole chase: the leans follow one another, none is dropped)
            if self._target_key != ("moving",):
                self._new_plan()
                self._chased = (ins.t_s, target)
            self._target_key = ("moving",)
            # a skilled patient anticipates a smoothly moving target (predictive pursuit): aims
            # where it will be when the lean gets there, from its velocity since the last look
            t_prev, prev = self._chased
            self._chased = (ins.t_s, target)
            velocity = (target - prev) / (ins.t_s - t_prev) if ins.t_s > t_prev else 0.0
            anticipation = (PURSUIT_LAG_S + 0.35) * min(1.0, self.skill / DEFAULT_SKILL)
            aim = self._clip(target + velocity * anticipation, ins.unit)
            chase = Chase(*aim, tau_s=0.1 + 0.5 * (1.0 - self.skill))  # slower when less able
            out.append((ins.t_s + PURSUIT_LAG_S, self._planned(chase)))
            return out
        key = (tuple(target), ins.target_since_s, ins.visible)
        if key == self._target_key:
            return out
        self._target_key = key
        self._new_plan()
        # lean, hold as well as this patient can; if the lean fades, notice and lean again
        start = ins.target_since_s + self._reaction()
        for _ in range(self.attempts):
            aim = self._aim_at(target, ins.unit, ins.visible)
            out.append((start, self._planned(Reach(*aim, self.movement_s, self.hold_s))))
            if self.rng.random() < self.loss_chance:
                fall = start + self.movement_s * self.rng.uniform(0.6, 1.5)
                out.append((fall, self._planned(LoseBalance(1.5))))
            if not math.isfinite(self.hold_s) or not ins.visible:
                break
            start += self.movement_s + 2.0 * self.hold_s + self._reaction()
        return out

    def _new_plan(self) -> None:
        self.plan += 1

    def _planned(self, intent: object) -> Planned:
        return Planned(self.plan, intent)

    def _clip(self, target: np.ndarray, unit: str) -> np.ndarray:
        dist = float(np.hypot(*target))
        if dist == 0.0:
            return target
        limit = self._limit_mm(target / dist, unit)
        return target * min(1.0, limit / dist)

    def _aim_at(self, target: np.ndarray, unit: str, visible: bool) -> np.ndarray:
        """Where the patient actually leans for ``target`` (mm)."""
        dist = float(np.hypot(*target))
        if dist == 0.0:
            return target
        unskilled = 1.0 - self.skill
        if visible:
            # seen target: aim errors grow as skill falls (about 2 deg and 5 % by default)
            angle = np.radians(6.0 * unskilled * self.rng.standard_normal())
            gain = 1.0 + 0.15 * unskilled * self.rng.standard_normal()
        else:
            # from memory, eyes closed: undershoot (constant error) plus a variable error
            angle = np.radians(10.0 * unskilled * self.rng.standard_normal())
            gain = (
                1.0
                - (0.05 + 0.2 * unskilled)
                + (0.04 + 0.2 * unskilled) * (self.rng.standard_normal())
            )
        c, s = math.cos(angle), math.sin(angle)
        aimed = np.array([c * target[0] + s * target[1], -s * target[0] + c * target[1]])
        return self._clip(aimed * max(0.0, gain), unit)
