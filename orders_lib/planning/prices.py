"""The price file: AWS list prices, each with its source page, whether it was read there, and when.

``load_prices()`` reads the packaged ``prices.yaml`` (or another file) and refuses one with a
missing or malformed entry, naming the entry and what is wrong, so a cost is never computed from
a price nobody wrote down.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any

import yaml

PACKAGED = "prices.yaml"

# Every price the cost model asks for.
REQUIRED = (
    "lambda_requests",
    "lambda_arm_gb_seconds",
    "dynamodb_write_request_units",
    "dynamodb_read_request_units",
    "dynamodb_streams_reads_by_lambda",
    "sns_publish_requests",
    "sns_deliveries_sqs",
    "sns_deliveries_lambda",
    "sns_deliveries_http",
    "sns_deliveries_email",
    "sqs_requests",
    "kms_requests",
    "kms_key_months",
    "cloudwatch_logs_ingested_gb",
    "cloudwatch_logs_stored_gb_months",
    "cloudwatch_custom_metric_months",
    "cloudwatch_alarm_months",
    "cloudwatch_dashboard_months",
)


class PricesError(ValueError):
    """A price file that cannot be used: which file, which entry, what is wrong."""


@dataclass(frozen=True)
class Price:
    """``value`` USD for ``per`` units of ``unit``."""

    name: str
    value: float
    per: float
    unit: str
    source: str
    verified: bool
    read_on: dt.date | None
    note: str

    def cost(self, quantity: float) -> float:
        """USD for ``quantity`` units."""
        return quantity * self.value / self.per


@dataclass(frozen=True)
class PriceTable:
    region: str
    currency: str
    read_on: dt.date
    basis: str
    prices: Mapping[str, Price]
    path: str

    def __getitem__(self, name: str) -> Price:
        try:
            return self.prices[name]
        except KeyError:
            raise PricesError(f"{self.path}: no price '{name}'") from None

    def cost(self, name: str, quantity: float) -> float:
        return self[name].cost(quantity)

    def unverified(self) -> list[str]:
        return [name for name, price in self.prices.items() if not price.verified]


def load_prices(path: Path | str | None = None) -> PriceTable:
    """The price table in ``path``, or the packaged one."""
    if path is None:
        text = resources.files(__package__).joinpath(PACKAGED).read_text(encoding="utf-8")
        label = f"{__package__.replace('.', '/')}/{PACKAGED}"
    else:
        label = str(path)
        try:
            text = Path(path).read_text(encoding="utf-8")
        except OSError as error:
            raise PricesError(f"{label}: cannot read the price file ({error.strerror or error})") from error
    try:
        document = yaml.safe_load(text)
    except yaml.YAMLError as error:
        raise PricesError(f"{label}: not valid YAML ({error})") from error
    return parse_prices(document, label)


def parse_prices(document: Any, label: str = "prices") -> PriceTable:
    """Validate a loaded price document and build its table."""
    if not isinstance(document, dict):
        raise PricesError(f"{label}: expected a mapping with region, currency, read_on, basis and prices")
    for key in ("region", "currency", "basis"):
        if not isinstance(document.get(key), str) or not document[key].strip():
            raise PricesError(f"{label}: '{key}' is missing or not text")
    if document["currency"] != "USD":
        raise PricesError(f"{label}: currency must be USD, got {document['currency']!r}")
    read_on = _date(document.get("read_on"), f"{label}: 'read_on'")
    if read_on is None:
        raise PricesError(f"{label}: 'read_on' (the date the prices were read, YYYY-MM-DD) is missing")
    entries = document.get("prices")
    if not isinstance(entries, dict):
        raise PricesError(f"{label}: 'prices' is missing or not a mapping of entries")
    missing = [name for name in REQUIRED if name not in entries]
    if missing:
        raise PricesError(f"{label}: missing price entr{'y' if len(missing) == 1 else 'ies'}: {', '.join(missing)}")
    unknown = sorted(set(entries) - set(REQUIRED))
    if unknown:
        raise PricesError(
            f"{label}: unknown price entr{'y' if len(unknown) == 1 else 'ies'}: {', '.join(unknown)} (known: {', '.join(REQUIRED)})"
        )
    prices = {name: _price(name, entries[name], label) for name in REQUIRED}
    return PriceTable(document["region"], document["currency"], read_on, document["basis"], prices, label)


def _price(name: str, entry: Any, label: str) -> Price:
    where = f"{label}: entry '{name}'"
    if not isinstance(entry, dict):
        raise PricesError(f"{where}: expected a mapping (value, per, unit, source, verified, read_on, note)")
    for key in ("value", "per", "unit", "source", "verified"):
        if key not in entry:
            raise PricesError(f"{where}: missing '{key}'")
    value, per = entry["value"], entry["per"]
    if isinstance(value, bool) or not isinstance(value, int | float) or value < 0:
        raise PricesError(f"{where}: 'value' must be a number of USD, 0 or more, got {value!r}")
    if isinstance(per, bool) or not isinstance(per, int | float) or per <= 0:
        raise PricesError(f"{where}: 'per' must be a number above 0, got {per!r}")
    if not isinstance(entry["unit"], str) or not entry["unit"].strip():
        raise PricesError(f"{where}: 'unit' must say what is counted")
    source = entry["source"]
    if not isinstance(source, str) or not source.startswith("https://"):
        raise PricesError(f"{where}: 'source' must be the https:// page that publishes the price, got {source!r}")
    verified = entry["verified"]
    if not isinstance(verified, bool):
        raise PricesError(f"{where}: 'verified' must be true or false, got {verified!r}")
    read_on = _date(entry.get("read_on"), f"{where}: 'read_on'")
    note = entry.get("note") or ""
    if not isinstance(note, str):
        raise PricesError(f"{where}: 'note' must be text")
    if verified and read_on is None:
        raise PricesError(f"{where}: a verified price needs 'read_on', the date it was read on its source")
    if not verified and not note.strip():
        raise PricesError(f"{where}: an unverified price needs a 'note' saying where the figure comes from")
    return Price(name, float(value), float(per), entry["unit"], source, verified, read_on, note)


def _date(value: Any, where: str) -> dt.date | None:
    if value is None:
        return None
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    if isinstance(value, str):
        try:
            return dt.date.fromisoformat(value)
        except ValueError:
            pass
    raise PricesError(f"{where} must be a date (YYYY-MM-DD), got {value!r}")
