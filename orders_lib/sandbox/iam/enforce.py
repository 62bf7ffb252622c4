"""IAM enforced for the functions a sandbox runs: who is calling, what their role allows, and
what happens to a call it does not.

* **Who.** Each function runs with credentials of its own (``Identities``), as a Lambda execution
  environment gets its role's temporary credentials; a request signed with them is the function's
  role session ``arn:aws:sts::ACCOUNT:assumed-role/ROLE/FUNCTION``. Any other key (CLI, notebooks,
  tests) is an administrator, as the account's own user would be.
* **What.** The role's identity-based policies (inline and attached), and its permissions boundary
  when it has one, are read live at every call (``RoleSource``), so a change made through the IAM
  API applies to the next call, as it does within seconds on AWS. Parsed documents are cached by
  their text, so reading them live costs a dictionary look-up.
* **The verdict.** Every (action, resource) pair the request needs must be allowed
  (``requests.authorization_requests``). A pair that cannot be decided exactly (an operation or
  resource the sandbox does not model, a condition it cannot evaluate) is *uncertain*: it is
  allowed and reported, never guessed into a refusal AWS might not make.
* **Modes.** ``enforce`` refuses with the service's own error and AWS's message; ``soft`` logs
  "would refuse" and lets the call through; ``off`` checks nothing.
* **The tally.** Each request a function sends is counted by function and operation
  (``calls``, e.g. ``dynamodb.UpdateItem``), whatever the verdict, in ``enforce`` and ``soft``:
  the API calls the pipeline really makes, for the capacity workbook's per-order figures.

Resource-based policies (queue, topic and key policies), service control policies and session
policies are not evaluated; see the README's IAM section.
"""

from __future__ import annotations

import base64
import hashlib
import json
import logging
import re
import threading
import time
from collections import Counter, deque
from collections.abc import Callable, Iterable, Mapping
from dataclasses import asdict, dataclass, field
from enum import StrEnum
from functools import lru_cache
from typing import Any

from orders_lib.sandbox.iam.errors import denial_response
from orders_lib.sandbox.iam.evaluate import error_message, evaluate
from orders_lib.sandbox.iam.policy import Policy, PolicyError, parse_policy
from orders_lib.sandbox.iam.requests import AuthRequest, authorization_requests

LOG = logging.getLogger(__name__)
RECENT = 50  # refusals kept for the control API
_ACCESS_KEY = re.compile(r"Credential=(?P<key>[A-Z0-9]+)/")


class Mode(StrEnum):
    ENFORCE = "enforce"
    SOFT = "soft"
    OFF = "off"


@dataclass(frozen=True)
class Principal:
    """A function's role session. ``policies`` are its identity-based policies, ``boundary`` its
    permissions boundary (None: no boundary)."""

    function: str
    role_arn: str
    policies: tuple[Policy, ...]
    boundary: Policy | None = None

    @property
    def arn(self) -> str:
        account = self.role_arn.split(":")[4]
        role_name = self.role_arn.rsplit("/", 1)[-1]
        return f"arn:aws:sts::{account}:assumed-role/{role_name}/{self.function}"


# function name -> its principal, read live; None when the function is gone (then nothing is
# checked); a principal with no policies when its role is gone (then nothing is allowed)
RoleSource = Callable[[str], "Principal | None"]


@dataclass(frozen=True)
class Refusal:
    """One denied call: who, what, on which resource, the message AWS gives, and whether it was refused."""

    principal: str
    function: str
    service: str
    action: str
    resource: str
    message: str
    reason: str
    enforced: bool
    at: float = field(default_factory=time.time)


class Identities:
    """Stable per-function credentials; the access key says which function signed a request."""

    def __init__(self, account: str):
        self.account = account
        self._functions: dict[str, str] = {}
        self._lock = threading.Lock()

    def credentials(self, function: str) -> dict[str, str]:
        """The environment variables a function's runtime gets, as Lambda sets them."""
        digest = hashlib.sha256(f"{self.account}/{function}".encode()).digest()
        key = "ASIA" + base64.b32encode(digest).decode()[:16]
        with self._lock:
            self._functions[key] = function
        return {
            "AWS_ACCESS_KEY_ID": key,
            "AWS_SECRET_ACCESS_KEY": base64.b64encode(digest).decode()[:40],
            "AWS_SESSION_TOKEN": f"sandbox-session-{key}",
        }

    def function_of(self, headers: Mapping[str, str]) -> str | None:
        """The function whose credentials signed a request (``authorization`` header), or None."""
        match = _ACCESS_KEY.search(headers.get("authorization", ""))
        return self._functions.get(match.group("key")) if match else None


