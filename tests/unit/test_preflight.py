"""`distill preflight`: every check against stubbed AWS answers (botocore's Stubber validates each request and
answer against the service models), one test per finding, and the command's output and exit codes."""

from __future__ import annotations

import ast
import json
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from unittest import mock

import boto3
import pytest
from botocore.config import Config
from botocore.stub import Stubber

from distill.cli import main
from distill.config.stages import load_stages
from distill.operations import preflight
from distill.operations.aws_errors import CHECK_NETWORK
from distill.operations.preflight import BLOCKS, OK, UNKNOWN, WARN, Finding, PreflightClients, exit_code, run_checks
from tests.conftest import ROOT

ACCOUNT = "111111111111"
REGION = "us-east-1"
PROFILE = "us.amazon.nova-pro-v1:0"
TEACHER = "amazon.nova-pro-v1:0"
STUDENT = "amazon.nova-lite-v1:0:300k"
DATA_URI = "s3://example-datasets/claims/train.jsonl"
LOGS_BUCKET = "dev-distillation-foundation-storageinvocationlogs-1a2b3c4d5e6f"
CREATED = datetime(2026, 11, 30, 8, 0, tzinfo=UTC)
NO_COMMITMENT = "Model units no-commitment Provisioned Throughputs across custom models"
PER_MODEL = "Model units per provisioned model for Amazon Nova Lite"


def model_settings(data_uri: str = DATA_URI, units: int = 1) -> dict:
    return {
        "distillation": {"teacher": PROFILE, "student": STUDENT, "trainingData": {"s3Uri": data_uri}},
        "serving": {"mode": "provisioned", "modelUnits": units},
    }


def stage_config(**changes):
    """Stage ``dev`` with one model, ``claims``; ``distillation`` and ``serving`` change the model's settings, any
    other key the stage's (a key given None is removed)."""
    settings = {"account": ACCOUNT, "region": REGION}
    model = model_settings()
    for key, value in changes.items():
        target = model if key in ("distillation", "serving") else settings
        if value is None:
            del target[key]
        elif isinstance(value, dict) and isinstance(target.get(key), dict):
            merged = {**target[key], **value}
            target[key] = {name: item for name, item in merged.items() if item is not None}
        else:
            target[key] = value
    return load_stages({"dev": {**settings, "models": {"claims": model}}})["dev"]


def model_arn(model_id: str, region: str = REGION) -> str:
    return f"arn:aws:bedrock:{region}::foundation-model/{model_id}"


