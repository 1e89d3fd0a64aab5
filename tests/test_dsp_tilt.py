"""IMU tilt: simulator convention, NumPy twin, level calibration, and real device captures."""

from __future__ import annotations

import json
import pathlib

import numpy as np
import pytest
import scipy.signal

from dsp import _kernels_frontend as KF
from dsp.tilt import TiltEstimator, parse_axes

DEVICES = pathlib.Path(__file__).parent / "data" / "devices"


def _board_imu(phi_deg, theta_deg, fs):
    """Accel (g) and gyro (deg/s) of a board tilted by phi (right edge down), theta (front down).

    The simulator's convention: R = Ry(phi) Rx(-theta), accel = R^T (0, 0, 1), gyro = body rate.
    """
    phi, theta = np.radians(phi_deg), np.radians(theta_deg)
    acc = np.column_stack([-np.sin(phi), -np.sin(theta) * np.cos(phi), np.cos(theta) * np.cos(phi)])
    dphi, dtheta = np.gradient(phi_deg) * fs, np.gradient(theta_deg) * fs
    gyro = np.column_stack([-dtheta, dphi * np.cos(theta), dphi * np.sin(theta)])
    return acc, gyro


def test_static_tilt_signs_follow_the_convention():
    n = 200
    acc, gyro = _board_imu(np.full(n, 10.0), np.full(n, -5.0), 100.0)
    out = TiltEstimator(100.0).process(acc, gyro)
    np.testing.assert_allclose(out[-1], [10.0, -5.0], atol=1e-9)


def test_moving_board_tracked_and_gyro_carries_fast_motion():
    fs = 200.0
    t = np.arange(int(10 * fs)) / fs
    phi, theta = 15 * np.sin(2 * np.pi * 0.7 * t), 8 * np.sin(2 * np.pi * 1.3 * t + 1)
    acc, gyro = _board_imu(phi, theta, fs)
    # Linear acceleration spikes fool the accelerometer; the gyro carries the fused angle.
    acc_noisy = acc + np.random.default_rng(0).normal(scale=0.05, size=acc.shape)
    est = TiltEstimator(fs, time_constant_s=0.5)
    out = np.vstack(
        [est.process(acc_noisy[i : i + 20], gyro[i : i + 20]) for i in range(0, len(t), 20)]
    )
    err = out - np.column_stack([phi, theta])
    assert np.sqrt(np.mean(err[200:] ** 2)) < 0.3
    accel_only = np.degrees(
        np.arctan2(-acc_noisy[:, 0], np.hypot(acc_noisy[:, 1], acc_noisy[:, 2]))
    )
    assert np.std(out[200:, 0] - phi[200:]) < 0.5 * np.std(accel_only[200:] - phi[200:])


def test_kernel_agrees_with_lfilter_twin():
    rng = np.random.default_rng(1)
    acc = np.column_stack([rng.normal(0, 0.1, 500), rng.normal(0, 0.1, 500), np.ones(500)])
    gyro = rng.normal(0, 20, (500, 3))
    est = TiltEstimator(100.0, time_constant_s=0.3)
    alpha = 0.3 / (0.3 + 0.01)
    np.testing.assert_allclose(
        est.process(acc, gyro), KF.tilt_complementary_numpy(acc, gyro, 0.01, alpha), atol=1e-9
    )


def test_level_calibration_removes_mounting_offset_and_gyro_bias():
    n = 400
    acc, gyro = _board_imu(np.full(n, 3.0), np.full(n, 2.0), 100.0)
    gyro = gyro + [0.5, -0.3, 0.2]
    est = TiltEstimator(100.0)
    est.start_level_calibration(200)
    est.process(acc[:200], gyro[:200])
    assert not est.calibrating
    out = est.process(acc[200:], gyro[200:])
    np.testing.assert_allclose(out[-1], [0.0, 0.0], atol=1e-6)
    np.testing.assert_allclose(est.gyro_bias, [0.5, -0.3, 0.2], atol=1e-9)


def test_axis_map_validation_and_units():
    idx, sign = parse_axes("-y, x, -z")
    assert idx.tolist() == [1, 0, 2] and sign.tolist() == [-1, 1, -1]
    with pytest.raises(ValueError, match="name x, y and z once each"):
        parse_axes("x,x,z")
    with pytest.raises(ValueError, match="accel_unit"):
        TiltEstimator(100.0, accel_unit="furlongs")
    with pytest.raises(ValueError, match=r"shape \(n_samples, 3\)"):
        TiltEstimator(100.0).process(np.zeros((5, 2)), np.zeros((5, 3)))


