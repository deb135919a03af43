"""The serving keys of a model: how the distilled model is served, checked at synth against what Bedrock serves and
against the stage's budget (each model's, and all the stage's models' together), before anything is bought."""

from __future__ import annotations

import copy

import pytest

from distill.config.reader import ConfigError
from distill.config.stages import ModelConfig, StageConfig, load_stages
from distill.operations import pricing

# Pairs the catalog offers, both models ACTIVE: Llama in us-west-2, Nova in us-east-1.
LLAMA = {
    "teacher": "meta.llama3-1-70b-instruct-v1:0",
    "student": "meta.llama3-1-8b-instruct-v1:0:128k",
    "trainingData": {"s3Uri": "s3://datasets/train.jsonl"},
}
NOVA = {
    "teacher": "amazon.nova-pro-v1:0",
    "student": "amazon.nova-lite-v1:0:300k",
    "trainingData": {"s3Uri": "s3://datasets/train.jsonl"},
}


def model_with(distillation: dict | None = None, serving: dict | None = None) -> dict:
    model = {}
    if distillation is not None:
        model["distillation"] = distillation
    if serving is not None:
        model["serving"] = serving
    return model


def stage_with(distillation: dict | None = None, serving: dict | None = None, **stage) -> dict:
    """Stage ``dev`` with one model, ``chat``, of these distillation and serving settings."""
    return {"region": "us-west-2", **stage, "models": {"chat": model_with(distillation, serving)}}


def parse_stage(settings: dict) -> StageConfig:
    return load_stages({"dev": settings})["dev"]


def parse(settings: dict) -> ModelConfig:
    """The model ``chat`` of stage ``dev``."""
    return parse_stage(settings).models["chat"]


def problems(settings: dict) -> list[str]:
    with pytest.raises(ConfigError) as raised:
        parse(settings)
    return raised.value.problems


def only_problem(settings: dict) -> str:
    (problem,) = problems(settings)
    return problem


def test_a_distilled_model_is_served_by_default_on_one_model_unit_without_commitment():
    serving = parse(stage_with(LLAMA)).serving
    assert serving.mode == "provisioned"
    assert serving.model_units == 1
    assert serving.commitment == "none"
    assert serving.poll_minutes == 10
    assert serving.smoke_test is True


def test_serving_without_distillation():
    assert only_problem(stage_with(serving={"mode": "none"})) == (
        "context.stages.dev.models.chat has neither distillation nor modelSource; a model is either distilled in the "
        'stage (give it "distillation") or copied from another stage ("modelSource")'
    )


def test_serving_mode():
    assert only_problem(stage_with(LLAMA, serving={"mode": "serverless"})) == (
        'context.stages.dev.models.chat.serving.mode is "serverless"; it must be one of "provisioned", "onDemand", '
        '"none"'
    )


def test_on_demand_only_for_students_that_support_it():
    assert only_problem(stage_with(LLAMA, serving={"mode": "onDemand"})) == (
        'context.stages.dev.models.chat.serving.mode is "onDemand", but on-demand custom model deployment is not '
        "offered for "
        '"meta.llama3-1-8b-instruct-v1:0:128k" in us-west-2; it is offered for amazon.nova-lite-v1:0, '
        "amazon.nova-micro-v1:0, amazon.nova-pro-v1:0 in us-east-1, us-west-2 "
        "(https://docs.aws.amazon.com/bedrock/latest/userguide/deploy-custom-model-on-demand.html, read 2026-12-01); "
        'use "provisioned"'
    )


def test_a_commitment_needs_its_acknowledgement():
    assert only_problem(stage_with(LLAMA, serving={"commitment": "SixMonths"})) == (
        'context.stages.dev.models.chat.serving.commitment is "SixMonths": a commitment is billed for its whole term '
        "and cannot "
        "be cancelled, and the Provisioned Throughput is then retained when the stack is deleted; set "
        "context.stages.dev.models.chat.serving.acknowledgeCommitment to true to confirm"
    )
    model = parse(stage_with(LLAMA, serving={"commitment": "SixMonths", "acknowledgeCommitment": True}))
    assert model.serving.commitment == "SixMonths"


def test_commitment_values():
    assert only_problem(stage_with(LLAMA, serving={"commitment": "OneYear"})) == (
        'context.stages.dev.models.chat.serving.commitment is "OneYear"; it must be one of "none", "OneMonth", '
        '"SixMonths"'
    )


def test_model_units_and_poll_minutes():
    assert only_problem(stage_with(LLAMA, serving={"modelUnits": 0})) == (
        "context.stages.dev.models.chat.serving.modelUnits is 0; it must be a whole number from 1 to 1000"
    )
    assert only_problem(stage_with(LLAMA, serving={"pollMinutes": 1})) == (
        "context.stages.dev.models.chat.serving.pollMinutes is 1; it must be a whole number from 5 to 60"
    )


