"""CloudWatch Logs filter patterns in the sandbox, row by row: the examples of AWS's "Filter
pattern syntax" page (with its sample events), the order trace's JSON pattern on Powertools
lines, Lambda's REPORT lines, and the corners (numbers against strings, missing keys, wildcards,
``&&`` over ``||``). Then the patterns refused, each naming what is wrong."""

from __future__ import annotations

import json

import pytest

from orders_lib.sandbox.logs.filter_patterns import InvalidFilterPattern, compile_pattern
from orders_lib.sandbox.logs.json_patterns import _ConditionReader, clue
from orders_lib.sandbox.logs.pattern_syntax import Scanner, read_expression

from .log_lines import CREATED, ORDER_ID, OTHER_ORDER, REPORT, START

# The docs' sample JSON events.
TRAIL = json.dumps(
    {
        "eventType": "UpdateTrail",
        "sourceIPAddress": "111.111.111.111",
        "arrayKey": ["value", "another value"],
        "objectList": [{"name": "a", "id": 1}, {"name": "b", "id": 2}],
        "SomeObject": None,
        "cluster.name": "c",
    }
)
USERS = json.dumps(
    {
        "user": {"id": 1, "email": "John.Stiles@example.com"},
        "users": [{"id": 2, "email": "John.Doe@example.com"}, {"id": 3, "email": "Jane.Doe@example.com"}],
        "actions": ["GET", "PUT", "DELETE"],
        "coordinates": [[0, 1, 2], [4, 5, 6], [7, 8, 9]],
    }
)
APACHE = '127.0.0.1 Prod frank [10/Oct/2000:13:25:15 -0700] "GET /index.html HTTP/1.0" 404 1534'
FAILED = "ERROR 09/25/2014 12:00:02 Failed to process request"
WARNING = "WARNING 09/25/2014 12:00:02 Invalid user request"
GET = "INFO 09/25/2014 12:00:00 GET /service/resource/67 1200"
POST = "INFO 09/25/2014 12:00:01 POST /service/resource/67/part/111 1310"

