"""WitMotion decoders against a real WT901BLE67 capture and hand-built serial packets."""

import json
import time
from pathlib import Path

import numpy as np
import pytest

from drivers.protocols import witmotion
from nmr_balance.stream import SensorKind

CAPTURE = Path(__file__).parent / "data/devices/witmotion_wt901ble67_ble/wt901-100hz.jsonl"


def notifications():
    lines = CAPTURE.read_text().splitlines()
    assert json.loads(lines[0])["format"] == "wt901-recording"
    return [bytes.fromhex(json.loads(line)["hex"]) for line in lines[1:]]


def decode_all(decoder, chunks):
    return np.concatenate([decoder.feed(c).data for c in chunks])


def test_real_capture_facts():
    notes = notifications()
    assert len(notes) == 72 and {len(n) for n in notes} == {80}
    dec = witmotion.WitmotionBleDecoder()
    data = decode_all(dec, notes)
    assert data.shape == (288, 9) and dec.errors == 0
    np.testing.assert_allclose(data[0, :3], (0.769, 0.217, 0.809), atol=1e-3)
    np.testing.assert_allclose(data[0, 3:6], (5.2, -17.2, -81.8), atol=0.05)
    assert np.linalg.norm(data[:, :3], axis=1).mean() == pytest.approx(1.009, abs=1e-3)
    # the firmware quirk: angles frozen while the accelerometer shows ~45 deg of tilt
    frozen = data[:250, 6:9]
    np.testing.assert_allclose(frozen, np.tile([0.34, -0.12, 0.0], (250, 1)), atol=0.01)
    tilt = np.degrees(np.arccos(data[:250, 2] / np.linalg.norm(data[:250, :3], axis=1)))
    assert 35 < np.median(tilt) < 55


def test_real_capture_as_one_byte_stream_split_anywhere():
    whole = b"".join(notifications())
    reference = witmotion.WitmotionBleDecoder().decode(whole).data
    rng = np.random.default_rng(3)
    cuts = np.sort(rng.choice(np.arange(1, len(whole)), 200, replace=False))
    chunks = [whole[a:b] for a, b in zip(np.r_[0, cuts], np.r_[cuts, len(whole)])]
    np.testing.assert_array_equal(decode_all(witmotion.WitmotionBleDecoder(), chunks), reference)


def test_ble_resync_needs_a_confirming_header_after_garbage():
    whole = b"".join(notifications()[:3])
    dec = witmotion.WitmotionBleDecoder()
    out = dec.decode(b"\x01\x02\x55\x61\x09" + whole)
    assert dec.skipped_bytes == 5 and len(out) == 12
    # a lone fake header in garbage is not trusted without the next packet
    dec2 = witmotion.WitmotionBleDecoder()
    dec2.feed(b"\x07")
    fake = b"\x55\x61" + bytes(18)
    assert len(dec2.feed(fake + b"\x99\x98")) == 0


def serial_rows(n=20, seed=1):
    rng = np.random.default_rng(seed)
    return np.column_stack(
        [rng.uniform(-2, 2, (n, 3)), rng.uniform(-300, 300, (n, 3)), rng.uniform(-170, 170, (n, 3))]
    )


def test_serial_packet_by_hand_from_the_vendor_manual():
    # acc packet: 55 51 AxL AxH AyL AyH AzL AzH TL TH SUM; az = 1 g -> 2048
    pkt = bytes([0x55, 0x51, 0, 0, 0, 0, 0x00, 0x08, 0x30, 0x09])  # 23.52 C -> 2352
    pkt += bytes([sum(pkt) & 0xFF])
    assert (
        witmotion.encode_serial(np.array([[0, 0, 1.0, 0, 0, 0, 0, 0, 0]]), temperature_c=23.52)[:11]
        == pkt
    )


def test_serial_round_trip_quantised():
    rows = serial_rows()
    dec = witmotion.WitmotionSerialDecoder()
    out = dec.decode(witmotion.encode_serial(rows))
    assert len(out) == 20 and dec.errors == 0
    np.testing.assert_allclose(out.data[:, :3], rows[:, :3], atol=witmotion.ACC_G)
    np.testing.assert_allclose(out.data[:, 3:6], rows[:, 3:6], atol=witmotion.GYRO_DPS)
    np.testing.assert_allclose(out.data[:, 6:], rows[:, 6:], atol=witmotion.ANGLE_DEG)
    assert dec.temperature_c == 25.0


