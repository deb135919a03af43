"""`distill status`: a model's job, its phases, its loss and the served model, rendered for every state from Stubber
responses shaped as Bedrock, SSM, S3 and CloudFormation return them; and a stage of several models, a line each."""

from __future__ import annotations

import copy
import io
import json
from datetime import UTC, datetime
from pathlib import Path

import pytest
from botocore.response import StreamingBody
from botocore.stub import Stubber

from distill.cli import main
from distill.commands import status as status_command
from distill.operations.status import (
    Clients,
    Loss,
    ModelLine,
    Serving,
    Snapshot,
    StageSnapshot,
    fetch_snapshot,
    fetch_stage_snapshot,
    load_stage,
    phase_bar,
    render_stage_status,
    render_status,
)
from tests.conftest import FIXTURES

JOB_ARN = (
    "arn:aws:bedrock:us-west-2:123456789012:model-customization-job/meta.llama3-1-8b-instruct-v1:0:128k/k3x9q2w7e5r1"
)
MODEL_ARN = "arn:aws:bedrock:us-west-2:123456789012:custom-model/meta.llama3-1-8b-instruct-v1:0:128k/m4o8d2e6l0a3"
PROVISIONED_ARN = "arn:aws:bedrock:us-west-2:123456789012:provisioned-model/p7t3h9r2u5s1"
DEPLOYMENT_ARN = "arn:aws:bedrock:us-west-2:123456789012:custom-model-deployment/d5e8p1l4o7y0"
OUTPUT_BUCKET = "sandbox-distillation-fou-storagejoboutput-7g8h9i0j1k2l"
METRICS_KEY = (
    "distillation-output/model-customization-job-k3x9q2w7e5r1/training_artifacts/step_wise_training_metrics.csv"
)
METRICS_URI = f"s3://{OUTPUT_BUCKET}/{METRICS_KEY}"
SERVING_STACK = "sandbox-distillation-support-assistant-serving"
STACK_ID = f"arn:aws:cloudformation:us-west-2:123456789012:stack/{SERVING_STACK}/c4d7e0f3-cd44-11f0-b1a4-0a7d3e9f1c25"
NOW = datetime(2026, 11, 28, 9, 15, 0, tzinfo=UTC)


def at(hour: int, minute: int, second: int = 0) -> datetime:
    return datetime(2026, 11, 28, hour, minute, second, tzinfo=UTC)


# GetModelCustomizationJob while the teacher is generating responses (data processing).
IN_PROGRESS = {
    "jobArn": JOB_ARN,
    "jobName": "support-assistant-2e9d4c1b7a30",
    "outputModelName": "support-assistant-2e9d4c1b7a30",
    "roleArn": "arn:aws:iam::123456789012:role/sandbox-distillation-fou-BedrockServiceRole9A8B7C6D-1F2E3D4C5B6A",
    "status": "InProgress",
    "statusDetails": {
        "validationDetails": {"status": "Completed", "creationTime": at(6, 40, 5), "lastModifiedTime": at(6, 52, 10)},
        "dataProcessingDetails": {"status": "InProgress", "creationTime": at(6, 52, 11), "lastModifiedTime": at(9, 0)},
        "trainingDetails": {"status": "NotStarted"},
    },
    "creationTime": at(6, 40, 3),
    "lastModifiedTime": at(9, 0),
    "baseModelArn": "arn:aws:bedrock:us-west-2::foundation-model/meta.llama3-1-8b-instruct-v1:0:128k",
    "hyperParameters": {},
    "trainingDataConfig": {
        "s3Uri": "s3://sandbox-distillation-fou-storagetrainingdata-3m4n5o6p7q8r/training/data.jsonl"
    },
    "validationDataConfig": {"validators": []},
    "outputDataConfig": {"s3Uri": f"s3://{OUTPUT_BUCKET}/distillation-output"},
    "customizationType": "DISTILLATION",
}


def job(status: str, **changes) -> dict:
    described = copy.deepcopy(IN_PROGRESS)
    described["status"] = status
    described.update(changes)
    return described