ROWS = [
    # -- unstructured terms ---------------------------------------------------------------
    ("", START, True),
    ("   ", REPORT, True),
    ("ERROR", "[ERROR 400] BAD REQUEST", True),
    ("ERROR", "Exiting with ERRORCODE: -1", True),  # a term is found inside a word
    ("ERROR", "[error 400] bad request", False),  # case-sensitive
    ("ERROR ARGUMENTS", "[ERROR 419] MISSING ARGUMENTS", True),
    ("ERROR ARGUMENTS", "[ERROR 400] BAD REQUEST", False),
    ("?ERROR ?ARGUMENTS", "[ERROR 400] BAD REQUEST", True),
    ("?ERROR ?ARGUMENTS", "ARGUMENTS IS THE ONLY KEYWORD IN LOG", True),
    ("?ERROR ?ARGUMENTS", "[WARN] all fine", False),
    ("?ERROR ?ARGUMENTS REQUEST", "[INFO] REQUEST FAILED", True),  # the docs: ? terms beside others are ignored
    ("?ERROR ?ARGUMENTS REQUEST", "[ERROR 419] MISSING ARGUMENTS", False),
    ('"INTERNAL SERVER ERROR"', "[ERROR 500] INTERNAL SERVER ERROR", True),
    ('"INTERNAL SERVER ERROR"', "[ERROR 500] SERVER ERROR, INTERNAL", False),
    ("ERROR -ARGUMENTS", "[ERROR 401] UNAUTHORIZED REQUEST", True),
    ("ERROR -ARGUMENTS", "[ERROR 420] INVALID ARGUMENTS", False),
    ('"ERROR" - "Exiting"', "Exiting with ERRORCODE: -1", False),
    ('" "', "[ERROR 400] BAD REQUEST", True),
    ('"RequestId:" REPORT', REPORT, True),
    ('REPORT "Max Memory Used"', START, False),
    ("?START ?END", REPORT, False),
    ("?START ?END", START, True),
    ("orderId", CREATED, True),
    # -- regular expressions -----------------------------------------------------------------
    ("%AUTHORIZED%", "[ERROR 401] UNAUTHORIZED REQUEST", True),
    (r"%^\[ERROR 4\d\d\]%", "[ERROR 419] MISSING ARGUMENTS", True),
    (r"%^\[ERROR 4\d\d\]%", "retry [ERROR 419] MISSING ARGUMENTS", False),
    (r"%Duration: \d+\.\d+ ms%", REPORT, True),
    ("%colou?r%", "the color", True),
    ("%^starting|^initializing|^shutting down%", "shutting down now", True),
    ("%^starting|^initializing|^shutting down%", "skipping initializing", False),
    ("%a{3, 5}%", "aa", False),
    ("%a{3, 5}%", "caaat", True),
    (r"%\x3A%", "a:b", True),
    # -- JSON: the order trace on Powertools lines ---------------------------------------------
    (f'{{ $.orderId = "{ORDER_ID}" }}', CREATED, True),
    (f'{{ $.orderId = "{ORDER_ID}" }}', OTHER_ORDER, False),
    (f'{{ $.orderId = "{ORDER_ID}" }}', START, False),  # a JSON pattern never matches plain text
    ('{ $.orderId = "8a0b*" }', CREATED, True),
    ('{ $.function_request_id = "c6af9ac6-*" && $.level = INFO }', CREATED, True),
    ("{ $.status_code = 201 }", CREATED, True),
    ("{ $.status_code = 2.01e2 }", CREATED, True),  # numbers compare as numbers
    ('{ $.status_code = "201" }', CREATED, True),  # text compares with the number as written
    ('{ $.status_code = "201.0" }', CREATED, False),
    ("{ $.status_code >= 400 }", CREATED, False),
    ("{ $.latency_ms < 1.3e1 }", CREATED, True),
    ("{ $.latency_ms > +1e1 }", CREATED, True),
    ("{ $.function_memory_size > 128 }", CREATED, True),  # a string holding a number
    ("{ $.level > 1 }", CREATED, False),  # a string that does not
    ('{ $.missing != "x" }', CREATED, False),  # no value node: neither = nor != holds
    ("{ $.missing NOT EXISTS }", CREATED, True),
    ("{ $.orderId NOT EXISTS }", CREATED, False),
    ("{ $.xray_trace_id NOT EXISTS }", CREATED, False),  # null is there
    ("{ $.xray_trace_id IS NULL }", CREATED, True),
    ("{ $.cold_start IS TRUE }", CREATED, True),
    ("{ $.cold_start IS FALSE }", CREATED, False),
    ('{ $.cold_start = "true" }', CREATED, False),  # a boolean is no value node
    ('{ $.items[0].sku = "SKU-1" }', CREATED, True),
    ('{ $.items[2].sku = "SKU-1" }', CREATED, False),
    ('{ $.items != "x" }', CREATED, False),  # an array is no value node
    ('{ $.items[*].sku = "SKU-2" }', CREATED, True),
    ("{ $.items[*].quantity > 2 }", CREATED, True),
    ("{ $.items[*].quantity > 3 }", CREATED, False),
    ("{ $.x NOT EXISTS }", "[1, 2]", False),  # not a JSON object
    # -- JSON: the docs' examples ----------------------------------------------------------
    ('{ $.eventType = "UpdateTrail" }', TRAIL, True),
    ('{ $.eventType != "UpdateTrail" }', TRAIL, False),
    ("{ $.eventType = *Trail }", TRAIL, True),
    ("{ $.sourceIPAddress != 123.123.* }", TRAIL, True),
    ("{ $.sourceIPAddress = 111.111.* }", TRAIL, True),
    ('{ $.arrayKey[0] = "value" }', TRAIL, True),
    ("{ $.objectList[1].id = 2 }", TRAIL, True),
    ("{ $.eventType = %Trail% }", TRAIL, True),
    ("{ $.arrayKey[*] = %val.{2}% }", TRAIL, True),
    (r"{ $.* = %111\.111\.111\.1[0-9]{1,2}% }", TRAIL, True),
    ("{ $.['cluster.name'] = \"c\" }", TRAIL, True),
    ("{ $.SomeObject IS NULL }", TRAIL, True),
    ("{ $.SomeOtherObject NOT EXISTS }", TRAIL, True),
    ('{ ($.user.id = 1) && ($.users[0].email = "John.Doe@example.com") }', USERS, True),
    ('{ $.user.email = "John.Stiles@example.com" || $.coordinates[0][1] = "nonmatch" && $.actions[2] = "nonmatch" }', USERS, True),
    ('{ ($.user.email = "John.Stiles@example.com" || $.coordinates[0][1] = "nonmatch") && $.actions[2] = "nonmatch" }', USERS, False),
    ('{ ($.user.id = 2 && $.users[0].email = "nonmatch") || $.actions[2] = "GET" }', USERS, False),
    ("{ $.coordinates[1][2] = 6 }", USERS, True),
    ("{$.foo = bar || $.foo = baz}", '{"foo": "baz"}', True),
    # -- space-delimited -------------------------------------------------------------------
    ("[w1=ERROR, w2]", FAILED, True),  # the last field takes the rest of the event
    ("[w1=ERROR]", FAILED, False),
    ("[w1=ERROR || w1=WARNING, w2]", WARNING, True),
    ("[w1=ERROR || w1=WARNING, w2]", GET, False),
    ("[w1!=ERROR && w1!=WARNING, w2]", GET, True),
    ("[w1!=ERROR && w1!=WARNING, w2]", FAILED, False),
    (r"[ip=%127\.0\.0\.[1-9]%, user, username, timestamp, request =*.html*, status_code = 4*, bytes]", APACHE, True),
    ("[..., request =*.html*, status_code = 404 || status_code = 410, bytes > 1000]", APACHE, True),
    ("[..., status_code, bytes > 2000]", APACHE, False),
    ("[ip, user, ..., status_code, bytes <= 1534]", APACHE, True),
    ('[..., request = "GET /index.html HTTP/1.0", status_code, bytes]', APACHE, True),
    ("[logLevel, date, time, method, url=%/service/resource/[0-9]+$%, response_time]", GET, True),
    ("[logLevel, date, time, method, url=%/service/resource/[0-9]+$%, response_time]", POST, False),
    ("[type=REPORT, ..., used > 64, unit=MB]", REPORT, True),
    ("[type=REPORT, label, request_id, duration_label, duration > 20, ...]", REPORT, False),
    ("[a, b, c]", "one two", False),
]


