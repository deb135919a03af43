"""The budget of a stage, budget.monthlyUsd (a commitment over it is a serving check, in test_serving_config)."""

from __future__ import annotations

import json

import pytest

from distill.config.reader import ConfigError
from distill.config.stages import DEFAULT_MONTHLY_BUDGET_USD, load_stages


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
