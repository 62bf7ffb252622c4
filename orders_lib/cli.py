"""``orders``: the command line behind the Makefile targets."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path

from .domain import codec
from .domain.validation import ValidationFailed, parse_body, validate_order_request


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


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="orders", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)
    validate = commands.add_parser("validate", help=cmd_validate.__doc__)
    validate.add_argument("file", nargs="?", default="-", help="request JSON file, or - for standard input")
    validate.set_defaults(run=cmd_validate)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    return args.run(args)


if __name__ == "__main__":
    sys.exit(main())
