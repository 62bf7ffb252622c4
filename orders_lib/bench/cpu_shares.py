"""Where a process's CPU time goes, by kind of work: py-spy's sampled stacks sorted into
categories by rules on the frames' module paths and function names.

Two kinds of rule. A *purpose* rule (IAM checks, log writes, metrics, alarms, stream records,
the Lambda handoff) claims everything its frames call: moto's item copies made for a stream
record are stream work, the log writes after an invocation are log work. The innermost purpose
frame decides, so a log write made by a poller's invocation is log work, not poller work. A
sample with no purpose frame belongs to its innermost frame that a *code* rule names (HTTP front,
moto's dispatch and serialisation, moto's models, our patches); frames no rule names (the
standard library's ``json``, ``threading``, ``copy``...) count for the code that called them.
Within a frame the first matching rule wins, so specific rules come before broad ones.

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
    purpose: bool  # claims what its frames call (else only its own code)


def _rule(category: str, pattern: str) -> Rule:
    return Rule(category, re.compile(pattern.replace("/", _SEP)), purpose=False)


def _purpose(category: str, pattern: str) -> Rule:
    return Rule(category, re.compile(pattern.replace("/", _SEP)), purpose=True)


ALARMS, METRICS, LOGS, IAM = "alarms", "metrics/EMF", "logs", "IAM checks"
STREAMS, HANDOFF = "stream records/pollers", "Lambda invoke/runtime handoff"
HTTP, DISPATCH = "HTTP front (uvicorn, asyncio, WSGI bridge)", "moto dispatch + (de)serialisation"
MODELS, HOOKS = "moto service models (the emulation)", "our moto patches/hooks"

SANDBOX_RULES: tuple[Rule, ...] = (
    # Alarms before metrics: both live in orders_lib/sandbox/cloudwatch.
    _purpose(ALARMS, r"orders_lib/sandbox/cloudwatch/alarm_rules\.py"),
    _purpose(ALARMS, r"(evaluate_alarms|sample_queues|SandboxCloudWatch\.tick|rule_of|alarm_message) \(.*orders_lib/sandbox/cloudwatch/"),
    _purpose(METRICS, r"orders_lib/sandbox/cloudwatch/(emf|metric_store|service)\.py"),
    _purpose(METRICS, r"moto/cloudwatch/"),
    _purpose(LOGS, r"orders_lib/sandbox/logs/function_logs\.py"),
    _purpose(LOGS, r"moto/logs/"),
    _purpose(LOGS, r"_write_logs \(.*orders_lib/sandbox/lambda_/invocation/runtime\.py"),
    _purpose(IAM, r"orders_lib/sandbox/iam/"),
    _purpose(STREAMS, r"orders_lib/sandbox/dynamodb/streams\.py"),
    _purpose(STREAMS, r"orders_lib/sandbox/lambda_/event_source_mapping/"),
    _purpose(STREAMS, r"moto/dynamodbstreams/"),
    _purpose(STREAMS, r"(StreamShard|StreamRecord)\.\w+ \(.*moto/dynamodb/models/"),
    _purpose(HANDOFF, r"orders_lib/sandbox/lambda_/invocation/"),
    _rule(HANDOFF, r"\(.*/subprocess\.py:"),
    _rule(HOOKS, r"orders_lib/sandbox/.*moto_patches\.py"),
    _rule(HOOKS, r"orders_lib/sandbox/(moto_core|patching|chaos)\.py"),
    _rule(HTTP, r"orders_lib/sandbox/http/listener\.py"),
    _rule(HTTP, r"(uvicorn|httptools|h11|asyncio|concurrent/futures)/"),
    _rule(HTTP, r"\(.*/(selectors|socket)\.py:"),
    _rule(DISPATCH, r"moto/(core|moto_server|utilities)/"),
    _rule(DISPATCH, r"moto/\w+/(responses|parsing|utils)"),
    _rule(DISPATCH, r"(werkzeug|botocore|jinja2|xmltodict|markupsafe)/"),
    _rule(MODELS, r"moto/\w+/models"),
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


def _deciding(frames: tuple[str, ...], rules: tuple[Rule, ...]) -> tuple[str, Rule] | None:
    """The frame that decides a sample's category, and its rule (see the module's docstring)."""
    code: tuple[str, Rule] | None = None
    for frame in reversed(frames):
        rule = next((r for r in rules if r.frame.search(frame)), None)
        if rule is not None and rule.purpose:
            return frame, rule
        if rule is not None and code is None:
            code = frame, rule
    return code


def category(frames: tuple[str, ...], rules: tuple[Rule, ...]) -> str:
    """The category of the deciding frame; ``other`` when no rule names any frame."""
    decided = _deciding(frames, rules)
    return decided[1].category if decided else OTHER


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
        decided = _deciding(sample.frames, rules)
        if decided is not None and decided[1].category == wanted:
            counts[_short(decided[0])] += sample.count
        elif decided is None and wanted == OTHER and sample.frames:
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
