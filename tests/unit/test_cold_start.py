"""A handler's cold start must not pull in workbook or test libraries."""

import json
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
FORBIDDEN = ("pandas", "ipywidgets", "matplotlib", "moto", "IPython", "numpy", "tqdm", "papermill")


@pytest.mark.parametrize("module", ["create_order", "process_order"])
def test_handler_imports_nothing_heavy(module):
    probe = (
        "import json, sys; sys.path[:0] = [sys.argv[1], sys.argv[2]];"
        f"import {module};"
        "print(json.dumps(sorted({m.split('.')[0] for m in sys.modules})))"
    )
    env = {
        "TABLE_NAME": "t",
        "TOPIC_ARN": "arn:aws:sns:us-east-1:123456789012:t",
        "AWS_DEFAULT_REGION": "us-east-1",
        "AWS_LAMBDA_FUNCTION_NAME": module,
        "PATH": "/usr/bin:/bin",
    }
    out = subprocess.run(
        [sys.executable, "-c", probe, str(ROOT / "lambdas"), str(ROOT)], capture_output=True, text=True, env=env, check=True
    ).stdout
    loaded = set(json.loads(out))
    assert "orders_lib" in loaded and "boto3" in loaded
    assert loaded.isdisjoint(FORBIDDEN), sorted(loaded & set(FORBIDDEN))
