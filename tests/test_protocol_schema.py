"""Protocol definitions: every built-in loads; bad files get errors that point at the field."""

from __future__ import annotations

import pathlib

import pytest
from protocol_harness import BUILTINS

from nmr_balance.errors import InvalidParameterError, ProtocolError, UnknownProtocolError
from nmr_balance.protocols import discover, find, load_protocol
from nmr_balance.protocols.geometry import LosProfile
from nmr_balance.protocols.library import BUILTIN_DIR
from nmr_balance.protocols.run import planned_seconds

GOOD_STEP = '[[steps]]\ntask = "stand"\nduration_s = 10\n'


def write(tmp_path: pathlib.Path, text: str, name: str = "p.toml") -> pathlib.Path:
    path = tmp_path / name
    path.write_text(text)
    return path


def test_every_builtin_protocol_loads_and_has_what_the_issue_names():
    entries = discover(pathlib.Path("/nonexistent"))
    assert all(e.error is None for e in entries.values()), {
        n: str(e.error) for n, e in entries.items()
    }
    assert set(BUILTINS) <= set(entries)
    mctsib = entries["mctsib"].protocol
    conditions = {(s.condition["vision"], s.condition["surface"]) for s in mctsib.steps}
    assert conditions == {
        ("open", "firm"),
        ("closed", "firm"),
        ("open", "foam"),
        ("closed", "foam"),
    }
    assert all(s.duration_s == 30 and s.attempts == 3 for s in mctsib.steps)
    los = entries["los"].protocol.steps[0]
    assert los.directions == 8
    assert {s.path for s in entries["tracking"].protocol.steps} == {"sinusoid", "figure8", "random"}
    # difficulty levels get harder: smaller targets further away
    levels = entries["target"].protocol.levels
    assert [lv["radius_pct"] for lv in levels] == sorted(
        (lv["radius_pct"] for lv in levels), reverse=True
    )
    assert [lv["distance_pct"] for lv in levels] == sorted(lv["distance_pct"] for lv in levels)
    assert planned_seconds(mctsib) == 4 * (5 + 30 + 15)


def test_builtins_are_shipped_as_package_data():
    text = (BUILTIN_DIR.parents[2] / "pyproject.toml").read_text()
    assert '"*" = ["*.toml", "*.json"]' in text
    assert len(list(BUILTIN_DIR.glob("*.toml"))) >= 9


def test_levels_apply_only_to_the_fields_a_task_uses():
    p = find("baps")
    easy, hard = p.steps_at(1), p.steps_at(3)
    assert easy[0].radius_pct > hard[0].radius_pct and easy[0].dwell_s < hard[0].dwell_s
    assert "radius_pct" not in easy[1].params  # circles have no target radius
    assert easy[1].circle_radius_pct < hard[1].circle_radius_pct
    with pytest.raises(InvalidParameterError, match=r"a level from 1 \(easiest\) to 3: baps has 3"):
        p.steps_at(8)
    with pytest.raises(InvalidParameterError, match="level"):
        p.steps_at(0)  # levels are 1-based: there is no level 0