def test_unknown_serving_key():
    assert only_problem(stage_with(LLAMA, serving={"units": 2})).startswith(
        "context.stages.dev.models.chat.serving.units is not a known key"
    )


@pytest.mark.parametrize("key", ["modelUnits", "commitment"])
def test_model_units_and_commitment_apply_to_provisioned_throughput_only(key):
    settings = stage_with(
        NOVA, serving={"mode": "onDemand", key: 2 if key == "modelUnits" else "none"}, region="us-east-1"
    )
    assert only_problem(settings) == (
        f'context.stages.dev.models.chat.serving.{key} applies to Provisioned Throughput only, not to "onDemand"'
    )


def test_a_legacy_student_cannot_get_a_provisioned_throughput():
    settings = stage_with(
        {**LLAMA, "teacher": "meta.llama3-1-405b-instruct-v1:0", "student": "meta.llama3-3-70b-instruct-v1:0:128k"},
        serving={"mode": "provisioned"},
    )
    assert only_problem(settings) == (
        'context.stages.dev.models.chat.serving.mode is "provisioned", but "meta.llama3-3-70b-instruct-v1:0:128k" is '
        "Legacy and "
        "Bedrock creates no new Provisioned Throughput for a Legacy model "
        "(https://docs.aws.amazon.com/bedrock/latest/userguide/model-card-meta-llama-3-3-70b-instruct.html, read "
        "2026-12-01); choose an ACTIVE student, or serve the model elsewhere"
    )


def test_a_provisioned_throughput_says_which_quotas_support_must_raise():
    serving = parse(stage_with(NOVA, serving={"modelUnits": 2}, region="us-east-1")).serving
    assert serving.model_unit_quotas == (
        "Model units no-commitment Provisioned Throughputs across custom models",
        "Model units per provisioned model for Amazon Nova Lite",
    )
    assert serving.model_unit_request() == (
        'a Provisioned Throughput of 2 model units needs AWS support to raise "Model units no-commitment Provisioned '
        'Throughputs across custom models" and "Model units per provisioned model for Amazon Nova Lite" to at least 2 '
        "(an account has 0 before asking; "
        "https://docs.aws.amazon.com/bedrock/latest/userguide/prov-thru-purchase.html, read 2026-12-01; quotas: "
        "https://docs.aws.amazon.com/general/latest/gr/bedrock.html#limits_bedrock, read 2026-12-01)"
    )
    committed = parse(
        stage_with(NOVA, serving={"commitment": "OneMonth", "acknowledgeCommitment": True}, region="us-east-1")
    ).serving
    assert committed.model_unit_quotas == ("Model units per provisioned model for Amazon Nova Lite",)
    assert parse(stage_with(NOVA, serving={"mode": "onDemand"}, region="us-east-1")).serving.model_unit_quotas == ()


@pytest.mark.parametrize(("written", "meant"), [("ondemand", "onDemand"), ("Provisioned", "provisioned")])
def test_a_serving_mode_in_the_wrong_case_gets_the_mode_meant(written, meant):
    assert only_problem(stage_with(NOVA, serving={"mode": written}, region="us-east-1")) == (
        f'context.stages.dev.models.chat.serving.mode is "{written}" (did you mean "{meant}"?); it must be one of '
        '"provisioned", '
        '"onDemand", "none"'
    )


# --- cost: the idle alarm and a commitment against the budget ---------------------------------------------------------