class Guard:
    """Decides and records: ``check_http`` for requests on the wire, ``check`` for the calls the
    sandbox makes on a function's behalf (its stream reads, on-failure records, log writes)."""

    def __init__(self, account: str, region: str, roles: RoleSource, mode: Mode | str = Mode.ENFORCE):
        self.account, self.region, self.roles = account, region, roles
        self.mode = Mode(mode)
        self.identities = Identities(account)
        self._lock = threading.Lock()
        self._recent: deque[Refusal] = deque(maxlen=RECENT)
        self.counts = {"checked": 0, "refused": 0, "would_refuse": 0, "uncertain": 0}
        self.calls: Counter[tuple[str, str]] = Counter()  # (function, "service.Operation") -> requests sent

    # -- entry points --------------------------------------------------------------
    def check_http(
        self, method: str, path: str, query: str, headers: Mapping[str, str], body: bytes
    ) -> tuple[int, list[tuple[str, str]], bytes] | None:
        """The denial to answer instead of the call, or None to let it through."""
        if self.mode is Mode.OFF:
            return None
        headers = {key.lower(): value for key, value in headers.items()}
        function = self.identities.function_of(headers)
        if function is None:
            return None
        wanted = authorization_requests(method, path, query, headers, body, account=self.account, region=self.region)
        if wanted:
            with self._lock:
                self.calls[(function, f"{wanted[0].service}.{wanted[0].operation}")] += 1
        refusal = self.check(function, wanted)
        if refusal is None:
            return None
        return denial_response(refusal.service, refusal.message, headers, path)

    def check(self, function: str, wanted: Iterable[AuthRequest]) -> Refusal | None:
        """The refusal to answer for ``function``'s call needing ``wanted``, or None to let it through.
        Every denial is recorded and logged; in soft mode none is returned."""
        if self.mode is Mode.OFF:
            return None
        principal = self.roles(function)
        for request in wanted:
            refusal = self._decide(function, principal, request)
            if refusal is not None:
                self._record(refusal)
                return refusal if refusal.enforced else None
        with self._lock:
            self.counts["checked"] += 1
        return None

    def refuses(self, function: str, action: str, resource: str) -> Refusal | None:
        """``check`` for one action the sandbox itself performs for ``function``."""
        service = action.split(":", 1)[0]
        return self.check(function, [AuthRequest(service, action.split(":", 1)[1], action, resource)])

    # -- state ---------------------------------------------------------------------
    def snapshot(self) -> dict[str, Any]:
        with self._lock:
            calls: dict[str, dict[str, int]] = {}
            for (function, operation), count in sorted(self.calls.items()):
                calls.setdefault(function, {})[operation] = count
            return {"mode": str(self.mode), **self.counts, "calls": calls, "recent": [asdict(r) for r in self._recent]}

    def set_mode(self, mode: Mode | str) -> None:
        self.mode = Mode(mode)

    def reset(self) -> None:
        with self._lock:
            self._recent.clear()
            self.counts = dict.fromkeys(self.counts, 0)
            self.calls.clear()

    # -- deciding ------------------------------------------------------------------
    def _decide(self, function: str, principal: Principal | None, request: AuthRequest) -> Refusal | None:
        service = request.service or "unknown"
        if request.action is None:
            self._uncertain(function, request, request.caveat or "no IAM action known for this request")
            return None
        if principal is None:
            # The function was deleted while a worker or its mapping's poller was still finishing:
            # nothing is left to authorize against (its mapping goes with it, as on AWS).
            return None
        decision = evaluate(principal.policies, request.action, request.resource)
        if not decision.allowed:
            if not decision.explicit_deny and (decision.unevaluated_conditions or request.caveat):
                why = "; ".join(decision.unevaluated_conditions) or request.caveat or ""
                self._uncertain(function, request, why)
                return None
            return self._refusal(function, principal.arn, service, request, decision.reason, explicit=decision.explicit_deny)
        if principal.boundary is not None:
            bounded = evaluate([principal.boundary], request.action, request.resource)
            if not bounded.allowed and not bounded.unevaluated_conditions:
                message = (
                    f"User: {principal.arn} is not authorized to perform: {request.action} on resource: "
                    f"{request.resource} because no permissions boundary allows the {request.action} action"
                )
                return self._refusal(function, principal.arn, service, request, bounded.reason, message=message)
        if decision.unevaluated_conditions:
            self._uncertain(function, request, "; ".join(decision.unevaluated_conditions))
        return None

    def _refusal(
        self,
        function: str,
        principal_arn: str,
        service: str,
        request: AuthRequest,
        reason: str,
        *,
        explicit: bool = False,
        message: str | None = None,
    ) -> Refusal:
        assert request.action is not None
        text = message or error_message(principal_arn, request.action, request.resource, explicit_deny=explicit)
        return Refusal(principal_arn, function, service, request.action, request.resource, text, reason, enforced=self.mode is Mode.ENFORCE)

    def _record(self, refusal: Refusal) -> None:
        with self._lock:
            self._recent.append(refusal)
            self.counts["refused" if refusal.enforced else "would_refuse"] += 1
        verb = "refused" if refusal.enforced else "would refuse (soft mode)"
        LOG.warning("IAM %s %s for %s: %s", verb, refusal.action, refusal.function, refusal.message)

    def _uncertain(self, function: str, request: AuthRequest, why: str) -> None:
        with self._lock:
            self.counts["uncertain"] += 1
        LOG.warning(
            "IAM cannot decide %s on %s for %s exactly (%s); allowed", request.action or request.operation, request.resource, function, why
        )


def parsed(name: str, document: str | Mapping[str, Any]) -> Policy | None:
    """A role's policy document, parsed once per distinct text; None (logged) when IAM would reject it."""
    return _parse_cached(name, document if isinstance(document, str) else json.dumps(document, sort_keys=True))


@lru_cache(maxsize=1024)
def _parse_cached(name: str, text: str) -> Policy | None:
    try:
        return parse_policy(text, name)
    except PolicyError as error:
        LOG.error("%s; it grants nothing", error)
        return None
