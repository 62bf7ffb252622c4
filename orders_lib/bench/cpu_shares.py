"""Where a process's CPU time goes, by kind of work: py-spy's sampled stacks sorted into
categories by rules on the frames' module paths and function names.

A sample belongs to the category of its innermost frame that a rule names; frames no rule
names (the standard library's ``json``, ``threading``, ``copy``...) count for the code that
called them. The first rule that matches a frame wins, so specific rules come before broad
ones (moto's stream records before moto's DynamoDB models).

Input is py-spy's ``raw`` (collapsed) format, one stack a line, root first, frames joined by
``;`` and the sample count last: ``process 12:"cmd";thread (13): name;f (path.py:4);g (x.py:9) 7``.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass

OTHER = "other"
_SEP = r"[/\\]"


@dataclass(frozen=True)
class Rule:
    category: str
    frame: re.Pattern[str]  # searched in "function (path:line)"


def _rule(category: str, pattern: str) -> Rule:
    return Rule(category, re.compile(pattern.replace("/", _SEP)))


SANDBOX_RULES: tuple[Rule, ...] = (
    # Alarms before metrics: both live in orders_lib/sandbox/cloudwatch.
    _rule("alarms", r"orders_lib/sandbox/cloudwatch/alarm_rules\.py"),
    _rule("alarms", r"(evaluate_alarms|sample_queues|SandboxCloudWatch\.tick|rule_of|alarm_message) \(.*orders_lib/sandbox/cloudwatch/"),
    _rule("metrics/EMF", r"orders_lib/sandbox/cloudwatch/(emf|metric_store|service)\.py"),
    _rule("metrics/EMF", r"moto/cloudwatch/"),
    _rule("logs", r"orders_lib/sandbox/logs/function_logs\.py"),
    _rule("logs", r"moto/logs/"),
    _rule("logs", r"_write_logs \(.*orders_lib/sandbox/lambda_/invocation/runtime\.py"),
    _rule("IAM checks", r"orders_lib/sandbox/iam/"),
    _rule("stream records/pollers", r"orders_lib/sandbox/dynamodb/streams\.py"),
    _rule("stream records/pollers", r"orders_lib/sandbox/lambda_/event_source_mapping/"),
    _rule("stream records/pollers", r"moto/dynamodbstreams/"),
    _rule("stream records/pollers", r"(StreamShard|StreamRecord)\.\w+ \(.*moto/dynamodb/models/"),
    _rule("Lambda invoke/runtime handoff", r"orders_lib/sandbox/lambda_/invocation/"),
    _rule("Lambda invoke/runtime handoff", r"\(.*/subprocess\.py:"),
    _rule("our moto patches/hooks", r"orders_lib/sandbox/.*moto_patches\.py"),
    _rule("our moto patches/hooks", r"orders_lib/sandbox/(moto_core|patching|chaos)\.py"),
    _rule("HTTP front (uvicorn, asyncio, WSGI bridge)", r"orders_lib/sandbox/http/listener\.py"),
    _rule("HTTP front (uvicorn, asyncio, WSGI bridge)", r"(uvicorn|httptools|h11|asyncio|concurrent/futures)/"),
    _rule("HTTP front (uvicorn, asyncio, WSGI bridge)", r"\(.*/(selectors|socket)\.py:"),
    _rule("moto dispatch + (de)serialisation", r"moto/(core|moto_server|utilities)/"),
    _rule("moto dispatch + (de)serialisation", r"moto/\w+/(responses|parsing|utils)"),
    _rule("moto dispatch + (de)serialisation", r"(werkzeug|botocore|jinja2|xmltodict|markupsafe)/"),
    _rule("moto service models (the emulation)", r"moto/\w+/models"),
)

WORKER_RULES: tuple[Rule, ...] = (
    _rule("worker protocol (pipe, JSON)", r"orders_lib/sandbox/lambda_/invocation/worker\.py"),
    _rule("HTTP client (urllib3, http.client)", r"(urllib3|http)/"),
    _rule("HTTP client (urllib3, http.client)", r"\(.*/(socket|ssl|selectors)\.py:"),
    _rule("boto3/botocore (signing, (de)serialisation)", r"(botocore|boto3|s3transfer|dateutil)/"),
    _rule("Powertools (logger, metrics, data classes)", r"aws_lambda_powertools/"),
    _rule("handler and pipeline code", r"(orders_lib|lambdas|functions)/"),
    _rule("imports", r"<frozen importlib"),
)

_FRAME = re.compile(r"^(?P<function>.*) \((?P<where>[^()]*)\)$")


@dataclass(frozen=True)
class Sample:
    process: str  # the innermost process frame (``process PID:"command"``; a child follows its parent), or ""
    frames: tuple[str, ...]  # root first, process and thread frames left out
    count: int


def parse_raw(lines: Iterable[str]) -> list[Sample]:
    """py-spy's raw output, one ``Sample`` per stack line (blank or malformed lines skipped)."""
    samples = []
    for line in lines:
        stack, _, count = line.rstrip("\n").rpartition(" ")
        if not stack or not count.isdigit():
            continue
        parts = stack.split(";")
        process = next((p for p in reversed(parts) if p.startswith("process ")), "")
        frames = tuple(p for p in parts if not p.startswith(("process ", "thread (")))
        samples.append(Sample(process, frames, int(count)))
    return samples


def category(frames: tuple[str, ...], rules: tuple[Rule, ...]) -> str:
    """The category of the innermost frame a rule names; ``other`` when none does."""
    for frame in reversed(frames):
        for rule in rules:
            if rule.frame.search(frame):
                return rule.category
    return OTHER


def shares(samples: Iterable[Sample], rules: tuple[Rule, ...]) -> dict[str, int]:
    """Samples per category, largest first."""
    counts: Counter[str] = Counter()
    for sample in samples:
        counts[category(sample.frames, rules)] += sample.count
    return dict(counts.most_common())


def is_worker(sample: Sample) -> bool:
    """A function worker's sample (its command runs ``worker.py``), not the sandbox's own."""
    return "worker.py" in sample.process


def hottest(samples: Iterable[Sample], wanted: str, rules: tuple[Rule, ...], top: int = 8) -> list[tuple[str, int]]:
    """Within one category, the frames that decided it, with their sample counts (where to look)."""
    counts: Counter[str] = Counter()
    for sample in samples:
        for frame in reversed(sample.frames):
            rule = next((r for r in rules if r.frame.search(frame)), None)
            if rule is not None:
                if rule.category == wanted:
                    counts[_short(frame)] += sample.count
                break
        else:
            if wanted == OTHER and sample.frames:
                counts[_short(sample.frames[-1])] += sample.count
    return counts.most_common(top)


def _short(frame: str) -> str:
    """``function (…/package/module.py)``: the line number and the path's root dropped."""
    match = _FRAME.match(frame)
    if not match:
        return frame
    path = match.group("where").rsplit(":", 1)[0]
    for marker in ("site-packages/", "orders_lib/", "lambdas/"):
        if marker in path:
            path = (marker if marker != "site-packages/" else "") + path.split(marker, 1)[1]
            break
    return f"{match.group('function')} ({path})"
