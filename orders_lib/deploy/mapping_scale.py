"""The ProcessOrder stream mapping's scale levers, as the CDK app reads them: CDK context
(``-c parallelization_factor=4 -c batching_window=1``) first, then the environment
(``ORDERS_PARALLELIZATION_FACTOR``, ``ORDERS_BATCHING_WINDOW``), which also reaches the synth
the sandbox runs at its start. Unset, they keep Lambda's defaults: one batch at a time per
shard, no batching window.

Ranges are Lambda's (ParallelizationFactor 1-10, MaximumBatchingWindowInSeconds 0-300):
https://docs.aws.amazon.com/lambda/latest/dg/services-ddb-params.html
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass

# context key -> (environment variable, lowest, highest, default, what it is)
LEVERS: dict[str, tuple[str, int, int, int, str]] = {
    "parallelization_factor": ("ORDERS_PARALLELIZATION_FACTOR", 1, 10, 1, "concurrent batches per shard"),
    "batching_window": ("ORDERS_BATCHING_WINDOW", 0, 300, 0, "seconds the mapping may wait to fill a batch"),
}


class InvalidScale(ValueError):
    """A lever out of Lambda's range, or not a whole number: the message names it and what is allowed."""


@dataclass(frozen=True)
class MappingScale:
    parallelization_factor: int = 1
    batching_window_s: int = 0

    @classmethod
    def read(cls, context: Callable[[str], object], environ: Mapping[str, str] | None = None) -> MappingScale:
        """From ``context(key)`` (``app.node.try_get_context``), else the environment, else the defaults."""
        env = os.environ if environ is None else environ
        values = {key: _lever(key, context(key), env) for key in LEVERS}
        return cls(values["parallelization_factor"], values["batching_window"])


def _lever(key: str, given: object, env: Mapping[str, str]) -> int:
    variable, lowest, highest, default, meaning = LEVERS[key]
    source = f"context {key}"
    if given is None or given == "":
        given, source = env.get(variable) or None, variable
    if given is None:
        return default
    try:
        value = int(str(given))
    except ValueError:
        value = None
    if value is None or not lowest <= value <= highest:
        raise InvalidScale(f"{source}={given!r} is not allowed: {meaning}, a whole number from {lowest} to {highest} (default {default})")
    return value


def environment_fingerprint(environ: Mapping[str, str] | None = None) -> str:
    """The levers' environment variables as given, for a cache of synthesized templates."""
    env = os.environ if environ is None else environ
    return " ".join(f"{variable}={env.get(variable, '')}" for variable, *_ in LEVERS.values())