COMPLETED = job(
    "Completed",
    outputModelArn=MODEL_ARN,
    endTime=at(14, 2, 9),
    lastModifiedTime=at(14, 2, 9),
    statusDetails={
        "validationDetails": {"status": "Completed", "creationTime": at(6, 40, 5), "lastModifiedTime": at(6, 52, 10)},
        "dataProcessingDetails": {
            "status": "Completed",
            "creationTime": at(6, 52, 11),
            "lastModifiedTime": at(11, 30, 0),
        },
        "trainingDetails": {"status": "Completed", "creationTime": at(11, 30, 1), "lastModifiedTime": at(14, 2, 0)},
    },
)
FAILED = job(
    "Failed",
    failureMessage="Fewer than 100 of the prompts in the training data could be used for distillation.",
    endTime=at(7, 15, 40),
    statusDetails={
        "validationDetails": {"status": "Failed", "creationTime": at(6, 40, 5), "lastModifiedTime": at(7, 15, 40)},
        "dataProcessingDetails": {"status": "NotStarted"},
        "trainingDetails": {"status": "NotStarted"},
    },
)
STOPPED = job(
    "Stopped",
    endTime=at(8, 0, 0),
    statusDetails={
        "validationDetails": {"status": "Completed", "creationTime": at(6, 40, 5), "lastModifiedTime": at(6, 52, 10)},
        "dataProcessingDetails": {"status": "Stopped", "creationTime": at(6, 52, 11), "lastModifiedTime": at(8, 0)},
        "trainingDetails": {"status": "NotStarted"},
    },
)


LLAMA = {
    "teacher": "meta.llama3-1-405b-instruct-v1:0",
    "student": "meta.llama3-1-8b-instruct-v1:0:128k",
    "trainingData": {"s3Uri": "s3://example-datasets/support/train.jsonl"},
}


def write_cdk_json(tmp_path, stages=None) -> str:
    stages = stages or {
        "sandbox": {"region": "us-west-2", "models": {"support-assistant": {"distillation": LLAMA}}},
        "logs": {"region": "us-west-2"},
        # Two models: status shows each on a line, --model shows one in full.
        "fleet": {
            "region": "us-west-2",
            "models": {
                "support-assistant": {"distillation": LLAMA},
                "ticket-classifier": {
                    "distillation": {**LLAMA, "trainingData": {"s3Uri": "s3://example-datasets/tickets/train.jsonl"}}
                },
            },
        },
    }
    path = tmp_path / "cdk.json"
    path.write_text(json.dumps({"app": "python app.py", "context": {"stages": stages}}))
    return str(path)


@pytest.fixture
def stage(tmp_path):
    return load_stage(Path(write_cdk_json(tmp_path)), "sandbox")


@pytest.fixture
def model(stage):
    return stage.models["support-assistant"]


