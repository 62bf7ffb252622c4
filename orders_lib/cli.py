"""``orders``: the command line behind the Makefile targets.

Every command talks to the target in ``--target`` / ``ORDERS_TARGET``
(``sandbox`` by default, or ``aws``) and finds resources through the stack's
outputs.
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
import time
from collections.abc import Sequence
from datetime import UTC, datetime
from functools import cached_property
from pathlib import Path
from typing import Any

from .aws.clients import client, new_client
from .aws.repository import OrderRepository
from .domain import codec
from .domain.clock import to_iso
from .domain.validation import ValidationFailed, parse_body, validate_order_request
from .settings import Settings


class Context:
    def __init__(self, args: argparse.Namespace):
        self.settings = Settings.from_env(target=args.target, stack_name=args.stack, endpoint_url=args.endpoint, region=args.region)

    def client(self, service: str) -> Any:
        return client(service, self.settings)

    def new_client(self, service: str) -> Any:
        """A client of its own, for each concurrent caller of a load run."""
        return new_client(service, self.settings)

    @cached_property
    def outputs(self) -> Any:
        from .ops.stack import load_outputs

        return load_outputs(self.settings)

    @cached_property
    def repository(self) -> OrderRepository:
        return OrderRepository(self.client("dynamodb"), self.outputs.table_name)


# -- offline ---------------------------------------------------------------------------
def cmd_validate(args: argparse.Namespace) -> int:
    """Check a CreateOrder request offline, printing every problem."""
    raw = sys.stdin.buffer.read() if args.file == "-" else Path(args.file).read_bytes()
    try:
        request = validate_order_request(parse_body(raw))
    except ValidationFailed as failure:
        for error in failure.errors:
            print(f"  {error.path}: {error.message}", file=sys.stderr)
        print(f"invalid request: {len(failure.errors)} problem(s)", file=sys.stderr)
        return 1
    total = sum(line.line_total for line in request.items)
    print(codec.dumps({"valid": True, "lines": len(request.items), "total": f"{total:.2f}", "currency": request.currency}))
    return 0


def _rate(text: str) -> float:
    value = float(text)
    if not value > 0:
        raise argparse.ArgumentTypeError(f"must be above 0 orders/s, got {text}")
    return value


def cmd_capacity(args: argparse.Namespace) -> int:
    """Will the pipeline keep up at --rate orders/s on AWS, and what will it cost (offline model)."""
    from .planning.capacity_model import assess
    from .planning.cost_model import estimate
    from .planning.figures import MappingSettings, PipelineFigures
    from .planning.prices import PricesError, load_prices
    from .planning.report import capacity_report

    try:
        settings = MappingSettings(
            batch_size=args.batch_size,
            parallelization_factor=args.factor,
            batching_window_s=args.window,
            region=args.region or "us-east-1",
            min_shards=args.min_shards,
        )
        prices = load_prices(args.prices)
        figures = PipelineFigures.from_file(args.figures) if args.figures else PipelineFigures()
    except (ValueError, PricesError) as error:
        print(f"orders capacity: {error}", file=sys.stderr)
        return 2
    if prices.region != settings.region:
        print(f"orders capacity: the price file is for {prices.region}, the model for {settings.region}", file=sys.stderr)
        return 2
    verdict = assess(args.rate, figures, settings)
    source = f"measured in a run ({args.figures})" if args.figures else "defaults (no measured run fed in: --figures reports/capacity.json)"
    print(capacity_report(verdict, settings, estimate(args.rate, figures, settings, prices), source))
    return 0


# -- sandbox ------------------------------------------------------------------------------
def cmd_sandbox(args: argparse.Namespace) -> int:
    """Start, stop, clean or inspect the local sandbox."""
    from .sandbox import control

    state_dir = args.state_dir
    if args.action == "start":
        state, fresh = control.start(
            args.port,
            state_dir,
            deploy=not args.no_deploy,
            max_workers=args.max_workers,
            max_queue=args.max_queue,
            ttl_interval_s=args.ttl_interval,
            iam=args.iam,
            fresh=args.fresh,
            strict=args.strict,
        )
        print(("Sandbox started" if fresh else "Sandbox already running") + f" (pid {state.pid}) on {state.endpoint}")
        if fresh:
            print(_persistence_line(control.control(state.endpoint, "health").get("persistence", {})))
        for key in ("TableName", "TopicArn", "DlqUrl", "CreateOrderFunctionName", "ProcessOrderFunctionName"):
            if key in state.outputs:
                print(f"  {key:<26} {state.outputs[key]}")
        print("Next: make sandbox-create-order | sandbox-view-orders | sandbox-watch-sns | sandbox-dlq | sandbox-logs")
        print(f"AWS CLI: aws --endpoint-url {state.endpoint} dynamodb scan --table-name {state.outputs.get('TableName', '...')}")
        return 0
    if args.action == "stop":
        print("Sandbox stopped" if control.stop(state_dir) else "No sandbox running")
        return 0
    if args.action == "clean":
        control.stop(state_dir)
        shutil.rmtree(state_dir, ignore_errors=True)
        print(f"Sandbox stopped and {state_dir}/ removed")
        return 0
    if args.action == "snapshot":
        return _sandbox_snapshot(args.snapshot, state_dir)
    if args.action == "deploy":
        try:
            deployed = control.redeploy(state_dir)
        except control.SandboxError as error:
            print(f"deploy: {error}", file=sys.stderr)
            return 1
        print(f"Stack {deployed.stack_name} deployed from the current code into the sandbox on {deployed.endpoint}")
        return 0
    if args.action in ("clock", "iam", "chaos"):  # settings of the running sandbox
        running = control.running(state_dir)
        if running is None:
            print("No sandbox running: make sandbox-start", file=sys.stderr)
            return 1
        return _sandbox_setting(args, running.endpoint)
    current = control.running(state_dir)
    if current is None:
        print("No sandbox running")
        return 1
    print(f"Sandbox {current.status} (pid {current.pid}) on {current.endpoint}, stack {current.stack_name}")
    health = control.control(current.endpoint, "health")
    print(_persistence_line(health.get("persistence", {})))
    if health.get("warning"):
        print(f"WARNING: {health['warning']}")
    return 0


def _persistence_line(persistence: dict[str, Any]) -> str:
    """Where the sandbox keeps its state, and how old and big the last snapshot is."""
    if not persistence or persistence.get("enabled") is False:
        return "State: not kept (this sandbox runs without snapshots)"
    parts = [f"State: {persistence['path']}"]
    if persistence.get("last_at") is None:
        parts.append("no snapshot yet")
    else:
        size_mb = (persistence.get("last_size_bytes") or 0) / 1e6
        parts.append(f"last snapshot {persistence['age_s']:.0f} s ago, {size_mb:.1f} MB")
        if persistence.get("last_pause_ms") is not None:
            parts.append(f"pause {persistence['last_pause_ms']:.0f} ms")
    interval = persistence.get("interval_s") or 0
    parts.append(f"every {interval:g} s while it changes, and on stop" if interval > 0 else "on stop only")
    for key, label in (("restored_from", "restored from"), ("refused", "REFUSED"), ("last_error", "last error")):
        if persistence.get(key):
            parts.append(f"{label} {persistence[key]}")
    return "; ".join(parts)


def _sandbox_snapshot(words: list[str], state_dir: Path) -> int:
    """``orders sandbox snapshot save|load FILE``."""
    from .sandbox import control

    if len(words) != 2 or words[0] not in ("save", "load"):
        print("usage: orders sandbox snapshot save FILE | load FILE", file=sys.stderr)
        return 2
    verb, file = words[0], Path(words[1])
    try:
        if verb == "save":
            info = control.save_snapshot(file, state_dir)
            print(f"Saved the sandbox's state to {file} ({info['size_bytes'] / 1e6:.1f} MB, taken {info['taken']})")
        else:
            state = control.load_snapshot(file, state_dir)
            print(f"Loaded {file}: sandbox (pid {state.pid}) on {state.endpoint}, stack {state.stack_name}")
    except control.SandboxError as error:
        print(f"snapshot {verb}: {error}", file=sys.stderr)
        return 1
    return 0


def _sandbox_setting(args: argparse.Namespace, endpoint: str) -> int:
    """``orders sandbox clock|iam|chaos``: change (or show) one of the running sandbox's settings."""
    from .sandbox import control

    changes: dict[str, Any] = {"reset": True} if args.reset else {}
    if args.action == "clock":
        if args.advance:
            changes["advance"] = args.advance
        clock = control.control(endpoint, "clock", changes or None)
        print(
            f"sandbox clock (TTL only) {clock['offset_s'] / 86400:+.2f} days: {to_iso(datetime.fromtimestamp(clock['now'], UTC))}; "
            f"TTL sweeps every {clock['ttl_interval_s']:g} s, {clock['ttl_deleted']} item(s) expired so far"
        )
    elif args.action == "iam":
        if args.iam:
            changes["mode"] = args.iam
        print(_iam_report(control.control(endpoint, "iam", changes or None)))
    else:
        if args.sns_failure_rate is not None:
            changes["sns_publish_failure_rate"] = args.sns_failure_rate
        for option, key in ((args.delay, "function_delay_ms"), (args.crash, "function_crashes")):
            if option:
                changes[key] = {name: int(value) for name, value in (pair.split("=", 1) for pair in option)}
        print(codec.dumps(control.control(endpoint, "chaos", changes or None), indent=2))
    return 0