class Answers:
    """Stubbed clients that answer every call of a preflight that finds nothing wrong; each method changes one
    answer. ``queue`` adds them in the order the preflight asks."""

    def __init__(self) -> None:
        self.clients = PreflightClients(REGION)
        self.stubbers = {
            name: Stubber(getattr(self.clients, name))
            for name in ("sts", "cloudformation", "bedrock", "s3", "service_quotas")
        }
        self.identity = {"UserId": "AIDAEXAMPLE", "Account": ACCOUNT, "Arn": f"arn:aws:iam::{ACCOUNT}:user/ops"}
        self.bootstrap: dict | None = {"BootstrapVersion": "29"}
        self.logging: dict | None = None
        self.foundation_outputs: dict | None = None
        self.offered = [STUDENT, "amazon.nova-micro-v1:0:128k"]
        self.lifecycles = {TEACHER: "ACTIVE", STUDENT: "ACTIVE"}
        self.missing_models: set[str] = set()
        self.agreement = "AVAILABLE"
        self.routed = ["us-east-1", "us-east-2", "us-west-2"]
        self.running_pages = [0]
        self.data: str | int = 12345
        self.quotas = {NO_COMMITMENT: 1.0, PER_MODEL: 1.0}

    def stub(self, service: str) -> Stubber:
        return self.stubbers[service]

    def queue(self, stage, models=None) -> None:
        """The answers for a preflight of ``models`` of the stage (default: all of them)."""
        models = list(stage.models.values()) if models is None else models
        distilled = [model for model in models if model.distillation is not None]
        self.stub("sts").add_response("get_caller_identity", self.identity, {})
        self._bootstrap()
        self._logging(stage)
        if distilled:
            self._models(distilled)
            self._access(distilled)
            for model in distilled:
                if model.distillation.teacher_profile:
                    self._profile()
            self._jobs()
            for model in distilled:
                self._data(model)
        if any(model.serving.mode == "provisioned" for model in stage.models.values()):
            self.stub("service_quotas").add_response(
                "list_service_quotas",
                {"Quotas": [{"QuotaName": name, "Value": value} for name, value in self.quotas.items()]},
                {"ServiceCode": "bedrock"},
            )

    def _stack(self, name: str, outputs: dict | None) -> None:
        if outputs is None:
            self.stub("cloudformation").add_client_error(
                "describe_stacks", "ValidationError", f"Stack with id {name} does not exist", 400
            )
            return
        stack = {
            "StackName": name,
            "CreationTime": CREATED,
            "StackStatus": "UPDATE_COMPLETE",
            "Outputs": [{"OutputKey": key, "OutputValue": value} for key, value in outputs.items()],
        }
        self.stub("cloudformation").add_response("describe_stacks", {"Stacks": [stack]}, {"StackName": name})

    def _bootstrap(self) -> None:
        self._stack("CDKToolkit", self.bootstrap)

    def _logging(self, stage) -> None:
        if not stage.invocation_logging.enabled:
            return
        answer = {"loggingConfig": self.logging} if self.logging else {}
        self.stub("bedrock").add_response("get_model_invocation_logging_configuration", answer, {})
        if self.logging:
            self._stack("dev-distillation-foundation", self.foundation_outputs)

    @staticmethod
    def _roles(distilled) -> list[str]:
        """The teachers and students of the models, each once, in the order the preflight checks them."""
        pairs = [(m.distillation.teacher_model, m.distillation.student) for m in distilled]
        return list(dict.fromkeys(model_id for pair in pairs for model_id in pair))

    def _models(self, distilled) -> None:
        bedrock = self.stub("bedrock")
        summaries = [{"modelArn": model_arn(model), "modelId": model} for model in self.offered]
        bedrock.add_response(
            "list_foundation_models", {"modelSummaries": summaries}, {"byCustomizationType": "DISTILLATION"}
        )
        for model in self._roles(distilled):
            if model in self.missing_models:
                bedrock.add_client_error(
                    "get_foundation_model", "ResourceNotFoundException", "The model does not exist", 404
                )
                continue
            details = {
                "modelArn": model_arn(model),
                "modelId": model,
                "modelLifecycle": {"status": self.lifecycles.get(model, "ACTIVE")},
            }
            bedrock.add_response("get_foundation_model", {"modelDetails": details}, {"modelIdentifier": model})

    def _access(self, distilled) -> None:
        for model in [model_id.removesuffix(":300k").removesuffix(":128k") for model_id in self._roles(distilled)]:
            self.stub("bedrock").add_response(
                "get_foundation_model_availability",
                {
                    "modelId": model,
                    "agreementAvailability": {"status": self.agreement},
                    "authorizationStatus": "AUTHORIZED",
                    "entitlementAvailability": "AVAILABLE",
                    "regionAvailability": "AVAILABLE",
                },
                {"modelId": model},
            )

    def _profile(self) -> None:
        self.stub("bedrock").add_response(
            "get_inference_profile",
            {
                "inferenceProfileName": "US Nova Pro",
                "inferenceProfileArn": f"arn:aws:bedrock:{REGION}:{ACCOUNT}:inference-profile/{PROFILE}",
                "inferenceProfileId": PROFILE,
                "models": [{"modelArn": model_arn(TEACHER, region)} for region in self.routed],
                "status": "ACTIVE",
                "type": "SYSTEM_DEFINED",
            },
            {"inferenceProfileIdentifier": PROFILE},
        )

    def _jobs(self) -> None:
        for page, running in enumerate(self.running_pages):
            summaries = [
                {
                    "jobArn": f"arn:aws:bedrock:{REGION}:{ACCOUNT}:model-customization-job/{STUDENT}/j{page}{index}",
                    "baseModelArn": model_arn(STUDENT),
                    "jobName": f"other-job-{page}-{index}",
                    "status": "InProgress",
                    "creationTime": CREATED,
                }
                for index in range(running)
            ]
            answer = {"modelCustomizationJobSummaries": summaries}
            expected = {"statusEquals": "InProgress", "maxResults": 100}
            if page + 1 < len(self.running_pages):
                answer["nextToken"] = f"page-{page + 1}"
            if page:
                expected["nextToken"] = f"page-{page}"
            self.stub("bedrock").add_response("list_model_customization_jobs", answer, expected)

    def _data(self, model) -> None:
        data = model.distillation.training_data
        if data.s3_uri:
            bucket, _, key = data.s3_uri.removeprefix("s3://").partition("/")
            expected = {"Bucket": bucket, "Key": key}
            if isinstance(self.data, int):
                self.stub("s3").add_response("head_object", {"ContentLength": self.data}, expected)
            else:
                self.stub("s3").add_client_error(
                    "head_object", self.data, "refused", 404 if self.data == "404" else 403
                )
        if data.logs_s3_uri:
            bucket, _, prefix = data.logs_s3_uri.removeprefix("s3://").partition("/")
            self.stub("s3").add_response(
                "list_objects_v2",
                {"KeyCount": 0 if self.data == "empty" else 1},
                {"Bucket": bucket, "Prefix": prefix, "MaxKeys": 1},
            )

    @contextmanager
    def active(self, stage, models=None) -> Iterator[PreflightClients]:
        self.queue(stage, models)
        for stubber in self.stubbers.values():
            stubber.activate()
        yield self.clients
        for stubber in self.stubbers.values():
            stubber.assert_no_pending_responses()
            stubber.deactivate()


