"""Export and import: CSV and C3D round trips, Santos & Duarte files, foreign C3D, hostile files.

Real data: ``tests/data/santos_duarte_2016`` from Santos & Duarte (2016), "A public data set of
human balance evaluations", PeerJ 4:e2648, doi:10.7717/peerj.2648, CC BY 4.0 (licence file
alongside).
"""

from __future__ import annotations

import pathlib

import numpy as np
import pytest
from _recordings_util import (
    plate_info,
    plate_samples,
    processed_of,
    same_bits,
    same_metrics,
    store_trial,
)

from dsp.cop import plate_cop
from nmr_balance.errors import DataFormatError
from nmr_balance.frontend.sensors import default_stages
from nmr_balance.frontend.stage import configure_chain, run_chain
from nmr_balance.stream import SampleBlock
from recordings import Condition, Store
from recordings._table import TableOptions
from recordings.c3d_io import read_c3d
from recordings.exchange import export_session, export_trial, import_file, process, read_file
from recordings.metrics import trial_metrics
from recordings.store import PROCESSED, RAW

DATA = pathlib.Path(__file__).parent / "data" / "santos_duarte_2016"


@pytest.fixture
def stored(tmp_path):
    store = Store.open(tmp_path / "s.db")
    store.add_patient("P001", name="Ann Example", birth_year=1950, sex="F", notes="lives at X")
    raw = plate_samples(1500, seed=4)
    raw.t_device[:] = np.arange(1500) / 100 + 0.123
    tid = store_trial(store, raw, processed_of(raw, 12.5), plate_info(dz=12.5))
    store.set_metrics(tid, trial_metrics(store.samples(tid, 1), store.trial(tid).info))
    yield store, tid
    store.close()


def test_csv_round_trip_is_bit_exact(stored, tmp_path):
    store, tid = stored
    original = store.load_trial(tid)
    path = export_trial(store, tid, tmp_path / "trial.csv")
    text = path.read_text()
    assert text.startswith("# nmr-balance trial export")
    assert "# patient: P001" in text and "# vision: closed" in text and "# fs_hz: 100" in text
    assert "\nt,x,y,fz,raw_Fx,raw_Fy,raw_Fz,raw_Mx,raw_My,raw_Mz," in text
    new = import_file(store, path, "P002")
    back = store.load_trial(new)
    assert same_bits(back.raw, original.raw) and same_bits(back.processed, original.processed)
    assert back.raw_info.geometry == {"surface_offset_mm": 12.5}
    assert back.trial.condition == original.trial.condition
    assert back.trial.protocol == "romberg"
    assert [e.kind for e in back.events] == ["cue", "marker"]
    assert same_metrics(trial_metrics(back.processed, back.info), original.metrics)


def test_c3d_round_trip_within_float32(stored, tmp_path):
    store, tid = stored
    original = store.load_trial(tid)
    path = export_trial(store, tid, tmp_path / "trial.c3d")
    new = import_file(store, path, "P002")
    back = store.load_trial(new)
    for a, b in ((back.raw, original.raw), (back.processed, original.processed)):
        assert len(a) == len(b) and np.array_equal(a.counter, b.counter)
        scale = np.abs(b.data).max(axis=0)
        assert np.all(np.abs(a.data - b.data) <= 1e-7 * scale + 1e-30)
    assert back.raw_info.channel_names == original.raw_info.channel_names
    assert back.trial.condition == original.trial.condition
    m_back, m_orig = trial_metrics(back.processed, back.info), original.metrics
    assert m_back.keys() == m_orig.keys()
    for k, v in m_orig.items():
        if isinstance(v, float):
            assert m_back[k] == pytest.approx(v, rel=1e-5, abs=1e-9, nan_ok=True), k
        else:
            assert m_back[k] == v, k
    # Other software sees a standard force plate: ezc3d's own COP matches our x/y.
    import ezc3d

    c = ezc3d.c3d(str(path), extract_forceplat_data=True)
    cop = c["data"]["platform"][0]["center_of_pressure"]
    assert np.allclose(cop[1], original.processed.data[:, 0], atol=1e-3)  # ML
    assert np.allclose(cop[0], original.processed.data[:, 1], atol=1e-3)  # AP
    points = c["data"]["points"][:, 0]
    assert np.allclose(points[0], cop[0], atol=1e-3) and np.allclose(points[1], cop[1], atol=1e-3)


