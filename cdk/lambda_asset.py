"""Stage the Lambda asset into the fixed folder ``build/lambda`` (no Docker).

The folder holds the two handler modules and the Lambda side of ``orders_lib``
only; boto3 ships with the runtime and Powertools comes from its public layer.
Staging synchronises file by file (atomic replace, stale files removed), so two
synths running at once write the same bytes and leave no temporary folder.
"""

from __future__ import annotations

import os
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
BUILD_DIR = ROOT / "build" / "lambda"
HANDLERS = ("create_order.py", "process_order.py")
LIBRARY_FILES = ("orders_lib/__init__.py", "orders_lib/settings.py")
LIBRARY_PACKAGES = ("orders_lib/domain", "orders_lib/aws", "orders_lib/pipeline")


def asset_sources(root: Path = ROOT) -> dict[str, Path]:
    """Relative path inside the asset -> source file."""
    files = {name: root / "lambdas" / name for name in HANDLERS}
    files.update({rel: root / rel for rel in LIBRARY_FILES})
    for package in LIBRARY_PACKAGES:
        for source in sorted((root / package).rglob("*.py")):
            if "__pycache__" not in source.parts:
                files[source.relative_to(root).as_posix()] = source
    return files


def stage_lambda_asset(root: Path = ROOT, target: Path = BUILD_DIR) -> Path:
    sources = asset_sources(root)
    target.mkdir(parents=True, exist_ok=True)
    for rel, source in sources.items():
        destination = target / rel
        data = source.read_bytes()
        if destination.is_file() and destination.read_bytes() == data:
            continue
        destination.parent.mkdir(parents=True, exist_ok=True)
        partial = destination.with_name(f".{destination.name}.{os.getpid()}.part")
        partial.write_bytes(data)
        os.replace(partial, destination)
    for path in sorted(target.rglob("*"), reverse=True):  # deepest first, so emptied folders go too
        rel = path.relative_to(target).as_posix()
        if path.is_dir():
            if not any(path.iterdir()):
                path.rmdir()
        elif rel not in sources and not path.name.endswith(".part"):
            path.unlink()
    return target
