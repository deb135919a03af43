"""DistillationDashboard alone: the stage's training widgets, found by search since job names are known only at
deploy time, and the served model's AWS/Bedrock traffic when it is given one."""

from __future__ import annotations

import json

import pytest

from distill.constructs import DistillationDashboard, ProvisionedThroughput
from tests.constructs.bare import MODEL_ARN, STUDENT, flat, imported_key


def served(stack) -> DistillationDashboard:
    throughput = ProvisionedThroughput(
        stack,
        "Throughput",
        stage_name="dev",
        model_arn=MODEL_ARN,
        model_key="dev-distill-0123456789ab",
        base_model=STUDENT,
        key=imported_key(stack),
    )
    return DistillationDashboard(stack, "Dashboard", stage_name="dev", served=throughput)


@pytest.fixture(scope="module")
def bare(synth):
    return synth(lambda stack: DistillationDashboard(stack, "Dashboard", stage_name="dev"))


@pytest.fixture(scope="module")
def bare_served(synth):
    return synth(served)


def widgets(bare) -> list[dict]:
    """The dashboard's widgets, with the references in its body (Region, the served model's ARN) ``flat``."""
    return json.loads(flat(bare.resource(bare.built.dashboard)["Properties"]["DashboardBody"]))["widgets"]


@pytest.mark.parametrize("variant", ["training only", "with a served model"])
def test_cdk_nag_reports_nothing(bare, bare_served, variant):
    assert {"training only": bare, "with a served model": bare_served}[variant].findings == []


def test_one_dashboard_named_after_the_stage_with_its_training_widgets(bare):
    assert bare.counts() == {"AWS::CloudWatch::Dashboard": 1}
    assert bare.resource(bare.built.dashboard)["Properties"]["DashboardName"] == "dev-distillation"
    titles = [w["properties"]["title"] for w in widgets(bare)]
    assert titles == [
        "Training loss by job (steps spread over the training time)",
        "Final training loss",
        "Job state changes",
    ]
    (expression,) = widgets(bare)[0]["properties"]["metrics"][0]
    assert expression["expression"] == (
        "SEARCH('{BedrockDistillation,JobName,Stage} MetricName=\"TrainingLoss\" Stage=\"dev\"', 'Average', 300)"
    )


def test_a_served_model_adds_its_invocations_latency_and_errors_by_its_model_id(bare_served):
    (throughput,) = bare_served.of_type("Custom::BedrockProvisionedThroughput")
    serving = widgets(bare_served)[3:]
    assert [w["properties"]["title"] for w in serving] == [
        "Invocations",
        "Invocation latency (ms)",
        "Errors and throttles",
    ]
    metrics = [metric[:4] for widget in serving for metric in widget["properties"]["metrics"]]
    model_id = "${" + throughput + ".Arn}"
    assert metrics == [
        ["AWS/Bedrock", name, "ModelId", model_id]
        for name in (
            "Invocations",
            "InvocationLatency",
            "InvocationLatency",
            "InvocationClientErrors",
            "InvocationServerErrors",
            "InvocationThrottles",
        )
    ]
