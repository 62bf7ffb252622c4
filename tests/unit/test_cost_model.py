"""The cost model and the price file (orders_lib.planning.cost_model, prices)."""

import copy
import datetime as dt

import pytest
import yaml

from orders_lib.planning.cost_model import SECONDS_PER_MONTH, estimate
from orders_lib.planning.figures import MappingSettings, PipelineFigures
from orders_lib.planning.prices import REQUIRED, PricesError, load_prices, parse_prices

FIGURES = PipelineFigures(create_ms=20, process_fixed_ms=50, process_per_record_ms=5, item_bytes=500)
SETTINGS = MappingSettings()


def price_document(**values):
    """A valid price document: every price 0 but those given, as (value, per)."""
    entries = {}
    for name in REQUIRED:
        value, per = values.get(name, (0, 1))
        entries[name] = {
            "value": value,
            "per": per,
            "unit": "units",
            "source": "https://example.com/pricing",
            "verified": True,
            "read_on": "2026-11-30",
        }
    return {"region": "us-east-1", "currency": "USD", "read_on": "2026-11-30", "basis": "test prices", "prices": entries}


def test_a_small_price_table_gives_the_exact_cost():
    """100 orders/s fill batches of 10 (100 ms each); 256 MB is a quarter GB."""
    prices = parse_prices(
        price_document(
            lambda_requests=(2, 1_000_000),
            lambda_arm_gb_seconds=(1, 1),
            dynamodb_write_request_units=(1, 1_000_000),
            dynamodb_read_request_units=(1, 1_000_000),
            sns_publish_requests=(1, 1_000_000),
            kms_key_months=(1, 1),
            cloudwatch_alarm_months=(0.5, 1),
        )
    )
    cost = estimate(100, FIGURES, SETTINGS, prices)
    assert cost.batch_records == pytest.approx(10)
    per_million = {line.item: line.per_million for line in cost.lines if not line.fixed}
    assert per_million["CreateOrder requests"] == pytest.approx(2)
    assert per_million["ProcessOrder requests"] == pytest.approx(0.2)
    assert per_million["CreateOrder duration (GB-s)"] == pytest.approx(0.25 * 0.020 * 1e6)
    assert per_million["ProcessOrder duration (GB-s)"] == pytest.approx(0.25 * 0.100 / 10 * 1e6)
    assert per_million["write request units"] == pytest.approx(2)  # put + update, 1 unit each
    assert per_million["read request units"] == pytest.approx(1)
    assert per_million["publish requests (64 KB chunks)"] == pytest.approx(0.1)  # one request per 10 notifications
    assert per_million["GetRecords by the Lambda trigger"] == 0
    usage = 2 + 0.2 + 5000 + 2500 + 2 + 1 + 0.1
    assert cost.usage_per_million == pytest.approx(usage)
    millions = 100 * SECONDS_PER_MONTH / 1e6
    assert cost.per_month == pytest.approx(usage * millions + 1 + 6 * 0.5)
    assert cost.per_million == pytest.approx(usage + 4 / millions)
    assert cost.by_service()["KMS"] == (pytest.approx(1), pytest.approx(1 / millions))


def test_small_batches_at_a_low_rate_cost_more_invocations_per_order():
    prices = parse_prices(price_document(lambda_requests=(1, 1_000_000)))
    slow = {line.item: line.per_million for line in estimate(10, FIGURES, SETTINGS, prices).lines}
    assert slow["ProcessOrder requests"] == pytest.approx(1 / 2.5)  # 2.5 records a batch at 10 orders/s


def test_an_unknown_delivery_protocol_is_refused():
    prices = parse_prices(price_document())
    with pytest.raises(ValueError, match="no SNS delivery price for protocol 'fax'"):
        estimate(10, PipelineFigures(sns_deliveries_per_order={"fax": 1}), SETTINGS, prices)


def test_the_packaged_price_file_is_dated_sourced_and_says_what_is_unverified():
    prices = load_prices()
    assert prices.region == "us-east-1" and prices.currency == "USD"
    assert prices.read_on == dt.date(2026, 11, 30)
    assert set(prices.prices) == set(REQUIRED)
    for price in prices.prices.values():
        assert price.source.startswith("https://")
        assert price.read_on == dt.date(2026, 11, 30) if price.verified else price.read_on is None and price.note
    assert not prices["dynamodb_streams_reads_by_lambda"].value  # Lambda's stream reads are free
    assert prices["kms_key_months"].verified


def test_prices_files_are_refused_naming_the_missing_or_malformed_entry(tmp_path):
    good = price_document()

    def refused(document, match):
        with pytest.raises(PricesError, match=match):
            parse_prices(document, "p.yaml")

    missing = copy.deepcopy(good)
    del missing["prices"]["sqs_requests"]
    refused(missing, "p.yaml: missing price entry: sqs_requests")
    cheap = copy.deepcopy(good)
    cheap["prices"]["kms_requests"]["value"] = "cheap"
    refused(cheap, "entry 'kms_requests': 'value' must be a number")
    sourceless = copy.deepcopy(good)
    del sourceless["prices"]["sns_publish_requests"]["source"]
    refused(sourceless, "entry 'sns_publish_requests': missing 'source'")
    undated = copy.deepcopy(good)
    undated["prices"]["lambda_requests"]["read_on"] = None
    refused(undated, "entry 'lambda_requests': a verified price needs 'read_on'")
    unexplained = copy.deepcopy(good)
    unexplained["prices"]["lambda_requests"]["verified"] = False
    refused(unexplained, "an unverified price needs a 'note'")
    extra = copy.deepcopy(good)
    extra["prices"]["lambda_request"] = good["prices"]["lambda_requests"]
    refused(extra, "unknown price entry: lambda_request")
    no_date = copy.deepcopy(good)
    del no_date["read_on"]
    refused(no_date, "'read_on' .* is missing")

    broken = tmp_path / "broken.yaml"
    broken.write_text("prices: [unclosed")
    with pytest.raises(PricesError, match=r"broken\.yaml: not valid YAML"):
        load_prices(broken)
    with pytest.raises(PricesError, match="cannot read the price file"):
        load_prices(tmp_path / "absent.yaml")
    written = tmp_path / "ok.yaml"
    written.write_text(yaml.safe_dump(good))
    assert load_prices(written).path == str(written)
