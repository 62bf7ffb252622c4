"""make test's stage timer: every stage recorded, a failure keeps its exit code, the table gives
the run's wall time next to the stages' sum."""

from __future__ import annotations

import sys

from orders_lib.bench import stages


def test_stages_are_recorded_and_a_failure_keeps_its_exit_code(tmp_path, capsys):
    stages.start(tmp_path)
    assert stages.run("first", [sys.executable, "-c", "pass"], tmp_path) == 0
    assert stages.run("second", [sys.executable, "-c", "raise SystemExit(3)"], tmp_path) == 3
    recorded = stages.load(tmp_path)
    assert [(s["name"], s["code"]) for s in recorded] == [("first", 0), ("second", 3)]
    assert "stage 'second' failed" in capsys.readouterr().out
    stages.start(tmp_path)
    assert stages.load(tmp_path) == []


def test_the_table_shows_the_run_wall_time_apart_from_the_stages_summed():
    recorded = [
        {"name": "unit", "started": 100.0, "seconds": 30.0, "cpu_seconds": 25.0, "code": 0},
        {"name": "sandbox", "started": 100.0, "seconds": 90.0, "cpu_seconds": 40.0, "code": 1},
        {"name": "nbval", "started": 130.0, "seconds": 20.0, "cpu_seconds": 10.0, "code": 0},
    ]
    lines = stages.table(recorded).splitlines()
    assert "FAILED (exit 1)" in lines[2]
    assert lines[-2].split()[-2:] == ["140.0", "75.0"]  # summed: 30 + 90 + 20 s, CPU 25 + 40 + 10 s
    assert lines[-1].split()[2] == "90.0"  # wall: from 100 s to the sandbox's end at 190 s


def test_the_command_line_takes_the_stage_name_then_its_command(tmp_path, monkeypatch):
    monkeypatch.setattr(stages, "RECORDS", tmp_path / "stages")
    assert stages.main(["start"]) == 0
    assert stages.main(["run", "one", "--", sys.executable, "-c", "pass"]) == 0
    assert stages.main(["run", "two", "--", sys.executable, "-c", "raise SystemExit(2)"]) == 2
    assert [s["name"] for s in stages.load(tmp_path / "stages")] == ["one", "two"]
