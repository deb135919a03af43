"""The metrics publisher: a state-change datum for every event, and a completed job's loss curve from its CSV.

The events are shaped as the sample "Model Customization Job State Change" event of the Bedrock user guide
(monitoring-eventbridge-how-it-works.html, read 2026-12-01), with made-up ids: its jobArn is in the short form
model-customization-job/<id>, so the job is looked up by its name, and the metrics file is found from the ARN that
GetModelCustomizationJob gives.
"""

from __future__ import annotations

import copy
import csv
import io
import logging
from datetime import UTC, datetime

import pytest
from botocore.response import StreamingBody
from botocore.stub import Stubber

from distill.constructs import job_output
from tests.conftest import FIXTURES
from tests.handlers.conftest import event, load_handler

JOB_ARN = (
    "arn:aws:bedrock:us-west-2:123456789012:model-customization-job/meta.llama3-1-8b-instruct-v1:0:128k/k3x9q2w7e5r1"
)
BUCKET = "sandbox-distillation-fou-storageoutput-7g8h9i0j1k2l"
KEY = "distillation-output/model-customization-job-k3x9q2w7e5r1/training_artifacts/step_wise_training_metrics.csv"


def test_the_key_the_publisher_reads_is_the_job_output_layout_the_package_derives():
    """The handler cannot import the package, so it repeats the layout; the tests that follow stub S3 with KEY."""
    module = load_handler("training_metrics_publisher")
    assert module.TRAINING_METRICS_PATH == job_output.TRAINING_METRICS_PATH
    assert f"{job_output.OUTPUT_PREFIX}{job_output.job_output_folder(JOB_ARN)}{job_output.TRAINING_METRICS_PATH}" == KEY


JOB_NAME = "sandbox-distill-3aa7f4218eee"
TRAINING_START = datetime(2026, 11, 28, 11, 30, 1, tzinfo=UTC)
TRAINING_END = datetime(2026, 11, 28, 14, 2, 0, tzinfo=UTC)
JOB_START = datetime(2026, 11, 28, 6, 40, 3, tzinfo=UTC)
JOB_END = datetime(2026, 11, 28, 14, 2, 9, tzinfo=UTC)
DIMENSIONS = [{"Name": "Stage", "Value": "sandbox"}, {"Name": "JobName", "Value": JOB_NAME}]
COMPLETED_JOB = {
    "jobArn": JOB_ARN,
    "jobName": JOB_NAME,
    "outputModelName": JOB_NAME,
    "outputModelArn": (
        "arn:aws:bedrock:us-west-2:123456789012:custom-model/meta.llama3-1-8b-instruct-v1:0:128k/m4o8d2e6l0a3"
    ),
    "roleArn": "arn:aws:iam::123456789012:role/sandbox-distillation-fou-ServiceRoleD777F2A1-1F2E3D4C5B6A",
    "status": "Completed",
    "statusDetails": {
        "validationDetails": {
            "status": "Completed",
            "creationTime": datetime(2026, 11, 28, 6, 40, 5, tzinfo=UTC),
            "lastModifiedTime": datetime(2026, 11, 28, 6, 52, 10, tzinfo=UTC),
        },
        "dataProcessingDetails": {
            "status": "Completed",
            "creationTime": datetime(2026, 11, 28, 6, 52, 11, tzinfo=UTC),
            "lastModifiedTime": datetime(2026, 11, 28, 11, 30, 0, tzinfo=UTC),
        },
        "trainingDetails": {"status": "Completed", "creationTime": TRAINING_START, "lastModifiedTime": TRAINING_END},
    },
    "creationTime": JOB_START,
    "lastModifiedTime": JOB_END,
    "endTime": JOB_END,
    "baseModelArn": "arn:aws:bedrock:us-west-2::foundation-model/meta.llama3-1-8b-instruct-v1:0:128k",
    "trainingDataConfig": {
        "s3Uri": "s3://sandbox-distillation-fou-storagetrainingdata-3m4n5o6p7q8r/training/data.jsonl"
    },
    "validationDataConfig": {"validators": []},
    "outputDataConfig": {"s3Uri": f"s3://{BUCKET}/distillation-output/"},
    "customizationType": "DISTILLATION",
}


class Length:
    """Matches a list of exactly ``count`` items, for checking how PutMetricData calls are batched."""

    def __init__(self, count: int) -> None:
        self.count = count

    def __eq__(self, other: object) -> bool:
        return isinstance(other, list) and len(other) == self.count

    def __ne__(self, other: object) -> bool:
        return not self == other

    __hash__ = None