@pytest.mark.parametrize(("pattern", "message", "expected"), ROWS, ids=[f"{i}:{row[0][:50]}" for i, row in enumerate(ROWS)])
def test_a_pattern_matches_the_events_aws_says_it_matches(pattern, message, expected):
    assert compile_pattern(pattern).matches(message) is expected


REJECTED = [
    ("RequestId:", "invalid character(s) in term 'RequestId:'"),
    ("order,created", "invalid character(s) in term"),
    ("-ERROR", "excluded (-) terms only"),
    ('"unterminated', "unterminated quoted string"),
    ('"a\\nb"', "unsupported escape"),
    ('"INFO"x', "blank after a quoted phrase"),
    ("ERROR %x%", "must be the whole pattern"),
    ("%abc", "unterminated regular expression"),
    ("%something!%", "unsupported character(s) !"),
    ("%(a|b)%", "unsupported character(s) ( )"),
    (r"%\bword%", "unsupported escape"),
    ("%é%", "multi-byte"),
    ("%[a-%", "invalid regular expression"),
    ("{ $.a = 1", "must end with '}'"),
    ("{ }", "empty JSON pattern"),
    ("{ a = 1 }", "property selector starting with $."),
    ("{ $.a EXISTS }", "EXISTS is not supported"),
    ("{ $.a IS NOT NULL }", "IS NOT is not supported"),
    ("{ $.a is null }", "expected = != < <= > >=, IS TRUE|FALSE|NULL or NOT EXISTS"),
    ("{ $.a = true }", "use IS TRUE"),
    ("{ $.email = John.Doe@example.com }", "must be quoted"),
    ('{ $.a > "x" }', "compares numbers"),
    ("{ $.a = Ev*ent }", "wildcard goes at its start or end"),
    ("{ $.a[*].b[*] = 1 }", "more than one wildcard"),
    ("{ $.* = 1 || $.a[*] = 1 || $.b.* = 1 || $.c[*] = 1 }", "more than 3 wildcard"),
    ("{ $.a = %x% || $.b = %y% || $.c = %z% }", "more than 2 regular expressions"),
    ("{ $.a[*] != 1 }", "!= on the wildcard selector"),
    ("{ $.a[*] NOT EXISTS }", "NOT EXISTS on the wildcard selector"),
    ("{ $.a = 1 $.b = 2 }", "expected && or ||"),
    ("{ ($.a = 1 }", "expected ')'"),
    ("{ $.a[x] = 1 }", "expected [index]"),
    ("[a, , b]", "empty field"),
    ("[a, ..., b, ...]", "more than one ..."),
    ("[a = 1 && b = 2]", "conditions on a and b in one field"),
    ("[]", "empty space-delimited pattern"),
    ("[a, b", "must end with ']'"),
    ("ERROR " * 200, "longer than 1024"),
]