def findings(answers: Answers, stage=None, models=None):
    stage = stage or stage_config()
    with answers.active(stage, models) as clients:
        return run_checks(stage, clients, models)


def only(found, check_start: str):
    (finding,) = [f for f in found if f.check.startswith(check_start)]
    return finding


# --- nothing wrong -----------------------------------------------------------------------------------------------


def test_a_ready_account_passes_every_check():
    found = findings(Answers())
    assert [(f.check, f.status) for f in found] == [
        ("credentials", OK),
        ("CDK bootstrap stack CDKToolkit in us-east-1", OK),
        ("model invocation logging of us-east-1", OK),
        (f"teacher {TEACHER} in us-east-1 (for claims)", OK),
        (f"student {STUDENT} in us-east-1 (for claims)", OK),
        (f"access to the teacher {TEACHER} (for claims)", OK),
        (f"access to the student {STUDENT} (for claims)", OK),
        (f"Regions of the inference profile {PROFILE} (for claims)", OK),
        ("job slots (concurrentJobs 2)", OK),
        ("customization jobs in progress in us-east-1", OK),
        (f"training data {DATA_URI} (for claims)", OK),
        (f'Service Quota "{NO_COMMITMENT}" in us-east-1', OK),
        (f'Service Quota "{PER_MODEL}" in us-east-1', OK),
    ]
    assert exit_code(found) == 0
    assert str(found[7]) == (
        f"ok       Regions of the inference profile {PROFILE} (for claims): routes to us-east-1, us-east-2, us-west-2, "
        "all granted to the service role"
    )
    assert str(found[8]) == "ok       job slots (concurrentJobs 2): 1 model distils: its job starts at once"
    assert found[9].finding == "0, leaving 2 of 2 slots for the stage's 1 at once"


# --- one test per finding -----------------------------------------------------------------------------------------