@pytest.mark.parametrize(
    "text, step, field, expected, found",
    [
        (
            '[[steps]]\ntask = "stand"\nduration_s = "thirty"\n',
            1,
            "duration_s",
            "a number",
            "thirty",
        ),
        (
            GOOD_STEP + '[[steps]]\ntask = "stand"\nduration_s = -5\n',
            2,
            "duration_s",
            "from 0.5",
            "-5",
        ),
        (GOOD_STEP + '[[steps]]\ntask = "jump"\n', 2, "task", "one of stand", "jump"),
        ("[[steps]]\nduration_s = 10\n", 1, "task", "one of stand", "None"),
        (
            '[[steps]]\ntask = "stand"\ncondition = { vision = "squint" }\n',
            1,
            "condition.vision",
            "open, closed",
            "squint",
        ),
        (
            '[[steps]]\ntask = "stand"\ncondition = { smell = "on" }\n',
            1,
            "condition.smell",
            "vision",
            "smell",
        ),
        (
            '[[steps]]\ntask = "stand"\ndwell_s = 2\n',
            1,
            "dwell_s",
            "a field of task 'stand'",
            "dwell_s",
        ),
        (
            '[[steps]]\ntask = "stand"\ndurration_s = 2\n',
            1,
            "durration_s",
            "a known field",
            "durration_s",
        ),
        ('[[steps]]\ntask = "targets"\nlayout = "pattern"\n', 1, "targets", "non-empty list", "[]"),
        (
            '[[steps]]\ntask = "targets"\nlayout = "pattern"\ntargets = [[10, 500]]\n',
            1,
            "targets",
            "from -150 to 150",
            "500",
        ),
        ('[[steps]]\ntask = "maze"\nmaze = [[0, 0]]\n', 1, "maze", "at least two", "[[0.0, 0.0]]"),
        ('[[steps]]\ntask = "single_leg"\n', 1, "condition.stance", "left or right", "both"),
        ('[[steps]]\ntask = "stand"\nrepetitions = 1.5\n', 1, "repetitions", "an integer", "1.5"),
        ("steps = [1, 2]\n", 1, "steps", "a table", "1"),
    ],
)
def test_bad_steps_are_reported_with_file_step_field_expected_and_found(
    tmp_path, text, step, field, expected, found
):
    path = write(tmp_path, text)
    with pytest.raises(ProtocolError) as info:
        load_protocol(path)
    e = info.value
    assert (e.file, e.step, e.field) == (str(path), step, field)
    assert expected in e.expected
    assert found in repr(e.found)
    message = str(e)
    assert str(path) in message and f"step {step}" in message and f"'{field}'" in message


@pytest.mark.parametrize(
    "text, field",
    [
        ("", "steps"),
        ("title = 3\n" + GOOD_STEP, "title"),
        ('kind = "exam"\n' + GOOD_STEP, "kind"),
        ('summary = "everything"\n' + GOOD_STEP, "summary"),
        ('colour = "red"\n' + GOOD_STEP, "colour"),
        (GOOD_STEP + "[[levels]]\nspeed = 3\n", "levels[1].speed"),
        (GOOD_STEP + "[[levels]]\nradius_pct = 500\n", "levels[1].radius_pct"),
        (GOOD_STEP + '[progression]\nmetric = "success_pct"\n', "progression"),
        (
            GOOD_STEP
            + "[[levels]]\nradius_pct = 10\n[progression]\nadvance_at = 50\ndrop_below = 70\n",
            "progression.drop_below",
        ),
        ('[defaults]\nvision = "closed"\nflavour = 1\n' + GOOD_STEP, "flavour"),
    ],
)
def test_bad_protocol_fields_are_reported(tmp_path, text, field):
    with pytest.raises(ProtocolError) as info:
        load_protocol(write(tmp_path, text))
    assert info.value.field == field and info.value.step is None


def test_syntax_errors_and_unreadable_files_are_protocol_errors(tmp_path):
    with pytest.raises(ProtocolError, match="valid TOML"):
        load_protocol(write(tmp_path, "[[steps]\ntask = 'stand'\n"))
    with pytest.raises(ProtocolError, match="readable"):
        load_protocol(tmp_path / "missing.toml")
    binary = tmp_path / "bin.toml"
    binary.write_bytes(b"\xff\xfe\x00garbage")
    with pytest.raises(ProtocolError, match="UTF-8"):
        load_protocol(binary)


def test_defaults_fill_steps_and_condition_defaults_apply(tmp_path):
    p = load_protocol(
        write(
            tmp_path,
            '[defaults]\ncondition = { vision = "closed" }\nrest_s = 4\n'
            "loss_radius_pct = 33\n" + GOOD_STEP + '[[steps]]\ntask = "targets"\ncount = 3\n',
        )
    )
    stand, targets = p.steps
    assert stand.condition == {"vision": "closed", "surface": "firm", "stance": "both"}
    assert stand.rest_s == targets.rest_s == 4 and stand.loss_radius_pct == 33
    assert "loss_radius_pct" not in targets.params and targets.count == 3


