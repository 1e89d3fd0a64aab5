"""CSV line protocol of HX711 boards, and the Wii Balance Board (raw reports, calibration, evdev)."""

import numpy as np
import pytest

from drivers.protocols import csv_lines, wii
from drivers.transports.evdev_board import WiiEvdevDecoder, encode_events
from nmr_balance.stream import SensorKind

# --- csv -------------------------------------------------------------------------------------


def test_csv_board_with_banner_blank_lines_and_partial_first_line():
    wire = (
        b"0,2.5,2.5\n"  # tail of a line the board sent before we opened
        b"HX711 load cells\r\nTare... done\r\n\r\n"
        b"1000,10.0,11.0,12.0,13.0\r\n"
        b"1012,10.5,11.5,12.5,13.5\r\n"
        b"1025,10."
    )  # unfinished: stays for the next call
    dec = csv_lines.CsvDecoder()
    out = dec.decode(wire)
    assert len(out) == 2 and out.consumed == wire.rindex(b"\n") + 1
    np.testing.assert_array_equal(out.data, [[10, 11, 12, 13], [10.5, 11.5, 12.5, 13.5]])
    np.testing.assert_allclose(out.t_device, [1.0, 1.012])
    assert dec.bad_frames == 2  # the two banner lines
    info = dec.stream_info("u")
    assert info.channel_names == ("tr", "br", "tl", "bl") and info.kind is SensorKind.LOAD_CELLS
    assert info.geometry["cells_xy_mm"][0] == [216.5, 119.0]


@pytest.mark.parametrize(
    "line",
    [
        b"1000,1,2,3\n",
        b"1000,1,2,3,4,5\n",
        b"1000,1,2,x,4\n",
        b"1000,1,2,nan,4\n",
        b"1000,1,2,3,1e9\n",
        b"-5,1,2,3,4\n",
        b"1000.5,1,2,3,4\n",
    ],
)
def test_csv_implausible_lines_are_rejected(line):
    dec = csv_lines.CsvDecoder()
    dec.decode(b"\n500,1,1,1,1\n")
    assert len(dec.decode(line)) == 0 and dec.bad_frames == 1


def test_csv_time_plausibility_and_board_restart():
    dec = csv_lines.CsvDecoder()
    out = dec.decode(b"\n90000,1,1,1,1\n90012,1,1,1,1\n9001,1,1,1,1\n100,1,1,1,1\n112,1,1,1,1\n")
    # 9001 ms is a garbled stamp (a digit lost), 100 ms a board restart (kept, time continues)
    assert len(out) == 4 and dec.bad_frames == 1
    assert np.all(np.diff(out.t_device) > 0)
    np.testing.assert_allclose(out.t_device[-1] - out.t_device[-2], 0.012)


def test_csv_one_garbled_time_stamp_costs_one_line_and_a_real_gap_is_believed():
    t = np.arange(1, 401) / 80  # 5 s at 80 Hz: past RESET_S, so a step back is "garbled"
    lines = csv_lines.encode_lines(csv_lines.CsvFormat(), t, np.full((400, 4), 10.0)).split(b"\n")
    lines[300] = lines[300].replace(b"3", b"9", 1)  # a flipped bit in a high digit: a jump ahead
    dec = csv_lines.CsvDecoder()
    out = dec.decode(b"\n".join(lines))
    assert len(out) == 399 and dec.bad_frames == 1  # not every line after it
    np.testing.assert_allclose(out.t_device, np.delete(t, 300), atol=1.5e-3)  # whole ms
    # the board stalled for 2 s: the first line after the gap waits for the next one to confirm
    # it, and is then kept (it used to be dropped)
    later = csv_lines.encode_lines(
        csv_lines.CsvFormat(), t[-1] + 2 + np.arange(1, 11) / 80, np.full((10, 4), 10.0)
    )
    out = dec.decode(later)
    assert len(out) == 10 and out.t_device[0] == pytest.approx(t[-1] + 2 + 1 / 80, abs=1e-3)
    assert dec.bad_frames == 1


def test_csv_no_line_is_lost_after_a_pause_in_any_chunking():
    # a Wii-board lab log: ~100 Hz, uneven, with pauses of 0.1-0.6 s (229 lines of 63,559 of
    # a real log were dropped, one after each pause)
    rng = np.random.default_rng(7)
    steps = rng.uniform(0.008, 0.012, 3000)
    steps[rng.choice(3000, 40, replace=False)] = rng.uniform(0.11, 0.6, 40)
    t = 1.0 + np.cumsum(steps)
    data = rng.uniform(0, 30, (3000, 4))
    wire = b"\n" + csv_lines.encode_lines(csv_lines.CsvFormat(fs=100), t, data)  # synced
    for cuts in (np.array([len(wire)]), np.sort(rng.choice(len(wire), 300, replace=False))):
        dec = csv_lines.CsvDecoder(csv_lines.CsvFormat(fs=100))
        parts, start = [], 0
        for c in np.r_[cuts, len(wire)]:
            parts.append(dec.feed(wire[start:c]))
            start = c
        t_dev = np.concatenate([p.t_device for p in parts])
        assert len(t_dev) == 3000 and dec.bad_frames == 0
        np.testing.assert_allclose(t_dev, t, atol=1e-3)
        np.testing.assert_allclose(np.vstack([p.data for p in parts]), data, atol=5e-4)