class Stubs:
    """Stubbed clients for one Region, and the AWS responses a status fetch reads, in the order it reads them."""

    def __init__(self) -> None:
        self.clients = Clients("us-west-2")
        self.ssm = Stubber(self.clients.ssm)
        self.bedrock = Stubber(self.clients.bedrock)
        self.s3 = Stubber(self.clients.s3)
        self.cloudformation = Stubber(self.clients.cloudformation)
        self.all = (self.ssm, self.bedrock, self.s3, self.cloudformation)

    def job_arn(self, stage: str = "sandbox", model: str = "support-assistant", arn: str = JOB_ARN) -> None:
        name = f"/bedrock-distillation/{stage}/{model}/job-arn"
        self.ssm.add_response(
            "get_parameter", {"Parameter": {"Name": name, "Type": "String", "Value": arn}}, {"Name": name}
        )

    def job(self, described: dict, stage: str = "sandbox", model: str = "support-assistant") -> None:
        self.job_arn(stage, model, described["jobArn"])
        self.bedrock.add_response("get_model_customization_job", described, {"jobIdentifier": described["jobArn"]})

    def metrics(self, name: str | None) -> None:
        if name is None:
            self.s3.add_client_error("get_object", "NoSuchKey", "The specified key does not exist.", 404)
            return
        body = (FIXTURES / "metrics" / name).read_bytes()
        self.s3.add_response(
            "get_object",
            {"Body": StreamingBody(io.BytesIO(body), len(body))},
            {"Bucket": OUTPUT_BUCKET, "Key": METRICS_KEY},
        )

    def serving_stack(
        self, status: str | None, outputs: dict[str, str] | None = None, name: str = SERVING_STACK
    ) -> None:
        if status is None:
            self.cloudformation.add_client_error(
                "describe_stacks", "ValidationError", f"Stack with id {name} does not exist", 400
            )
            return
        stack = {
            "StackId": STACK_ID.replace(SERVING_STACK, name),
            "StackName": name,
            "CreationTime": at(6, 45),
            "StackStatus": status,
            "Outputs": [{"OutputKey": key, "OutputValue": value} for key, value in (outputs or {}).items()],
        }
        self.cloudformation.add_response("describe_stacks", {"Stacks": [stack]}, {"StackName": name})

    def throughput(self, status: str) -> None:
        self.throughput_of(SERVING_STACK, status)

    def metrics_of(self, job_arn: str, name: str | None) -> None:
        """The metrics of another job than JOB_ARN's (only a missing file)."""
        assert name is None
        job_id = job_arn.rsplit("/", 1)[-1]
        key = METRICS_KEY.replace("k3x9q2w7e5r1", job_id)
        self.s3.add_client_error(
            "get_object",
            "NoSuchKey",
            "The specified key does not exist.",
            404,
            expected_params={"Bucket": OUTPUT_BUCKET, "Key": key},
        )

    def throughput_of(self, stack: str, status: str) -> None:
        self.serving_stack("CREATE_COMPLETE", {"JobArn": JOB_ARN, "ProvisionedModelArn": PROVISIONED_ARN}, name=stack)
        self.bedrock.add_response(
            "get_provisioned_model_throughput",
            {
                "modelUnits": 1,
                "desiredModelUnits": 1,
                "provisionedModelName": "support-assistant-5f0a2c4e6b81",
                "provisionedModelArn": PROVISIONED_ARN,
                "modelArn": MODEL_ARN,
                "desiredModelArn": MODEL_ARN,
                "foundationModelArn": "arn:aws:bedrock:us-west-2::foundation-model/meta.llama3-1-8b-instruct-v1:0:128k",
                "status": status,
                "creationTime": at(14, 5),
                "lastModifiedTime": at(14, 31),
            },
            {"provisionedModelId": PROVISIONED_ARN},
        )

    def __enter__(self) -> Stubs:
        for stub in self.all:
            stub.activate()
        return self

    def __exit__(self, *failure) -> None:
        for stub in self.all:
            stub.deactivate()
        if failure[0] is None:
            for stub in self.all:
                stub.assert_no_pending_responses()


def test_in_progress_shows_the_phases_and_no_metrics_yet(stage, model):
    with Stubs() as stubs:
        stubs.job(IN_PROGRESS)
        stubs.metrics(None)
        stubs.serving_stack("CREATE_IN_PROGRESS", {"JobArn": JOB_ARN})
        snapshot = fetch_snapshot(stubs.clients, stage, model, now=NOW)
    assert render_status(snapshot) == "\n".join(
        [
            "stage      sandbox (us-west-2), model support-assistant",
            "job        support-assistant-2e9d4c1b7a30: InProgress",
            "running    since 2026-11-28 06:40:03 UTC (2h 34m 57s so far)",
            "phases     [############|>>>>>>>>>>>>|            ] 1 of 3 phases done",
            "  validation       Completed   2026-11-28 06:40:05 UTC to 2026-11-28 06:52:10 UTC (12m 5s)",
            "  data processing  InProgress  since 2026-11-28 06:52:11 UTC (2h 22m 49s)",
            "  training         NotStarted",
            f"loss       no metrics yet (Bedrock writes them once training starts): {METRICS_URI}",
            f"serving    no model served yet (stack {SERVING_STACK} is CREATE_IN_PROGRESS)",
        ]
    )
    assert (snapshot.job_ended, snapshot.exit_code) == (False, 0)


def test_completed_shows_the_final_loss_and_the_throughput_in_service(stage, model):
    with Stubs() as stubs:
        stubs.job(COMPLETED)
        stubs.metrics("step_wise_training_metrics.csv")
        stubs.throughput("InService")
        snapshot = fetch_snapshot(stubs.clients, stage, model, now=NOW)
    assert render_status(snapshot) == "\n".join(
        [
            "stage      sandbox (us-west-2), model support-assistant",
            "job        support-assistant-2e9d4c1b7a30: Completed",
            "ran        2026-11-28 06:40:03 UTC to 2026-11-28 14:02:09 UTC (7h 22m 6s)",
            f"model      {MODEL_ARN}",
            "phases     [############|############|############] 3 of 3 phases done",
            "  validation       Completed   2026-11-28 06:40:05 UTC to 2026-11-28 06:52:10 UTC (12m 5s)",
            "  data processing  Completed   2026-11-28 06:52:11 UTC to 2026-11-28 11:30:00 UTC (4h 37m 49s)",
            "  training         Completed   2026-11-28 11:30:01 UTC to 2026-11-28 14:02:00 UTC (2h 31m 59s)",
            "loss       final 0.3422 at step 44 (epoch 3); first 2.3000, lowest 0.3365 at step 43",
            f"serving    Provisioned Throughput InService ({PROVISIONED_ARN})",
        ]
    )
    assert (snapshot.job_ended, snapshot.exit_code) == (True, 0)


