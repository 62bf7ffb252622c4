"""The codec writes only JSON that its own ``loads`` (and any other parser) reads back."""

from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from orders_lib.domain import codec

NON_FINITE = ["Infinity", "-Infinity", "NaN", "-NaN", "sNaN"]


@pytest.mark.parametrize("encode", [codec.dumps, codec.canonical])
@pytest.mark.parametrize("spelling", NON_FINITE)
def test_a_non_finite_decimal_is_refused_by_name(encode, spelling):
    with pytest.raises(ValueError, match=rf"cannot encode {spelling} as JSON: numbers must be finite"):
        encode({"order": {"items": [{"unitPrice": Decimal(spelling)}]}})


def test_the_refusal_is_the_codecs_own_value_error():
    with pytest.raises(codec.NonFiniteNumber) as caught:
        codec.dumps(Decimal("Infinity"))
    assert isinstance(caught.value, ValueError) and caught.value.value.is_infinite()


# Every spelling Decimal reads as a non-finite value: signs, case, NaN payloads.
non_finite = st.from_regex(r"(?i)[+-]?(inf|infinity|s?nan[0-9]{0,4})", fullmatch=True).map(Decimal)
json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=5) | st.decimals(allow_nan=False, allow_infinity=False, places=2),
    lambda children: st.lists(children, max_size=3) | st.dictionaries(st.text(max_size=5), children, max_size=3),
    max_leaves=8,
)


@given(non_finite, json_values)
def test_no_non_finite_decimal_is_ever_written(number, document):
    for value in (number, [document, number], {"document": document, "items": [{"unitPrice": number}]}):
        with pytest.raises(ValueError, match="numbers must be finite"):
            codec.dumps(value)


@given(st.decimals(allow_nan=False, allow_infinity=False, min_value=-(10**15), max_value=10**15))
def test_every_finite_decimal_reads_back_equal(number):
    value = codec.loads(codec.dumps({"v": number}))["v"]
    # Integral values are written as integers, others as their exact string.
    assert isinstance(value, int) if number.as_tuple().exponent >= 0 else value == str(number)
    assert Decimal(value) == number
