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