def test_failed_shows_bedrocks_message_and_exits_1(stage, model):
    with Stubs() as stubs:
        stubs.job(FAILED)
        stubs.metrics(None)
        stubs.serving_stack(None)
        snapshot = fetch_snapshot(stubs.clients, stage, model, now=NOW)
    rendered = render_status(snapshot).splitlines()
    assert rendered[1:6] == [
        "job        support-assistant-2e9d4c1b7a30: Failed",
        "ran        2026-11-28 06:40:03 UTC to 2026-11-28 07:15:40 UTC (35m 37s)",
        "failure    Fewer than 100 of the prompts in the training data could be used for distillation.",
        "phases     [xxxxxxxxxxxx|            |            ] 0 of 3 phases done",
        "  validation       Failed      2026-11-28 06:40:05 UTC to 2026-11-28 07:15:40 UTC (35m 35s)",
    ]
    assert rendered[-1] == f"serving    not deployed (no stack {SERVING_STACK})"
    assert (snapshot.job_ended, snapshot.exit_code) == (True, 1)


def test_stopped_shows_where_it_stopped_and_exits_1(stage, model):
    with Stubs() as stubs:
        stubs.job(STOPPED)
        stubs.metrics(None)
        stubs.serving_stack(None)
        snapshot = fetch_snapshot(stubs.clients, stage, model, now=NOW)
    rendered = render_status(snapshot).splitlines()
    assert rendered[1] == "job        support-assistant-2e9d4c1b7a30: Stopped"
    assert rendered[3] == "phases     [############|------------|            ] 1 of 3 phases done"
    assert (
        rendered[5] == "  data processing  Stopped     2026-11-28 06:52:11 UTC to 2026-11-28 08:00:00 UTC (1h 7m 49s)"
    )
    assert (snapshot.job_ended, snapshot.exit_code) == (True, 1)


def test_an_on_demand_deployment_and_a_job_still_training(stage, model):
    training = job(
        "InProgress",
        statusDetails={
            **COMPLETED["statusDetails"],
            "trainingDetails": {"status": "InProgress", "creationTime": at(8, 30), "lastModifiedTime": at(9, 10)},
        },
    )
    with Stubs() as stubs:
        stubs.job(training)
        stubs.metrics("partial_last_line.csv")
        stubs.serving_stack("UPDATE_COMPLETE", {"DeploymentArn": DEPLOYMENT_ARN, "CustomModelArn": MODEL_ARN})
        stubs.bedrock.add_response(
            "get_custom_model_deployment",
            {
                "customModelDeploymentArn": DEPLOYMENT_ARN,
                "modelDeploymentName": "support-assistant-9c1e3a5b7d20",
                "modelArn": MODEL_ARN,
                "createdAt": at(8, 0),
                "status": "Failed",
                "failureMessage": "The model is not supported for on-demand deployment.",
            },
            {"customModelDeploymentIdentifier": DEPLOYMENT_ARN},
        )
        snapshot = fetch_snapshot(stubs.clients, stage, model, now=NOW)
    rendered = render_status(snapshot).splitlines()
    assert rendered[3] == "phases     [############|############|>>>>>>>>>>>>] 2 of 3 phases done"
    assert rendered[-2] == "loss       latest 0.9185 at step 11 (epoch 1); first 2.3000, lowest 0.9185 at step 11"
    assert rendered[-1] == (
        "serving    on-demand deployment Failed: The model is not supported for on-demand deployment. "
        f"({DEPLOYMENT_ARN})"
    )
    assert snapshot.exit_code == 1