@pytest.mark.parametrize(("pattern", "reason"), REJECTED, ids=[f"{i}:{row[0][:40]}" for i, row in enumerate(REJECTED)])
def test_a_pattern_aws_rejects_or_the_sandbox_does_not_implement_is_refused_by_name(pattern, reason):
    with pytest.raises(InvalidFilterPattern) as refused:
        compile_pattern(pattern)
    assert reason in str(refused.value)
    assert str(refused.value).startswith("Invalid filter pattern: ")
    assert isinstance(refused.value, ValueError)


# -- the shortcut before parsing (json_patterns.clue) ---------------------------------------------
def clue_of(pattern):
    return clue(read_expression(Scanner(pattern, 1, len(pattern) - 1), _ConditionReader()))


@pytest.mark.parametrize(
    ("pattern", "texts"),
    [
        ('{ $.orderId = "o-1" || $.orderIds[*] = "o-1" }', {"o-1"}),
        ('{ $.a = "x*" && $.b = 5 }', {"x"}),
        ('{ $.a = 5 && $.b = "*yz*" }', {"yz"}),
        ('{ $.a = "x" || $.b != "y" }', None),  # != holds without the text
        ("{ $.a = %x% }", None),
        ('{ $.a = "*" }', None),
        ("{ $.a IS TRUE }", None),
        ('{ ($.a = "p" || $.a = "q") && $.b = "long text" }', {"long text"}),
    ],
)
def test_a_json_pattern_names_the_texts_an_event_needs(pattern, texts):
    assert clue_of(pattern) == (frozenset(texts) if texts is not None else None)


def test_the_shortcut_never_drops_an_event_the_pattern_matches():
    pattern = compile_pattern('{ $.orderId = "caf\u00e9-1" || $.orderIds[*] = "caf\u00e9-1" }')
    escaped = json.dumps({"orderId": "caf\u00e9-1"})  # ensure_ascii: written as caf\u00e9-1, the text absent
    assert "caf\u00e9-1" not in escaped and pattern.matches(escaped)
    assert pattern.matches(json.dumps({"orderIds": ["x", "caf\u00e9-1"]}, ensure_ascii=False))
    assert not pattern.matches(json.dumps({"orderId": "other"})) and not pattern.matches('{"note": "caf\u00e9-1"}')
    number = compile_pattern('{ $.code = "200" }')
    assert number.matches('{"code": 200}') and not number.matches('{"code": 201}')