def test_refused_credentials_stop_the_preflight_and_it_cannot_tell():
    answers = Answers()
    stage = stage_config()
    answers.stub("sts").add_client_error("get_caller_identity", "ExpiredToken", "The security token has expired")
    with answers.stubbers["sts"]:
        found = run_checks(stage, answers.clients)
    assert [(f.check, f.status) for f in found] == [("credentials", UNKNOWN)]
    assert found[0].fix == "sign in to the stage's account (aws sso login, or a profile in AWS_PROFILE)"
    assert exit_code(found) == 2


def unreachable_client(service: str):
    """A real client whose endpoint refuses connections (port 9 of this machine), tried once."""
    return boto3.client(
        service,
        region_name="us-east-1",
        endpoint_url="http://127.0.0.1:9",
        aws_access_key_id="AKIAEXAMPLE",
        aws_secret_access_key="example",
        config=Config(retries={"total_max_attempts": 1}),
    )


def test_preflight_tells_an_unreachable_endpoint_from_missing_credentials():
    clients = PreflightClients("us-east-1")
    clients.sts = unreachable_client("sts")
    assert run_checks(stage_config(), clients) == [
        Finding(
            "credentials",
            UNKNOWN,
            'could not be checked: Could not connect to the endpoint URL: "http://127.0.0.1:9/"',
            f"the AWS endpoint could not be reached: {CHECK_NETWORK}",
        )
    ]


def test_credentials_of_another_account_block():
    answers = Answers()
    answers.identity = {**answers.identity, "Account": "999999999999"}
    finding = only(findings(answers), "credentials")
    assert (finding.status, finding.fix) == (BLOCKS, f"use credentials for account {ACCOUNT}")


@pytest.mark.parametrize(
    ("bootstrap", "found"),
    [
        (None, "not found: the account and Region are not bootstrapped"),
        ({"BootstrapVersion": "5"}, "version 5; the stacks need 6 or later"),
    ],
)
def test_a_missing_or_old_bootstrap_stack_blocks(bootstrap, found):
    answers = Answers()
    answers.bootstrap = bootstrap
    finding = only(findings(answers), "CDK bootstrap")
    assert (finding.status, finding.finding, finding.fix) == (
        BLOCKS,
        found,
        f".venv/bin/npx cdk bootstrap aws://{ACCOUNT}/{REGION}",
    )


def test_the_minimum_bootstrap_version_is_the_one_the_templates_check(templates):
    rule = templates["sandbox"]["Foundation"].to_json()["Rules"]["CheckBootstrapVersion"]["Assertions"][0]
    refused = rule["Assert"]["Fn::Not"][0]["Fn::Contains"][0]
    assert max(map(int, refused)) + 1 == preflight.MIN_BOOTSTRAP_VERSION


FOREIGN_LOGGING = {"s3Config": {"bucketName": "security-team-logs", "keyPrefix": "bedrock"}}
# The stage trains from a URI, so logging is on only when it says so.
LOGGING_ON = {"enabled": True}


def test_a_logging_configuration_the_stack_did_not_create_blocks_without_take_over():
    answers = Answers()
    answers.logging = FOREIGN_LOGGING
    finding = only(findings(answers, stage_config(invocationLogging=LOGGING_ON)), "model invocation logging")
    assert finding.status == BLOCKS
    assert finding.finding == (
        "a configuration the stack did not create (s3://security-team-logs/bedrock); the foundation stack refuses to "
        "overwrite it"
    )
    assert finding.fix.startswith("set context.stages.dev.invocationLogging.takeOver to true")


def test_a_logging_configuration_to_take_over_is_a_warning():
    answers = Answers()
    answers.logging = FOREIGN_LOGGING
    stage = stage_config(invocationLogging={**LOGGING_ON, "takeOver": True})
    finding = only(findings(answers, stage), "model invocation logging")
    assert finding.status == WARN


