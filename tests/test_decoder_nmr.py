"""The nmr binary protocol: framing, CRC, descriptor, counters, resync."""

import json
import struct
import zlib

import crc
import numpy as np
import pytest
from cobs import cobs

from drivers.protocols import nmr
from nmr_balance.stream import Channel, SensorKind, StreamInfo

INFO = StreamInfo(
    "board",
    tuple(Channel(n, "kg") for n in ("tr", "br", "tl", "bl")),
    1000.0,
    SensorKind.LOAD_CELLS,
    {"cells_xy_mm": [[1, 2], [1, -2], [-1, 2], [-1, -2]]},
    device="test board",
)


def stream(n=50, counter0=0, pack=1, seed=0):
    rng = np.random.default_rng(seed)
    data = rng.normal(20, 5, (n, 4)).astype(np.float32).astype(np.float64)
    t_us = (counter0 + np.arange(n)) * 1000
    return nmr.encode_descriptor(INFO, "x1") + nmr.encode_samples(counter0, t_us, data, pack), data


def test_crc_is_the_crc_package_crc32():
    calc = crc.Calculator(crc.Crc32.CRC32)
    for body in (b"", b"123456789", bytes(range(256)) * 3):
        assert zlib.crc32(body) == calc.checksum(body)
        # the decoder checks a message by its residue: the CRC of body + CRC(body) is constant
        assert calc.checksum(body + struct.pack("<I", zlib.crc32(body))) == nmr._CRC_RESIDUE


def test_wire_layout_by_hand():
    msg = nmr.encode_samples(7, np.array([1234]), np.array([[1.5, -2.0]]))
    assert msg.endswith(b"\x00") and msg.count(b"\x00") == 1
    body = cobs.decode(msg[:-1])
    assert body[:2] == bytes((1, nmr.SAMPLES))
    n, c0, t_us = struct.unpack_from("<BII", body, 2)
    assert (n, c0, t_us) == (1, 7, 1234)
    assert struct.unpack_from("<2f", body, 11) == (1.5, -2.0)
    assert struct.unpack_from("<I", body, len(body) - 4)[0] == zlib.crc32(body[:-4])


def test_round_trip_descriptor_counters_and_device_time():
    wire, data = stream(n=40, counter0=100, pack=7)
    dec = nmr.NmrDecoder()
    out = dec.decode(wire)
    assert out.consumed == len(wire)
    info = dec.stream_info("u")
    assert info.channel_names == ("tr", "br", "tl", "bl") and info.fs == 1000.0
    assert info.kind is SensorKind.LOAD_CELLS and info.device == "test board x1"
    assert info.geometry == INFO.geometry and info.has_device_time
    np.testing.assert_array_equal(out.data, data)
    np.testing.assert_array_equal(out.counter, np.arange(100, 140))
    np.testing.assert_allclose(out.t_device, np.arange(100, 140) * 1e-3)
    assert dec.bad_frames == 0 and dec.skipped_bytes == 0 and dec.good_frames == 1 + 6


def test_samples_before_descriptor_wait_and_join_mid_stream_is_not_an_error():
    wire, _data = stream(n=10)
    desc_len = len(nmr.encode_descriptor(INFO, "x1"))
    samples_only = wire[desc_len:]
    dec = nmr.NmrDecoder()
    out = dec.decode(samples_only[5:])  # joined in the middle of the first message
    assert len(out) == 0 and dec.waiting_frames == 9 and dec.bad_frames == 0
    assert dec.skipped_bytes > 0 and dec.stream_info("u") is None


def test_counter_and_clock_unwrap_across_2_32():
    c0 = (1 << 32) - 3
    t_us = np.arange(6) + (1 << 32) - 2
    wire = nmr.encode_descriptor(INFO) + nmr.encode_samples(c0, t_us, np.zeros((6, 4)))
    out = nmr.NmrDecoder().decode(wire)
    np.testing.assert_array_equal(np.diff(out.counter), 1)
    np.testing.assert_allclose(np.diff(out.t_device), 1e-6, atol=1e-9)


def test_corrupt_frame_is_counted_and_skipped_rest_survives():
    wire, data = stream(n=20)
    start = len(nmr.encode_descriptor(INFO, "x1"))
    bad = bytearray(wire)
    bad[start + 10] ^= 0x40  # one bit in sample 0's message
    dec = nmr.NmrDecoder()
    out = dec.decode(bytes(bad))
    assert dec.bad_frames == 1
    np.testing.assert_array_equal(out.counter, np.arange(1, 20))
    np.testing.assert_array_equal(out.data, data[1:])


def test_garbage_and_runaway_bytes_resync():
    wire, _data = stream(n=10)
    junk = bytes(range(1, 256)) * 20  # no zero byte for 5100 bytes
    dec = nmr.NmrDecoder()
    first = dec.decode(wire[:300] + junk)
    rest = dec.decode(junk[-10:] + b"\x00" + wire[300:])
    assert dec.skipped_bytes >= len(junk) - 10
    got = np.concatenate([first.counter, rest.counter])
    assert set(got) <= set(range(10)) and len(rest) > 0


def test_descriptor_that_is_not_json_is_a_bad_frame():
    dec = nmr.NmrDecoder()
    dec.decode(
        nmr.frame(nmr.DESCRIPTOR, b"{not json")
        + nmr.frame(
            nmr.DESCRIPTOR, json.dumps({"kind": "nope", "fs": 1, "channels": [["a", "b"]]}).encode()
        )
    )
    assert dec.bad_frames == 2 and dec.stream_info("u") is None


def test_unknown_version_and_text_messages():
    body = bytes((9, nmr.SAMPLES)) + b"abc"
    bad_version = cobs.encode(body + struct.pack("<I", zlib.crc32(body))) + b"\x00"
    dec = nmr.NmrDecoder()
    dec.decode(b"\x00" + bad_version + nmr.encode_text("HX711 tare done"))
    assert dec.bad_frames == 1 and dec.texts == ["HX711 tare done"]


@pytest.mark.parametrize("pack", [1, 5, 255])
def test_one_khz_eight_channels_fits_usb_serial(pack):
    """1 kHz x 8 channels must fit a 921600-baud UART (92 kB/s) with room to spare."""
    wire = nmr.encode_samples(0, np.arange(1000) * 1000, np.zeros((1000, 8)), pack)
    assert len(wire) < 0.6 * 92_160