def test_unreadable_metrics_do_not_hide_the_job(stage, model):
    with Stubs() as stubs:
        stubs.job(COMPLETED)
        stubs.s3.add_client_error("get_object", "AccessDenied", "Access Denied", 403)
        stubs.serving_stack(None)
        snapshot = fetch_snapshot(stubs.clients, stage, model, now=NOW)
    assert render_status(snapshot).splitlines()[-2] == (
        f"loss       unreadable: {METRICS_URI}: An error occurred (AccessDenied) when calling the GetObject "
        "operation: Access Denied"
    )


def test_a_header_only_metrics_file_is_no_metrics_yet(stage, model):
    with Stubs() as stubs:
        stubs.job(IN_PROGRESS)
        stubs.metrics("header_only.csv")
        stubs.serving_stack(None)
        snapshot = fetch_snapshot(stubs.clients, stage, model, now=NOW)
    assert render_status(snapshot).splitlines()[-2] == (
        f"loss       {METRICS_URI}: no metrics yet: the file holds only its header (no step has been logged)"
    )


def test_rendering_is_a_pure_function_of_the_snapshot():
    """A job Bedrock reports no phases for (it has only just been accepted), rendered without any AWS call."""
    accepted = job("InProgress", creationTime=at(9, 14, 30))
    del accepted["statusDetails"]
    snapshot = Snapshot(
        "sandbox", "support-assistant", "us-west-2", accepted, Loss(note="no metrics yet"), Serving(SERVING_STACK), NOW
    )
    assert render_status(snapshot).splitlines()[2:4] == [
        "running    since 2026-11-28 09:14:30 UTC (30s so far)",
        "phases     not reported by Bedrock",
    ]
    assert phase_bar({}) == "[            |            |            ] 0 of 3 phases done"


def run_status(monkeypatch, stubs: Stubs, *arguments: str) -> int:
    monkeypatch.setattr(status_command, "Clients", lambda region: stubs.clients)
    return main(["status", *arguments])


def test_the_command_prints_the_status_and_exits_with_the_jobs_verdict(tmp_path, monkeypatch, capsys):
    with Stubs() as stubs:
        stubs.job(FAILED)
        stubs.metrics(None)
        stubs.serving_stack(None)
        assert run_status(monkeypatch, stubs, "--stage", "sandbox", "--cdk-json", write_cdk_json(tmp_path)) == 1
    assert "job        support-assistant-2e9d4c1b7a30: Failed" in capsys.readouterr().out


def test_a_missing_job_parameter_says_which_stack_to_deploy(tmp_path, monkeypatch, capsys):
    with Stubs() as stubs:
        stubs.ssm.add_client_error("get_parameter", "ParameterNotFound", "", 400)
        assert run_status(monkeypatch, stubs, "--stage", "sandbox", "--cdk-json", write_cdk_json(tmp_path)) == 1
    assert capsys.readouterr().err == (
        "distill status: the SSM parameter /bedrock-distillation/sandbox/support-assistant/job-arn does not exist in "
        "us-west-2: the training stack sandbox-distillation-support-assistant-training has not been deployed to this "
        "account and Region. Deploy it, or use credentials for the account it was deployed to\n"
    )


def test_an_unknown_stage_exits_2(tmp_path, capsys):
    path = write_cdk_json(tmp_path)
    assert main(["status", "--stage", "prod", "--cdk-json", path]) == 2
    assert capsys.readouterr().err == f"distill status: {path}: no stage 'prod'; stages: sandbox, logs, fleet\n"


def test_a_stage_without_models_says_it_deploys_its_foundation_only(tmp_path, capsys):
    assert main(["status", "--stage", "logs", "--cdk-json", write_cdk_json(tmp_path)]) == 0
    assert capsys.readouterr().out == (
        "stage logs (us-west-2): 0 models; it deploys its foundation only, with no job or served model\n"
    )


def test_an_unreadable_cdk_json_exits_2(tmp_path, capsys):
    assert main(["status", "--stage", "sandbox", "--cdk-json", str(tmp_path / "missing.json")]) == 2
    assert capsys.readouterr().err.startswith(f"distill status: cannot read the context of {tmp_path / 'missing.json'}")


@pytest.mark.parametrize("interval", ["5", "ten", "-30", "1.5"])
def test_a_bad_interval_is_a_usage_error(interval, capsys):
    with pytest.raises(SystemExit) as exited:
        main(["status", "--stage", "sandbox", "--watch", "--interval", interval])
    assert exited.value.code == 2
    assert (
        f"argument --interval: {interval!r} is not allowed; use a whole number of seconds, at least 10 (Bedrock "
        "throttles job status requests)" in capsys.readouterr().err
    )


