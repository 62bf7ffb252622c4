"""The pickler for moto's state: a rule for each kind of object moto 5.2.x keeps that the
standard pickler refuses or would copy wrongly. The rules live on ``StatePickler`` (its
``reducer_override``); moto's classes and ``copyreg.dispatch_table`` are left as they are.

* Locks (``threading.Lock``, ``RLock``): a fresh, unlocked one of the same kind (ECR's registry
  scanning lock, the per-queue lock of SQS). A snapshot is taken with requests held back, and in
  a forked child a lock may have been copied while a thread of the parent held it.
* ``threading.Condition`` (each SQS queue's ``_messages_lock``, what long polls wait on): a fresh
  condition over its lock pickled by the rule above; its waiters belong to the old process.
* Private and public keys of ``cryptography`` (each KMS key holds an RSA or EC private key, also
  reached through the CloudFormation stack that made the key): their DER bytes (PKCS #8,
  SubjectPublicKeyInfo) and the loader (``load_private_key``).
* ``weakref.WeakValueDictionary`` (Lambda's function and layer lookups by ARN): rebuilt from its
  live items, which the same pickle keeps alive elsewhere (the function's versions).
* ``collections.defaultdict`` and its subclasses: made with ``cls.__new__``, given the same
  factory, then their items and attributes. The standard reduction calls ``cls(factory)``,
  which SSM's ``ParameterDict(account_id, region_name)`` refuses, and drops a subclass's
  attributes.
* A function defined inside another one without a closure, such as the ``lambda: {}`` factory of
  Lambda's aliases and the ``lambda: defaultdict(dict)`` of SSM's resource tags, made in the
  ``__init__`` of their backends: pickled as (module, qualified name, first line) and rebuilt at
  load from that code object of the function that makes it. The same code, not an equivalent.
* DynamoDB's ``LimitedSizeDict`` (an item's attributes): its ``__setitem__`` sums the size of
  every attribute already there to refuse an item over 400 KB, so loading one attribute at a
  time was quadratic (0.9 of the 1.5 s a 1,000-order load took). Filled with ``dict.update``:
  the item passed that check when it was written, as moto's own ``Item.__deepcopy__`` reasons.
* moto's registries (``BackendDict``) and their per-account holders, wherever a model refers to
  one: a reference to the live object in the loading process, never a copy beside it. No model
  of the deployed stack's state does; the rule keeps a copy from appearing if one ever does.
"""

from __future__ import annotations

import functools
import importlib
import io
import pickle
import threading
import types
import weakref
from collections import defaultdict
from collections.abc import Callable
from typing import Any

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import dsa, ec, ed448, ed25519, rsa, x448, x25519
from moto.core.base_backend import AccountSpecificBackend, BackendDict
from moto.dynamodb.models.dynamo_type import LimitedSizeDict

from orders_lib.sandbox.persistence import registries

Reduction = Any  # a tuple as ``__reduce__`` returns it, or NotImplemented
Rule = Callable[[Any], Reduction]

PRIVATE_KEYS = (
    rsa.RSAPrivateKey,
    ec.EllipticCurvePrivateKey,
    dsa.DSAPrivateKey,
    ed25519.Ed25519PrivateKey,
    ed448.Ed448PrivateKey,
    x25519.X25519PrivateKey,
    x448.X448PrivateKey,
)
PUBLIC_KEYS = (
    rsa.RSAPublicKey,
    ec.EllipticCurvePublicKey,
    dsa.DSAPublicKey,
    ed25519.Ed25519PublicKey,
    ed448.Ed448PublicKey,
    x25519.X25519PublicKey,
    x448.X448PublicKey,
)


def _lock(_: Any) -> Reduction:
    return (threading.Lock, ())


def _rlock(_: Any) -> Reduction:
    return (threading.RLock, ())


def _condition(condition: threading.Condition) -> Reduction:
    return (threading.Condition, (vars(condition)["_lock"],))


def _private_key(key: Any) -> Reduction:
    der = key.private_bytes(serialization.Encoding.DER, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    return (load_private_key, (der,))


def _public_key(key: Any) -> Reduction:
    return (load_public_key, (key.public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo),))


def load_private_key(der: bytes) -> Any:
    """Without the RSA key check (~0.1 s a key): the key was made by ``cryptography`` in the
    process that wrote the snapshot, and a snapshot is trusted already (it is a pickle)."""
    return serialization.load_der_private_key(der, password=None, unsafe_skip_rsa_key_validation=True)


def load_public_key(der: bytes) -> Any:
    return serialization.load_der_public_key(der)


