"""The Bedrock price table (distill/data/pricing.json): look-ups that say "unknown" for a missing figure, and the
refresh of its figures from the AWS Price List API.

The table is data so that a reviewer can check every figure against its source and date. A figure the table lacks
is never guessed: ``Price.usd`` is ``None`` and every sum that needs it is unknown too.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

from distill.config.catalog import base_model_id, provider_of

PRICING_PAGE = "https://aws.amazon.com/bedrock/pricing/"
# pricing:GetProducts is served from a few Regions only; us-east-1 answers for every Region's offers.
PRICE_LIST_REGION = "us-east-1"
PRICE_LIST_OFFER = "AmazonBedrock"

THROUGHPUT_ITEMS = {
    "none": "provisionedNoCommit",
    "OneMonth": "provisionedOneMonth",
    "SixMonths": "provisionedSixMonths",
}
# A commitment term in months, and the hours it bills at most. AWS states terms in months, not hours, and bills
# Provisioned Throughput by the hour, so the hours are the longest calendar span of the term: 31 days for one month,
# 184 days (July to December) for six. An upper bound is the safe reading for a budget check.
TERM_MONTHS = {"OneMonth": 1, "SixMonths": 6}
TERM_HOURS = {"OneMonth": 31 * 24, "SixMonths": 184 * 24}

# Price List units and what one of them is in the table's unit (per 1,000 tokens, per hour, per month).
_PRICE_LIST_UNITS = {
    "1K tokens": 1.0,
    "1M tokens": 1 / 1000,
    "Hrs": 1.0,
    "Hours": 1.0,
    "hour": 1.0,
    "Month": 1.0,
    "Months": 1.0,
}
PACKAGED_TABLE = Path(__file__).resolve().parents[1] / "data" / "pricing.json"
_ARN_MODEL = re.compile(r"^arn:aws[a-z-]*:bedrock:[^:]*:[^:]*:(foundation-model|inference-profile)/(?P<id>.+)$")


@dataclass(frozen=True)
class Price:
    """One figure of the table: ``usd`` in the unit of ``item`` (see the table's "units"), or ``None`` if missing."""

    item: str
    unit: str
    usd: float | None
    source: str
    read: str
    as_of: str | None = None
    via: str | None = None
    usage_type: str | None = None
    offer: str = PRICE_LIST_OFFER
    note: str | None = None

    @property
    def known(self) -> bool:
        return self.usd is not None

    @property
    def date(self) -> str:
        """The date the figure held, per its source; the date it was read when the source gives none."""
        return self.as_of or self.read

    def to_json(self) -> dict[str, Any]:
        shown: dict[str, Any] = {
            "item": self.item,
            "usd": self.usd if self.known else "unknown",
            "unit": self.unit,
            "source": self.source,
            "priceDate": self.date,
            "read": self.read,
        }
        for key, value in (("via", self.via), ("usageType", self.usage_type), ("note", self.note)):
            if value:
                shown[key] = value
        return shown


@dataclass(frozen=True)
class EpochRange:
    low: int
    high: int
    source: str


class PriceTable:
    """The parsed table; ``data`` is the JSON document as read, which ``refresh`` updates in place."""

    def __init__(self, data: Mapping[str, Any], path: Path | None = None) -> None:
        self.data = data
        self.path = path

    @property
    def units(self) -> Mapping[str, str]:
        return self.data["units"]

    def price(self, region: str, model_id: str, item: str) -> Price:
        """The figure for ``item`` of a model (id, profile id, customizable variant or ARN) in ``region``."""
        if item not in self.units:
            raise KeyError(f"{item!r} is not a priced item; items: {', '.join(self.units)}")
        key = price_key(model_id)
        entry = self.data["regions"].get(region, {}).get(key, {}).get(item)
        if entry is None:
            return Price(
                item=item,
                unit=self.units[item],
                usd=None,
                source=PRICING_PAGE,
                read=self.data["read"],
                note=f"distill/data/pricing.json has no {item} figure for {key} in {region}",
            )
        via = entry.get("via")
        return Price(
            item=item,
            unit=self.units[item],
            usd=entry["usd"],
            source=entry["source"],
            read=entry["read"],
            as_of=entry.get("asOf"),
            via=self.data.get("copies", {}).get(via, via) if via else None,
            usage_type=entry.get("usageType"),
            offer=entry.get("offer", PRICE_LIST_OFFER),
            note=entry.get("note"),
        )

    def throughput(self, region: str, student: str, commitment: str) -> Price:
        """USD per model unit per hour of a Provisioned Throughput of a custom model of ``student``: the base
        model's price (user guide, prov-throughput.html)."""
        return self.price(region, student, THROUGHPUT_ITEMS[commitment])

    def training_epochs(self, student: str) -> EpochRange | None:
        """The epochs Bedrock may train the student for, by the student's provider; ``None`` if unknown."""
        entry = self.data["trainingEpochs"].get(provider_of(student))
        if entry is None:
            return None
        return EpochRange(low=entry["min"], high=entry["max"], source=entry["source"])


def price_key(model_id: str) -> str:
    """The table's key for a model: the foundation model id behind an ARN, profile id or customizable variant."""
    match = _ARN_MODEL.match(model_id)
    return base_model_id(match["id"] if match else model_id)


def term_cost(hourly: Price, model_units: int, commitment: str) -> float | None:
    """USD a commitment bills over its whole term for ``model_units``; ``None`` when the hourly price is unknown."""
    if hourly.usd is None:
        return None
    return hourly.usd * model_units * TERM_HOURS[commitment]


def load(path: Path = PACKAGED_TABLE) -> PriceTable:
    """Read a price table (the packaged one by default); raises ``OSError`` or ``ValueError`` if unreadable."""
    return PriceTable(json.loads(path.read_text()), path)


@cache
def packaged() -> PriceTable:
    """The packaged table, read once per process (synth checks every stage against it)."""
    return load()


@dataclass
class RefreshReport:
    """What ``refresh`` did: figures rewritten, usage types the Price List does not know, and figures without a
    usage type (which cannot be looked up and keep their source and date)."""

    updated: list[str]
    not_found: list[str]
    not_refreshable: list[str]


def refresh(table: PriceTable, client: Any, today: str) -> RefreshReport:
    """Rewrite every figure that names a usage type with the Price List's price of today.

    ``client`` is a boto3 ``pricing`` client. Each usage type is read with GetProducts (offer ``AmazonBedrock``
    unless the figure names another) filtered on ``usagetype``; a usage type that matches no product, several
    different prices, or a unit this table does not convert is reported and leaves its figure as it was.
    """
    report = RefreshReport(updated=[], not_found=[], not_refreshable=[])
    for region, models in table.data["regions"].items():
        for model, items in models.items():
            for item, entry in items.items():
                where = f"{region} {model} {item}"
                usage_type = entry.get("usageType")
                if not usage_type:
                    report.not_refreshable.append(where)
                    continue
                offer = entry.get("offer", PRICE_LIST_OFFER)
                usd = _price_list_usd(client, offer, usage_type)
                if usd is None:
                    report.not_found.append(f"{where} ({offer} usage type {usage_type})")
                    continue
                entry.clear()
                entry.update(
                    {
                        "usd": usd,
                        "source": f"AWS Price List API (pricing:GetProducts), offer {offer}, usage type {usage_type}",
                        "read": today,
                        "usageType": usage_type,
                    }
                )
                if offer != PRICE_LIST_OFFER:
                    entry["offer"] = offer
                report.updated.append(where)
    return report


def _price_list_usd(client: Any, offer: str, usage_type: str) -> float | None:
    prices: set[float] = set()
    token: str | None = None
    while True:
        request: dict[str, Any] = {
            "ServiceCode": offer,
            "Filters": [{"Type": "TERM_MATCH", "Field": "usagetype", "Value": usage_type}],
            "FormatVersion": "aws_v1",
            "MaxResults": 100,
        }
        if token:
            request["NextToken"] = token
        answer = client.get_products(**request)
        for item in answer.get("PriceList", []):
            prices.update(_on_demand_prices(json.loads(item)))
        token = answer.get("NextToken")
        if not token:
            break
    return prices.pop() if len(prices) == 1 else None


def _on_demand_prices(product: Mapping[str, Any]) -> set[float]:
    """USD prices of a Price List product's on-demand terms, converted to the table's units; a dimension in a
    unit the table does not know, or priced in another currency only, is left out."""
    found = set()
    for term in product.get("terms", {}).get("OnDemand", {}).values():
        for dimension in term.get("priceDimensions", {}).values():
            factor = _PRICE_LIST_UNITS.get(dimension.get("unit", ""))
            usd = dimension.get("pricePerUnit", {}).get("USD")
            if factor is not None and usd is not None:
                found.add(round(float(usd) * factor, 10))
    return found


def save(table: PriceTable, path: Path) -> None:
    path.write_text(json.dumps(table.data, indent=2) + "\n")