def _iam_report(iam: dict[str, Any]) -> str:
    lines = [
        (
            f"IAM {iam['mode']}: {iam['checked']} call(s) allowed, {iam['refused']} refused, "
            f"{iam['would_refuse']} would be refused (soft), {iam['uncertain']} not decidable exactly (allowed)"
        )
    ]
    for refusal in iam["recent"][-10:]:
        state = "refused" if refusal["enforced"] else "would refuse"
        lines.append(f"  {to_iso(datetime.fromtimestamp(refusal['at'], UTC))} {state} {refusal['function']}: {refusal['message']}")
    return "\n".join(lines)


# -- orders -----------------------------------------------------------------------------
def _prompt(label: str, default: str) -> str:
    answer = input(f"{label} [{default}]: ").strip()
    return answer or default


def _positive(text: str) -> int:
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1, got {value}")
    return value


def _interactive_request() -> dict[str, Any]:
    from .ops.orders import build_request

    print("New order (Enter keeps the default)")
    customer_id = _prompt("Customer id", "C-1001")
    name = _prompt("Customer name", "Ada Lovelace")
    email = _prompt("Email", "ada@example.com")
    items: list[tuple[str, str, int, str]] = []
    while True:
        sku = _prompt(f"Item {len(items) + 1} SKU (empty line to finish)" if items else "Item 1 SKU", "" if items else "NB-A5")
        if not sku:
            break
        items.append((sku, _prompt("  name", "Notebook A5"), int(_prompt("  quantity", "1")), _prompt("  unit price", "4.50")))
    return build_request(customer_id, name, email, items, _prompt("Currency", "EUR"))


