"""Source life cycle and URL registry: misuse and bad URLs get clear, typed errors."""

from __future__ import annotations

import pytest

from nmr_balance.app import open_source
from nmr_balance.errors import (
    ConfigError,
    InvalidParameterError,
    NmrBalanceError,
    SourceStateError,
    UnknownSchemeError,
)
from nmr_balance.registry import parse_url
from nmr_balance.source import Status


def test_unknown_scheme_lists_the_valid_ones():
    with pytest.raises(UnknownSchemeError) as e:
        open_source("usb://board")
    assert e.value.scheme == "usb"
    assert "sim://" in str(e.value)
    assert isinstance(e.value, NmrBalanceError)


@pytest.mark.parametrize(
    "url, name",
    [
        ("sim://?rate=5", "rate"),
        ("sim://?rate=fast", "rate"),
        ("sim://?sensor=laser", "sensor"),
        ("sim://?vision=blurry", "vision"),
        ("sim://?rat=100", "rat"),
        ("sim://?realtime=maybe", "realtime"),
        ("sim://?rate=100&rate=200", "rate"),
    ],
)
def test_bad_parameters_name_the_parameter_and_what_is_valid(url, name):
    with pytest.raises(InvalidParameterError) as e:
        open_source(url)
    assert e.value.name == name
    assert "expected" in str(e.value)


def test_not_a_url():
    with pytest.raises(ConfigError, match="scheme://location"):
        open_source("/dev/ttyUSB0")


def test_parse_url_keeps_location_and_params():
    u = parse_url("serial:///dev/ttyUSB0?protocol=nmr&baud=921600")
    assert (u.scheme, u.location) == ("serial", "/dev/ttyUSB0")
    assert u.params.text("protocol") == "nmr"
    assert u.params.number("baud", integer=True) == 921600
    ble = parse_url("ble://AA:BB:CC:DD:EE:FF?profile=witmotion")
    assert ble.location == "AA:BB:CC:DD:EE:FF"


def test_life_cycle_misuse_is_a_state_error():
    src = open_source("sim://?realtime=0")
    with pytest.raises(SourceStateError, match="start"):
        src.read()
    src.open()
    with pytest.raises(SourceStateError):
        src.open()
    src.start()
    assert len(src.read()) > 0
    src.stop()
    assert src.status is Status.CONNECTED
    src.start()  # restart after stop is allowed
    assert len(src.read()) > 0
    src.close()
    src.close()
    with pytest.raises(SourceStateError, match="closed"):
        src.read()


def test_context_manager_opens_and_closes():
    events = []
    src = open_source("sim://?realtime=0")
    src.add_status_listener(events.append)
    with src as s:
        assert s.status is Status.CONNECTED
        s.start()
        assert s.info.fs == 100
    assert src.status is Status.CLOSED
    assert [e.status.value for e in events] == ["connecting", "connected", "streaming", "closed"]


def test_start_while_the_device_is_lost_delivers_once_it_is_back():
    src = open_source("sim://?realtime=0")
    src.open()
    src._set_status(Status.LOST, "unplugged")  # what a driver's link thread does
    src.start()
    assert src.status is Status.LOST  # not claimed to be streaming yet
    src._set_status(Status.STREAMING, "back")
    assert len(src.read()) > 0
    src.close()