def test_the_stages_own_logging_configuration_is_fine():
    answers = Answers()
    answers.logging = {"s3Config": {"bucketName": LOGS_BUCKET, "keyPrefix": "invocation-logs"}}
    answers.foundation_outputs = {"InvocationLogsBucketName": LOGS_BUCKET}
    finding = only(findings(answers, stage_config(invocationLogging=LOGGING_ON)), "model invocation logging")
    assert (finding.status, finding.finding) == (OK, f"the stage's own (s3://{LOGS_BUCKET}/invocation-logs)")


def test_a_model_the_region_does_not_offer_blocks():
    answers = Answers()
    answers.missing_models = {TEACHER}
    finding = only(findings(answers), "teacher")
    assert (finding.status, finding.finding) == (BLOCKS, "Bedrock does not offer it in this Region")


def test_a_legacy_student_blocks_and_a_legacy_teacher_warns():
    answers = Answers()
    answers.lifecycles = {TEACHER: "LEGACY", STUDENT: "LEGACY"}
    found = findings(answers)
    assert only(found, "teacher").status == WARN
    student = only(found, "student")
    assert (student.status, student.finding) == (
        BLOCKS,
        "LEGACY: Bedrock takes no new customization jobs or Provisioned Throughput for it",
    )
    assert exit_code(found) == 1


def test_a_student_bedrock_does_not_offer_for_distillation_blocks():
    answers = Answers()
    answers.offered = ["amazon.nova-micro-v1:0:128k"]
    finding = only(findings(answers), "student")
    assert (finding.status, finding.finding) == (
        BLOCKS,
        "ACTIVE, but not among the models Bedrock offers for distillation here",
    )


def test_model_access_not_granted_blocks():
    answers = Answers()
    answers.agreement = "PENDING"
    finding = only(findings(answers), "access to the teacher")
    assert (finding.status, finding.finding) == (BLOCKS, "not granted: agreement PENDING")
    assert finding.fix.startswith("request access to the model in the Bedrock console of us-east-1")


def test_a_profile_routing_to_a_region_the_role_may_not_invoke_blocks():
    answers = Answers()
    answers.routed = ["us-east-1", "us-east-2", "us-west-2", "ca-central-1"]
    finding = only(findings(answers), "Regions of the inference profile")
    assert finding.status == BLOCKS
    assert finding.finding == (
        "it routes to us-east-1, us-east-2, us-west-2, ca-central-1; the service role may invoke the model in "
        "us-east-1, us-east-2, us-west-2 only, so calls routed to ca-central-1 would be denied"
    )
    assert finding.fix == (
        'list every Region in context.stages.dev.models.claims.distillation.teacherRegions: ["us-east-1", '
        '"us-east-2", "us-west-2", "ca-central-1"]'
    )


def test_two_running_jobs_block_counting_every_page():
    answers = Answers()
    answers.running_pages = [1, 1]
    finding = only(findings(answers), "customization jobs")
    assert (finding.status, finding.finding, finding.fix) == (
        BLOCKS,
        "2, at the 2 the account may run at once (concurrentJobs 2; AWS's default of 2 is unconfirmed): no slot for "
        "the stage's first job",
        "wait for a job to end or stop one (aws bedrock stop-model-customization-job), or have AWS support raise the "
        "quota and set context.stages.dev.concurrentJobs",
    )


@pytest.mark.parametrize(
    ("answer", "status", "found"),
    [
        ("404", BLOCKS, "does not exist (404)"),
        ("403", UNKNOWN, "your credentials cannot read it (403)"),
    ],
)
def test_a_training_data_uri_that_is_missing_blocks_and_one_that_cannot_be_read_is_unknown(answer, status, found):
    answers = Answers()
    answers.data = answer
    finding = only(findings(answers), "training data")
    assert (finding.status, finding.finding) == (status, found)


def test_an_invocation_log_location_without_objects_blocks():
    answers = Answers()
    answers.data = "empty"
    logs = {"invocationLogs": {"s3Uri": "s3://central-logs/bedrock/AWSLogs/"}}
    stage = stage_config(distillation={"trainingData": logs})
    finding = only(findings(answers, stage), "invocation logs")
    assert (finding.check, finding.status, finding.finding) == (
        "invocation logs s3://central-logs/bedrock/AWSLogs/ (for claims)",
        BLOCKS,
        "no objects under it",
    )


