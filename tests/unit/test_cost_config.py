"""The cost keys of a stage: budget.monthlyUsd, serving.idleHours, and the refusal of a commitment over budget."""

from __future__ import annotations

import copy
import json

import pytest

from distill.config.reader import ConfigError
from distill.config.stages import DEFAULT_MONTHLY_BUDGET_USD, load_stages
from distill.operations import pricing

# A pair the catalog offers in us-west-2, both models ACTIVE.
LLAMA = {
    "teacher": "meta.llama3-1-70b-instruct-v1:0",
    "student": "meta.llama3-1-8b-instruct-v1:0:128k",
    "trainingData": {"s3Uri": "s3://datasets/train.jsonl"},
}


def problems(stage: dict) -> list[str]:
    with pytest.raises(ConfigError) as raised:
        load_stages({"dev": stage})
    return raised.value.problems


def test_the_budget_defaults_for_other_stages_and_is_read_as_given():
    assert load_stages({"dev": {"region": "us-west-2"}})["dev"].budget_monthly_usd == DEFAULT_MONTHLY_BUDGET_USD == 1000
    stage = {"region": "us-west-2", "budget": {"monthlyUsd": 250.5}}
    assert load_stages({"dev": stage})["dev"].budget_monthly_usd == 250.5


def test_a_production_stage_must_name_its_budget():
    stage = {"account": "222222222222", "region": "us-west-2", "production": True}
    assert problems(stage) == [
        "context.stages.dev.budget.monthlyUsd is missing; a production stage must name its monthly budget in USD "
        "(the AWS Budgets budget on its distillation-stage tag)"
    ]


@pytest.mark.parametrize("value", [0, -5, "1000", True])
def test_a_budget_that_is_not_a_positive_number_is_refused(value):
    assert problems({"region": "us-west-2", "budget": {"monthlyUsd": value}}) == [
        f"context.stages.dev.budget.monthlyUsd is {json.dumps(value)}; it must be a number of US dollars above 0"
    ]


def test_an_unknown_budget_key_is_refused():
    assert problems({"region": "us-west-2", "budget": {"monthly": 10}}) == [
        'context.stages.dev.budget.monthly is not a known key (did you mean "monthlyUsd"?); allowed keys here: '
        "monthlyUsd"
    ]


def test_idle_hours_default_to_a_day_and_stay_within_a_week():
    stage = load_stages({"dev": {"region": "us-west-2", "distillation": LLAMA}})["dev"]
    assert stage.serving.idle_hours == 24
    assert problems({"region": "us-west-2", "distillation": LLAMA, "serving": {"idleHours": 169}}) == [
        "context.stages.dev.serving.idleHours is 169; it must be a whole number from 1 to 168"
    ]


@pytest.fixture
def priced_throughput(monkeypatch):
    """The packaged table with the student's committed throughput priced at $8 per model unit-hour."""
    data = copy.deepcopy(pricing.packaged().data)
    student = data["regions"]["us-west-2"]["meta.llama3-1-8b-instruct-v1:0"]
    student["provisionedOneMonth"] = {"usd": 8.0, "source": "https://example.test", "read": "2026-11-30"}
    monkeypatch.setattr(pricing, "packaged", lambda: pricing.PriceTable(data))


def committed(acknowledge: bool, monthly_usd: float) -> dict:
    serving = {"modelUnits": 2, "commitment": "OneMonth"}
    if acknowledge:
        serving["acknowledgeCommitment"] = True
    return {"region": "us-west-2", "distillation": LLAMA, "serving": serving, "budget": {"monthlyUsd": monthly_usd}}


def test_a_commitment_over_the_budget_is_refused_with_the_terms_cost(priced_throughput):
    # 2 model units x $8 x 744 hours = $11,904 against $10,000 for one month.
    assert problems(committed(acknowledge=False, monthly_usd=10_000)) == [
        'context.stages.dev.serving.commitment is "OneMonth": a commitment is billed for its whole term and cannot '
        "be cancelled, and the Provisioned Throughput is then retained when the stack is deleted; set "
        "context.stages.dev.serving.acknowledgeCommitment to true to confirm",
        'context.stages.dev.serving.commitment is "OneMonth": its term costs $11,904.00 (2 model units x $8.00 per '
        "model unit-hour x 744 hours, price of 2026-11-30), more than the $10,000.00 that "
        "context.stages.dev.budget.monthlyUsd ($10,000.00) allows over 1 month; set "
        "context.stages.dev.serving.acknowledgeCommitment to true to accept the cost, or raise "
        "context.stages.dev.budget.monthlyUsd",
    ]


def test_a_commitment_is_not_priced_in_a_region_the_stage_does_not_name(priced_throughput):
    """ "us-west2" suggests us-west-2, whose price would refuse the term; the price of a guessed Region is no ground."""
    found = problems({**committed(acknowledge=False, monthly_usd=10_000), "region": "us-west2"})
    assert len(found) == 2
    assert found[0].startswith('context.stages.dev.region is "us-west2" (did you mean "us-west-2"?)')
    assert found[1].endswith("acknowledgeCommitment to true to confirm")


def test_an_acknowledged_commitment_over_the_budget_passes(priced_throughput):
    assert load_stages({"dev": committed(acknowledge=True, monthly_usd=10_000)})["dev"].serving.commitment == "OneMonth"


def test_a_commitment_within_the_budget_needs_only_the_acknowledgment(priced_throughput):
    (problem,) = problems(committed(acknowledge=False, monthly_usd=12_000))
    assert problem.endswith("acknowledgeCommitment to true to confirm")


def test_a_commitment_whose_price_is_unknown_cannot_be_compared():
    (problem,) = problems(committed(acknowledge=False, monthly_usd=1))
    assert problem.endswith("acknowledgeCommitment to true to confirm")
