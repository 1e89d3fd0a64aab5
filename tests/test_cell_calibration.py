"""Raw-count four-cell boards (HX711, ADS131M04, AD7193): the calibration file of known loads,
its fit (gain, offset, sign per cell), and the sign check through the real URL and stage."""

from __future__ import annotations

import json

import numpy as np
import pytest

from drivers.protocols.csv_lines import CsvDecoder, CsvFormat
from drivers.urls import csv_format
from dsp.cop import WII_CELLS_XY_MM, fit_cell_calibration
from nmr_balance.app.cli import main
from nmr_balance.cell_calibration import CELLS, G, load_calibration
from nmr_balance.errors import ConfigError, InvalidParameterError
from nmr_balance.frontend.sensors import LoadCellStage
from nmr_balance.registry import Params
from nmr_balance.stream import SampleBlock

#: A board whose cells are wired both ways: tr and bl fall with load (24-bit, ~8.4 M at rest).
GAIN = np.array([-0.0021, 0.0019, 0.0023, -0.0018])  # N per count
OFFSET = np.array([8_388_000.0, 8_401_200.0, 8_391_000.0, 8_379_000.0])


def counts_for(forces_n: np.ndarray) -> np.ndarray:
    return OFFSET + np.asarray(forces_n) / GAIN


def write_calibration(path, noise: float = 0.0, order=CELLS):
    """Known loads of 0, 10 and 20 kg on each cell in turn, as a clinic would measure them."""
    rng = np.random.default_rng(5)
    points = [np.zeros(4)]
    for c in range(4):
        for kg in (10.0, 20.0):
            load = np.zeros(4)
            load[c] = kg
            points.append(load)
    lines = ['device = "test board"', 'unit = "kg"', f"cells = {json.dumps(list(order))}", ""]
    idx = [CELLS.index(c) for c in order]
    for load in points:
        counts = counts_for(load * G) + rng.normal(0, noise, 4)
        lines += [
            "[[point]]",
            f"load = {json.dumps(load[idx].tolist())}",
            f"counts = {json.dumps(np.round(counts[idx], 1).tolist())}",
            "",
        ]
    path.write_text("\n".join(lines))
    return path


def test_fit_recovers_gain_offset_and_sign_per_cell(tmp_path):
    cal = load_calibration(write_calibration(tmp_path / "cal.toml"))
    np.testing.assert_allclose(cal.gain_n_per_count, GAIN, rtol=1e-5)
    np.testing.assert_allclose(cal.offset_counts, OFFSET, atol=0.1)
    assert max(cal.residual_n) < 1e-3 and cal.n_points == 9 and cal.device == "test board"
    # the columns may come in any order the file names
    shuffled = load_calibration(
        write_calibration(tmp_path / "c2.toml", order=("bl", "tl", "tr", "br"))
    )
    np.testing.assert_allclose(shuffled.gain_n_per_count, GAIN, rtol=1e-5)
    noisy = load_calibration(write_calibration(tmp_path / "c3.toml", noise=20.0))
    assert 0.001 < max(noisy.residual_n) < 0.2  # 20 counts of noise ~ 0.04 N


def test_sign_check_static_off_centre_load_through_the_url_and_the_stage(tmp_path):
    """60 kg, 40 on the front-right cell and 20 on the back-right one: COP x = +216.5 mm
    (right), y = +119/3 mm (forward), 588 N, although two cells' counts fall with load."""
    cal = write_calibration(tmp_path / "cal.toml")
    url = f"serial:///dev/null?unit=counts&calibration={cal}"
    fmt = csv_format(Params([("unit", "counts"), ("calibration", str(cal))], url))
    info = CsvDecoder(fmt).stream_info(url)
    assert info.units == ("counts",) * 4
    stage = LoadCellStage()
    stage.configure(info)
    forces = np.array([40.0, 20.0, 0.0, 0.0]) * G  # tr, br, tl, bl
    raw = np.tile(counts_for(forces), (50, 1))
    assert raw[0, 0] < OFFSET[0]  # the front-right cell's counts fell with its load
    out = stage.process(
        SampleBlock(np.zeros(50, np.int64), np.full(50, np.nan), np.arange(50), raw)
    ).data
    np.testing.assert_allclose(out[:, 0], WII_CELLS_XY_MM[0][0], atol=0.05)
    np.testing.assert_allclose(out[:, 1], 119.0 / 3, atol=0.05)
    np.testing.assert_allclose(out[:, 2], 60 * G, rtol=1e-4)
    wb = stage.weight_bearing()
    assert wb["right"] == pytest.approx(100, abs=0.01) and wb["front"] == pytest.approx(
        200 / 3, abs=0.01
    )


