"""The project's own files agree with each other."""

import tomllib
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[2]


def pyproject_requirements():
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    requirements = list(project["dependencies"])
    for extra in project["optional-dependencies"].values():
        requirements += extra
    return requirements


def test_environment_yml_lists_the_same_packages_as_pyproject():
    environment = yaml.safe_load((ROOT / "environment.yml").read_text())
    pip_section = next(entry["pip"] for entry in environment["dependencies"] if isinstance(entry, dict))
    conda = [entry for entry in environment["dependencies"] if isinstance(entry, str)]
    assert "python=3.12" in conda
    assert sorted(r for r in pip_section if r != "-e .") == sorted(pyproject_requirements())
    assert "-e ." in pip_section


def test_handlers_stay_thin():
    for handler in (ROOT / "lambdas").glob("*.py"):
        code = [line for line in handler.read_text().splitlines() if line.strip() and not line.lstrip().startswith("#")]
        assert len(code) <= 30, f"{handler.name} has {len(code)} lines of code; move logic into orders_lib"