def test_watch_refreshes_until_the_job_ends(stage, model):
    out = io.StringIO()
    slept: list[float] = []
    with Stubs() as stubs:
        for described in (IN_PROGRESS, COMPLETED):
            stubs.job(described)
            stubs.metrics(None)
            stubs.serving_stack(None)
        snapshot = status_command.watch(
            lambda: fetch_snapshot(stubs.clients, stage, model), render_status, 30, out, sleep=slept.append
        )
    assert snapshot.job["status"] == "Completed"
    assert slept == [30]
    shown = out.getvalue().split("\n\n")
    assert "job        support-assistant-2e9d4c1b7a30: InProgress" in shown[0]
    assert "job        support-assistant-2e9d4c1b7a30: Completed" in shown[1]


def test_watch_on_a_terminal_redraws_in_place(stage, model):
    class Terminal(io.StringIO):
        def isatty(self) -> bool:
            return True

    out = Terminal()
    with Stubs() as stubs:
        stubs.job(COMPLETED)
        stubs.metrics(None)
        stubs.serving_stack(None)
        status_command.watch(
            lambda: fetch_snapshot(stubs.clients, stage, model), render_status, 30, out, sleep=lambda seconds: None
        )
    assert out.getvalue().startswith(
        status_command.CLEAR_SCREEN + "stage      sandbox (us-west-2), model support-assistant\n"
    )


# --- a stage of several models ------------------------------------------------------------------------------------

TICKETS_JOB_ARN = JOB_ARN.replace("k3x9q2w7e5r1", "t1c2k3e4t5s6")
FLEET_ASSISTANT_SERVING = "fleet-distillation-support-assistant-serving"
FLEET_TICKETS_SERVING = "fleet-distillation-ticket-classifier-serving"


def test_a_stage_of_several_models_shows_each_on_a_line(tmp_path, monkeypatch, capsys):
    training = job(
        "InProgress",
        statusDetails={
            **COMPLETED["statusDetails"],
            "trainingDetails": {"status": "InProgress", "creationTime": at(8, 30), "lastModifiedTime": at(9, 10)},
        },
    )
    with Stubs() as stubs:
        stubs.job(COMPLETED, stage="fleet")
        stubs.throughput_of(FLEET_ASSISTANT_SERVING, "InService")
        stubs.job(
            {**training, "jobArn": TICKETS_JOB_ARN, "jobName": "fleet-ticket-classifier-distill-0a1b2c3d4e5f"},
            stage="fleet",
            model="ticket-classifier",
        )
        stubs.serving_stack("CREATE_IN_PROGRESS", {"JobArn": TICKETS_JOB_ARN}, name=FLEET_TICKETS_SERVING)
        assert run_status(monkeypatch, stubs, "--stage", "fleet", "--cdk-json", write_cdk_json(tmp_path)) == 0
    assert capsys.readouterr().out.splitlines() == [
        "stage fleet (us-west-2): 2 models",
        "support-assistant  job support-assistant-2e9d4c1b7a30 Completed; serving Provisioned Throughput InService "
        f"({PROVISIONED_ARN})",
        "ticket-classifier  job fleet-ticket-classifier-distill-0a1b2c3d4e5f InProgress (training); serving no model "
        f"served yet (stack {FLEET_TICKETS_SERVING} is CREATE_IN_PROGRESS)",
    ]


def test_a_model_whose_training_stack_is_not_deployed_is_a_line_too_and_exits_1(tmp_path, monkeypatch, capsys):
    with Stubs() as stubs:
        stubs.job(COMPLETED, stage="fleet")
        stubs.serving_stack(None, name=FLEET_ASSISTANT_SERVING)
        stubs.ssm.add_client_error(
            "get_parameter",
            "ParameterNotFound",
            "",
            400,
            expected_params={"Name": "/bedrock-distillation/fleet/ticket-classifier/job-arn"},
        )
        stubs.serving_stack(None, name=FLEET_TICKETS_SERVING)
        assert run_status(monkeypatch, stubs, "--stage", "fleet", "--cdk-json", write_cdk_json(tmp_path)) == 1
    assert capsys.readouterr().out.splitlines()[1:] == [
        "support-assistant  job support-assistant-2e9d4c1b7a30 Completed; serving not deployed (no stack "
        f"{FLEET_ASSISTANT_SERVING})",
        "ticket-classifier  job not deployed (no training stack fleet-distillation-ticket-classifier-training); "
        "serving not "
        f"deployed (no stack {FLEET_TICKETS_SERVING})",
    ]