def test_export_is_pseudonymised_unless_asked(stored, tmp_path):
    store, tid = stored
    for fmt in ("csv", "c3d"):
        anon = export_trial(store, tid, tmp_path / f"anon.{fmt}").read_bytes()
        named = export_trial(store, tid, tmp_path / f"named.{fmt}", identified=True).read_bytes()
        if fmt == "csv":
            assert b"Ann Example" not in anon and b"birth_year" not in anon
            assert b"lives at" not in anon and b"file://" not in anon
            assert b"# name: Ann Example" in named and b"# birth_year: 1950" in named
        assert b"P001" in anon or fmt == "c3d"
    files = export_session(store, store.trial(tid).session_id, tmp_path / "out", "csv")
    assert [f.name for f in files] == [f"session1_trial{tid}.csv"]


def test_c3d_metadata_is_pseudonymised(stored, tmp_path):
    store, tid = stored
    anon = read_c3d(export_trial(store, tid, tmp_path / "a.c3d"))
    named = read_c3d(export_trial(store, tid, tmp_path / "n.c3d", identified=True))
    assert "name" not in anon.header and "birth_year" not in anon.header
    assert anon.header["patient"] == "P001"
    assert named.header["name"] == "Ann Example" and named.header["birth_year"] == 1950


def test_santos_duarte_file_imports_in_our_frame(tmp_path):
    data = process(read_file(DATA / "BDS00001.txt"))
    assert data.raw_info.fs == pytest.approx(100.0) and len(data.raw) == 6000
    assert data.raw_info.geometry["filtered_hz"] == 10.0  # not low-passed a second time
    table = np.loadtxt(DATA / "BDS00001.txt", skiprows=1)
    assert np.array_equal(data.raw.data, table[:, 1:7])
    # The front-end's COP from F and M is the authors' (x = ML = COPy, y = AP = COPx; cm -> mm)
    # to the 6 decimals of the file.
    assert np.allclose(data.processed.data[:, 0], table[:, 8] * 10, atol=2e-4)
    assert np.allclose(data.processed.data[:, 1], table[:, 7] * 10, atol=2e-4)
    published = {
        r.split("\t")[0]: r.split("\t")
        for r in (DATA / "published_values.tsv").read_text().splitlines()
    }
    with Store.open(tmp_path / "s.db") as store:
        tid = import_file(
            store, DATA / "BDS00001.txt", "SD01", condition=Condition.parse("eyes_open,firm")
        )
        trial = store.trial(tid)
        assert trial.status == "complete" and trial.condition.vision == "open"
        assert trial.metrics["n_samples"] == 6000
        # the published mean velocity (cm/s), from the authors' COP columns
        assert trial.metrics["mean_velocity"] / 10 == pytest.approx(
            float(published["BDS00001"][11]), rel=1e-4
        )
        assert same_bits(store.samples(tid, RAW), data.raw)
        assert same_bits(store.samples(tid, PROCESSED), data.processed)


def write_foreign_c3d(path, dz_mm=40.0):
    """A C3D as another lab would write it: EMG first, moments in N mm, ORIGIN z < 0."""
    import ezc3d

    n, fs = 300, 200.0
    rng = np.random.default_rng(1)
    f = np.column_stack([rng.normal(0, 3, n), rng.normal(0, 3, n), 600 + rng.normal(0, 5, n)])
    ap, ml, dz = 0.01 * np.sin(np.arange(n) / 10), 0.02 * np.cos(np.arange(n) / 7), dz_mm / 1000
    m = (
        np.column_stack(
            [ml * f[:, 2] + f[:, 1] * dz, -(ap * f[:, 2] + f[:, 0] * dz), rng.normal(0, 0.5, n)]
        )
        * 1000
    )
    c = ezc3d.c3d()
    c["parameters"]["POINT"]["RATE"]["value"] = [fs]
    c["parameters"]["ANALOG"]["RATE"]["value"] = [fs]
    c["parameters"]["ANALOG"]["LABELS"]["value"] = (
        "EMG1",
        "Fx1",
        "Fy1",
        "Fz1",
        "Mx1",
        "My1",
        "Mz1",
    )
    c["parameters"]["ANALOG"]["UNITS"]["value"] = ("V", "N", "N", "N", "Nmm", "Nmm", "Nmm")
    c["data"]["analogs"] = np.vstack([rng.normal(size=n), f.T, m.T])[None]
    c["data"]["points"] = np.ones((4, 0, n))
    for name, val in (
        ("USED", [1]),
        ("TYPE", [2]),
        ("ZERO", [1, 1]),
        ("CHANNEL", [[2], [3], [4], [5], [6], [7]]),
    ):
        c.add_parameter("FORCE_PLATFORM", name, val)
        p = c["parameters"]["FORCE_PLATFORM"][name]
        p["type"], p["value"] = ezc3d.ezc3d.INT, np.asarray(p["value"]).astype(int)
    corners = np.array([[200, 300, 0], [-200, 300, 0], [-200, -300, 0], [200, -300, 0]], float)
    c.add_parameter("FORCE_PLATFORM", "CORNERS", corners.T[:, :, None])
    c.add_parameter("FORCE_PLATFORM", "ORIGIN", np.array([[0.0], [0.0], [-dz_mm]]))
    c.write(str(path))
    return ml * 1000, ap * 1000


