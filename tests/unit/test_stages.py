"""make test's stage timer: every stage recorded, a failure stops with the table so far."""

from __future__ import annotations

import sys

from orders_lib.bench import stages


def test_stages_are_recorded_in_order_and_a_failure_keeps_its_exit_code(tmp_path, capsys):
    record = tmp_path / "stages.json"
    assert stages.run("first", [sys.executable, "-c", "pass"], first=True, record=record) == 0
    assert stages.run("second", [sys.executable, "-c", "raise SystemExit(3)"], first=False, record=record) == 3
    recorded = stages.load(record)
    assert [(s["name"], s["code"]) for s in recorded] == [("first", 0), ("second", 3)]
    assert "make test stopped at stage 'second'" in capsys.readouterr().out
    assert stages.run("again", [sys.executable, "-c", "pass"], first=True, record=record) == 0
    assert [s["name"] for s in stages.load(record)] == ["again"]


def test_the_table_gives_each_stage_its_share_and_the_total():
    text = stages.table([{"name": "unit", "seconds": 30.0, "code": 0}, {"name": "sandbox", "seconds": 90.0, "code": 1}])
    assert "unit" in text and " 25%" in text and " 75%     0.0  FAILED (exit 1)" in text
    assert text.splitlines()[-1].split()[:2] == ["total", "120.0"] and "(2.0 min)" in text


def test_the_command_line_takes_the_stage_name_then_its_command(tmp_path, monkeypatch):
    monkeypatch.setattr(stages, "RECORD", tmp_path / "stages.json")
    assert stages.main(["run", "--first", "one", "--", sys.executable, "-c", "pass"]) == 0
    assert stages.main(["run", "two", "--", sys.executable, "-c", "raise SystemExit(2)"]) == 2
    assert [s["name"] for s in stages.load(tmp_path / "stages.json")] == ["one", "two"]