def test_model_names_one_model_of_the_stage_in_full(tmp_path, monkeypatch, capsys):
    with Stubs() as stubs:
        stubs.job({**FAILED, "jobArn": TICKETS_JOB_ARN}, stage="fleet", model="ticket-classifier")
        stubs.metrics_of(TICKETS_JOB_ARN, None)
        stubs.serving_stack(None, name=FLEET_TICKETS_SERVING)
        path = write_cdk_json(tmp_path)
        assert (
            run_status(monkeypatch, stubs, "--stage", "fleet", "--model", "ticket-classifier", "--cdk-json", path) == 1
        )
    out = capsys.readouterr().out.splitlines()
    assert out[:2] == [
        "stage      fleet (us-west-2), model ticket-classifier",
        "job        support-assistant-2e9d4c1b7a30: Failed",
    ]
    assert out[-1] == f"serving    not deployed (no stack {FLEET_TICKETS_SERVING})"


@pytest.mark.parametrize(
    ("stage", "arguments", "message"),
    [
        (
            "fleet",
            ["--model", "summarizer"],
            'stage fleet has no model "summarizer"; its models: support-assistant, ticket-classifier',
        ),
        (
            "sandbox",
            ["--model", "ticket-classifier"],
            'stage sandbox has no model "ticket-classifier"; its models: support-assistant',
        ),
        (
            "logs",
            ["--model", "support-assistant"],
            "stage logs has no models (context.stages.logs.models): it deploys "
            "its foundation only, so it has no job or served model",
        ),
    ],
)
def test_a_model_the_stage_does_not_have_exits_2_with_the_stages_models(tmp_path, capsys, stage, arguments, message):
    assert main(["status", "--stage", stage, *arguments, "--cdk-json", write_cdk_json(tmp_path)]) == 2
    assert capsys.readouterr().err == f"distill status: {message}\n"


def test_a_stage_of_one_model_needs_no_model_name(tmp_path, monkeypatch, capsys):
    with Stubs() as stubs:
        stubs.job(COMPLETED)
        stubs.metrics(None)
        stubs.serving_stack(None)
        path = write_cdk_json(tmp_path)
        assert (
            run_status(monkeypatch, stubs, "--stage", "sandbox", "--model", "support-assistant", "--cdk-json", path)
            == 0
        )
    assert capsys.readouterr().out.startswith("stage      sandbox (us-west-2), model support-assistant\n")


def test_a_copied_model_is_a_line_without_a_job():
    """Rendered from a snapshot: a model the stage copies runs no job here, and is not a problem for lacking one."""
    copied = ModelLine(
        "support-assistant",
        None,
        "none in this stage (a copy of model support-assistant of stage shared-dev)",
        Serving(
            "shared-prod-distillation-support-assistant-serving",
            "CREATE_COMPLETE",
            "Provisioned Throughput",
            PROVISIONED_ARN,
            "InService",
        ),
    )
    snapshot = StageSnapshot("shared-prod", "us-east-1", (copied,), NOW)
    assert render_stage_status(snapshot).splitlines()[1] == (
        "support-assistant  job none in this stage (a copy of model support-assistant of stage shared-dev); serving "
        f"Provisioned Throughput InService ({PROVISIONED_ARN})"
    )
    assert (snapshot.job_ended, snapshot.exit_code) == (True, 0)


def test_watch_follows_every_model_until_each_job_ends(tmp_path):
    stage = load_stage(Path(write_cdk_json(tmp_path)), "fleet")
    out = io.StringIO()
    slept: list[float] = []
    with Stubs() as stubs:
        for second in (IN_PROGRESS, COMPLETED):
            stubs.job(COMPLETED, stage="fleet")
            stubs.serving_stack(None, name=FLEET_ASSISTANT_SERVING)
            stubs.job({**second, "jobArn": TICKETS_JOB_ARN}, stage="fleet", model="ticket-classifier")
            stubs.serving_stack(None, name=FLEET_TICKETS_SERVING)
        view = status_command.watch(
            lambda: fetch_stage_snapshot(stubs.clients, stage, stage.models.values()),
            render_stage_status,
            30,
            out,
            sleep=slept.append,
        )
    assert (view.job_ended, slept) == (True, [30])
