"""A physiologically plausible sway model: an inverted pendulum under noisy, delayed PD control.

Each axis (AP and ML) is a rigid body of mass ``m`` whose centre of mass sits ``h`` above the
ankles, balanced by an ankle torque made of

* a passive stiffness and damping (muscle/tendon, no delay),
* an active PD controller acting on the state as it was ``delay_s`` ago (neural delay),
* a coloured torque noise (low-pass filtered white noise, the "motor noise"),

after Peterka (2002), Maurer & Peterka (2005). The centre of pressure follows from the body's
equation of motion, ``cop = h*theta - (h^2/g) * theta''``: it leads the centre of mass, as in
real stabilograms. Eyes closed raises the noise and lowers the active gain; foam adds delay and
noise; single-leg stance makes the ML axis far less stable. Parameters were tuned so that the
mean COP velocity of a 30 s trial lands where published norms put it (tests check the ranges).

Intents (lean towards a point, step off, lose balance) move the controller's reference or the
load, so training and protocol tests can script what the "patient" does.
"""

from __future__ import annotations

import dataclasses
import math

import numpy as np

# The record's one condition type. Vision "closed", surface "foam" and a single-leg stance
# change the body; anything else (unstated, a clinic's own words) is eyes open, firm, both feet.
from nmr_balance.record import Condition

G = 9.80665


@dataclasses.dataclass(frozen=True)
class AxisParams:
    """Controller of one axis. Gains are multiples of the gravitational stiffness m*g*h."""

    kp: float  # active proportional gain / (m g h)
    kd_s: float  # active derivative gain / (m g h), s
    k_passive: float  # passive stiffness / (m g h)
    delay_s: float  # neural feedback delay, s
    noise: float  # torque noise SD / (m g h), rad
    noise_hz: float  # corner frequency of the torque noise, Hz


def axis_params(condition: Condition, axis: str, noise_gain: float = 1.0) -> AxisParams:
    """Controller parameters for ``axis`` ("ap" or "ml") under ``condition``; ``noise_gain``
    scales the motor noise (a less skilled patient sways more)."""
    kp, kd, delay, noise = 1.05, 0.35, 0.15, 0.0016 * noise_gain
    if axis == "ml":
        noise *= 0.6
    if condition.vision == "closed":
        noise *= 1.35
        kp *= 0.97
    if condition.surface == "foam":
        noise *= 1.6
        delay += 0.03
    if condition.leg != "both" and axis == "ml":
        noise *= 4.0
        kp *= 0.95
    elif condition.leg != "both":
        noise *= 1.6
    return AxisParams(kp=kp, kd_s=kd, k_passive=0.25, delay_s=delay, noise=noise, noise_hz=0.5)


@dataclasses.dataclass(frozen=True)
class Body:
    """Anthropometry: mass (kg) and height (m); COM height ~ 0.55 x height (Winter)."""

    mass_kg: float = 70.0
    height_m: float = 1.70

    @property
    def com_height_m(self) -> float:
        return 0.55 * self.height_m


class PendulumAxis:
    """One axis of the model, integrated with semi-implicit Euler at step ``dt``."""

    def __init__(self, params: AxisParams, body: Body, dt: float, rng: np.random.Generator):
        self.p, self.dt, self.rng = params, dt, rng
        h = body.com_height_m
        self.h = h
        self.mgh = body.mass_kg * G * h
        self.inertia = body.mass_kg * h * h
        self.delay_steps = max(1, round(params.delay_s / dt))
        self.hist_theta = np.zeros(self.delay_steps)
        self.hist_omega = np.zeros(self.delay_steps)
        self.k = 0
        self.theta = 0.0
        self.omega = 0.0
        self.gain = 1.0  # scales the active gain (losing balance lowers it)
        # scipy.signal.butter's coefficients bit for bit, without importing scipy.signal
        # (~0.6 s of CPU: more than the rest of a simulated start)
        from dsp._butter import butter_ba

        # coloured noise: 2nd-order low-pass of white noise, state carried across chunks
        self._b, self._a = butter_ba(2, params.noise_hz, 1.0 / dt)
        self._zi = np.zeros(2)
        # scale so the filtered noise has SD params.noise: var = sigma^2 * (sum of h[n]^2)
        impulse, _ = lfilter2(
            self._b, self._a, np.r_[1.0, np.zeros(int(5 / (params.noise_hz * dt)))], np.zeros(2)
        )
        self._white_sd = params.noise / math.sqrt(np.sum(impulse**2))

    def run(self, ref_theta: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Integrate ``len(ref_theta)`` steps towards the reference lean (rad).

        Returns
        -------
        cop_m : ndarray, shape (n,)
            Centre of pressure, m.
        com_acc : ndarray, shape (n,)
            Horizontal acceleration of the centre of mass, m/s^2.
        """
        n = len(ref_theta)
        white = (self.rng.standard_normal(n) * self._white_sd).tolist()
        # the noise filter runs inside the loop below: lfilter2's steps, without a second loop
        (b0, b1, b2), (a1, a2) = self._b.tolist(), self._a[1:].tolist()
        z0, z1 = self._zi.tolist()
        p, dt, h, mgh, inertia = self.p, self.dt, self.h, self.mgh, self.inertia
        kp, kd, kpass = p.kp * mgh, p.kd_s * mgh, p.k_passive * mgh
        ht, hw, nd = self.hist_theta, self.hist_omega, self.delay_steps
        theta, omega, k, gain = self.theta, self.omega, self.k, self.gain
        cop = np.empty(n)
        acc = np.empty(n)
        for i in range(n):
            w = white[i]
            noise = z0 + b0 * w
            z0 = z1 + w * b1 - noise * a1
            z1 = w * b2 - noise * a2
            j = k % nd
            theta_d, omega_d = ht[j], hw[j]  # state delay_s ago
            ref = ref_theta[i]
            # feed-forward mgh*ref holds an intended lean; feedback corrects around it
            torque = (
                mgh * ref
                + gain * (kp * (theta_d - ref) + kd * omega_d)
                + kpass * (theta - ref)
                + 0.1 * kd * omega
                + mgh * noise
            )
            alpha = (mgh * theta - torque) / inertia
            omega += alpha * dt
            theta += omega * dt
            ht[j], hw[j] = theta, omega
            k += 1
            cop[i] = h * theta - (h * h / G) * alpha
            acc[i] = h * alpha
        self.theta, self.omega, self.k = theta, omega, k
        self._zi = np.array([z0, z1])
        return cop, acc


def lfilter2(b: np.ndarray, a: np.ndarray, x: np.ndarray, zi: np.ndarray):
    """``scipy.signal.lfilter(b, a, x, zi=zi)`` for a 2nd-order filter with ``a[0] == 1``: the
    same transposed direct form II, operation for operation (equal results, tested).

    Returns the filtered ``x`` and the final state, shape (2,).
    """
    b0, b1, b2 = (float(v) for v in b)
    a1, a2 = float(a[1]), float(a[2])
    z0, z1 = float(zi[0]), float(zi[1])
    y = np.empty(len(x))
    for i, w in enumerate(x.tolist()):
        out = z0 + b0 * w
        z0 = z1 + w * b1 - out * a1
        z1 = w * b2 - out * a2
        y[i] = out
    return y, np.array([z0, z1])