def test_model_units_under_the_quota_block_and_say_what_to_request():
    answers = Answers()
    answers.quotas = {NO_COMMITMENT: 0.0, PER_MODEL: 2.0}
    found = findings(answers, stage_config(serving={"modelUnits": 2}))
    finding = only(found, f'Service Quota "{NO_COMMITMENT}"')
    assert (finding.status, finding.finding) == (BLOCKS, "0, and the stage asks for 2")
    assert finding.fix.startswith(
        "open a case with AWS support before deploying: a Provisioned Throughput of 2 model units needs AWS support "
        f'to raise "{NO_COMMITMENT}" and "{PER_MODEL}" to at least 2'
    )
    assert only(found, f'Service Quota "{PER_MODEL}"').status == OK


def test_a_model_unit_quota_service_quotas_does_not_list_is_unknown():
    answers = Answers()
    answers.quotas = {NO_COMMITMENT: 4.0}
    found = findings(answers)
    assert only(found, f'Service Quota "{PER_MODEL}"').status == UNKNOWN
    assert exit_code(found) == 2


def test_on_demand_serving_needs_no_model_units():
    found = findings(Answers(), stage_config(serving={"mode": "onDemand", "modelUnits": None}))
    assert str(only(found, "model units")) == 'ok       model units: none needed (serving mode "onDemand")'


def test_a_call_the_account_refuses_makes_its_check_unknown_and_the_rest_still_run():
    answers = Answers()
    stage = stage_config()
    answers.queue(stage)
    # Replace the queued job listing with a refusal: Stubber answers in order, so rebuild the bedrock queue.
    answers.stubbers["bedrock"] = Stubber(answers.clients.bedrock)
    answers._logging(stage)
    answers._models(list(stage.models.values()))
    answers._access(list(stage.models.values()))
    answers._profile()
    answers.stub("bedrock").add_client_error(
        "list_model_customization_jobs", "AccessDeniedException", "not authorized", 403
    )
    for stubber in answers.stubbers.values():
        stubber.activate()
    found = run_checks(stage, answers.clients)
    finding = only(found, "running customization jobs")
    assert finding.status == UNKNOWN
    assert "AccessDeniedException" in finding.finding
    assert only(found, f'Service Quota "{PER_MODEL}"').status == OK


# --- the command ----------------------------------------------------------------------------------------------------


def command_stages() -> dict:
    return {
        "dev": {"account": ACCOUNT, "region": REGION, "models": {"claims": model_settings()}},
        "pair": {
            "account": ACCOUNT,
            "region": REGION,
            "models": {
                "summarizer": model_settings("s3://example-datasets/summaries/train.jsonl", 2),
                "classifier": model_settings("s3://example-datasets/tickets/train.jsonl", 1),
            },
        },
    }


def write_cdk_json(tmp_path) -> str:
    path = tmp_path / "cdk.json"
    path.write_text(json.dumps({"context": {"stages": command_stages()}}))
    return str(path)


def run_command(
    capsys, tmp_path, answers: Answers, *args: str, stage_name: str = "dev", model: str | None = None
) -> tuple[int, str, str]:
    path = write_cdk_json(tmp_path)
    stage = load_stages(json.loads((tmp_path / "cdk.json").read_text())["context"]["stages"])[stage_name]
    models = None if model is None else [stage.models[model]]
    chosen = [] if model is None else ["--model", model]
    with (
        answers.active(stage, models),
        mock.patch.object(preflight, "PreflightClients", lambda region: answers.clients),
    ):
        code = main(["preflight", "--stage", stage_name, *chosen, "--cdk-json", path, *args])
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def test_the_command_prints_each_check_with_its_fix_and_exits_1_when_something_blocks(capsys, tmp_path):
    answers = Answers()
    answers.quotas = {NO_COMMITMENT: 0.0, PER_MODEL: 0.0}
    code, out, _ = run_command(capsys, tmp_path, answers)
    lines = out.splitlines()
    assert code == 1
    assert lines[0] == f"preflight of stage dev (account {ACCOUNT}, {REGION}), model claims"
    assert lines[1] == f"ok       credentials: account {ACCOUNT} (arn:aws:iam::{ACCOUNT}:user/ops)"
    assert lines[-3].startswith(
        f'blocks   Service Quota "{NO_COMMITMENT}" in us-east-1: 0, and the stage asks for 1; fix:'
    )
    assert lines[-1] == "2 checks block the deploy"