@pytest.fixture
def handler(monkeypatch, stub):
    monkeypatch.setenv("STAGE", "sandbox")
    monkeypatch.setenv("NAMESPACE", "BedrockDistillation")
    monkeypatch.setenv("OUTPUT_S3_URI", f"s3://{BUCKET}/distillation-output/")
    module = load_handler("training_metrics_publisher")
    module.stubs = (stub(module.bedrock), stub(module.s3), stub(module.cloudwatch))
    return module


def state_datum(state: str) -> dict:
    return {
        "MetricName": "JobStateChanges",
        "Dimensions": [{"Name": "Stage", "Value": "sandbox"}, {"Name": "State", "Value": state}],
        "Value": 1,
        "Unit": "Count",
    }


def expect_job(bedrock: Stubber, job: dict = COMPLETED_JOB) -> None:
    bedrock.add_response("get_model_customization_job", job, {"jobIdentifier": JOB_NAME})


def expect_csv(s3: Stubber, body: bytes | None) -> None:
    if body is None:
        s3.add_client_error("get_object", "NoSuchKey", "The specified key does not exist.", 404)
        return
    s3.add_response("get_object", {"Body": StreamingBody(io.BytesIO(body), len(body))}, {"Bucket": BUCKET, "Key": KEY})


def expect_put(cloudwatch: Stubber, data) -> None:
    cloudwatch.add_response("put_metric_data", {}, {"Namespace": "BedrockDistillation", "MetricData": data})


def loss_datum(name: str, value: float, timestamp: datetime) -> dict:
    return {"MetricName": name, "Dimensions": DIMENSIONS, "Value": value, "Unit": "None", "Timestamp": timestamp}


def test_a_completed_job_publishes_its_loss_curve_over_the_training_time(handler):
    bedrock, s3, cloudwatch = handler.stubs
    body = (FIXTURES / "metrics" / "step_wise_training_metrics.csv").read_bytes()
    rows = list(csv.DictReader(io.StringIO(body.decode())))
    step = (TRAINING_END - TRAINING_START) / 44
    expected = []
    for index, row in enumerate(rows):
        moment = TRAINING_START + step * index
        expected.append(loss_datum("TrainingLoss", float(row["training_loss"]), moment))
        expected.append(loss_datum("Perplexity", float(row["perplexity"]), moment))
    expected.append(loss_datum("FinalTrainingLoss", 0.342156, TRAINING_END))
    expected.append(state_datum("Completed"))
    expect_job(bedrock)
    expect_csv(s3, body)
    expect_put(cloudwatch, expected)
    assert handler.handler(event("job_state_change_completed"), None) == 92
    assert expected[0]["Timestamp"] == TRAINING_START
    assert expected[-4]["Timestamp"] == TRAINING_END


def test_the_job_is_read_by_its_name_and_its_metrics_by_the_arn_bedrock_gives(handler):
    """The event's jobArn is the short form, which GetModelCustomizationJob and the output folder do not use."""
    bedrock, s3, cloudwatch = handler.stubs
    completed = event("job_state_change_completed")
    assert (
        completed["detail"]["jobArn"] == "arn:aws:bedrock:us-west-2:123456789012:model-customization-job/k3x9q2w7e5r1"
    )
    expect_job(bedrock)
    expect_csv(s3, b"step_number,epoch_number,training_loss\n0,1,0.5\n")
    expect_put(
        cloudwatch,
        [
            loss_datum("TrainingLoss", 0.5, TRAINING_END),
            loss_datum("FinalTrainingLoss", 0.5, TRAINING_END),
            state_datum("Completed"),
        ],
    )
    assert handler.handler(completed, None) == 3


def test_without_phase_times_the_steps_spread_over_the_whole_job(handler):
    bedrock, s3, cloudwatch = handler.stubs
    job = copy.deepcopy(COMPLETED_JOB)
    del job["statusDetails"]
    body = b"step_number,epoch_number,training_loss\n0,1,2.5\n1,1,1.5\n2,2,1.0\n"
    midway = JOB_START + (JOB_END - JOB_START) / 2
    expect_job(bedrock, job)
    expect_csv(s3, body)
    expect_put(
        cloudwatch,
        [
            loss_datum("TrainingLoss", 2.5, JOB_START),
            loss_datum("TrainingLoss", 1.5, midway),
            loss_datum("TrainingLoss", 1.0, JOB_END),
            loss_datum("FinalTrainingLoss", 1.0, JOB_END),
            state_datum("Completed"),
        ],
    )
    assert handler.handler(event("job_state_change_completed"), None) == 5


