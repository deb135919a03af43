"""DistillationDashboard alone: the stage's job state changes, then a row per model with its job's training loss
(by the job's exact name) and its served model's AWS/Bedrock traffic."""

from __future__ import annotations

import json

import pytest

from distill.constructs import (
    DistillationDashboard,
    DistillationJob,
    ProvisionedThroughput,
    Teacher,
    TrainingDataSource,
)
from distill.constructs.dashboard import DashboardRow
from tests.constructs.bare import MODEL_ARN, STUDENT, flat, imported_bucket, imported_key, imported_role


def job(stack) -> DistillationJob:
    return DistillationJob(
        stack,
        "Job",
        stage_name="dev",
        name_prefix="dev-chat",
        teacher=Teacher.model("amazon.nova-pro-v1:0"),
        student=STUDENT,
        training_data=TrainingDataSource.from_s3_uri("s3://datasets/chat/train.jsonl"),
        output_bucket=imported_bucket(stack, "dev-output"),
        service_role=imported_role(stack, "dev-bedrock"),
        key=imported_key(stack),
    )


def rows(stack) -> DistillationDashboard:
    throughput = ProvisionedThroughput(
        stack,
        "Throughput",
        stage_name="dev",
        name_prefix="dev-chat",
        model_arn=MODEL_ARN,
        model_key="dev-chat-distill-0123456789ab",
        base_model=STUDENT,
        key=imported_key(stack),
    )
    return DistillationDashboard(
        stack,
        "Dashboard",
        stage_name="dev",
        rows=[DashboardRow("chat", job=job(stack), served=throughput), DashboardRow("copy")],
    )


@pytest.fixture(scope="module")
def bare(synth):
    return synth(lambda stack: DistillationDashboard(stack, "Dashboard", stage_name="dev"))


@pytest.fixture(scope="module")
def bare_rows(synth):
    return synth(rows)


def widgets(bare) -> list[dict]:
    """The dashboard's widgets, with the references in its body (Region, the served model's ARN) ``flat``."""
    return json.loads(flat(bare.resource(bare.built.dashboard)["Properties"]["DashboardBody"]))["widgets"]


@pytest.mark.parametrize("variant", ["no rows", "a served and a copied model"])
def test_cdk_nag_reports_nothing(bare, bare_rows, variant):
    assert {"no rows": bare, "a served and a copied model": bare_rows}[variant].findings == []


def test_one_dashboard_named_after_the_stage_with_its_job_state_changes(bare):
    assert bare.counts() == {"AWS::CloudWatch::Dashboard": 1}
    assert bare.resource(bare.built.dashboard)["Properties"]["DashboardName"] == "dev-distillation"
    (widget,) = widgets(bare)
    assert widget["properties"]["title"] == "Job state changes"
    (expression,) = widget["properties"]["metrics"][0]
    assert expression["expression"] == (
        "SEARCH('{BedrockDistillation,Stage,State} MetricName=\"JobStateChanges\" Stage=\"dev\"', 'Sum', 300)"
    )


def test_a_row_shows_its_jobs_loss_by_name_and_its_served_models_traffic_by_model_id(bare_rows):
    (throughput,) = bare_rows.of_type("Custom::BedrockProvisionedThroughput")
    job_name = bare_rows.only("Custom::BedrockDistillationJob")["Properties"]["JobName"]
    titles = [w["properties"].get("title") or w["properties"].get("markdown") for w in widgets(bare_rows)]
    assert titles == [
        "Job state changes",
        "## chat",
        "chat: training loss (steps spread over the training time)",
        "chat: final training loss",
        "chat: invocations",
        "chat: invocation latency (ms)",
        "chat: errors and throttles",
        "## copy",
    ]
    loss = widgets(bare_rows)[2]["properties"]["metrics"][0]
    assert loss[:6] == ["BedrockDistillation", "TrainingLoss", "JobName", job_name, "Stage", "dev"]
    traffic = [metric[:4] for widget in widgets(bare_rows)[4:7] for metric in widget["properties"]["metrics"]]
    model_id = "${" + throughput + ".Arn}"
    assert traffic == [
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
