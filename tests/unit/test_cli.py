import json
from pathlib import Path

from orders_lib.cli import main

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "order.json"


def test_validate_accepts_the_example(capsys):
    assert main(["validate", str(EXAMPLE)]) == 0
    assert json.loads(capsys.readouterr().out) == {"valid": True, "lines": 2, "total": "12.75", "currency": "EUR"}


def test_validate_lists_problems(tmp_path, capsys):
    bad = tmp_path / "bad.json"
    bad.write_text('{"customer": {}, "items": [], "currency": "EUR"}')
    assert main(["validate", str(bad)]) == 1
    err = capsys.readouterr().err
    assert "customer.customerId: is required and must be a string" in err
    assert "items: must contain at least one item" in err


def test_capacity_prints_the_verdict_then_the_cost_lines(capsys):
    """The default figures: batches of 10 in 100 ms, two writes of one unit per order, so 2,000
    orders/s make 4 shards of 100 orders/s each."""
    assert main(["capacity", "--rate", "2000"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].startswith("FALLS BEHIND at 2,000 orders/s: processes 400/s, iterator age grows 0.80 s per s (48 min after an hour)")
    assert "concurrency 64 of 1,000" in lines[0]
    assert lines[0].endswith("limit hit first: stream processing (holds up to 100 orders/s); setting: raise ParallelizationFactor to 5")
    assert "  stream: 4 shard(s) (estimate), 100 orders/s each with a backlog, 10.0 records per batch" in lines
    cost = lines[lines.index("") + 1 :]
    assert cost[0].startswith("cost at 2,000 orders/s (5,256 million orders a month): list prices, on-demand, us-east-1")
    writes = next(line for line in cost if "write request units" in line)
    assert writes.split()[-2:] == ["$6,570.00", "$1.25"]  # 2 units × $0.625 per million
    assert cost[-2].split()[0] == "total"


def test_capacity_with_factor_5_keeps_up(capsys):
    assert main(["capacity", "--rate", "2000", "--factor", "5"]) == 0
    first = capsys.readouterr().out.splitlines()[0]
    assert first.startswith("KEEPS UP at 2,000 orders/s: records wait ~0.23 s; concurrency 80 of 1,000")
    assert "limit hit first: DynamoDB table quota (holds up to 20,000 orders/s)" in first


def test_capacity_refuses_a_bad_price_file_or_setting(tmp_path, capsys):
    bad = tmp_path / "prices.yaml"
    bad.write_text("region: us-east-1\n")
    assert main(["capacity", "--rate", "10", "--prices", str(bad)]) == 2
    assert "orders capacity: " in capsys.readouterr().err
    assert main(["capacity", "--rate", "10", "--factor", "11"]) == 2
    assert "ParallelizationFactor is 1 to 10, got 11" in capsys.readouterr().err


def test_capacity_reads_the_figures_a_run_measured(tmp_path, capsys):
    """06_capacity's capacity.json: a batch of 10 in 200 ms halves what a shard holds (50 orders/s)."""
    measured = tmp_path / "capacity.json"
    measured.write_text(json.dumps({"figures": {"process_fixed_ms": 100.0, "process_per_record_ms": 10.0, "calls_per_order": {}}}))
    assert main(["capacity", "--rate", "60", "--figures", str(measured)]) == 0
    out = capsys.readouterr().out
    assert out.startswith("FALLS BEHIND at 60 orders/s: processes 50/s") and f"figures: measured in a run ({measured})" in out
    assert main(["capacity", "--rate", "60"]) == 0
    assert capsys.readouterr().out.startswith("KEEPS UP at 60 orders/s")  # the defaults: 100 orders/s a shard
    measured.write_text(json.dumps({"figures": {"process_ms": 5}}))
    assert main(["capacity", "--rate", "60", "--figures", str(measured)]) == 2
    assert "unknown figure(s) process_ms" in capsys.readouterr().err
    assert main(["capacity", "--rate", "60", "--figures", str(tmp_path / "missing.json")]) == 2
    assert "cannot read figures from" in capsys.readouterr().err
