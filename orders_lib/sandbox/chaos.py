"""Fault injection for demos and reliability tests; everything off by default."""

from __future__ import annotations

import random
import threading
from dataclasses import asdict, dataclass, field
from typing import Any


@dataclass
class Chaos:
    sns_publish_failure_rate: float = 0.0  # share of published messages that fail
    function_delay_ms: dict[str, int] = field(default_factory=dict)  # function name -> added latency
    function_crashes: dict[str, int] = field(default_factory=dict)  # function name -> invocations to kill
    crash_after_ms: int = 20  # how far into an invocation the worker is killed
    seed: int | None = None

    def __post_init__(self) -> None:
        self._lock = threading.Lock()
        self._random = random.Random(self.seed)

    def update(self, changes: dict[str, Any]) -> None:
        with self._lock:
            for key, value in changes.items():
                if key.startswith("_") or not hasattr(self, key):
                    raise ValueError(f"unknown chaos setting {key!r}; known: {', '.join(self.to_dict())}")
                setattr(self, key, value)
            if "seed" in changes:
                self._random = random.Random(self.seed)

    def reset(self) -> None:
        self.update(asdict(Chaos()))

    def to_dict(self) -> dict[str, Any]:
        return {k: v for k, v in asdict(self).items() if not k.startswith("_")}

    def fail_publish(self) -> bool:
        with self._lock:
            return self.sns_publish_failure_rate > 0 and self._random.random() < self.sns_publish_failure_rate

    def delay_s(self, function_name: str) -> float:
        return self.function_delay_ms.get(function_name, 0) / 1000

    def take_crash(self, function_name: str) -> bool:
        with self._lock:
            left = self.function_crashes.get(function_name, 0)
            if left <= 0:
                return False
            self.function_crashes[function_name] = left - 1
            return True