def _phone_csv(name):
    d = np.genfromtxt(DEVICES / "wobble_board_imu" / name, delimiter=",", names=True)
    acc = np.column_stack([d["AccelerationX"], d["AccelerationY"], d["AccelerationZ"]])
    gyro = np.column_stack([d["GyroX"], d["GyroY"], d["GyroZ"]])
    return d["SamplingTime"], acc, gyro


def _phone_estimator():
    # The phone reports the gravity vector (z = -9.78 m/s^2 when level): flip the accelerometer;
    # its gyro is right-handed in the same axes.
    return TiltEstimator(
        100.0, accel_axes="-x,-y,-z", gyro_axes="x,y,z", accel_unit="m/s2", gyro_unit="rad/s"
    )


def test_real_wobble_board_at_rest_reads_level():
    t, acc, gyro = _phone_csv("static_1.csv")
    out = _phone_estimator().process(acc, gyro, np.diff(t, prepend=t[0] - 0.01))
    assert np.abs(out).max() < 0.5  # the board rests within ~0.4 deg


def test_real_wobble_board_axis_map_is_consistent_with_the_gyro():
    t, acc, gyro = _phone_csv("human_balancing.csv")
    est = _phone_estimator()
    a, g = est.board_frame(acc, gyro)
    b, aa = scipy.signal.butter(2, 3.0, fs=100.0)
    phi_acc = scipy.signal.filtfilt(
        b, aa, np.degrees(np.arctan2(-a[:, 0], np.hypot(a[:, 1], a[:, 2])))
    )
    theta_acc = scipy.signal.filtfilt(b, aa, np.degrees(np.arctan2(-a[:, 1], a[:, 2])))
    # With the right map, the gravity angles change at the rates the gyro measures.
    assert np.corrcoef(np.gradient(phi_acc, t), g[:, 1])[0, 1] > 0.8
    assert np.corrcoef(np.gradient(theta_acc, t), -g[:, 0])[0, 1] > 0.8
    out = est.process(acc, gyro, np.diff(t, prepend=t[0] - 0.01))
    gyro_angle = scipy.signal.detrend(np.cumsum(g[:, 1] * np.diff(t, prepend=t[0] - 0.01)))
    assert np.corrcoef(out[:, 0], gyro_angle)[0, 1] > 0.8
    # Fusion rejects the person's linear accelerations (up to 3 g) that swing the raw angle:
    # it follows the gyro's angle better than the raw gravity angle does.
    raw_phi = np.degrees(np.arctan2(-a[:, 0], np.hypot(a[:, 1], a[:, 2])))
    assert np.corrcoef(out[:, 0], gyro_angle)[0, 1] > np.corrcoef(raw_phi, gyro_angle)[0, 1] + 0.1


def _wt901_frames():
    lines = (DEVICES / "witmotion_wt901ble67_ble" / "wt901-100hz.jsonl").read_text().splitlines()
    raw = b"".join(bytes.fromhex(json.loads(line)["hex"]) for line in lines[1:])
    frames = np.frombuffer(raw, dtype=np.uint8).reshape(-1, 20)
    assert (frames[:, 0] == 0x55).all() and (frames[:, 1] == 0x61).all()
    vals = frames[:, 2:].copy().view("<i2").astype(float)
    return vals[:, :3] * 16 / 32768, vals[:, 3:6] * 2000 / 32768, vals[:, 6:9] * 180 / 32768


def test_real_witmotion_capture_tilt_from_accel_not_frozen_device_angles():
    acc, gyro, angles = _wt901_frames()
    assert len(acc) == 288
    np.testing.assert_allclose(acc[0], [0.769, 0.217, 0.809], atol=2e-3)
    out = TiltEstimator(100.0).process(acc, gyro)
    expected0 = np.degrees([np.arctan2(-0.769, np.hypot(0.217, 0.809)), np.arctan2(-0.217, 0.809)])
    np.testing.assert_allclose(out[0], expected0, atol=0.2)
    # The firmware's own angles stay frozen near 0 while the board is tilted ~45 deg.
    assert np.abs(angles[:100, :2]).max() < 1.0 and np.abs(out[:100, 0]).min() > 20