def cmd_create_order(args: argparse.Namespace) -> int:
    """Create an order through the CreateOrder function (prompts when no flags are given)."""
    from .ops.orders import build_request, invoke_create

    ctx = Context(args)
    if args.file:
        request = codec.loads(Path(args.file).read_bytes())
    elif args.item:
        items = []
        for spec in args.item:
            parts = spec.split(":")
            if len(parts) != 4:
                print(f"--item {spec!r}: use SKU:NAME:QUANTITY:PRICE", file=sys.stderr)
                return 2
            items.append((parts[0], parts[1], int(parts[2]) if parts[2].isdigit() else parts[2], parts[3]))
        request = build_request(args.customer_id, args.name, args.email, items, args.currency, args.key)
    elif sys.stdin.isatty():
        request = _interactive_request()
    else:
        request = codec.loads(sys.stdin.buffer.read())
    result = invoke_create(ctx.client("lambda"), ctx.outputs.create_function, request)
    print(result.summary())
    return 0 if result.ok else 1


def cmd_create_bulk(args: argparse.Namespace) -> int:
    """Send many generated orders from concurrent clients at a steady rate, counting throttled requests."""
    import random

    from tqdm import tqdm

    from .ops.orders import BulkReport, create_bulk, format_table

    ctx = Context(args)
    seed = args.seed if args.seed is not None else random.randrange(1_000_000)  # fresh orders unless asked to repeat a run
    with tqdm(total=args.count, unit="req", desc="orders") as bar:

        def show(report: BulkReport) -> None:
            bar.set_postfix(report.counts(), refresh=False)  # shown by the update that follows

        report = create_bulk(
            None,
            ctx.outputs.create_function,
            args.count,
            rate_per_s=args.rate,
            clients=args.clients,
            invalid_share=args.invalid_share,
            seed=seed,
            progress=bar.update,
            on_update=show,
            client_factory=lambda: ctx.new_client("lambda"),
        )
    print(format_table([report.as_dict()]))
    for message in report.error_messages:
        print(f"error: {message}")
    print(f"seed {seed} (--seed {seed} sends the same requests again)")
    return 1 if report.errors else 0