def test_serial_bad_checksum_drops_that_sample_only():
    wire = bytearray(witmotion.encode_serial(serial_rows(5)))
    wire[33 + 4] ^= 1  # second sample's acc packet
    dec = witmotion.WitmotionSerialDecoder()
    out = dec.decode(bytes(wire))
    assert len(out) == 4 and dec.bad_frames == 1 and dec.incomplete == 1


def test_serial_no_glued_cycles():
    wire = witmotion.encode_serial(serial_rows(6))
    dec = witmotion.WitmotionSerialDecoder()
    assert len(dec.decode(wire[: 3 * 33])) == 3  # the layout is learned from whole cycles
    # angle of sample 3 and acc of sample 4 lost: must not glue acc3+gyro4+angle4
    out = dec.decode(wire[99 : 99 + 22] + wire[99 + 44 :])
    assert len(out) == 1 and dec.incomplete == 2  # only sample 5 is whole
    np.testing.assert_allclose(out.data[0, :3], serial_rows(6)[5, :3], atol=witmotion.ACC_G)


T0 = 1767323045.0  # 2026-01-02 03:04:05 UTC


def _quaternions(n: int) -> np.ndarray:
    """Rotations about x by 0..n-1 tenths of a degree (roll), unit quaternions q0..q3."""
    half = np.radians(np.arange(n) / 10) / 2
    return np.column_stack([np.cos(half), np.sin(half), np.zeros(n), np.zeros(n)])


def test_serial_time_magnetometer_and_quaternion_frames_become_streams():
    n = 50
    t = T0 + np.arange(n) / 100
    mag = np.column_stack([np.arange(n), -np.arange(n), np.full(n, 300)]).astype(float)
    wire = witmotion.encode_serial(serial_rows(n), t_s=t, mag=mag, quaternion=_quaternions(n))
    dec = witmotion.WitmotionSerialDecoder()
    assert dec.stream_info("u") is None  # not before a cycle is known
    out = dec.decode(wire)
    assert len(out) == n and dec.errors == 0 and dec.incomplete == 0
    info = dec.stream_info("u")
    assert info.kind is SensorKind.IMU and info.has_device_time
    assert info.channel_names[9:] == ("mx", "my", "mz", "q0", "q1", "q2", "q3")
    np.testing.assert_allclose(out.t_device, t, atol=5e-4)  # the board's clock, to the ms
    np.testing.assert_array_equal(out.data[:, 9:12], mag)
    np.testing.assert_allclose(out.data[:, 12:], _quaternions(n), atol=1 / 32768)


def test_a_quaternion_only_stream_gives_samples_as_tilt():
    n = 60
    wire = witmotion.encode_serial(None, quaternion=_quaternions(n))
    dec = witmotion.WitmotionSerialDecoder()
    out = dec.decode(wire)
    assert len(out) == n  # it used to give 0 samples
    info = dec.stream_info("u")
    assert info.kind is SensorKind.TILT and info.channel_names[:3] == ("x", "y", "fz")
    np.testing.assert_allclose(out.data[:, 0], np.arange(n) / 10, atol=0.01)  # roll -> x
    np.testing.assert_allclose(out.data[:, 1], 0.0, atol=0.01)
    assert np.isnan(out.data[:, 2]).all()


def test_a_board_clock_jump_after_mid_stream_garbage_is_a_gap():
    from drivers.device_source import SampleCounter

    t = T0 + np.r_[np.arange(100), np.arange(600, 700)] / 100  # 5 s lost in garbage
    wire = witmotion.encode_serial(serial_rows(200), t_s=t)
    cut = 100 * 44
    wire = wire[:cut] + bytes(range(7, 200, 3)) + wire[cut:]
    dec, counter = witmotion.WitmotionSerialDecoder(), SampleCounter(100.0)
    blocks = [dec.feed(wire[i : i + 500]) for i in range(0, len(wire), 500)]
    c = np.concatenate([counter.block(b, 0).counter for b in blocks if len(b)])
    assert len(c) == 200
    np.testing.assert_array_equal(c, np.round((t - T0) * 100))  # no gap was marked before
    assert counter.gap_samples == 500