def test_csv_custom_format_round_trip():
    fmt = csv_lines.CsvFormat(
        columns=("ax", "ay", "az", "micros"),
        sep=";",
        unit="g",
        kind=SensorKind.IMU,
        fs=200.0,
        geometry={},
    )
    t = np.arange(5) / 200
    data = np.round(np.random.default_rng(0).normal(0, 1, (5, 3)), 3)
    dec = csv_lines.CsvDecoder(fmt)
    out = dec.decode(b"\n" + csv_lines.encode_lines(fmt, t, data))
    np.testing.assert_allclose(out.data, data)
    np.testing.assert_allclose(out.t_device, t)
    assert dec.stream_info("u").units == ("g", "g", "g")


def test_csv_runaway_line_is_dropped():
    dec = csv_lines.CsvDecoder()
    out = dec.decode(b"7" * 600)
    assert out.consumed == 600 and dec.skipped_bytes == 600


# --- Wii Balance Board -----------------------------------------------------------------------
CAL = np.array([[1000, 1100, 1200, 1300], [2700, 2800, 2900, 3000], [4400, 4500, 4600, 4700]])


def test_calibration_piecewise_linear_like_the_kernel():
    raw = np.array([[900, 1100, 2050, 4700], [1000, 1950, 2900, 6400]])
    kg = wii.calibrate(raw, CAL)
    np.testing.assert_allclose(kg, [[0.0, 0.0, 8.5, 34.0], [0.0, 8.5, 17.0, 51.0]])
    # the kernel's integer formula in units of 0.01 kg agrees
    r, c = 2050, CAL[:, 2]
    assert (r - c[0]) * 1700 // (c[1] - c[0]) == pytest.approx(kg[0, 2] * 100)


def test_calibration_block_parse_and_validation():
    block = CAL.astype(">u2").tobytes()
    np.testing.assert_array_equal(wii.parse_calibration(block), CAL)
    with pytest.raises(ValueError, match="24"):
        wii.parse_calibration(block[:20])
    with pytest.raises(ValueError, match="increase"):
        wii.parse_calibration(CAL[::-1].astype(">u2").tobytes())


def test_raw_report_stream_with_calibration_replies():
    raw = np.array([[1850, 1950, 2050, 2150], [2700, 2800, 2900, 3000]])
    wire = (
        wii.encode_reports(raw[:1])
        + b"\x13\x37"
        + wii.encode_calibration_replies(CAL)
        + wii.encode_reports(raw, 0x32)
        + wii.encode_reports(raw, 0x34)
    )
    dec = wii.WiiReportDecoder()
    out = dec.decode(wire)
    assert dec.waiting_frames == 1 and dec.skipped_bytes == 2
    np.testing.assert_allclose(out.data, np.tile([[8.5] * 4, [17.0] * 4], (2, 1)))
    np.testing.assert_array_equal(dec.calibration, CAL)


def test_evdev_records_in_wii_order_and_units():
    kg = np.array([[10.0, 20.0, 30.0, 40.0], [10.5, 20.0, 30.0, 40.25]])
    wire = encode_events(wii.kernel_events(kg))
    dec = WiiEvdevDecoder()
    first = dec.feed(wire[:50])  # records may arrive split
    rest = dec.feed(wire[50:])
    np.testing.assert_allclose(np.concatenate([first.data, rest.data]), kg)
    assert dec.stream_info("u").channel_names == ("tr", "br", "tl", "bl")


def test_csv_clock_jump_after_mid_stream_garbage_is_a_gap_in_the_counter():
    from drivers.device_source import SampleCounter

    fmt = csv_lines.CsvFormat(fs=80)
    t = np.r_[np.arange(1, 201), np.arange(601, 801)] / 80  # 5 s of lines lost in garbage
    wire = csv_lines.encode_lines(fmt, t, np.full((400, 4), 10.0))
    cut = wire.index(b"\n", len(wire) // 2) + 1
    wire = b"\n" + wire[:cut] + b"\x00\xff garbage \x13\x37\n" + wire[cut:]
    dec, counter = csv_lines.CsvDecoder(fmt), SampleCounter(fmt.fs)
    blocks = [counter.block(dec.feed(wire[i : i + 997]), i) for i in range(0, len(wire), 997)]
    c = np.concatenate([b.counter for b in blocks if len(b)])
    assert len(c) == 400 and dec.bad_frames == 1
    np.testing.assert_array_equal(c, np.round(t * 80) - 1)  # it used to be arange(400)
    assert counter.gap_samples == 400
