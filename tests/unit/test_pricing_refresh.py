"""`distill cost --refresh-prices`: figures rewritten from the AWS Price List API, every call through Stubber."""

from __future__ import annotations

import copy
import json

import boto3
import pytest
from botocore.stub import Stubber

from distill.cli import main
from distill.operations import pricing
from tests.conftest import ROOT

TRAINING = "USW2-Llama3-3-70B-Customization-Training"
STORAGE = "USW2-Llama3-3-70B-Customization-Storage"


def product(usage_type: str, unit: str, usd: str) -> str:
    """A GetProducts PriceList item in the aws_v1 format (a JSON string), with one on-demand price dimension."""
    return json.dumps(
        {
            "product": {"sku": "SKU1", "attributes": {"usagetype": usage_type, "regionCode": "us-west-2"}},
            "terms": {
                "OnDemand": {
                    "SKU1.TERM": {"priceDimensions": {"SKU1.TERM.DIM": {"unit": unit, "pricePerUnit": {"USD": usd}}}}
                }
            },
        }
    )


def request(usage_type: str, token: str | None = None) -> dict:
    expected = {
        "ServiceCode": "AmazonBedrock",
        "Filters": [{"Type": "TERM_MATCH", "Field": "usagetype", "Value": usage_type}],
        "FormatVersion": "aws_v1",
        "MaxResults": 100,
    }
    if token:
        expected["NextToken"] = token
    return expected


def small_table() -> pricing.PriceTable:
    data = copy.deepcopy(pricing.packaged().data)
    old = {"usd": None, "source": pricing.PRICING_PAGE, "read": "2026-12-01"}
    data["regions"] = {
        "us-west-2": {
            "meta.llama3-3-70b-instruct-v1:0": {
                "training": {**old, "usageType": TRAINING},
                "storage": {**old, "usageType": STORAGE},
                "provisionedOneMonth": dict(old),
            }
        }
    }
    return pricing.PriceTable(data)


def client():
    return boto3.client("pricing", region_name="us-east-1", aws_access_key_id="x", aws_secret_access_key="x")


def test_a_known_usage_type_is_rewritten_with_todays_date_and_an_unknown_one_is_reported():
    table, pricing_client = small_table(), client()
    with Stubber(pricing_client) as stub:
        # The training price comes in two pages; per 1M tokens, so $7.50 is $0.0075 per 1,000.
        stub.add_response(
            "get_products", {"FormatVersion": "aws_v1", "PriceList": [], "NextToken": "page-2"}, request(TRAINING)
        )
        stub.add_response(
            "get_products",
            {"FormatVersion": "aws_v1", "PriceList": [product(TRAINING, "1M tokens", "7.5000000000")]},
            request(TRAINING, "page-2"),
        )
        stub.add_response("get_products", {"FormatVersion": "aws_v1", "PriceList": []}, request(STORAGE))
        report = pricing.refresh(table, pricing_client, "2026-12-02")
        stub.assert_no_pending_responses()
    assert report.updated == ["us-west-2 meta.llama3-3-70b-instruct-v1:0 training"]
    assert report.not_found == [
        f"us-west-2 meta.llama3-3-70b-instruct-v1:0 storage (AmazonBedrock usage type {STORAGE})"
    ]
    assert report.not_refreshable == ["us-west-2 meta.llama3-3-70b-instruct-v1:0 provisionedOneMonth"]
    training = table.price("us-west-2", "meta.llama3-3-70b-instruct-v1:0:128k", "training")
    assert training.usd == pytest.approx(0.0075)
    assert training.source == f"AWS Price List API (pricing:GetProducts), offer AmazonBedrock, usage type {TRAINING}"
    assert training.date == "2026-12-02"
    assert table.price("us-west-2", "meta.llama3-3-70b-instruct-v1:0", "storage").usd is None


def test_two_different_prices_for_one_usage_type_change_nothing():
    table, pricing_client = small_table(), client()
    with Stubber(pricing_client) as stub:
        listed = [product(TRAINING, "1K tokens", "0.004"), product(TRAINING, "1K tokens", "0.005")]
        stub.add_response("get_products", {"FormatVersion": "aws_v1", "PriceList": listed}, request(TRAINING))
        stub.add_response(
            "get_products",
            {"FormatVersion": "aws_v1", "PriceList": [product(STORAGE, "Month", "1.95")]},
            request(STORAGE),
        )
        report = pricing.refresh(table, pricing_client, "2026-12-02")
    assert report.updated == ["us-west-2 meta.llama3-3-70b-instruct-v1:0 storage"]
    assert table.price("us-west-2", "meta.llama3-3-70b-instruct-v1:0", "training").usd is None
    assert table.price("us-west-2", "meta.llama3-3-70b-instruct-v1:0", "storage").usd == 1.95


def test_the_command_saves_the_refreshed_table(tmp_path, capsys, monkeypatch):
    path = tmp_path / "pricing.json"
    pricing.save(small_table(), path)
    pricing_client = client()
    stub = Stubber(pricing_client)
    stub.add_response(
        "get_products",
        {"FormatVersion": "aws_v1", "PriceList": [product(TRAINING, "1K tokens", "0.0075")]},
        request(TRAINING),
    )
    stub.add_response("get_products", {"FormatVersion": "aws_v1", "PriceList": []}, request(STORAGE))
    stub.activate()
    monkeypatch.setattr(boto3, "client", lambda service, region_name: pricing_client)
    status = main(
        ["cost", "--cdk-json", str(ROOT / "cdk.json"), "--stage", "dev", "--prices", str(path), "--refresh-prices"]
    )
    assert status == 0
    saved = json.loads(path.read_text())["regions"]["us-west-2"]["meta.llama3-3-70b-instruct-v1:0"]["training"]
    assert saved["usd"] == 0.0075 and saved["read"]
    err = capsys.readouterr().err
    assert f"distill cost: {path} refreshed: 1 figure(s) from the Price List, 1 usage type(s) it does not know" in err


def test_without_credentials_the_table_is_unchanged_and_the_command_says_why(tmp_path, capsys, monkeypatch):
    for variable in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_PROFILE"):
        monkeypatch.delenv(variable, raising=False)
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "none"))
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "none"))
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")
    path = tmp_path / "pricing.json"
    pricing.save(small_table(), path)
    before = path.read_text()
    status = main(
        ["cost", "--cdk-json", str(ROOT / "cdk.json"), "--stage", "dev", "--prices", str(path), "--refresh-prices"]
    )
    assert status == 2
    assert "it needs AWS credentials allowed pricing:GetProducts. The table is unchanged." in capsys.readouterr().err
    assert path.read_text() == before