def test_large_curves_are_sent_in_batches_of_1000(handler):
    bedrock, s3, cloudwatch = handler.stubs
    lines = ["step_number,epoch_number,training_loss,perplexity"]
    lines += [f"{step},{step // 200 + 1},{1 + 1 / (step + 1):.6f},{2 + 1 / (step + 1):.6f}" for step in range(600)]
    expect_job(bedrock)
    expect_csv(s3, ("\n".join(lines) + "\n").encode())
    expect_put(cloudwatch, Length(1000))
    expect_put(cloudwatch, Length(202))
    assert handler.handler(event("job_state_change_completed"), None) == 1202


def test_a_diverging_step_is_left_out_as_cloudwatch_refuses_nan(handler):
    bedrock, s3, cloudwatch = handler.stubs
    expect_job(bedrock)
    expect_csv(s3, b"step_number,epoch_number,training_loss\n0,1,2.5\n1,1,nan\n")
    expect_put(
        cloudwatch,
        [
            loss_datum("TrainingLoss", 2.5, TRAINING_START),
            state_datum("Completed"),
        ],
    )
    assert handler.handler(event("job_state_change_completed"), None) == 2


def test_a_missing_csv_publishes_only_the_state_change(handler, caplog):
    bedrock, s3, cloudwatch = handler.stubs
    expect_job(bedrock)
    expect_csv(s3, None)
    expect_put(cloudwatch, [state_datum("Completed")])
    with caplog.at_level(logging.WARNING):
        assert handler.handler(event("job_state_change_completed"), None) == 1
    assert f"No training metrics at s3://{BUCKET}/{KEY}; publishing the state change only" in caplog.text


def test_a_malformed_csv_publishes_only_the_state_change(handler, caplog):
    bedrock, s3, cloudwatch = handler.stubs
    expect_job(bedrock)
    expect_csv(s3, b"step_number,epoch_number,training_loss\n0,1,2.5\n1,1\n")
    expect_put(cloudwatch, [state_datum("Completed")])
    with caplog.at_level(logging.WARNING):
        assert handler.handler(event("job_state_change_completed"), None) == 1
    assert (
        "line 3 is {'step_number': '1', 'epoch_number': '1', 'training_loss': None}; expected a number under "
        "training_loss (and under perplexity, when the file has that column)" in caplog.text
    )


def test_a_header_only_csv_publishes_only_the_state_change(handler, caplog):
    bedrock, s3, cloudwatch = handler.stubs
    expect_job(bedrock)
    expect_csv(s3, (FIXTURES / "metrics" / "header_only.csv").read_bytes())
    expect_put(cloudwatch, [state_datum("Completed")])
    with caplog.at_level(logging.WARNING):
        assert handler.handler(event("job_state_change_completed"), None) == 1
    assert "holds no steps" in caplog.text


def test_a_file_without_perplexity_publishes_loss_only(handler):
    bedrock, s3, cloudwatch = handler.stubs
    expect_job(bedrock)
    expect_csv(s3, b"step_number, epoch_number, training_loss\n0, 1, 0.9\n")
    expect_put(
        cloudwatch,
        [
            loss_datum("TrainingLoss", 0.9, TRAINING_END),
            loss_datum("FinalTrainingLoss", 0.9, TRAINING_END),
            state_datum("Completed"),
        ],
    )
    assert handler.handler(event("job_state_change_completed"), None) == 3


def test_a_failed_job_publishes_its_state_change_without_reading_anything(handler):
    _, _, cloudwatch = handler.stubs
    expect_put(cloudwatch, [state_datum("Failed")])
    assert handler.handler(event("job_state_change_failed"), None) == 1


def test_a_refused_read_fails_the_invocation_so_that_it_is_retried_and_seen(handler):
    bedrock, s3, _ = handler.stubs
    expect_job(bedrock)
    s3.add_client_error("get_object", "AccessDenied", "Access Denied", 403)
    with pytest.raises(handler.s3.exceptions.ClientError):
        handler.handler(event("job_state_change_completed"), None)
