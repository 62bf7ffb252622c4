"""The pickler's rules, each on the kind of object it exists for, and a capture made with the
sandbox's own patches to moto installed."""

from __future__ import annotations

import io
import pickle
import threading
import weakref
from collections import defaultdict

import boto3
import pytest
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, padding, rsa
from moto import mock_aws
from moto.dynamodb.models import dynamodb_backends
from moto.dynamodb.models.dynamo_type import DynamoType, Item, LimitedSizeDict
from moto.s3.models import FakeKey
from moto.ssm.models import ParameterDict

from orders_lib.sandbox import moto_core
from orders_lib.sandbox.dynamodb import moto_patches as dynamodb_patches
from orders_lib.sandbox.dynamodb.streams import CompactStreamRecord
from orders_lib.sandbox.persistence import moto_state
from orders_lib.sandbox.persistence.reductions import dumps


def round_trip(value):
    return pickle.loads(dumps(value))


class Holder:
    """Made like moto's backends: an attribute with a factory defined in ``__init__``."""

    def __init__(self):
        self.tags = defaultdict(lambda: defaultdict(dict))


def test_locks_come_back_fresh_and_of_the_same_kind():
    lock, rlock = threading.Lock(), threading.RLock()
    lock.acquire()
    condition = threading.Condition(threading.Lock())
    copy = round_trip({"lock": lock, "rlock": rlock, "condition": condition})
    assert type(copy["lock"]) is type(lock) and not copy["lock"].locked()
    assert type(copy["rlock"]) is type(rlock)
    assert type(copy["condition"]) is threading.Condition and type(vars(copy["condition"])["_lock"]) is type(lock)
    with copy["condition"]:
        copy["condition"].notify_all()


def test_a_condition_and_the_lock_it_shares_stay_shared():
    lock = threading.RLock()
    copy = round_trip({"lock": lock, "condition": threading.Condition(lock)})
    assert vars(copy["condition"])["_lock"] is copy["lock"]


@pytest.mark.parametrize(
    "make",
    [lambda: rsa.generate_private_key(65537, 2048), lambda: ec.generate_private_key(ec.SECP256R1()), ed25519.Ed25519PrivateKey.generate],
)
def test_private_and_public_keys_come_back_as_the_same_key(make):
    key = make()
    copy = round_trip({"private": key, "public": key.public_key()})
    message = b"order-1"
    if isinstance(key, rsa.RSAPrivateKey):
        copy["public"].verify(key.sign(message, padding.PKCS1v15(), hashes.SHA256()), message, padding.PKCS1v15(), hashes.SHA256())
        key.public_key().verify(
            copy["private"].sign(message, padding.PKCS1v15(), hashes.SHA256()), message, padding.PKCS1v15(), hashes.SHA256()
        )
    elif isinstance(key, ec.EllipticCurvePrivateKey):
        copy["public"].verify(key.sign(message, ec.ECDSA(hashes.SHA256())), message, ec.ECDSA(hashes.SHA256()))
    else:
        copy["public"].verify(copy["private"].sign(message), message)


class Function:
    """What Lambda's ``WeakValueDictionary`` holds: objects kept alive elsewhere in the state."""


def test_a_weak_value_dictionary_keeps_the_values_the_pickle_keeps():
    functions = [Function(), Function()]
    by_arn = weakref.WeakValueDictionary({"a": functions[0], "b": functions[1]})
    copy = round_trip({"functions": functions, "by_arn": by_arn})
    assert type(copy["by_arn"]) is weakref.WeakValueDictionary
    assert copy["by_arn"]["a"] is copy["functions"][0] and copy["by_arn"]["b"] is copy["functions"][1]


def test_a_factory_made_in_init_comes_back_as_the_same_code():
    holder = Holder()
    holder.tags["arn"]["k"]["v"] = "x"
    copy = round_trip(holder)
    assert copy.tags.default_factory.__code__ is holder.tags.default_factory.__code__
    assert copy.tags == {"arn": {"k": {"v": "x"}}}
    assert copy.tags["new"]["k"] == {}  # the factory still makes what it made


def test_a_defaultdict_subclass_keeps_its_attributes():
    parameters = ParameterDict("123456789012", "us-east-1")
    parameters["/orders/limit"].append("v1")
    copy = round_trip(parameters)
    assert type(copy) is ParameterDict and copy["/orders/limit"] == ["v1"]
    assert (copy.account_id, copy.region_name, copy.default_factory) == ("123456789012", "us-east-1", list)


def test_a_closure_is_refused_with_its_name():
    seen = []

    def remember():
        return seen

    with pytest.raises(pickle.PicklingError, match="remember"):
        dumps(defaultdict(remember))


def test_the_standard_pickler_is_left_as_it_was():
    with pytest.raises((pickle.PicklingError, TypeError, AttributeError)):
        pickle.dumps(threading.Lock())
    with pytest.raises((pickle.PicklingError, TypeError, AttributeError)):
        pickle.dumps(Holder())


@pytest.fixture
def sandbox_patches():
    """The sandbox's core patches and its DynamoDB stream records, as a sandbox has them."""
    moto_core.install()
    dynamodb_patches.install(lambda table: None)
    try:
        yield
    finally:
        dynamodb_patches.uninstall()
        moto_core.uninstall()


def test_a_capture_with_the_sandbox_patches_restores_its_stream_records_untracked(sandbox_patches):
    buffer = io.BytesIO()
    with mock_aws():
        ddb = boto3.client("dynamodb", region_name="us-east-1")
        ddb.create_table(
            TableName="orders",
            KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
            AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
            BillingMode="PAY_PER_REQUEST",
            StreamSpecification={"StreamEnabled": True, "StreamViewType": "NEW_IMAGE"},
        )
        for n in range(3):
            ddb.put_item(TableName="orders", Item={"pk": {"S": f"order-{n}"}})
        boto3.client("s3", region_name="us-east-1").create_bucket(Bucket="assets")
        boto3.client("s3", region_name="us-east-1").put_object(Bucket="assets", Key="k", Body=b"v")
        records = [r.to_json() for r in dynamodb_backends["123456789012"]["us-east-1"].get_table("orders").stream_shard.items]
        moto_state.capture(buffer, {})
    with mock_aws():
        buffer.seek(0)
        moto_state.restore(buffer)
        shard = dynamodb_backends["123456789012"]["us-east-1"].get_table("orders").stream_shard
        assert all(type(r) is CompactStreamRecord for r in shard.items)
        assert [r.to_json() for r in shard.items] == records
        assert Item.instances_tracked == []  # the sandbox's BaseModel.__new__ tracks S3's models only
        assert len(FakeKey.instances_tracked) == 1  # which S3 reads to close its keys' files on reset


def test_an_items_attributes_load_without_moto_checking_each_one_again(monkeypatch):
    item = Item(DynamoType({"S": "order-1"}), None, {"pk": {"S": "order-1"}, "lines": {"L": [{"S": "a"}] * 3}})
    payload = dumps(item)

    def refuse(self, key, value):
        raise AssertionError("LimitedSizeDict.__setitem__ sums every attribute on each call: quadratic on load")

    monkeypatch.setattr(LimitedSizeDict, "__setitem__", refuse)
    copy = pickle.loads(payload)
    assert type(copy.attrs) is LimitedSizeDict and copy.attrs == item.attrs
