"""``make security``: cdk-nag (in the synth), cfn-lint and checkov on the synthesized template.

checkov pins versions that clash with ours (boto3, packaging), so it lives in its
own virtual environment under ``build/checkov-venv``, created once and reused
while its stamp matches ``CHECKOV_SPEC``. Any finding not acknowledged with a
reason fails the run: cdk-nag's acknowledgments sit in the stack, checkov's
skips in ``.checkov.yaml`` (one reason per skipped check).
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
import venv
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
CHECKOV_VENV = ROOT / "build" / "checkov-venv"
CHECKOV_SPEC = "checkov==3.3.30"
CHECKOV_CONFIG = ROOT / ".checkov.yaml"
CFN_LINT_IGNORED = ["W3005"]  # DependsOn already implied by a GetAtt: CDK adds it to each function; harmless
MIN_REASON = 40


class SecurityFindings(RuntimeError):
    pass


def skipped_checks(config_text: str) -> dict[str, str]:
    """``skip-check`` entries of a checkov config and the reason written after each."""
    skips, inside = {}, False
    for line in config_text.splitlines():
        if re.match(r"^[A-Za-z-]+:", line):
            inside = line.startswith("skip-check:")
            continue
        match = re.match(r"^\s*-\s*([A-Z0-9_]+)\s*(?:#\s*(?:reason:)?\s*(.*))?$", line) if inside else None
        if match:
            skips[match.group(1)] = (match.group(2) or "").strip()
    return skips


def ensure_checkov() -> Path:
    stamp = CHECKOV_VENV / ".stamp"
    binary = CHECKOV_VENV / "bin" / "checkov"
    if binary.exists() and stamp.exists() and stamp.read_text().strip() == CHECKOV_SPEC:
        return binary
    print(f"installing {CHECKOV_SPEC} into {CHECKOV_VENV.relative_to(ROOT)} (once) ...", flush=True)
    uv = Path(sys.executable).with_name("uv")  # make setup installs uv: ~6x faster than pip here
    venv.EnvBuilder(with_pip=not uv.exists(), clear=True).create(CHECKOV_VENV)
    python = str(CHECKOV_VENV / "bin" / "python")
    install = [str(uv), "pip", "install", "--python", python] if uv.exists() else [python, "-m", "pip", "install"]
    subprocess.run([*install, "--quiet", CHECKOV_SPEC], check=True)
    stamp.write_text(CHECKOV_SPEC + "\n")
    return binary


def run_checkov(template: Path) -> list[dict[str, str]]:
    binary = ensure_checkov()
    result = subprocess.run(
        [str(binary), "--config-file", str(CHECKOV_CONFIG), "-f", str(template), "-o", "json"], capture_output=True, text=True, cwd=ROOT
    )
    try:
        report = json.loads(result.stdout)
    except ValueError:
        raise SecurityFindings(f"checkov did not produce a report (exit {result.returncode}):\n{result.stderr[-2000:]}") from None
    reports = report if isinstance(report, list) else [report]
    failed = [
        {"check": c["check_id"], "resource": c["resource"], "name": c["check_name"]}
        for r in reports
        for c in r.get("results", {}).get("failed_checks", [])
    ]
    passed = sum(r.get("summary", {}).get("passed", 0) for r in reports)
    print(
        f"checkov: {passed} passed, {len(failed)} failed; not run: {', '.join(skipped_checks(CHECKOV_CONFIG.read_text()))} (.checkov.yaml)"
    )
    return failed


def main() -> int:
    from ..deploy.synth import SynthFailed, synthesize

    problems = []
    try:
        assembly = synthesize(Path("cdk.out"))
        print(f"cdk-nag: no unacknowledged findings; {len(assembly.acknowledgments)} acknowledgments, each with a reason")
    except SynthFailed as error:
        print(f"cdk-nag: {error}", file=sys.stderr)
        return 1
    short = [a for a in assembly.acknowledgments if len(a.get("reason", "")) < MIN_REASON]
    problems += [f"cdk-nag acknowledgment {a['rule']} on {a['resource']} has no real reason" for a in short]

    lint = subprocess.run(
        [str(Path(sys.executable).with_name("cfn-lint")), "--ignore-checks", *CFN_LINT_IGNORED, "--", str(assembly.template_path)],
        capture_output=True,
        text=True,
    )
    print("cfn-lint: clean" if lint.returncode == 0 else f"cfn-lint:\n{lint.stdout}{lint.stderr}")
    if lint.returncode != 0:
        problems.append("cfn-lint reported findings")

    skips = skipped_checks(CHECKOV_CONFIG.read_text())
    problems += [f"checkov skip {check} in .checkov.yaml has no reason" for check, why in skips.items() if len(why) < MIN_REASON]
    for finding in run_checkov(assembly.template_path):
        problems.append(f"checkov {finding['check']} on {finding['resource']}: {finding['name']}")

    for problem in problems:
        print(f"FINDING: {problem}", file=sys.stderr)
    print("security: OK" if not problems else f"security: {len(problems)} unacknowledged finding(s)")
    return 1 if problems else 0


if __name__ == "__main__":
    raise SystemExit(main())