def test_clinic_protocols_are_found_replace_builtins_and_broken_ones_are_listed(tmp_path):
    write(tmp_path, 'name = "romberg"\ntitle = "Our Romberg"\n' + GOOD_STEP, "ours.toml")
    write(tmp_path, 'name = "balance_kids"\n' + GOOD_STEP, "kids.toml")
    write(tmp_path, '[[steps]]\ntask = "fly"\n', "broken.toml")
    entries = discover(tmp_path)
    assert (
        entries["romberg"].origin == "clinic" and entries["romberg"].protocol.title == "Our Romberg"
    )
    assert entries["balance_kids"].protocol.steps[0].duration_s == 10
    assert entries["broken"].error.field == "task"
    assert entries["mctsib"].origin == "builtin"
    assert find("balance_kids", tmp_path).name == "balance_kids"
    with pytest.raises(ProtocolError, match=r"broken\.toml"):
        find("broken", tmp_path)
    with pytest.raises(UnknownProtocolError, match=r"Known protocols: .*mctsib") as e:
        find("nonsense", tmp_path)
    assert e.value.suggestions == []  # nothing close: no guess
    with pytest.raises(UnknownProtocolError, match=r"did you mean mctsib\?") as e:
        find("mctsbi", tmp_path)
    assert e.value.name == "mctsbi" and "mctsib" in e.value.known


def test_theoretical_los_follows_height_and_neurocom_angles():
    los = LosProfile.theoretical(1.80)
    h = 0.5527 * 1800
    assert los.reach[0] == pytest.approx(h * 0.14054, rel=1e-3)  # tan 8 deg forward
    assert los.reach[4] == pytest.approx(h * 0.07870, rel=1e-3)  # tan 4.5 deg back
    assert los.reach[2] == los.reach[6] == pytest.approx(los.reach[0])
    assert los.reach[4] < los.reach[3] < los.reach[2]  # back diagonal in between
    assert LosProfile.theoretical(1.50).mean_reach < los.mean_reach
    assert LosProfile.theoretical(unit="deg").reach == (15.0,) * 8
    assert list(los.toward(90.0, 50)) == pytest.approx([los.reach[2] / 2, 0.0], abs=1e-9)
    with pytest.raises(ValueError, match="8 positive"):
        LosProfile.measured([100.0] * 7, "mm")


def test_random_order_is_seeded_and_repetitions_expand_the_plan():
    from nmr_balance.protocols import ProtocolRun, parse_protocol
    from nmr_balance.stream import sway_info

    steps = [
        {"task": "stand", "label": f"s{i}", "repetitions": 2 if i == 0 else 1} for i in range(6)
    ]
    fixed = parse_protocol({"steps": steps})
    shuffled = parse_protocol({"steps": steps, "random_order": True})
    info = sway_info("test", 100.0)

    def order(protocol, seed):
        return [(p.step.label, p.repetition) for p in ProtocolRun(protocol, info, seed=seed).plan]

    written = [("s0", 1), ("s0", 2)] + [(f"s{i}", 1) for i in range(1, 6)]
    assert order(fixed, 1) == order(fixed, 2) == written
    assert order(shuffled, 1) == order(shuffled, 1)
    assert sorted(order(shuffled, 1)) == sorted(written)
    assert len({tuple(order(shuffled, seed)) for seed in range(5)}) > 1
    assert [p.number for p in ProtocolRun(shuffled, info, seed=3).plan] == list(range(7))


def test_target_layouts_follow_the_los():
    import numpy as np

    from nmr_balance.protocols.geometry import target_layout

    los = LosProfile.measured([100, 90, 80, 70, 60, 70, 80, 90], "mm")
    rng = np.random.default_rng(0)
    base = {
        "layout": "pattern",
        "targets": [[50, 0], [-50, 0], [0, 100], [0, -100]],
        "count": 4,
        "directions": 4,
        "distance_pct": 50,
        "return_to_centre": False,
    }
    assert target_layout(base, los, rng).tolist() == [[40, 0], [-40, 0], [0, 100], [0, -60]]
    directions = target_layout({**base, "layout": "directions"}, los, rng)
    assert directions == pytest.approx(np.array([[0, 50], [40, 0], [0, -30], [-40, 0]]), abs=1e-9)
    back_and_forth = target_layout(
        {**base, "layout": "directions", "return_to_centre": True}, los, rng
    )
    assert back_and_forth[1::2].tolist() == [[0, 0]] * 4 and len(back_and_forth) == 8
