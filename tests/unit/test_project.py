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


def locked_versions():
    """name -> versions pinned in requirements.lock (a package may have one per Python range)."""
    from packaging.utils import canonicalize_name

    pins: dict[str, set[str]] = {}
    for line in (ROOT / "requirements.lock").read_text().splitlines():
        if line and not line[0].isspace() and not line.startswith("#"):
            requirement = line.split(";")[0].strip()
            name, _, version = requirement.partition("==")
            assert version, f"not pinned in requirements.lock: {line}"
            pins.setdefault(canonicalize_name(name.split("[")[0]), set()).add(version)
    return pins


def test_the_lock_pins_every_requirement_of_pyproject_within_its_range():
    from packaging.requirements import Requirement
    from packaging.utils import canonicalize_name

    pins = locked_versions()
    for text in pyproject_requirements():
        requirement = Requirement(text)
        versions = pins.get(canonicalize_name(requirement.name))
        assert versions, f"{requirement.name} is in pyproject.toml but not in requirements.lock: run make lock"
        assert all(requirement.specifier.contains(v, prereleases=True) for v in versions), (
            f"requirements.lock pins {requirement.name} {versions}, outside {requirement.specifier}: run make lock"
        )


def test_environment_yml_installs_the_lock():
    environment = yaml.safe_load((ROOT / "environment.yml").read_text())
    pip_section = next(entry["pip"] for entry in environment["dependencies"] if isinstance(entry, dict))
    conda = [entry for entry in environment["dependencies"] if isinstance(entry, str)]
    assert "python=3.12" in conda
    assert pip_section == ["-r requirements.lock", "-e ."]


def test_make_setup_installs_the_lock():
    setup = makefile_recipe("$(STAMP)")
    assert "$(UV_INSTALL) -r requirements.lock" in setup and "$(UV_INSTALL) --no-deps -e ." in setup
    assert "uv pip install --quiet --python $(PY)" in (ROOT / "Makefile").read_text()


def test_handlers_stay_thin():
    for handler in (ROOT / "lambdas").glob("*.py"):
        code = [line for line in handler.read_text().splitlines() if line.strip() and not line.lstrip().startswith("#")]
        assert len(code) <= 30, f"{handler.name} has {len(code)} lines of code; move logic into orders_lib"


def test_notebooks_keep_test_markers_in_tags_not_in_the_code():
    """nbval reads cell tags; a marker comment would show in every report and in JupyterLab."""
    import nbformat

    for path in sorted((ROOT / "notebooks").glob("*.ipynb")):
        book = nbformat.read(path, as_version=4)
        code = [cell for cell in book.cells if cell.cell_type == "code"]
        assert not [c.source for c in code if "NBVAL" in c.source], path.name
        assert any("nbval-check-output" in c.metadata.get("tags", []) for c in code), f"{path.name} checks nothing"


def makefile_recipe(target: str) -> list[str]:
    lines = (ROOT / "Makefile").read_text().splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith(f"{target}:"))
    recipe = []
    for line in lines[start + 1 :]:
        if not line.startswith("\t"):
            break
        recipe.append(line.strip())
    return recipe


def test_pre_commit_runs_what_make_lint_runs():
    hooks = [hook for repo in yaml.safe_load((ROOT / ".pre-commit-config.yaml").read_text())["repos"] for hook in repo["hooks"]]
    from_hooks = {" ".join(hook["entry"].replace(".venv/bin/", "").split()[:2]).removesuffix(" --force-exclude") for hook in hooks}
    from_make = {" ".join(line.replace("$(BIN)/", "").split()[:2]) for line in makefile_recipe("lint")}
    assert from_hooks == from_make == {"ruff check", "ruff format", "mypy"}
    assert all(hook["language"] == "system" for hook in hooks), "the hooks run the pinned tools of .venv"


def test_make_test_runs_the_static_checks_first_in_its_checks_lane():
    assert "test-lane-checks" in (ROOT / "Makefile").read_text().split("TEST_LANES :=")[1].splitlines()[0]
    assert makefile_recipe("test-lane-checks")[0].endswith("lint")
