"""The devices and emulate commands, and evdev errors, as a user meets them."""

import pytest

from drivers.transports.evdev_board import EvdevTransport, balance_boards
from nmr_balance.app import open_source
from nmr_balance.app.cli import main
from nmr_balance.errors import DeviceNotFoundError


def test_devices_without_ble_scan_lists_ports_and_boards(capsys):
    assert main(["devices", "--no-ble"]) == 0
    out = capsys.readouterr().out
    assert out.startswith("Serial ports (") and "Wii Balance Boards (" in out
    assert "Bluetooth" not in out


def test_emulate_help_teaches_with_examples(capsys):
    with pytest.raises(SystemExit) as exit_:
        main(["emulate", "--help"])
    assert exit_.value.code == 0
    out = capsys.readouterr().out
    assert "--protocol {nmr,csv,witmotion}" in out and "serial:///dev/pts/7?protocol=nmr" in out
    assert "--faults" in out


def test_emulate_refuses_impossible_boards_with_a_clear_message(capsys):
    assert (
        main(["emulate", "--protocol", "witmotion", "--sensor", "cells", "--duration", "0.1"]) == 2
    )
    err = capsys.readouterr().err
    assert "needs an IMU board" in err and "Traceback" not in err


def test_evdev_missing_node_and_no_board(tmp_path):
    with pytest.raises(DeviceNotFoundError):
        open_source(f"evdev://{tmp_path / 'event99'}").open()
    if not balance_boards():
        with pytest.raises(DeviceNotFoundError, match="sync button"):
            EvdevTransport("auto").connect(lambda *a: None, lambda r: None)


def test_balance_boards_found_by_name_in_sysfs(tmp_path):
    for i, name in ((3, "AT Translated Set 2 keyboard"), (7, "Nintendo Wii Remote Balance Board")):
        (tmp_path / f"event{i}" / "device").mkdir(parents=True)
        (tmp_path / f"event{i}" / "device" / "name").write_text(name + "\n")
    assert balance_boards(tmp_path) == [("/dev/input/event7", "Nintendo Wii Remote Balance Board")]


@pytest.mark.parametrize("kind", ["file", "folder", "link"])
def test_emulate_link_refuses_an_existing_path_and_leaves_it(tmp_path, capsys, kind):
    path = tmp_path / "tty"
    if kind == "file":
        path.write_text("the clinic's notes\n")
    elif kind == "folder":
        path.mkdir()
    else:
        path.symlink_to(tmp_path / "elsewhere")
    argv = ["emulate", "--protocol", "csv", "--link", str(path), "--duration", "0.2"]
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert "already there" in err and "Traceback" not in err
    if kind == "file":
        assert path.read_text() == "the clinic's notes\n"
    elif kind == "folder":
        assert path.is_dir()
    else:
        assert path.is_symlink() and path.readlink() == tmp_path / "elsewhere"
    assert main(["emulate", "--link", str(tmp_path / "no" / "tty"), "--duration", "0.2"]) == 2
    assert "does not exist" in capsys.readouterr().err