def test_raw_counts_without_a_calibration_are_refused(tmp_path):
    with pytest.raises(InvalidParameterError, match="calibration=FILE"):
        csv_format(Params([("unit", "counts")], "serial:///dev/ttyUSB0?unit=counts"))
    info = CsvDecoder(CsvFormat(unit="counts")).stream_info("u")
    with pytest.raises(ConfigError, match="raw counts and no calibration"):
        LoadCellStage().configure(info)


@pytest.mark.parametrize(
    ("text", "says"),
    [
        ('unit = "lb"\n', "unit must be"),
        ('unit = "kg"\n[[point]]\nload = [0,0,0,0]\ncounts = [1,2,3,4]\n', "at least two"),
        (
            'unit = "kg"\n[[point]]\nload = [0,0,0,0]\ncounts = [1,2,3,4]\n'
            "[[point]]\nload = [0,0,0,0]\ncounts = [1,2,3,5]\n",
            "cell tr: needs at least two different known loads",
        ),
        (
            'unit = "kg"\n[[point]]\nload = [0,0,0,0]\ncounts = [1,2,3,4]\n'
            "[[point]]\nload = [1,1,1,1]\ncounts = [1,3,4,5]\n",
            "cell tr: its counts do not change",
        ),
        (
            'unit = "kg"\n[[point]]\nload = [0,0,nan,0]\ncounts = [1,2,3,4]\n'
            "[[point]]\nload = [1,1,1,1]\ncounts = [2,3,4,5]\n",
            "finite numbers",
        ),
        ('unit = "kg"\nweight = 3\n', "unknown key"),
        ("unit = [", "not a valid TOML"),
    ],
)
def test_bad_calibration_files_say_what_is_wrong(tmp_path, text, says):
    path = tmp_path / "cal.toml"
    path.write_text(text)
    with pytest.raises(ConfigError, match=says) as err:
        load_calibration(path)
    assert str(path) in str(err.value) and "docs/calibration.md" in err.value.hint
    with pytest.raises(ValueError, match="two different known loads"):
        fit_cell_calibration([[0.0], [0.0]], [[1.0], [2.0]])


def test_calibrate_command_prints_the_fit(tmp_path, capsys):
    cal = write_calibration(tmp_path / "cal.toml")
    assert main(["calibrate", str(cal)]) == 0
    out = capsys.readouterr().out
    assert "tr" in out and "falls with load" in out and "rises with load" in out
    assert main(["calibrate", str(cal), "--json"]) == 0
    fit = json.loads(capsys.readouterr().out)
    assert [c["sign"] for c in fit["cells"]] == [
        "falls with load",
        "rises with load",
        "rises with load",
        "falls with load",
    ]
    assert main(["calibrate", str(tmp_path / "missing.toml")]) == 2
    assert "no calibration file" in capsys.readouterr().err


@pytest.mark.timeout(120)
def test_raw_counts_over_a_pty_give_the_cop_of_the_loads(tmp_path):
    """The emulator prints the counts a board calibrated by the file would give (two cells
    counting down); through the serial driver and the stage they are the simulated loads'
    COP again."""
    from _driver_helpers import emulator, read_samples

    from drivers.sim import SimulatedBoard
    from dsp.cop import LoadCellCop
    from nmr_balance.app import open_source

    cal = write_calibration(tmp_path / "cal.toml")
    fs = 80.0
    url = "serial://{}?protocol=csv&rate=80&unit=counts&calibration=" + str(cal)
    args = ("--rate", "80", "--seed", "3", "--calibration", str(cal))
    with emulator(tmp_path, "csv", *args) as port, open_source(url.format(port)) as src:
        src.start()
        block = read_samples(src, 200)
    assert src.info.units == ("counts",) * 4 and (block.data > 1e6).all()  # counts, not kg
    stage = LoadCellStage()
    stage.configure(src.info)
    got = stage.process(block).data
    sample = np.round(block.t_device * fs).astype(int)  # the board's sample numbers
    kg = SimulatedBoard("cells", fs, seed=3).generate(int(sample.max()) + 1)[sample]
    expected = LoadCellCop(unit="kg").process(kg)
    np.testing.assert_allclose(got[:, :2], expected[:, :2], atol=0.05)  # mm
    np.testing.assert_allclose(got[:, 2], expected[:, 2], rtol=1e-4)  # N