def test_idle_hours_default_to_a_day_and_stay_within_a_week():
    assert parse(stage_with(LLAMA)).serving.idle_hours == 24
    assert problems(stage_with(LLAMA, serving={"idleHours": 169})) == [
        "context.stages.dev.models.chat.serving.idleHours is 169; it must be a whole number from 1 to 168"
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
    return stage_with(LLAMA, serving=serving, budget={"monthlyUsd": monthly_usd})


def test_a_commitment_over_the_budget_is_refused_with_the_terms_cost(priced_throughput):
    # 2 model units x $8 x 744 hours = $11,904 against $10,000 for one month.
    assert problems(committed(acknowledge=False, monthly_usd=10_000)) == [
        'context.stages.dev.models.chat.serving.commitment is "OneMonth": a commitment is billed for its whole term '
        "and cannot "
        "be cancelled, and the Provisioned Throughput is then retained when the stack is deleted; set "
        "context.stages.dev.models.chat.serving.acknowledgeCommitment to true to confirm",
        'context.stages.dev.models.chat.serving.commitment is "OneMonth": its term costs $11,904.00 (2 model units x '
        "$8.00 per "
        "model unit-hour x 744 hours, price of 2026-11-30), more than the $10,000.00 that "
        "context.stages.dev.budget.monthlyUsd ($10,000.00) allows over 1 month; set "
        "context.stages.dev.models.chat.serving.acknowledgeCommitment to true to accept the cost, or raise "
        "context.stages.dev.budget.monthlyUsd",
    ]


def test_a_commitment_is_not_priced_in_a_region_the_stage_does_not_name(priced_throughput):
    """ "us-west2" suggests us-west-2, whose price would refuse the term; the price of a guessed Region is no ground."""
    found = problems({**committed(acknowledge=False, monthly_usd=10_000), "region": "us-west2"})
    assert len(found) == 2
    assert found[0].startswith('context.stages.dev.region is "us-west2" (did you mean "us-west-2"?)')
    assert found[1].endswith("acknowledgeCommitment to true to confirm")


def test_an_acknowledged_commitment_over_the_budget_passes(priced_throughput):
    assert parse(committed(acknowledge=True, monthly_usd=10_000)).serving.commitment == "OneMonth"


def test_a_commitment_within_the_budget_needs_only_the_acknowledgment(priced_throughput):
    (problem,) = problems(committed(acknowledge=False, monthly_usd=12_000))
    assert problem.endswith("acknowledgeCommitment to true to confirm")


def test_a_commitment_whose_price_is_unknown_cannot_be_compared():
    (problem,) = problems(committed(acknowledge=False, monthly_usd=1))
    assert problem.endswith("acknowledgeCommitment to true to confirm")


# --- all the stage's models together ----------------------------------------------------------------------------------


def two_committed(acknowledged: tuple[bool, bool], monthly_usd: float, *, units: tuple[int, int] = (1, 1)) -> dict:
    """Stage ``dev`` with models ``chat`` and ``search``, each on a OneMonth throughput of the priced student."""
    models = {}
    for name, acknowledge, count in zip(("chat", "search"), acknowledged, units, strict=True):
        serving = {"modelUnits": count, "commitment": "OneMonth"}
        if acknowledge:
            serving["acknowledgeCommitment"] = True
        models[name] = model_with(LLAMA, serving)
    return {"region": "us-west-2", "budget": {"monthlyUsd": monthly_usd}, "models": models}


def test_committed_terms_within_the_budget_each_but_over_it_together_are_refused(priced_throughput):
    # Each term: 1 model unit x $8 x 744 hours = $5,952, within $10,000; together $11,904.
    found = problems(two_committed((False, True), 10_000))
    assert found[-1] == (
        "context.stages.dev.models: the committed Provisioned Throughputs' terms cost $11,904.00 together (chat "
        "$5,952.00 (OneMonth), search $5,952.00 (OneMonth)), more than the $10,000.00 that "
        "context.stages.dev.budget.monthlyUsd ($10,000.00) allows over 1 month; set acknowledgeCommitment to true in "
        "context.stages.dev.models.chat.serving to accept the cost, or raise context.stages.dev.budget.monthlyUsd"
    )
    # The other problem is chat's missing acknowledgment, which any commitment needs; neither term alone is refused.
    assert len(found) == 2
    assert found[0].endswith("acknowledgeCommitment to true to confirm")


def test_acknowledged_committed_terms_over_the_budget_together_pass(priced_throughput):
    stage = parse_stage(two_committed((True, True), 10_000))
    assert [model.serving.commitment for model in stage.models.values()] == ["OneMonth", "OneMonth"]


def test_committed_terms_within_the_budget_together_need_only_the_acknowledgments(priced_throughput):
    found = problems(two_committed((False, False), 12_000))
    assert len(found) == 2
    assert all(problem.endswith("acknowledgeCommitment to true to confirm") for problem in found)


def test_the_model_units_of_the_stages_throughputs_are_counted_together_per_quota():
    from distill.config.serving import model_unit_needs

    stage = parse_stage(
        {
            "region": "us-east-1",
            "models": {
                "summarizer": model_with(NOVA, {"modelUnits": 2}),
                "classifier": model_with(NOVA, {"modelUnits": 1}),
                "committed": model_with(
                    NOVA, {"modelUnits": 3, "commitment": "OneMonth", "acknowledgeCommitment": True}
                ),
                "served-on-demand": model_with(NOVA, {"mode": "onDemand"}),
            },
        }
    )
    needs = model_unit_needs({name: model.serving for name, model in stage.models.items()})
    assert [(need.quota, need.units, dict(need.by_model)) for need in needs] == [
        (
            "Model units no-commitment Provisioned Throughputs across custom models",
            3,
            {"summarizer": 2, "classifier": 1},
        ),
        (
            "Model units per provisioned model for Amazon Nova Lite",
            6,
            {"summarizer": 2, "classifier": 1, "committed": 3},
        ),
    ]
    assert needs[0].request() == (
        "the stage's Provisioned Throughputs draw 3 model units from \"Model units no-commitment Provisioned "
        'Throughputs across custom models" together (summarizer 2, classifier 1); AWS support must raise it to at '
        "least 3 (an account has 0 before asking; "
        "https://docs.aws.amazon.com/bedrock/latest/userguide/prov-thru-purchase.html, read 2026-12-01; quotas: "
        "https://docs.aws.amazon.com/general/latest/gr/bedrock.html#limits_bedrock, read 2026-12-01)"
    )