def test_foreign_c3d_force_plate_gives_cop_from_forces_and_moments(tmp_path):
    ml, ap = write_foreign_c3d(tmp_path / "lab.c3d")
    data = read_file(tmp_path / "lab.c3d")
    assert data.raw_info.fs == 200 and data.raw_info.geometry == {"surface_offset_mm": 40.0}
    assert data.raw_info.channel_names == ("Fx", "Fy", "Fz", "Mx", "My", "Mz")
    cop = plate_cop(data.raw.data, 40.0)  # moments came in N mm: converted to N m
    assert np.allclose(cop[:, 0], ml, atol=1e-3) and np.allclose(cop[:, 1], ap, atol=1e-3)
    with Store.open(tmp_path / "s.db") as store:  # stored as the front-end makes it (= replay)
        tid = import_file(store, tmp_path / "lab.c3d", "P7")
        stages = default_stages(data.raw_info)
        configure_chain(stages, data.raw_info)
        expected = run_chain(stages, data.raw)
        assert same_bits(store.samples(tid, PROCESSED), expected)


# --- hostile files ----------------------------------------------------------------------------
def sd_lines():
    return (DATA / "BDS00001.txt").read_text().splitlines()


def with_field(line, i, value):
    fields = line.split("\t")
    fields[i] = value
    return "\t".join(fields)


HOSTILE = {
    "truncated_row": (lambda: "\n".join(sd_lines()[:500])[:-30], "ragged"),
    "wrong_columns": (lambda: "a,b,c\n1,2,3\n4,5,6\n", "cannot tell which columns"),
    "header_only": (lambda: "t[s],x[mm],y[mm]\n", "no data rows after the header"),
    "empty": (lambda: "", "no header line"),
    "inf_force": (
        lambda: "\n".join(
            sd_lines()[:50] + [with_field(sd_lines()[50], 3, "inf")] + sd_lines()[51:60]
        ),
        "infinite value in 'forces and moments' at data row 50",
    ),
    "nan_time": (
        lambda: "t[s],x[mm],y[mm]\n0,1,2\nnan,1,2\n0.02,1,2\n",
        "missing or infinite value in 't\\[s\\]'",
    ),
    "ms_not_s": (
        lambda: "t[s],x[mm],y[mm]\n" + "".join(f"{10 * i},1,2\n" for i in range(50)),
        "0.1 Hz is not plausible",
    ),
    "absurd_rate": (
        lambda: "t[s],x[mm],y[mm]\n" + "".join(f"{i * 1e-9},1,2\n" for i in range(50)),
        "not plausible",
    ),
    "time_backwards": (
        lambda: "t[s],x[mm],y[mm]\n0,1,2\n0.02,1,2\n0.01,1,2\n",
        "does not increase at data row 3",
    ),
    "binary": (lambda: "\x00\x01\x02PK\x03\x04" * 100, "binary data"),
}


@pytest.mark.parametrize("name", sorted(HOSTILE))
def test_hostile_text_imports_fail_clearly_and_lose_nothing(stored, tmp_path, name):
    store, tid = stored
    make, message = HOSTILE[name]
    path = tmp_path / f"{name}.csv"
    path.write_text(make())
    before = [(t.id, t.status) for t in store.trials()]
    with pytest.raises(DataFormatError, match=message):
        import_file(store, path, "P009")
    assert [(t.id, t.status) for t in store.trials()] == before
    assert len(store.samples(tid, RAW)) == 1500 and store.check() == []