def _weak_values(mapping: weakref.WeakValueDictionary[Any, Any]) -> Reduction:
    return (weakref.WeakValueDictionary, (), None, None, iter(list(mapping.items())))


def _defaultdict(mapping: defaultdict[Any, Any]) -> Reduction:
    attributes = getattr(mapping, "__dict__", None) or None
    return (new_defaultdict, (type(mapping), mapping.default_factory), attributes, None, iter(mapping.items()))


def new_defaultdict(kind: type[defaultdict[Any, Any]], factory: Callable[[], Any] | None) -> defaultdict[Any, Any]:
    mapping = kind.__new__(kind)
    defaultdict.__init__(mapping, factory)
    return mapping


def _function(function: types.FunctionType) -> Reduction:
    if "<locals>" not in function.__qualname__:
        return NotImplemented  # the standard pickler's reference by module and name
    code = function.__code__
    where = (function.__module__, code.co_qualname, code.co_firstlineno)
    if function.__closure__ or function.__defaults__ or function.__kwdefaults__ or code_at(*where) is not code:
        raise pickle.PicklingError(f"{where[0]}.{where[1]} (line {where[2]}) cannot be rebuilt from its code alone: no rule for it")
    return (function_at, where)


def function_at(module: str, qualname: str, line: int) -> types.FunctionType:
    code = code_at(module, qualname, line)
    if code is None:
        raise pickle.UnpicklingError(f"{module}.{qualname} (line {line}) is not in this version of {module}")
    return types.FunctionType(code, vars(importlib.import_module(module)))


@functools.cache
def code_at(module: str, qualname: str, line: int) -> types.CodeType | None:
    """The code object of a local function: found in the code of the function that defines it."""
    owner: Any = importlib.import_module(module)
    for part in qualname.split(".<locals>.")[0].split("."):
        owner = getattr(owner, part, None)
    code = getattr(getattr(owner, "__func__", owner), "__code__", None)
    return _find(code, qualname, line) if isinstance(code, types.CodeType) else None


def _find(code: types.CodeType, qualname: str, line: int) -> types.CodeType | None:
    if code.co_qualname == qualname and code.co_firstlineno == line:
        return code
    for constant in code.co_consts:
        if isinstance(constant, types.CodeType) and (found := _find(constant, qualname, line)):
            return found
    return None


def _plain_items(mapping: dict[Any, Any]) -> Reduction:
    return (new_filled, (type(mapping), dict(mapping)), getattr(mapping, "__dict__", None) or None)


def new_filled(kind: type[dict[Any, Any]], items: dict[Any, Any]) -> dict[Any, Any]:
    mapping = kind.__new__(kind)
    dict.update(mapping, items)
    return mapping


def _registry(registry: Any) -> Reduction:
    return (registries.live, (registries.name_of(registry),))


def _holder(holder: Any) -> Reduction:
    return (live_holder, registries.holder_named(holder))


def live_holder(registry_name: str, account: str) -> Any:
    return registries.live(registry_name)[account]


_EXACT: dict[type, Rule] = {
    type(threading.Lock()): _lock,
    type(threading.RLock()): _rlock,
    threading._PyRLock: _rlock,  # type: ignore[attr-defined]  # the pure-Python RLock, where the C one is missing
    threading.Condition: _condition,
    weakref.WeakValueDictionary: _weak_values,
    LimitedSizeDict: _plain_items,
    types.FunctionType: _function,
}
_SUBCLASSES: tuple[tuple[type | tuple[type, ...], Rule], ...] = (
    (defaultdict, _defaultdict),
    (PRIVATE_KEYS, _private_key),
    (PUBLIC_KEYS, _public_key),
    (BackendDict, _registry),
    (AccountSpecificBackend, _holder),
)
_RULES: dict[type, Rule | None] = {}  # each type's rule, decided once


def rule_for(kind: type) -> Rule | None:
    try:
        return _RULES[kind]
    except KeyError:
        rule = _EXACT.get(kind) or next((rule for bases, rule in _SUBCLASSES if issubclass(kind, bases)), None)
        _RULES[kind] = rule
        return rule


class StatePickler(pickle.Pickler):
    """``pickle.Pickler`` (the C one) with the rules above; anything else as the standard pickler does."""

    def reducer_override(self, obj: Any) -> Reduction:
        rule = rule_for(type(obj))
        return NotImplemented if rule is None else rule(obj)


def dumps(obj: Any, protocol: int = 5) -> bytes:
    """``obj`` pickled with the rules (tests, and small values)."""
    buffer = io.BytesIO()
    StatePickler(buffer, protocol).dump(obj)
    return buffer.getvalue()