def test_the_command_reports_json(capsys, tmp_path):
    code, out, _ = run_command(capsys, tmp_path, Answers(), "--format", "json")
    report = json.loads(out)
    assert (code, report["stage"], report["region"], report["exitCode"]) == (0, "dev", REGION, 0)
    assert report["checks"][0] == {
        "check": "credentials",
        "status": "ok",
        "finding": f"account {ACCOUNT} (arn:aws:iam::{ACCOUNT}:user/ops)",
        "fix": "",
    }


def test_an_unknown_stage_is_a_usage_error(capsys, tmp_path):
    code = main(["preflight", "--stage", "qa", "--cdk-json", write_cdk_json(tmp_path)])
    assert (code, capsys.readouterr().err) == (
        2,
        f'distill preflight: {tmp_path / "cdk.json"} has no stage "qa"; stages: dev, pair\n',
    )


def test_the_command_module_imports_boto3_and_the_checks_only_when_it_runs():
    # `distill --help` imports every command module; this one keeps its AWS and configuration imports inside run().
    tree = ast.parse((ROOT / "distill" / "commands" / "preflight.py").read_text())
    imported = {
        alias.name if isinstance(node, ast.Import) else node.module
        for node in tree.body
        if isinstance(node, ast.Import | ast.ImportFrom)
        for alias in node.names
    }
    assert imported == {"__future__", "argparse", "json", "sys", "pathlib"}


# --- a stage of several models -----------------------------------------------------------------------------------


def stage_of(count: int, **stage):
    """Stage ``fleet`` with ``count`` models, each trained from its own S3 dataset and served on demand."""
    models = {
        f"model-{index}": {
            "distillation": {
                "teacher": PROFILE,
                "student": STUDENT,
                "trainingData": {"s3Uri": f"s3://example-datasets/model-{index}/train.jsonl"},
            },
            "serving": {"mode": "onDemand"},
        }
        for index in range(1, count + 1)
    }
    return load_stages({"fleet": {"account": ACCOUNT, "region": REGION, **stage, "models": models}})["fleet"]


def test_models_sharing_a_teacher_and_student_check_them_once_and_each_models_data():
    found = findings(Answers(), stage_of(2))
    assert [f.check for f in found if f.check.startswith(("teacher", "student", "access", "training data"))] == [
        f"teacher {TEACHER} in us-east-1 (for model-1, model-2)",
        f"student {STUDENT} in us-east-1 (for model-1, model-2)",
        f"access to the teacher {TEACHER} (for model-1, model-2)",
        f"access to the student {STUDENT} (for model-1, model-2)",
        "training data s3://example-datasets/model-1/train.jsonl (for model-1)",
        "training data s3://example-datasets/model-2/train.jsonl (for model-2)",
    ]
    assert exit_code(found) == 0


def test_more_models_than_job_slots_start_in_turn_which_is_information_not_a_block():
    found = findings(Answers(), stage_of(3))
    slots = only(found, "job slots")
    assert str(slots) == (
        "ok       job slots (concurrentJobs 2): 3 models distil: the stacks start 2 jobs at once and the other 1 in "
        "turn as jobs end (a job waits for a slot; the deploy does not fail on the quota)"
    )
    assert only(found, "customization jobs").finding == "0, leaving 2 of 2 slots for the stage's 2 at once"
    assert exit_code(found) == 0