def cmd_view_orders(args: argparse.Namespace) -> int:
    """The latest orders as a table."""
    from .ops.orders import ORDER_COLUMNS, format_table, order_rows

    ctx = Context(args)
    rows = order_rows(ctx.repository, args.limit)
    print(format_table(rows, ORDER_COLUMNS))
    print(f"\n{len(rows)} order(s) shown")
    return 0


def cmd_watch_orders(args: argparse.Namespace) -> int:
    """A live view of the latest orders until Ctrl-C."""
    from .ops.orders import ORDER_COLUMNS, format_table, order_rows, watch

    ctx = Context(args)
    try:
        for rows in watch(lambda: order_rows(ctx.repository, args.limit), args.interval, args.rounds):
            counts = {s: sum(r["status"] == s for r in rows) for s in ("NEW", "PROCESSED")}
            if sys.stdout.isatty():
                print("\033[2J\033[H", end="")
            print(f"{time.strftime('%H:%M:%S')}  NEW {counts['NEW']}  PROCESSED {counts['PROCESSED']}  (Ctrl-C to stop)")
            print(format_table(rows, ORDER_COLUMNS), flush=True)
    except KeyboardInterrupt:
        pass
    return 0


def cmd_watch_sns(args: argparse.Namespace) -> int:
    """Print ORDER_PROCESSED notifications as they arrive (until Ctrl-C or --seconds)."""
    from .ops.notifications import receive, subscribe_queue, unsubscribe

    ctx = Context(args)
    sns, sqs = ctx.client("sns"), ctx.client("sqs")
    subscription = subscribe_queue(sns, sqs, ctx.outputs.topic_arn, f"orders-watch-{int(time.time())}")
    print(f"Watching {ctx.outputs.topic_arn} (Ctrl-C to stop)", flush=True)
    deadline = time.monotonic() + args.seconds if args.seconds else None
    try:
        while deadline is None or time.monotonic() < deadline:
            for note in receive(sqs, subscription.queue_url):
                print(
                    f"{note.get('processedAt', '')}  {note.get('orderId')}  {note.get('status')}  "
                    f"{note.get('total')} {note.get('currency')}  dedup={note.get('dedupId')}",
                    flush=True,
                )
    except KeyboardInterrupt:
        pass
    finally:
        unsubscribe(sns, sqs, subscription)
    return 0


def cmd_dlq(args: argparse.Namespace) -> int:
    """Decoded DLQ records with the orders they cover; --redrive, --purge --yes."""
    from .ops import dlq
    from .ops.orders import format_table

    ctx = Context(args)
    sqs, url = ctx.client("sqs"), ctx.outputs.dlq_url
    if args.purge:
        if not args.yes:
            print("--purge deletes the DLQ's messages for good: add --yes to confirm", file=sys.stderr)
            return 2
        print(f"purged {dlq.purge(sqs, url, confirmed=True)} message(s)")
        return 0
    batches = dlq.read_batches(sqs, url)
    for batch in batches:
        batch.records = dlq.load_records(ctx.client("dynamodbstreams"), batch)
    print(format_table([b.row() for b in batches]) if batches else "The DLQ is empty.")
    if args.redrive:
        for batch in batches:
            outcome = dlq.redrive(ctx.client("lambda"), sqs, url, ctx.outputs.process_function, batch)
            print(f"redrive {batch.start_sequence[-6:]}..{batch.end_sequence[-6:]}: {outcome}")
    return 0


def cmd_alarms(args: argparse.Namespace) -> int:
    """The stack's alarms, worst first, with their state and reason; exit 1 if any is in ALARM."""
    from .ops.monitoring import alarm_rows
    from .ops.orders import format_table

    ctx = Context(args)
    names = [name for name in ctx.outputs.values.get("AlarmNames", "").split(",") if name]
    rows = alarm_rows(ctx.client("cloudwatch"), names or None)
    if not rows:
        print("No alarms: is the stack deployed with its monitoring (make deploy, make sandbox-start)?")
        return 0
    colour = sys.stdout.isatty() and not os.environ.get("NO_COLOR")
    paint = {"ALARM": "\033[31m", "OK": "\033[32m", "INSUFFICIENT_DATA": "\033[33m"}
    shown = [
        {**row, "state": f"{paint.get(row['state'], '')}{row['state']}\033[0m" if colour else row["state"], "reason": row["reason"][:120]}
        for row in rows
    ]
    print(format_table(shown))
    firing = [row["alarm"] for row in rows if row["state"] == "ALARM"]
    print(f"\n{len(firing)} in ALARM: {', '.join(firing)}" if firing else f"\nall {len(rows)} alarms quiet")
    return 1 if firing else 0