def test_truncated_own_export_and_huge_and_broken_files(stored, tmp_path):
    store, tid = stored
    path = export_trial(store, tid, tmp_path / "t.csv")
    lines = path.read_text().splitlines()
    path.write_text("\n".join(lines[:-200]) + "\n")  # cut at a row boundary
    with pytest.raises(DataFormatError, match="truncated"):
        read_file(path)
    huge = tmp_path / "huge.csv"
    with open(huge, "wb") as f:  # sparse: 3 GB on paper, nothing on disk
        f.truncate(3 << 30)
    with pytest.raises(DataFormatError, match="above the import limit"):
        read_file(huge)
    bad = tmp_path / "bad.c3d"
    bad.write_bytes(b"\x02\x50" + bytes(1000))
    with pytest.raises(DataFormatError, match="C3D"):
        read_file(bad)
    c3d = export_trial(store, tid, tmp_path / "t.c3d")
    c3d.write_bytes(c3d.read_bytes()[:3000])
    with pytest.raises(DataFormatError):
        read_file(c3d)
    with pytest.raises(DataFormatError, match="no such file"):
        read_file(tmp_path / "missing.csv")


def test_generic_csv_with_column_mapping_and_units(tmp_path):
    t = np.arange(500) / 50.0
    path = tmp_path / "other.csv"
    rows = "".join(f"{a:.6f};{b:.6f};{c:.6f}\n" for a, b, c in zip(t, np.sin(t), np.cos(t)))
    path.write_text("Zeit;CoP_ML[cm];CoP_AP[cm]\n" + rows)
    options = TableOptions(
        columns={"t": "Zeit", "x": "CoP_ML[cm]", "y": "CoP_AP[cm]"}, units=("s",)
    )
    data = read_file(path, options)
    assert data.raw_info.fs == pytest.approx(50.0) and data.raw_info.units[:2] == ("mm", "mm")
    assert np.allclose(data.raw.data[:, 0], np.sin(t) * 10, atol=1e-5)
    assert np.all(np.isnan(data.raw.data[:, 2]))  # no fz column
    with Store.open(tmp_path / "s.db") as store:
        tid = import_file(store, path, "P5", options=options)
        assert store.trial(tid).info.channel_names == ("x", "y", "fz")


def test_csv_round_trip_when_streams_differ_in_length(tmp_path):
    # A resampled source (Wii board): fewer processed than raw samples, other counters.
    raw = plate_samples(500, seed=9)
    proc = processed_of(raw).slice(0, 430)
    proc = SampleBlock(proc.t_host_ns, proc.t_device, proc.counter * 2 + 7, proc.data)
    with Store.open(tmp_path / "s.db") as store:
        tid = store_trial(store, raw, proc, plate_info(), chunk=64)
        path = export_trial(store, tid, tmp_path / "t.csv")
        assert "# processed_rows: 430" in path.read_text() and "# raw_rows: 500" in path.read_text()
        back = store.load_trial(import_file(store, path, "P2"))
    assert same_bits(back.raw, raw) and same_bits(back.processed, proc)


def test_an_imported_cue_of_an_unknown_type_is_refused_and_nothing_is_stored(stored, tmp_path):
    """A cue's type is the core's CueType on the way in from a file too, as from the console."""
    store, tid = stored
    path = export_trial(store, tid, tmp_path / "t.csv")
    text = path.read_text()
    assert '"cue", {"text": "look ahead"}' in text  # the stored cue, said without a type
    typed = text.replace('{"text": "look ahead"}', '{"text": "look ahead", "type": "Tactile"}')
    path.write_text(typed)
    new = import_file(store, path, "P002")
    assert [c.type.value for c in (e.cue() for e in store.events(new)) if c] == ["tactile"]
    path.write_text(typed.replace('"Tactile"', '"olfactory"'))
    before = [(t.id, t.status) for t in store.trials()]
    with pytest.raises(DataFormatError, match="olfactory") as refused:
        import_file(store, path, "P003")
    assert all(
        t in str(refused.value) + refused.value.hint for t in ("verbal", "tactile", "visual")
    )
    assert [(t.id, t.status) for t in store.trials()] == before