def test_a_running_job_that_leaves_too_few_slots_for_the_first_wave_warns():
    answers = Answers()
    answers.running_pages = [1]
    finding = only(findings(answers, stage_of(3)), "customization jobs")
    assert (finding.status, finding.finding, finding.fix) == (
        WARN,
        "1, and the stage starts 2 at once: 3 would run, more than the 2 the account may run (concurrentJobs 2; "
        "AWS's default of 2 is unconfirmed); Bedrock refuses the jobs beyond it",
        "wait for a job to end or stop one (aws bedrock stop-model-customization-job), or set "
        "context.stages.fleet.concurrentJobs to 1 while they run",
    )


def test_the_job_slots_follow_concurrent_jobs():
    answers = Answers()
    answers.running_pages = [1]
    found = findings(answers, stage_of(3, concurrentJobs=4))
    assert only(found, "job slots").finding == "3 models distil: all 3 jobs start at once"
    assert only(found, "customization jobs").status == OK


def test_the_model_units_of_several_throughputs_are_checked_together():
    answers = Answers()
    answers.quotas = {NO_COMMITMENT: 2.0, PER_MODEL: 3.0}
    found = findings(answers, load_stages(command_stages())["pair"])
    together = only(found, f'Service Quota "{NO_COMMITMENT}"')
    assert (together.status, together.finding) == (
        BLOCKS,
        "2, and the stage asks for 3 together (summarizer 2, classifier 1)",
    )
    assert together.fix.startswith(
        "open a case with AWS support before deploying: the stage's Provisioned Throughputs draw 3 model units from "
        f'"{NO_COMMITMENT}" together (summarizer 2, classifier 1); AWS support must raise it to at least 3'
    )
    assert str(only(found, f'Service Quota "{PER_MODEL}"')) == (
        f'ok       Service Quota "{PER_MODEL}" in us-east-1: 3, enough for 3 together (summarizer 2, classifier 1) '
        "(other throughputs share it)"
    )


def test_model_checks_one_model_and_still_the_stages_model_units(capsys, tmp_path):
    answers = Answers()
    answers.quotas = {NO_COMMITMENT: 3.0, PER_MODEL: 3.0}
    code, out, _ = run_command(capsys, tmp_path, answers, "--format", "json", stage_name="pair", model="classifier")
    report = json.loads(out)
    assert (code, report["models"]) == (0, ["classifier"])
    checks = [check["check"] for check in report["checks"]]
    assert "training data s3://example-datasets/tickets/train.jsonl (for classifier)" in checks
    assert not [check for check in checks if "summarizer" in check and "training data" in check]
    assert "job slots (concurrentJobs 2)" in checks
    quota = next(check for check in report["checks"] if check["check"].startswith(f'Service Quota "{NO_COMMITMENT}"'))
    assert quota["finding"] == "3, enough for 3 together (summarizer 2, classifier 1) (other throughputs share it)"


def test_without_model_every_model_is_checked(capsys, tmp_path):
    answers = Answers()
    answers.quotas = {NO_COMMITMENT: 3.0, PER_MODEL: 3.0}
    code, out, _ = run_command(capsys, tmp_path, answers, stage_name="pair")
    assert code == 0
    assert (
        out.splitlines()[0] == f"preflight of stage pair (account {ACCOUNT}, {REGION}), models summarizer, classifier"
    )


@pytest.mark.parametrize(
    ("stage_name", "model", "message"),
    [
        ("pair", "tickets", 'stage pair has no model "tickets"; its models: summarizer, classifier'),
        ("dev", "summarizer", 'stage dev has no model "summarizer"; its models: claims'),
    ],
)
def test_a_model_the_stage_lacks_exits_2_with_its_models(capsys, tmp_path, stage_name, model, message):
    code = main(["preflight", "--stage", stage_name, "--model", model, "--cdk-json", write_cdk_json(tmp_path)])
    assert (code, capsys.readouterr().err) == (2, f"distill preflight: {message}\n")