def cmd_metrics(args: argparse.Namespace) -> int:
    """The dashboard's metrics for the last --minutes, one row per --period."""
    from .ops.monitoring import metric_rows, series_for
    from .ops.orders import format_table

    ctx = Context(args)
    series = series_for(ctx.outputs, ctx.settings.stack_name)
    if args.only:
        series = [s for s in series if any(word in s.column for word in args.only)]
    rows = metric_rows(ctx.client("cloudwatch"), series, minutes=args.minutes, period_s=args.period)
    if not rows:
        print(f"No datapoints in the last {args.minutes} minute(s).")
        return 0
    shown = [
        {
            "time": row["time"].strftime("%H:%M" if args.period % 60 == 0 else "%H:%M:%S"),
            **{k: ("" if v is None else f"{v:g}") for k, v in row.items() if k != "time"},
        }
        for row in rows
    ]
    print(format_table(shown))
    return 0


def cmd_logs(args: argparse.Namespace) -> int:
    """Recent log events of the CreateOrder or ProcessOrder function."""
    from .ops.logs import format_events, recent_events

    ctx = Context(args)
    print(format_events(recent_events(ctx.client("logs"), ctx.outputs.log_group(args.function), args.minutes, args.limit)))
    return 0


def cmd_trace(args: argparse.Namespace) -> int:
    """One order's journey, oldest first: CreateOrder, the table, the stream, ProcessOrder, SNS, the DLQ, alarms."""
    from .ops.trace import TraceTarget, trace

    ctx = Context(args)
    result = trace(args.order_id, ctx.client, TraceTarget.from_outputs(ctx.outputs))
    if not result.found:
        print(f"orders trace: {args.order_id}: unknown order id (not in the table, its logs, the stream or the DLQ)", file=sys.stderr)
        return 1
    print(codec.dumps(result.to_dict(), indent=2) if args.json else result.to_table())
    return 0


def cmd_run_notebooks(args: argparse.Namespace) -> int:
    """Run every notebook with papermill into a report folder (HTML copies, charts, summary.json)."""
    from .workbook.run import NOTEBOOKS, run_all

    ctx = Context(args)
    parameters = {"target": ctx.settings.target, "stack": ctx.settings.stack_name, "endpoint": ctx.settings.endpoint_url}
    summary = run_all(args.output, parameters, tuple(args.only or NOTEBOOKS))
    print(codec.dumps(summary, indent=2))
    return 0


def cmd_demo(args: argparse.Namespace) -> int:
    """Start the sandbox, run the whole workbook on it, print a summary, stop (unless --keep)."""
    from .sandbox import control
    from .workbook.latency_figures import headline
    from .workbook.run import run_all

    # A demo describes its own run: it starts empty (the last saved state is kept as .previous).
    state, fresh = control.start(args.port, args.state_dir, deploy=False, fresh=True)
    print(f"Sandbox on {state.endpoint}: running the notebooks (deploy, orders, latency, DLQ, operations, capacity) ...", flush=True)
    try:
        summary = run_all(args.output, {"target": "sandbox", "endpoint": state.endpoint})
    finally:
        if fresh and not args.keep:
            control.stop(args.state_dir)
    print(
        f"\nOrders {summary['orders']} | processed {summary['processed']} | notified {summary['notified']} | "
        f"DLQ messages {summary['dlq_messages']}"
    )
    for label, value in headline(summary.get("latency")):
        print(f"{label}: {value}")
    iam = summary["iam"]
    print(
        f"IAM {iam['mode']}: the functions' roles allowed {iam['checked']} call(s), refused {iam['refused']}"
        + (" (orders sandbox iam lists them)" if iam["refused"] else "")
    )
    print(f"Notebook run times (s): {summary['notebooks']}")
    print(f"Reports: {args.output}/index.html (figures, charts, each notebook's report; executed notebooks beside them)")
    print("Sandbox left running: make sandbox-stop when done" if args.keep or not fresh else "Sandbox stopped (KEEP=1 leaves it running)")
    return 0