def test_configuration_commands():
    assert witmotion.unlock_command() == bytes.fromhex("ffaa6988b5")
    assert witmotion.rate_command(200) == bytes.fromhex("ffaa030b00")
    assert witmotion.rate_command(100) == bytes.fromhex("ffaa030900")
    assert witmotion.save_command() == bytes.fromhex("ffaa000000")
    assert witmotion.configure_commands(50)[1] == bytes.fromhex("ffaa030800")
    with pytest.raises(ValueError, match="rates are"):
        witmotion.rate_command(300)


# --- SD-card logs: 28-byte records (the 0x61 frame + 8 time bytes), import and replay ----------
def sd_log_from_the_real_capture(tmp_path):
    """The capture's 288 real ``55 61`` frames written as a 20 Hz SD-card log, with 10 records
    missing after the 100th (the logger skipped them) and a burst of garbage after the 200th."""
    from recordings import witmotion_sd

    frames = b"".join(notifications())
    data = witmotion.WitmotionBleDecoder().decode(frames).data
    t = T0 + np.r_[np.arange(100), np.arange(110, 298)] / 20
    recs = witmotion_sd.encode_records(data, t)
    cut = 200 * witmotion_sd.RECORD_LEN
    path = tmp_path / "WIT00001.bin"
    path.write_bytes(recs[:cut] + b"\x55\x61\x00garbage\x55" + recs[cut:])
    return path, data, t


def test_sd_card_log_records_are_read_with_the_logger_clock_and_its_gap(tmp_path):
    from recordings.witmotion_sd import RECORD_LEN, read_sd_log

    assert RECORD_LEN == 28
    path, data, t = sd_log_from_the_real_capture(tmp_path)
    trial = read_sd_log(path)
    assert len(trial.raw) == 288 and trial.raw_info.fs == pytest.approx(20.0)
    np.testing.assert_array_equal(trial.raw.data, data)  # the real frames, bit for bit
    np.testing.assert_allclose(trial.raw.t_device, t, atol=5e-4)
    np.testing.assert_array_equal(trial.raw.counter, np.round((t - T0) * 20))
    [gap] = trial.events
    assert gap.kind == "signal_gap" and gap.payload["missing_samples"] == 10
    assert trial.header["import"]["skipped_bytes"] == 11
    assert trial.raw_info.kind is SensorKind.IMU and trial.raw_info.has_device_time


def test_sd_card_log_import_and_replay(tmp_path, capsys):
    from nmr_balance.app import open_source
    from nmr_balance.app.cli import main
    from nmr_balance.pipeline import Pipeline
    from recordings import Store

    path, data, _ = sd_log_from_the_real_capture(tmp_path)
    db = tmp_path / "s.db"
    assert main(["import", str(path), "--patient", "P1", "--db", str(db)]) == 0, capsys.readouterr()
    with Store.open(db) as store:
        stored = store.load_trial(store.trials()[0].id)
    np.testing.assert_array_equal(stored.raw.data, data)
    assert any(e.kind == "signal_gap" for e in stored.events)
    with Pipeline(open_source(f"replay://{path}?speed=max")) as pipeline:
        reader = pipeline.raw.reader(from_start=True)
        while pipeline.running:
            time.sleep(0.01)
        got = reader.read()
    np.testing.assert_array_equal(got.data, data)
    assert np.diff(got.counter).max() == 11  # the logger's gap, through the live pipeline


def test_a_file_with_no_sd_records_is_refused(tmp_path):
    from nmr_balance.errors import DataFormatError
    from recordings.witmotion_sd import read_sd_log

    path = tmp_path / "x.bin"
    path.write_bytes(bytes(range(256)) * 4)
    with pytest.raises(DataFormatError, match="no WitMotion SD-card records"):
        read_sd_log(path)