def cmd_lab(args: argparse.Namespace) -> int:
    """JupyterLab on the notebooks, bound to 127.0.0.1, with a printed token."""
    import secrets

    from .workbook.lab import lab_command, write_kernel_config, write_overrides

    token = os.environ.get("JUPYTER_TOKEN") or secrets.token_hex(16)
    write_overrides(Path(sys.prefix))
    write_kernel_config(Path(sys.prefix))
    print(f"JupyterLab: http://127.0.0.1:{args.port}/lab?token={token}", flush=True)
    os.execvp(sys.executable, lab_command(sys.executable, args.port, token))
    return 0  # not reached


def build_parser() -> argparse.ArgumentParser:
    from .sandbox.control import DEFAULT_PORT, DEFAULT_STATE_DIR

    parser = argparse.ArgumentParser(prog="orders", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--target", choices=("sandbox", "aws"), help="default: ORDERS_TARGET or sandbox")
    parser.add_argument("--stack", help="stack name (default: ORDERS_STACK or techtest-orders)")
    parser.add_argument("--endpoint", help="sandbox endpoint (default http://localhost:4566)")
    parser.add_argument("--region", help="AWS region (default: AWS_REGION or us-east-1)")
    commands = parser.add_subparsers(dest="command", required=True)

    def command(name: str, run: Any) -> argparse.ArgumentParser:
        sub = commands.add_parser(name, help=run.__doc__.splitlines()[0], description=run.__doc__)
        sub.set_defaults(run=run)
        return sub

    validate = command("validate", cmd_validate)
    validate.add_argument("file", nargs="?", default="-", help="request JSON file, or - for standard input")
    capacity = command("capacity", cmd_capacity)
    capacity.add_argument("--rate", type=_rate, required=True, help="offered orders per second")
    capacity.add_argument("--factor", type=int, default=1, help="the mapping's ParallelizationFactor, 1-10 (default 1, as deployed)")
    capacity.add_argument("--batch-size", type=int, default=10, help="the mapping's BatchSize (default 10, as deployed)")
    capacity.add_argument("--window", type=float, default=0.0, help="MaximumBatchingWindowInSeconds (default 0, as deployed)")
    capacity.add_argument("--min-shards", type=_positive, default=1, help="stream shards the table has at least (default 1)")
    capacity.add_argument("--prices", type=Path, help="price file (default: the packaged prices.yaml)")
    capacity.add_argument(
        "--figures", type=Path, help="per-order figures measured by 06_capacity (reports/capacity.json; default: the defaults)"
    )
    sandbox = command("sandbox", cmd_sandbox)
    sandbox.add_argument("action", choices=("start", "stop", "clean", "status", "deploy", "chaos", "clock", "iam", "snapshot"))
    sandbox.add_argument("snapshot", nargs="*", metavar="save|load FILE", help="snapshot: export or import the whole sandbox's state")
    sandbox.add_argument("--fresh", action="store_true", help="start: empty, not from the saved state (kept as .previous)")
    sandbox.add_argument("--strict", action="store_true", help="start: refuse to start if the saved state cannot be loaded")
    sandbox.add_argument("--port", type=int, default=DEFAULT_PORT)
    sandbox.add_argument("--state-dir", type=Path, default=DEFAULT_STATE_DIR)
    sandbox.add_argument("--no-deploy", action="store_true", help="start without deploying the stack")
    sandbox.add_argument("--max-workers", type=int, metavar="N", help="start: warm processes per function (default 2 per core, 2..8)")
    sandbox.add_argument(
        "--max-queue", type=int, metavar="N", help="start: synchronous invocations that may wait per function (default 256)"
    )
    sandbox.add_argument("--sns-failure-rate", type=float, help="chaos: share of SNS publishes that fail (0..1)")
    sandbox.add_argument("--delay", action="append", metavar="FUNCTION=MS", help="chaos: add latency to a function")
    sandbox.add_argument("--crash", action="append", metavar="FUNCTION=N", help="chaos: kill the next N invocations")
    sandbox.add_argument(
        "--reset", action="store_true", help="chaos: everything off; clock: back to the machine's time; iam: clear the counts"
    )
    sandbox.add_argument("--advance", metavar="DURATION", help="clock: let time pass for TTL (7d, 12h, 30m, 90s)")
    sandbox.add_argument("--ttl-interval", type=float, metavar="S", help="start: seconds between TTL sweeps (default 10)")
    sandbox.add_argument(
        "--iam",
        choices=("enforce", "soft", "off"),
        help="start or iam: the functions' execution roles refuse (default), only log, or are ignored",
    )
    create = command("create-order", cmd_create_order)
    create.add_argument("--file", help="request JSON file")
    create.add_argument("--customer-id", default="C-1001")
    create.add_argument("--name", default="Ada Lovelace")
    create.add_argument("--email", default="ada@example.com")
    create.add_argument("--item", action="append", metavar="SKU:NAME:QTY:PRICE")
    create.add_argument("--currency", default="EUR")
    create.add_argument("--key", help="idempotency key")
    bulk = command("create-bulk", cmd_create_bulk)
    bulk.add_argument("--count", type=int, default=100, help="requests to send (default 100)")
    bulk.add_argument(
        "--rate", type=float, default=20.0, help="requests per second, shared by all clients; 0 = as fast as they go (default 20)"
    )
    bulk.add_argument("--clients", type=_positive, default=1, help="concurrent callers (default 1)")
    bulk.add_argument("--invalid-share", type=float, default=0.0, help="share of requests with one client mistake, 0..1 (default 0)")
    bulk.add_argument("--seed", type=int, help="repeat a run's requests (default: a fresh seed, printed)")
    view = command("view-orders", cmd_view_orders)
    view.add_argument("--limit", type=int, default=20)
    watch = command("watch-orders", cmd_watch_orders)
    watch.add_argument("--limit", type=int, default=15)
    watch.add_argument("--interval", type=float, default=1.0)
    watch.add_argument("--rounds", type=int, help="stop after N refreshes")
    sns = command("watch-sns", cmd_watch_sns)
    sns.add_argument("--seconds", type=float, help="stop after N seconds")
    dead = command("dlq", cmd_dlq)
    dead.add_argument("--redrive", action="store_true", help="send the failed records through ProcessOrder again")
    dead.add_argument("--purge", action="store_true", help="delete every DLQ message (needs --yes)")
    dead.add_argument("--yes", action="store_true")
    traced = command("trace", cmd_trace)
    traced.add_argument("order_id", metavar="ORDER_ID")
    traced.add_argument("--json", action="store_true", help="the trace as JSON")
    notebooks = command("run-notebooks", cmd_run_notebooks)
    notebooks.add_argument("--output", type=Path, default=Path("reports"))
    notebooks.add_argument("--only", action="append", metavar="NAME", help="e.g. 02_create_orders (repeatable)")
    lab = command("lab", cmd_lab)
    lab.add_argument("--port", type=int, default=8888)
    demo = command("demo", cmd_demo)
    demo.add_argument("--output", type=Path, default=Path("reports"))
    demo.add_argument("--port", type=int, default=DEFAULT_PORT)
    demo.add_argument("--state-dir", type=Path, default=DEFAULT_STATE_DIR)
    demo.add_argument("--keep", action="store_true", help="leave the sandbox running afterwards")
    command("alarms", cmd_alarms)
    metrics = command("metrics", cmd_metrics)
    metrics.add_argument("--minutes", type=_positive, default=30, help="how far back (default 30)")
    metrics.add_argument(
        "--period",
        type=_positive,
        default=60,
        help="seconds per row: a multiple of 60 (default 60); 1, 5, 10, 20 or 30 for the pipeline's "
        "own high-resolution metrics (AWS/Lambda and AWS/SQS stay one row a minute)",
    )
    metrics.add_argument("--only", nargs="+", metavar="WORD", help="only the columns naming one of these (create, dlq, p99, ...)")
    logs = command("logs", cmd_logs)
    logs.add_argument("function", choices=("create", "process"))
    logs.add_argument("--minutes", type=int, default=15)
    logs.add_argument("--limit", type=int, default=100)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    from botocore.exceptions import BotoCoreError, ClientError

    from .ops.stack import StackNotFound
    from .sandbox.control import SandboxError

    args = build_parser().parse_args(argv)
    try:
        return args.run(args)
    except (StackNotFound, SandboxError) as error:
        print(f"orders: {error}", file=sys.stderr)
        return 1
    except (ClientError, BotoCoreError) as error:  # an AWS answer, not a bug: say it without a traceback
        print(f"orders: {type(error).__name__}: {error}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
