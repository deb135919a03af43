"""The distillation job handler: the job its name names is adopted, never started twice, and never left unstopped;
a Delete also releases the stage's models that nothing serves any more."""

from __future__ import annotations

import copy
import hashlib
import json

import aws_clients
import pytest
import stage_ownership
from botocore.exceptions import EndpointConnectionError, ReadTimeoutError

from tests.handlers.conftest import (
    CREATE_FAILED,
    RELEASE_FAILED,
    assert_none_logged,
    customization_job,
    event,
    load_handler,
    lose_answers,
    other_stage_stack,
    record_calls,
    rollback_of,
)

JOB_ARN = (
    "arn:aws:bedrock:us-west-2:123456789012:model-customization-job/meta.llama3-1-8b-instruct-v1:0:128k/k3x9q2w7e5r1"
)
NEW_JOB_ARN = (
    "arn:aws:bedrock:us-west-2:123456789012:model-customization-job/meta.llama3-1-8b-instruct-v1:0:128k/n2e5w8j1o4b7"
)
MODEL_ARN = "arn:aws:bedrock:us-west-2:123456789012:custom-model/meta.llama3-1-8b-instruct-v1:0:128k/m4o8d2e6l0a3"
NEW_MODEL_ARN = "arn:aws:bedrock:us-west-2:123456789012:custom-model/meta.llama3-1-8b-instruct-v1:0:128k/n8w2m4d6l0e1"
THROUGHPUT_ARN = "arn:aws:bedrock:us-west-2:123456789012:provisioned-model/p7t3h9r2u5s1"
# The names the fixtures' settings give their jobs (JobName, derived by the stack).
NAME = "sandbox-distill-3aa7f4218eee"
NEW_NAME = "sandbox-distill-8c1e5b7d2f90"
STAGE_TAGS = [{"key": "distillation-stage", "value": "sandbox"}, {"key": "project", "value": "support-assistant"}]
TRAINING_DATA = {
    "invocationLogsConfig": {
        "usePromptResponse": True,
        "invocationLogSource": {
            "s3Uri": "s3://sandbox-distillation-fou-storageinvocationlogs-1a2b3c4d5e6f/invocation-logs/AWSLogs/"
        },
        "requestMetadataFilters": {"equals": {"project": "support-assistant"}},
    }
}
# What the create fixture's properties ask Bedrock for.
JOB_REQUEST = {
    "jobName": NAME,
    "customModelName": NAME,
    "clientRequestToken": hashlib.sha256(NAME.encode()).hexdigest(),
    "roleArn": "arn:aws:iam::123456789012:role/sandbox-distillation-fou-ServiceRoleD777F2A1-1F2E3D4C5B6A",
    "baseModelIdentifier": "meta.llama3-1-8b-instruct-v1:0:128k",
    "customizationType": "DISTILLATION",
    "customizationConfig": {
        "distillationConfig": {
            "teacherModelConfig": {
                "teacherModelIdentifier": "us.meta.llama3-1-70b-instruct-v1:0",
                "maxResponseLengthForInference": 1000,
            }
        }
    },
    "trainingDataConfig": TRAINING_DATA,
    "outputDataConfig": {"s3Uri": "s3://sandbox-distillation-fou-storageoutput-7g8h9i0j1k2l/distillation-output/"},
    "customModelKmsKeyId": "arn:aws:kms:us-west-2:123456789012:key/3f1c2b7a-8d4e-4f5a-9b6c-0d1e2f3a4b5c",
    "jobTags": STAGE_TAGS,
    "customModelTags": STAGE_TAGS,
    "vpcConfig": {"subnetIds": ["subnet-0a1b2c3d4e5f60718"], "securityGroupIds": ["sg-0f1e2d3c4b5a69788"]},
}
# Bedrock's answer while IAM has not yet propagated the service role's permissions (user guide, "Troubleshooting
# model customization issues", read 2026-11-30).
NOT_YET_PROPAGATED = (
    "Could not validate GetObject permissions to access Amazon S3 bucket: "
    "sandbox-distillation-fou-storageinvocationlogs-1a2b3c4d5e6f"
)
ENDPOINT = "https://bedrock.us-west-2.amazonaws.com/model-customization-jobs"
# The parameter the sandbox template names for the stage's current job (JobArnParameterName), and its stack.
PARAMETER = "/bedrock-distillation/sandbox/support-assistant/job-arn"
STACK_ID = event("distillation_job_create")["StackId"]
GET_JOB, CREATE_JOB, STOP_JOB = (
    "bedrock.GetModelCustomizationJob",
    "bedrock.CreateModelCustomizationJob",
    "bedrock.StopModelCustomizationJob",
)
PUBLISH = "ssm.PutParameter"
TAGS = "bedrock.ListTagsForResource"
REVISION_HINT = (
    "A job cannot be restarted: raise distillation.revision in cdk.json (it names a new job with the same settings) "
    "and deploy again."
)


# What the handler logs instead of failing a started job's Create.
PUBLISH_FAILED = "Could not publish the job "


@pytest.fixture(autouse=True)
def nothing_swallowed(caplog):
    """The job's publish and the stage's release were answered as the test expects (assert_none_logged)."""
    yield
    assert_none_logged(caplog, PUBLISH_FAILED, RELEASE_FAILED)


@pytest.fixture
def handler(stub):
    module = load_handler("distillation_job")
    module.stub = stub(module.bedrock)
    module.ssm_stub = stub(module.ssm)
    module.cloudformation_stub = stub(module.cloudformation)
    module.calls = record_calls(module.bedrock, module.ssm, module.cloudformation)
    return module


def job(status: str, job_arn: str = JOB_ARN, name: str = NAME, **extra) -> dict:
    """A GetModelCustomizationJob answer for a job of these settings."""
    return customization_job(
        job_arn,
        status,
        name,
        trainingDataConfig=TRAINING_DATA,
        outputDataConfig=JOB_REQUEST["outputDataConfig"],
        customizationType="DISTILLATION",
        **extra,
    )


def answer(job_arn: str = JOB_ARN, name: str = NAME, status: str = "InProgress") -> dict:
    return {
        "PhysicalResourceId": job_arn,
        "Data": {"JobArn": job_arn, "JobName": name, "CustomModelName": name, "Status": status},
    }


def bedrock_knows(handler, identifier: str, status: str, job_arn: str = JOB_ARN, name: str = NAME, **extra) -> None:
    handler.stub.add_response(
        "get_model_customization_job", job(status, job_arn, name, **extra), {"jobIdentifier": identifier}
    )


def tags_are(handler, job_arn: str = JOB_ARN, tags: list[dict] = STAGE_TAGS) -> None:
    """ListTagsForResource of a job found by name: its STAGE_TAG says whether it is the stage's to adopt or stop."""
    handler.stub.add_response("list_tags_for_resource", {"tags": tags}, {"resourceARN": job_arn})


def bedrock_knows_no(handler, identifier: str) -> None:
    handler.stub.add_client_error(
        "get_model_customization_job",
        "ResourceNotFoundException",
        f"Could not find job {identifier}",
        404,
        {"jobIdentifier": identifier},
    )


def expect_create(handler, request: dict = JOB_REQUEST, job_arn: str = JOB_ARN) -> None:
    handler.stub.add_response("create_model_customization_job", {"jobArn": job_arn}, request)


def refuse_create(handler, code: str, message: str, request: dict = JOB_REQUEST) -> None:
    handler.stub.add_client_error("create_model_customization_job", code, message, 400, request)


def model_exists(handler, model_arn: str = MODEL_ARN) -> None:
    handler.stub.add_response(
        "get_custom_model",
        {"modelArn": model_arn, "modelName": NAME, "creationTime": "2026-11-28T14:02:09Z"},
        {"modelIdentifier": model_arn},
    )


def expect_untag_for_deletion(handler, model_arn: str = MODEL_ARN) -> None:
    """An adopted job's model is its stack's again: the tag that has it deleted once unserved comes off."""
    handler.stub.add_response(
        "untag_resource", {}, {"resourceARN": model_arn, "tagKeys": ["bedrock-distillation:delete-when-unserved"]}
    )


def expect_publish(handler, job_arn: str = JOB_ARN) -> None:
    """The stage's current job, written to the parameter the template names."""
    handler.ssm_stub.add_response(
        "put_parameter",
        {"Version": 2, "Tier": "Standard"},
        {
            "Name": PARAMETER,
            "Value": job_arn,
            "Type": "String",
            "Overwrite": True,
            "Description": "ARN of the stage's current distillation job",
        },
    )


def stack_is(handler, status: str) -> None:
    """DescribeStacks of the job's stack: how the handler tells a rollback from an update the user asked for."""
    handler.cloudformation_stub.add_response(
        "describe_stacks",
        {
            "Stacks": [
                {
                    "StackName": "sandbox-distillation-support-assistant-training",
                    "StackId": STACK_ID,
                    "CreationTime": "2026-11-28T06:39:41Z",
                    "StackStatus": status,
                }
            ]
        },
        {"StackName": STACK_ID},
    )


# -- Create -------------------------------------------------------------------------------------------------------
def test_create_starts_the_job_when_bedrock_knows_none_of_its_name_and_then_publishes_it(handler, context):
    bedrock_knows_no(handler, NAME)
    expect_create(handler)
    expect_publish(handler)
    assert handler.on_event(event("distillation_job_create"), context) == answer()
    assert handler.calls == [GET_JOB, CREATE_JOB, PUBLISH]


def test_create_from_an_s3_dataset_outside_a_vpc(handler, context):
    request = event("distillation_job_create")
    request["ResourceProperties"]["TrainingDataConfig"] = '{"s3Uri":"s3://example-datasets/claims/train.jsonl"}'
    del request["ResourceProperties"]["VpcConfig"]
    expected = {**JOB_REQUEST, "trainingDataConfig": {"s3Uri": "s3://example-datasets/claims/train.jsonl"}}
    del expected["vpcConfig"]
    bedrock_knows_no(handler, NAME)
    expect_create(handler, expected)
    expect_publish(handler)
    assert handler.on_event(request, context) == answer()


def test_the_token_is_the_jobs_name_so_whatever_request_starts_it_bedrock_starts_one(handler, context):
    sent = []
    handler.bedrock.meta.events.register(
        "before-parameter-build.bedrock.CreateModelCustomizationJob", lambda params, **_: sent.append(dict(params))
    )
    for request_id in ("2c5d8e1f-4a7b-4c0d-9e3f-6a9b2c5d8e1f", "0b0b0b0b-4a7b-4c0d-9e3f-6a9b2c5d8e1f"):
        bedrock_knows_no(handler, NAME)
        expect_create(handler)
        expect_publish(handler)
        handler.on_event(event("distillation_job_create", RequestId=request_id), context)
    assert sent[0] == sent[1]
    assert sent[0]["clientRequestToken"] == hashlib.sha256(NAME.encode()).hexdigest()


def test_create_adopts_the_job_its_name_already_names(handler, context):
    bedrock_knows(handler, NAME, "InProgress")
    tags_are(handler)
    handler.stub.add_response("tag_resource", {}, {"resourceARN": JOB_ARN, "tags": STAGE_TAGS})
    expect_publish(handler)
    assert handler.on_event(event("distillation_job_create"), context) == answer()
    assert handler.calls == [GET_JOB, TAGS, "bedrock.TagResource", PUBLISH]


def test_create_adopts_a_completed_job_whose_model_still_exists_and_untags_the_model(handler, context):
    """An earlier Delete may have tagged the model to be deleted once unserved: adopted, it is the stack's again."""
    bedrock_knows(handler, NAME, "Completed", outputModelArn=MODEL_ARN)
    tags_are(handler)
    model_exists(handler)
    handler.stub.add_response("tag_resource", {}, {"resourceARN": JOB_ARN, "tags": STAGE_TAGS})
    expect_untag_for_deletion(handler)
    expect_publish(handler)
    assert handler.on_event(event("distillation_job_create"), context) == answer(status="Completed")
    assert handler.calls == [
        GET_JOB,
        TAGS,
        "bedrock.GetCustomModel",
        "bedrock.TagResource",
        "bedrock.UntagResource",
        PUBLISH,
    ]


def test_create_refuses_a_job_of_its_name_that_ended_failed_with_the_revision_hint(handler, context):
    """Refused before anything is tagged or published (Stubber refuses any call not queued)."""
    bedrock_knows(handler, NAME, "Failed", failureMessage="The training data has fewer than 100 valid records.")
    tags_are(handler)
    with pytest.raises(RuntimeError) as raised:
        handler.on_event(event("distillation_job_create"), context)
    assert str(raised.value) == (
        f"The distillation job {NAME} for these settings ended Failed (The training data has fewer than 100 valid "
        f"records.). {REVISION_HINT}"
    )
    assert handler.calls == [GET_JOB, TAGS]


@pytest.mark.parametrize("status", ["Stopped", "Stopping"])
def test_create_refuses_a_job_of_its_name_that_was_stopped(handler, context, status):
    bedrock_knows(handler, NAME, status)
    tags_are(handler)
    with pytest.raises(RuntimeError) as raised:
        handler.on_event(event("distillation_job_create"), context)
    assert str(raised.value) == f"The distillation job {NAME} for these settings ended {status}. {REVISION_HINT}"
    assert handler.calls == [GET_JOB, TAGS]


def test_create_refuses_a_completed_job_whose_model_was_deleted(handler, context):
    bedrock_knows(handler, NAME, "Completed", outputModelArn=MODEL_ARN)
    tags_are(handler)
    handler.stub.add_client_error(
        "get_custom_model", "ResourceNotFoundException", "Model not found", 404, {"modelIdentifier": MODEL_ARN}
    )
    with pytest.raises(RuntimeError) as raised:
        handler.on_event(event("distillation_job_create"), context)
    assert str(raised.value) == (
        f"The distillation job {NAME} for these settings completed, but its custom model has since been deleted. "
        f"{REVISION_HINT}"
    )
    assert handler.calls == [GET_JOB, TAGS, "bedrock.GetCustomModel"]


# -- a job of the name that is not the stage's ---------------------------------------------------------------------
UNTAGGED = "it has no distillation-stage tag"
OTHER_STAGES = "it is tagged distillation-stage=prod"


def not_the_stages(job_arn: str, name: str, owner: str) -> str:
    return (
        f"The distillation job {job_arn} has the name {name} that this stage derives for its own, but {owner} rather "
        "than distillation-stage=sandbox: it is not this stage's, so it is left as it is. A job's name stays taken "
        "once the job has ended, and a job cannot be deleted or renamed: raise distillation.revision in cdk.json, so "
        "that the stage derives another name for its job, then deploy again."
    )


@pytest.mark.parametrize(
    "tags, owner",
    [
        ([], UNTAGGED),
        ([{"key": "project", "value": "support-assistant"}], UNTAGGED),
        ([{"key": "distillation-stage", "value": "prod"}], OTHER_STAGES),
    ],
    ids=["untagged", "tagged-but-not-with-a-stage", "another-stages"],
)
def test_create_refuses_a_running_job_of_its_name_that_is_not_the_stages(handler, context, tags, owner):
    """Refused before it is tagged (IAM would let the stage tag an untagged job), adopted or published."""
    bedrock_knows(handler, NAME, "InProgress")
    tags_are(handler, tags=tags)
    with pytest.raises(stage_ownership.NotTheStages) as raised:
        handler.on_event(event("distillation_job_create"), context)
    assert str(raised.value) == not_the_stages(JOB_ARN, NAME, owner)
    assert handler.calls == [GET_JOB, TAGS]


def test_whose_a_job_of_the_name_is_comes_before_whether_it_ended(handler, context):
    """Another team's failed job is theirs: the message says so, not that the stage's job failed."""
    bedrock_knows(handler, NAME, "Failed", failureMessage="Internal failure")
    tags_are(handler, tags=[])
    with pytest.raises(stage_ownership.NotTheStages) as raised:
        handler.on_event(event("distillation_job_create"), context)
    assert str(raised.value) == not_the_stages(JOB_ARN, NAME, UNTAGGED)


def test_a_conflict_that_finds_another_teams_job_of_the_name_is_refused(handler, context):
    bedrock_knows_no(handler, NAME)
    refuse_create(handler, "ConflictException", f"A model customization job named {NAME} already exists.")
    bedrock_knows(handler, NAME, "InProgress")
    tags_are(handler, tags=[])
    with pytest.raises(stage_ownership.NotTheStages) as raised:
        handler.on_event(event("distillation_job_create"), context)
    assert str(raised.value) == not_the_stages(JOB_ARN, NAME, UNTAGGED)
    assert handler.calls == [GET_JOB, CREATE_JOB, GET_JOB, TAGS]


def test_a_lost_create_answer_whose_lookup_finds_another_teams_job_is_refused(handler, context, monkeypatch):
    bedrock_knows_no(handler, NAME)
    lose_answers(
        monkeypatch, handler.bedrock, "create_model_customization_job", ReadTimeoutError(endpoint_url=ENDPOINT)
    )
    bedrock_knows(handler, NAME, "InProgress")
    tags_are(handler, tags=[{"key": "distillation-stage", "value": "prod"}])
    with pytest.raises(stage_ownership.NotTheStages) as raised:
        handler.on_event(event("distillation_job_create"), context)
    assert str(raised.value) == not_the_stages(JOB_ARN, NAME, OTHER_STAGES)


def test_an_update_back_to_settings_whose_job_is_another_teams_is_refused_before_anything_else(handler, context):
    """Neither the stack's status is asked nor the running job stopped: the request fails at once."""
    bedrock_knows(handler, NAME, "InProgress")
    tags_are(handler, tags=[])
    with pytest.raises(stage_ownership.NotTheStages) as raised:
        handler.on_event(back_to_earlier_settings(), context)
    assert str(raised.value) == not_the_stages(JOB_ARN, NAME, UNTAGGED)
    assert handler.calls == [GET_JOB, TAGS]


def test_a_rollback_refuses_to_adopt_another_teams_job_of_the_previous_name(handler, context):
    bedrock_knows(handler, NAME, "InProgress")
    tags_are(handler, tags=[])
    request = rollback_of(event("distillation_job_update"), physical_id=NEW_JOB_ARN)
    with pytest.raises(stage_ownership.NotTheStages) as raised:
        handler.on_event(request, context)
    assert str(raised.value) == not_the_stages(JOB_ARN, NAME, UNTAGGED)


def test_a_rollback_leaves_another_teams_running_job_of_the_updated_name_running(handler, context, caplog):
    """Not the stage's, so not its stray to stop; failing the rollback for it would leave the stack in
    UPDATE_ROLLBACK_FAILED, so the rollback succeeds and says why it left the job alone."""
    bedrock_knows(handler, NAME, "InProgress")
    bedrock_knows(handler, NEW_NAME, "InProgress", NEW_JOB_ARN, NEW_NAME)
    tags_are(handler, NEW_JOB_ARN, tags=[])
    expect_publish(handler)
    request = rollback_of(event("distillation_job_update"), physical_id=JOB_ARN)
    assert handler.on_event(request, context) == answer()
    assert handler.calls == [GET_JOB, GET_JOB, TAGS, PUBLISH]
    assert (
        f"Not stopping the distillation job named {NEW_NAME}: {not_the_stages(NEW_JOB_ARN, NEW_NAME, UNTAGGED)}"
        in caplog.messages
    )


def test_a_publish_that_ssm_refuses_does_not_fail_the_create_of_a_started_job(handler, context, caplog):
    bedrock_knows_no(handler, NAME)
    expect_create(handler)
    handler.ssm_stub.add_client_error(
        "put_parameter", "ThrottlingException", "Rate exceeded", 400, expected_params=None
    )
    assert handler.on_event(event("distillation_job_create"), context) == answer()
    [warning] = [r.getMessage() for r in caplog.records if r.getMessage().startswith(PUBLISH_FAILED)]
    assert warning.endswith("`distill status` cannot find it until a deploy publishes it")
    caplog.clear()


# -- IAM propagation and refusals ---------------------------------------------------------------------------------
def test_iam_propagation_is_retried_until_bedrock_sees_the_permissions(handler, context):
    bedrock_knows_no(handler, NAME)
    refuse_create(handler, "ValidationException", NOT_YET_PROPAGATED)
    refuse_create(handler, "ValidationException", NOT_YET_PROPAGATED)
    expect_create(handler)
    expect_publish(handler)
    assert handler.on_event(event("distillation_job_create"), context) == answer()
    assert context.slept == [5, 10]


def test_iam_propagation_is_retried_until_the_budget_runs_out(handler, context):
    # Waits of 5, 10, 20 and 40 s, then a minute at a time, until the next wait would leave less than two calls'
    # budget (2 x 102 s) of the function's 900 s: after the 15th refusal 225 s are left, and 60 + 204 s do not fit.
    sleeps = [5, 10, 20, 40] + [60] * 10
    bedrock_knows_no(handler, NAME)
    for _ in range(len(sleeps) + 1):
        refuse_create(handler, "ValidationException", NOT_YET_PROPAGATED)
    with pytest.raises(RuntimeError) as raised:
        handler.on_event(event("distillation_job_create"), context)
    assert context.slept == sleeps
    assert context.remaining_seconds == 225
    assert str(raised.value) == (
        f"Bedrock refused the distillation job {NAME}: {NOT_YET_PROPAGATED} (ValidationException), still after "
        "waiting for the role's permissions to propagate. Check that the service role may read the training data "
        "and write the output location, that its trust policy allows bedrock.amazonaws.com, and that the KMS key "
        "allows the role."
    )


def test_a_propagation_wait_that_does_not_fit_is_not_started(handler, context):
    context.remaining_seconds = 2 * aws_clients.CALL_BUDGET_SECONDS + 4
    bedrock_knows_no(handler, NAME)
    refuse_create(handler, "ValidationException", NOT_YET_PROPAGATED)
    with pytest.raises(RuntimeError, match="still after waiting for the role's permissions to propagate"):
        handler.on_event(event("distillation_job_create"), context)
    assert context.slept == []


@pytest.mark.parametrize(
    ("code", "message"),
    [
        ("ValidationException", "The provided teacher model is not supported for distillation with this student"),
        ("AccessDeniedException", "User is not authorized to perform: iam:PassRole"),
        ("ServiceQuotaExceededException", "You have reached the maximum number of concurrent customization jobs"),
    ],
)
def test_a_refusal_that_waiting_cannot_cure_fails_at_once_with_bedrocks_reason(handler, context, code, message):
    bedrock_knows_no(handler, NAME)
    refuse_create(handler, code, message)
    with pytest.raises(RuntimeError) as raised:
        handler.on_event(event("distillation_job_create"), context)
    assert str(raised.value) == f"Bedrock refused the distillation job {NAME}: {message} ({code})."
    assert context.slept == []


def test_a_job_of_the_name_started_meanwhile_is_adopted(handler, context):
    bedrock_knows_no(handler, NAME)
    refuse_create(handler, "ConflictException", f"A model customization job named {NAME} already exists.")
    bedrock_knows(handler, NAME, "InProgress")
    tags_are(handler)
    expect_publish(handler)
    assert handler.on_event(event("distillation_job_create"), context) == answer()
    assert handler.calls == [GET_JOB, CREATE_JOB, GET_JOB, TAGS, PUBLISH]


def test_a_conflict_without_a_job_of_the_name_fails_with_bedrocks_reason(handler, context):
    bedrock_knows_no(handler, NAME)
    refuse_create(handler, "ConflictException", "Too many concurrent requests for this resource.")
    bedrock_knows_no(handler, NAME)
    with pytest.raises(RuntimeError) as raised:
        handler.on_event(event("distillation_job_create"), context)
    assert str(raised.value) == (
        f"Bedrock refused the distillation job {NAME}: Too many concurrent requests for this resource. "
        "(ConflictException)."
    )


# -- a lost answer ------------------------------------------------------------------------------------------------
def test_a_lost_create_answer_is_settled_by_looking_the_job_up(handler, context, monkeypatch):
    bedrock_knows_no(handler, NAME)
    lost = lose_answers(
        monkeypatch, handler.bedrock, "create_model_customization_job", ReadTimeoutError(endpoint_url=ENDPOINT)
    )
    bedrock_knows(handler, NAME, "InProgress")
    tags_are(handler)
    expect_publish(handler)
    assert handler.on_event(event("distillation_job_create"), context) == answer()
    assert lost == [JOB_REQUEST]


def test_a_lost_create_that_bedrock_never_had_fails_so_that_a_deploy_starts_it(handler, context, monkeypatch):
    bedrock_knows_no(handler, NAME)
    lose_answers(
        monkeypatch, handler.bedrock, "create_model_customization_job", ReadTimeoutError(endpoint_url=ENDPOINT)
    )
    bedrock_knows_no(handler, NAME)
    with pytest.raises(RuntimeError) as raised:
        handler.on_event(event("distillation_job_create"), context)
    assert str(raised.value) == (
        f'Bedrock did not accept the distillation job {NAME} (Read timeout on endpoint URL: "{ENDPOINT}"); deploy '
        "again to retry."
    )


def test_a_lookup_lost_too_is_asked_again_after_a_pause(handler, context, monkeypatch):
    bedrock_knows_no(handler, NAME)
    unreachable = EndpointConnectionError(endpoint_url=ENDPOINT)
    lose_answers(monkeypatch, handler.bedrock, "create_model_customization_job", unreachable)
    lose_answers(monkeypatch, handler.bedrock, "get_model_customization_job", unreachable, after=1)
    bedrock_knows(handler, NAME, "InProgress")
    tags_are(handler)
    expect_publish(handler)
    assert handler.on_event(event("distillation_job_create"), context) == answer()
    assert context.slept == [5]


def test_an_unreachable_bedrock_is_asked_until_the_budget_runs_out(handler, context, monkeypatch):
    # Lookups 5 s apart while more than two calls' budget (204 s) is left: from 224 s, four of them.
    context.remaining_seconds = 224
    bedrock_knows_no(handler, NAME)
    unreachable = EndpointConnectionError(endpoint_url=ENDPOINT)
    lose_answers(monkeypatch, handler.bedrock, "create_model_customization_job", unreachable)
    lookups = lose_answers(monkeypatch, handler.bedrock, "get_model_customization_job", unreachable, 10, after=1)
    with pytest.raises(RuntimeError) as raised:
        handler.on_event(event("distillation_job_create"), context)
    assert lookups == [{"jobIdentifier": NAME}] * 4
    assert context.slept == [5, 5, 5, 5]
    assert str(raised.value) == (
        f"Bedrock could not be reached to create the distillation job {NAME} (Could not connect to the endpoint URL: "
        f'"{ENDPOINT}"). Deploy again: the next deploy adopts it if Bedrock did create it, and creates it otherwise. '
        f"A stack deleted instead never learns of it: then look for the distillation job {NAME} in Bedrock, as it may "
        "exist and bill."
    )


# -- Update -------------------------------------------------------------------------------------------------------
def new_job_request() -> dict:
    request = copy.deepcopy(JOB_REQUEST)
    request.update(
        jobName=NEW_NAME, customModelName=NEW_NAME, clientRequestToken=hashlib.sha256(NEW_NAME.encode()).hexdigest()
    )
    request["customizationConfig"]["distillationConfig"]["teacherModelConfig"]["maxResponseLengthForInference"] = 2000
    return request


def test_update_to_settings_of_a_new_name_starts_their_job_and_publishes_it(handler, context):
    bedrock_knows_no(handler, NEW_NAME)
    expect_create(handler, new_job_request(), NEW_JOB_ARN)
    expect_publish(handler, NEW_JOB_ARN)
    assert handler.on_event(event("distillation_job_update"), context) == answer(NEW_JOB_ARN, NEW_NAME)
    assert handler.calls == [GET_JOB, CREATE_JOB, PUBLISH]


def test_a_rollback_update_adopts_the_previous_job_and_creates_nothing(handler, context):
    """The forward Update started the new job and a later resource failed: the stack holds the new job's ARN, which
    the cleanup Delete stops; the rollback only adopts the previous job and publishes it again."""
    bedrock_knows(handler, NAME, "InProgress")
    tags_are(handler)
    stack_is(handler, "UPDATE_ROLLBACK_IN_PROGRESS")
    bedrock_knows(handler, NEW_NAME, "InProgress", NEW_JOB_ARN, NEW_NAME)
    expect_publish(handler)
    request = rollback_of(event("distillation_job_update"), physical_id=NEW_JOB_ARN)
    assert handler.on_event(request, context) == answer()
    assert handler.calls == [GET_JOB, TAGS, "cloudformation.DescribeStacks", GET_JOB, PUBLISH]


def test_a_rollback_of_an_update_that_failed_keeps_the_job_the_stack_holds(handler, context):
    """The forward Update failed in its handler: the stack still holds the previous job, so no stack status is asked;
    the updated settings' name is looked up for a job that update may have started."""
    bedrock_knows(handler, NAME, "InProgress")
    bedrock_knows_no(handler, NEW_NAME)
    expect_publish(handler)
    request = rollback_of(event("distillation_job_update"), physical_id=JOB_ARN)
    assert handler.on_event(request, context) == answer()
    assert handler.calls == [GET_JOB, GET_JOB, PUBLISH]


def test_a_rollback_stops_the_job_a_failed_update_started_that_the_stack_never_held(handler, context, caplog):
    """The forward Update's create answer came too late for its handler: Bedrock runs the new job, the stack never
    learnt its ARN, and no cleanup Delete would ever stop it."""
    bedrock_knows(handler, NAME, "InProgress")
    bedrock_knows(handler, NEW_NAME, "InProgress", NEW_JOB_ARN, NEW_NAME)
    tags_are(handler, NEW_JOB_ARN)
    handler.stub.add_response("stop_model_customization_job", {}, {"jobIdentifier": NEW_JOB_ARN})
    expect_publish(handler)
    request = rollback_of(event("distillation_job_update"), physical_id=JOB_ARN)
    assert handler.on_event(request, context) == answer()
    assert handler.calls == [GET_JOB, GET_JOB, TAGS, STOP_JOB, PUBLISH]
    assert (
        f"Stopped the distillation job {NEW_JOB_ARN}, which a failed update started and nothing holds"
        in caplog.messages
    )


@pytest.mark.parametrize("status", ["Completed", "Failed", "Stopped", "Stopping"])
def test_a_stray_job_that_no_longer_runs_is_left_as_it_is(handler, context, status):
    bedrock_knows(handler, NAME, "InProgress")
    bedrock_knows(handler, NEW_NAME, status, NEW_JOB_ARN, NEW_NAME)
    expect_publish(handler)
    request = rollback_of(event("distillation_job_update"), physical_id=JOB_ARN)
    assert handler.on_event(request, context) == answer()
    assert handler.calls == [GET_JOB, GET_JOB, PUBLISH]


def test_a_rollback_adopts_the_previous_job_even_once_it_has_ended(handler, context):
    """A rollback that refused would leave the stack in UPDATE_ROLLBACK_FAILED; the ended job is the previous state."""
    bedrock_knows(handler, NAME, "Failed", failureMessage="Internal failure")
    tags_are(handler)
    stack_is(handler, "UPDATE_ROLLBACK_IN_PROGRESS")
    bedrock_knows(handler, NEW_NAME, "InProgress", NEW_JOB_ARN, NEW_NAME)
    expect_publish(handler)
    request = rollback_of(event("distillation_job_update"), physical_id=NEW_JOB_ARN)
    assert handler.on_event(request, context) == answer(status="Failed")


# A user's update back to earlier settings has the shape of a rollback (rollback_of builds both): only the stack's
# status tells them apart.
def back_to_earlier_settings() -> dict:
    return rollback_of(event("distillation_job_update"), physical_id=NEW_JOB_ARN)


def test_an_update_back_to_settings_whose_job_failed_is_refused_before_the_running_job_is_stopped(handler, context):
    """Adopting it would have the cleanup Delete stop the job that runs now, for a job that yields no model."""
    bedrock_knows(handler, NAME, "Failed", failureMessage="Internal failure")
    tags_are(handler)
    stack_is(handler, "UPDATE_IN_PROGRESS")
    with pytest.raises(RuntimeError) as raised:
        handler.on_event(back_to_earlier_settings(), context)
    assert str(raised.value) == (
        f"The distillation job {NAME} for these settings ended Failed (Internal failure). {REVISION_HINT}"
    )
    assert handler.calls == [GET_JOB, TAGS, "cloudformation.DescribeStacks"]


def test_an_update_back_to_settings_whose_job_still_runs_adopts_it(handler, context):
    bedrock_knows(handler, NAME, "InProgress")
    tags_are(handler)
    stack_is(handler, "UPDATE_IN_PROGRESS")
    bedrock_knows(handler, NEW_NAME, "InProgress", NEW_JOB_ARN, NEW_NAME)
    expect_publish(handler)
    assert handler.on_event(back_to_earlier_settings(), context) == answer()


def test_an_update_back_to_a_completed_job_adopts_it_and_untags_its_model(handler, context):
    bedrock_knows(handler, NAME, "Completed", outputModelArn=MODEL_ARN)
    tags_are(handler)
    stack_is(handler, "UPDATE_IN_PROGRESS")
    model_exists(handler)
    expect_untag_for_deletion(handler)
    bedrock_knows(handler, NEW_NAME, "InProgress", NEW_JOB_ARN, NEW_NAME)
    expect_publish(handler)
    assert handler.on_event(back_to_earlier_settings(), context) == answer(status="Completed")
    assert handler.calls == [
        GET_JOB,
        TAGS,
        "cloudformation.DescribeStacks",
        "bedrock.GetCustomModel",
        "bedrock.UntagResource",
        GET_JOB,
        PUBLISH,
    ]


def test_update_of_retain_model_on_delete_alone_keeps_the_job(handler, context):
    """The same name: nothing to adopt and no stray to look for."""
    bedrock_knows(handler, NAME, "InProgress")
    expect_publish(handler)
    assert handler.on_event(event("distillation_job_update_retain"), context) == answer()
    assert handler.calls == [GET_JOB, PUBLISH]


def test_update_of_tags_alone_retags_the_job_and_its_model_in_place(handler, context):
    request = event("distillation_job_update_retain")
    request["ResourceProperties"]["JobTags"] = json.dumps({"distillation-stage": "sandbox", "cost-center": "ml"})
    request["ResourceProperties"]["CustomModelTags"] = json.dumps({"distillation-stage": "sandbox"})
    bedrock_knows(handler, NAME, "Completed", outputModelArn=MODEL_ARN)
    handler.stub.add_response(
        "tag_resource",
        {},
        {"resourceARN": JOB_ARN, "tags": [STAGE_TAGS[0], {"key": "cost-center", "value": "ml"}]},
    )
    handler.stub.add_response("untag_resource", {}, {"resourceARN": JOB_ARN, "tagKeys": ["project"]})
    handler.stub.add_response("tag_resource", {}, {"resourceARN": MODEL_ARN, "tags": [STAGE_TAGS[0]]})
    handler.stub.add_response("untag_resource", {}, {"resourceARN": MODEL_ARN, "tagKeys": ["project"]})
    expect_publish(handler)
    assert handler.on_event(request, context) == answer(status="Completed")


def test_update_of_tags_of_a_job_without_a_model_yet_retags_the_job_alone(handler, context):
    request = event("distillation_job_update_retain")
    request["ResourceProperties"]["JobTags"] = request["ResourceProperties"]["CustomModelTags"] = json.dumps(
        {"distillation-stage": "sandbox"}
    )
    bedrock_knows(handler, NAME, "InProgress")
    handler.stub.add_response("tag_resource", {}, {"resourceARN": JOB_ARN, "tags": [STAGE_TAGS[0]]})
    handler.stub.add_response("untag_resource", {}, {"resourceARN": JOB_ARN, "tagKeys": ["project"]})
    expect_publish(handler)
    assert handler.on_event(request, context) == answer()


# -- Delete -------------------------------------------------------------------------------------------------------
# Every job of the stage, hence its model, is named <stage>-distill-<digest>: a Delete releases the stage's models.
PREFIX = "sandbox-distill-"
EARLIER_MODEL_ARN = (
    "arn:aws:bedrock:us-west-2:123456789012:custom-model/meta.llama3-1-8b-instruct-v1:0:128k/e4r1i2e3r4l5"
)
OTHER_MODEL_ARN = "arn:aws:bedrock:us-west-2:123456789012:custom-model/amazon.nova-lite-v1:0:300k/o1t2h3e4r5m6"
DEPLOYMENT_ARN = "arn:aws:bedrock:us-west-2:123456789012:custom-model-deployment/d3p1o4y5m9e2"
DELETE_WHEN_UNSERVED = [{"key": "bedrock-distillation:delete-when-unserved", "value": "true"}]
UNPUBLISH = ["ssm.GetParameter", "ssm.DeleteParameter"]
RELEASE = ["cloudformation.DescribeStacks", "cloudformation.DescribeStacks", "bedrock.ListCustomModels"]


def delete_request(retain: str = "true") -> dict:
    request = event("distillation_job_delete")
    request["ResourceProperties"]["RetainModelOnDelete"] = retain
    return request


def custom_model(model_arn: str, name: str) -> dict:
    """A ListCustomModels summary with what the service model requires."""
    return {
        "modelArn": model_arn,
        "modelName": name,
        "creationTime": "2026-11-28T14:02:09Z",
        "baseModelArn": "arn:aws:bedrock:us-west-2::foundation-model/meta.llama3-1-8b-instruct-v1:0:128k",
        "baseModelName": "Llama 3.1 8B Instruct",
    }


def published(handler, value: str | None) -> None:
    """GetParameter of the job's parameter: ``value``, or no such parameter."""
    if value is None:
        handler.ssm_stub.add_client_error("get_parameter", "ParameterNotFound", "", 400, {"Name": PARAMETER})
        return
    handler.ssm_stub.add_response(
        "get_parameter",
        {"Parameter": {"Name": PARAMETER, "Type": "String", "Value": value, "Version": 2}},
        {"Name": PARAMETER},
    )


def expect_unpublish(handler, job_arn: str = JOB_ARN) -> None:
    """This job is the one published: its Delete forgets it."""
    published(handler, job_arn)
    handler.ssm_stub.add_response("delete_parameter", {}, {"Name": PARAMETER})


def expect_release(handler, models: list | None = None, status: str = "UPDATE_COMPLETE_CLEANUP_IN_PROGRESS") -> None:
    """The stack's status (a replaced job's Delete comes in the cleanup after the update), then the stage's models
    listed by the release that ends every Delete (none unless given)."""
    stack_is(handler, status)
    if not status.endswith("ROLLBACK_IN_PROGRESS"):
        other_stage_stack(
            handler.cloudformation_stub, "sandbox-distillation-support-assistant-serving", "UPDATE_COMPLETE"
        )
    handler.stub.add_response("list_custom_models", {"modelSummaries": models or []}, {"nameContains": PREFIX})


def throughput_summary(current: str = MODEL_ARN, desired: str | None = None) -> dict:
    """A throughput serving ``current``; one whose desired model is another is moving to it and serves ``current``
    until the move is deployed (user guide, prov-thru-edit.html, read 2026-12-01)."""
    desired = desired or current
    return {
        "provisionedModelName": "sandbox-serving-2f462a79fa34",
        "provisionedModelArn": THROUGHPUT_ARN,
        "modelArn": current,
        "desiredModelArn": desired,
        "foundationModelArn": "arn:aws:bedrock:us-west-2::foundation-model/meta.llama3-1-8b-instruct-v1:0:128k",
        "modelUnits": 1,
        "desiredModelUnits": 1,
        "status": "InService" if desired == current else "Updating",
        "creationTime": "2026-11-28T14:10:00Z",
        "lastModifiedTime": "2026-11-28T14:10:00Z",
    }


def deployment(current: str, moving_to: str | None = None) -> tuple[dict, dict]:
    """A custom model deployment serving ``current``, as ListCustomModelDeployments and GetCustomModelDeployment
    answer; a move to another model shows only in the latter's updateDetails."""
    summary = {
        "customModelDeploymentArn": DEPLOYMENT_ARN,
        "customModelDeploymentName": "sandbox-serving-2f462a79fa34",
        "modelArn": current,
        "createdAt": "2026-11-28T14:10:00Z",
        "status": "Active",
    }
    detail = {**summary, "modelDeploymentName": summary["customModelDeploymentName"]}
    del detail["customModelDeploymentName"]
    if moving_to:
        detail["updateDetails"] = {"modelArn": moving_to, "updateStatus": "Updating"}
    return summary, detail


def expect_serving(handler, throughputs: list, deployments: list[tuple[dict, dict]] = ()) -> None:
    """serving_state: every throughput and deployment of the account and Region, unfiltered, then each deployment."""
    handler.stub.add_response("list_provisioned_model_throughputs", {"provisionedModelSummaries": throughputs}, {})
    handler.stub.add_response(
        "list_custom_model_deployments", {"modelDeploymentSummaries": [summary for summary, _ in deployments]}, {}
    )
    for summary, detail in deployments:
        handler.stub.add_response(
            "get_custom_model_deployment",
            detail,
            {"customModelDeploymentIdentifier": summary["customModelDeploymentArn"]},
        )


def test_delete_stops_a_job_still_running_forgets_it_and_then_releases(handler, context):
    bedrock_knows(handler, JOB_ARN, "InProgress")
    handler.stub.add_response("stop_model_customization_job", {}, {"jobIdentifier": JOB_ARN})
    expect_unpublish(handler)
    expect_release(handler)
    assert handler.on_event(delete_request(), context) == {"PhysicalResourceId": JOB_ARN}
    assert handler.calls == [GET_JOB, STOP_JOB, *UNPUBLISH, *RELEASE]


def test_the_delete_of_a_replaced_job_leaves_its_successor_published(handler, context):
    """CloudFormation deletes the replaced job in its cleanup, after the new job's Update published the new ARN."""
    bedrock_knows(handler, JOB_ARN, "InProgress")
    handler.stub.add_response("stop_model_customization_job", {}, {"jobIdentifier": JOB_ARN})
    published(handler, NEW_JOB_ARN)
    expect_release(handler)
    assert handler.on_event(delete_request(), context) == {"PhysicalResourceId": JOB_ARN}
    assert handler.calls == [GET_JOB, STOP_JOB, "ssm.GetParameter", *RELEASE]


def test_a_delete_whose_parameter_is_gone_already_succeeds(handler, context):
    bedrock_knows(handler, JOB_ARN, "Completed", outputModelArn=MODEL_ARN)
    published(handler, None)
    expect_release(handler)
    assert handler.on_event(delete_request(), context) == {"PhysicalResourceId": JOB_ARN}


def test_a_job_created_before_its_arn_was_published_is_deleted_without_ssm(handler, context):
    """A resource created by an earlier version of the template has no JobArnParameterName in its properties."""
    request = delete_request()
    del request["ResourceProperties"]["JobArnParameterName"]
    bedrock_knows(handler, JOB_ARN, "InProgress")
    handler.stub.add_response("stop_model_customization_job", {}, {"jobIdentifier": JOB_ARN})
    expect_release(handler)
    assert handler.on_event(request, context) == {"PhysicalResourceId": JOB_ARN}
    assert handler.calls == [GET_JOB, STOP_JOB, *RELEASE]


def test_a_job_that_ended_while_being_stopped_is_left_as_it_ended(handler, context):
    bedrock_knows(handler, JOB_ARN, "InProgress")
    handler.stub.add_client_error(
        "stop_model_customization_job",
        "ValidationException",
        "The job is not in progress.",
        400,
        {"jobIdentifier": JOB_ARN},
    )
    bedrock_knows(handler, NAME, "Completed", outputModelArn=MODEL_ARN)
    expect_unpublish(handler)
    expect_release(handler)
    assert handler.on_event(delete_request(), context) == {"PhysicalResourceId": JOB_ARN}


def test_delete_that_cannot_stop_a_running_job_fails_naming_it(handler, context):
    """It fails before the job is forgotten or the stage released: nothing else is asked (Stubber refuses any call
    not queued)."""
    bedrock_knows(handler, JOB_ARN, "InProgress")
    handler.stub.add_client_error(
        "stop_model_customization_job",
        "AccessDeniedException",
        "User is not authorized to perform: bedrock:StopModelCustomizationJob",
        403,
        {"jobIdentifier": JOB_ARN},
    )
    bedrock_knows(handler, NAME, "InProgress")
    with pytest.raises(RuntimeError) as raised:
        handler.on_event(delete_request(), context)
    assert str(raised.value) == (
        f"Could not stop the distillation job {JOB_ARN}: An error occurred (AccessDeniedException) when calling the "
        "StopModelCustomizationJob operation: User is not authorized to perform: bedrock:StopModelCustomizationJob"
    )
    assert handler.calls == [GET_JOB, STOP_JOB, GET_JOB]


def test_a_job_gone_after_a_failed_stop_is_deleted_already(handler, context):
    bedrock_knows(handler, JOB_ARN, "InProgress")
    handler.stub.add_client_error(
        "stop_model_customization_job",
        "ResourceNotFoundException",
        f"Could not find job {JOB_ARN}",
        404,
        {"jobIdentifier": JOB_ARN},
    )
    bedrock_knows_no(handler, NAME)
    expect_unpublish(handler)
    expect_release(handler)
    assert handler.on_event(delete_request(), context) == {"PhysicalResourceId": JOB_ARN}


def test_delete_keeps_the_model_of_a_completed_job_by_default(handler, context):
    bedrock_knows(handler, JOB_ARN, "Completed", outputModelArn=MODEL_ARN)
    expect_unpublish(handler)
    expect_release(handler)
    assert handler.on_event(delete_request(), context) == {"PhysicalResourceId": JOB_ARN}
    assert handler.calls == [GET_JOB, *UNPUBLISH, *RELEASE]


def test_delete_deletes_the_model_nothing_serves_when_told_not_to_retain_it(handler, context):
    bedrock_knows(handler, JOB_ARN, "Completed", outputModelArn=MODEL_ARN)
    expect_serving(handler, [])
    handler.stub.add_response("delete_custom_model", {}, {"modelIdentifier": MODEL_ARN})
    expect_unpublish(handler)
    expect_release(handler)
    assert handler.on_event(delete_request("false"), context) == {"PhysicalResourceId": JOB_ARN}
    assert context.slept == []
    assert handler.calls == [
        GET_JOB,
        "bedrock.ListProvisionedModelThroughputs",
        "bedrock.ListCustomModelDeployments",
        "bedrock.DeleteCustomModel",
        *UNPUBLISH,
        *RELEASE,
    ]


def test_what_serves_other_models_does_not_keep_the_jobs_model(handler, context):
    """Every throughput and deployment of the Region is listed; only those on (or moving to or from) the job's model
    count."""
    bedrock_knows(handler, JOB_ARN, "Completed", outputModelArn=MODEL_ARN)
    expect_serving(handler, [throughput_summary(OTHER_MODEL_ARN)], [deployment(OTHER_MODEL_ARN)])
    handler.stub.add_response("delete_custom_model", {}, {"modelIdentifier": MODEL_ARN})
    expect_unpublish(handler)
    expect_release(handler)
    assert handler.on_event(delete_request("false"), context) == {"PhysicalResourceId": JOB_ARN}


def test_delete_waits_for_the_throughput_moving_off_the_model_then_deletes_it(handler, context, caplog):
    """A throughput moving off the job's model (a serving deploy under way) serves it until the move is deployed: the
    Delete waits for the move, then deletes the model."""
    bedrock_knows(handler, JOB_ARN, "Completed", outputModelArn=MODEL_ARN)
    expect_serving(handler, [throughput_summary(MODEL_ARN, NEW_MODEL_ARN)])
    expect_serving(handler, [throughput_summary(MODEL_ARN, NEW_MODEL_ARN)])
    expect_serving(handler, [throughput_summary(NEW_MODEL_ARN)])
    handler.stub.add_response("delete_custom_model", {}, {"modelIdentifier": MODEL_ARN})
    expect_unpublish(handler)
    expect_release(handler)
    assert handler.on_event(delete_request("false"), context) == {"PhysicalResourceId": JOB_ARN}
    assert context.slept == [30, 30]
    assert f"The custom model {MODEL_ARN} of {NAME}: deleted" in caplog.messages


def test_delete_waits_for_a_deployment_moving_off_the_model_too(handler, context, caplog):
    bedrock_knows(handler, JOB_ARN, "Completed", outputModelArn=MODEL_ARN)
    expect_serving(handler, [], [deployment(MODEL_ARN, moving_to=NEW_MODEL_ARN)])
    expect_serving(handler, [], [deployment(NEW_MODEL_ARN)])
    handler.stub.add_response("delete_custom_model", {}, {"modelIdentifier": MODEL_ARN})
    expect_unpublish(handler)
    expect_release(handler)
    assert handler.on_event(delete_request("false"), context) == {"PhysicalResourceId": JOB_ARN}
    assert context.slept == [30]
    assert f"The custom model {MODEL_ARN} of {NAME}: deleted" in caplog.messages


def test_a_served_model_is_tagged_instead_of_deleted_and_the_release_keeps_it(handler, context, caplog):
    bedrock_knows(handler, JOB_ARN, "Completed", outputModelArn=MODEL_ARN)
    expect_serving(handler, [throughput_summary()])
    handler.stub.add_response("tag_resource", {}, {"resourceARN": MODEL_ARN, "tags": DELETE_WHEN_UNSERVED})
    expect_unpublish(handler)
    # The release that follows finds the model it just tagged, still served: it stays.
    expect_release(handler, [custom_model(MODEL_ARN, NAME)])
    handler.stub.add_response(
        "list_tags_for_resource", {"tags": [*STAGE_TAGS, *DELETE_WHEN_UNSERVED]}, {"resourceARN": MODEL_ARN}
    )
    expect_serving(handler, [throughput_summary()])
    assert handler.on_event(delete_request("false"), context) == {"PhysicalResourceId": JOB_ARN}
    assert context.slept == []
    assert (
        f"The custom model {MODEL_ARN} of {NAME}: kept while {THROUGHPUT_ARN} serves it, tagged to be deleted "
        "afterwards"
    ) in caplog.messages


def test_a_throughput_moving_to_the_model_keeps_it_too(handler, context, caplog):
    """A move to the job's model (a serving deploy under way) will serve it: Bedrock would refuse its deletion."""
    bedrock_knows(handler, JOB_ARN, "Completed", outputModelArn=MODEL_ARN)
    expect_serving(handler, [throughput_summary(EARLIER_MODEL_ARN, MODEL_ARN)])
    handler.stub.add_response("tag_resource", {}, {"resourceARN": MODEL_ARN, "tags": DELETE_WHEN_UNSERVED})
    expect_unpublish(handler)
    expect_release(handler)
    assert handler.on_event(delete_request("false"), context) == {"PhysicalResourceId": JOB_ARN}
    assert context.slept == []
    assert (
        f"The custom model {MODEL_ARN} of {NAME}: kept while {THROUGHPUT_ARN} serves it, tagged to be deleted "
        "afterwards"
    ) in caplog.messages


def test_a_model_a_deployment_serves_is_tagged_naming_it(handler, context, caplog):
    bedrock_knows(handler, JOB_ARN, "Completed", outputModelArn=MODEL_ARN)
    expect_serving(handler, [], [deployment(MODEL_ARN)])
    handler.stub.add_response("tag_resource", {}, {"resourceARN": MODEL_ARN, "tags": DELETE_WHEN_UNSERVED})
    expect_unpublish(handler)
    expect_release(handler)
    assert handler.on_event(delete_request("false"), context) == {"PhysicalResourceId": JOB_ARN}
    assert (
        f"The custom model {MODEL_ARN} of {NAME}: kept while {DEPLOYMENT_ARN} serves it, tagged to be deleted "
        "afterwards"
    ) in caplog.messages


def test_delete_releases_the_stages_tagged_models_that_nothing_serves_any_more(handler, context, caplog):
    """A model an earlier job's Delete had to tag while serving moved off it (a rolled-back move, say); the stage's
    untagged models and another stage's whose name merely contains the prefix are left alone."""
    bedrock_knows(handler, JOB_ARN, "Failed")
    expect_unpublish(handler)
    expect_release(
        handler,
        [
            custom_model(EARLIER_MODEL_ARN, "sandbox-distill-1b2c3d4e5f60"),
            custom_model(MODEL_ARN, "sandbox-distill-9f8e7d6c5b4a"),
            custom_model(OTHER_MODEL_ARN, "old-sandbox-distill-0a1b2c3d4e5f"),
        ],
    )
    handler.stub.add_response(
        "list_tags_for_resource", {"tags": [*STAGE_TAGS, *DELETE_WHEN_UNSERVED]}, {"resourceARN": EARLIER_MODEL_ARN}
    )
    expect_serving(handler, [])
    handler.stub.add_response("delete_custom_model", {}, {"modelIdentifier": EARLIER_MODEL_ARN})
    handler.stub.add_response("list_tags_for_resource", {"tags": STAGE_TAGS}, {"resourceARN": MODEL_ARN})
    assert handler.on_event(delete_request(), context) == {"PhysicalResourceId": JOB_ARN}
    assert f"Deleted the custom model {EARLIER_MODEL_ARN}, which nothing serves any more" in caplog.messages


def test_a_release_that_bedrock_refuses_is_logged_and_the_delete_succeeds(handler, context, caplog):
    bedrock_knows(handler, JOB_ARN, "InProgress")
    handler.stub.add_response("stop_model_customization_job", {}, {"jobIdentifier": JOB_ARN})
    expect_unpublish(handler)
    stack_is(handler, "UPDATE_COMPLETE_CLEANUP_IN_PROGRESS")
    other_stage_stack(handler.cloudformation_stub, "sandbox-distillation-support-assistant-serving", "UPDATE_COMPLETE")
    handler.stub.add_client_error(
        "list_custom_models",
        "AccessDeniedException",
        "User is not authorized to perform: bedrock:ListCustomModels",
        403,
        {"nameContains": PREFIX},
    )
    assert handler.on_event(delete_request(), context) == {"PhysicalResourceId": JOB_ARN}
    warnings = [record.getMessage() for record in caplog.records if record.levelname == "WARNING"]
    assert warnings == [
        "Could not release the stage's unserved models: An error occurred (AccessDeniedException) when calling the "
        "ListCustomModels operation: User is not authorized to perform: bedrock:ListCustomModels"
    ]
    caplog.clear()


def test_a_release_whose_answer_is_lost_is_logged_and_the_delete_succeeds(handler, context, caplog, monkeypatch):
    bedrock_knows(handler, JOB_ARN, "InProgress")
    handler.stub.add_response("stop_model_customization_job", {}, {"jobIdentifier": JOB_ARN})
    expect_unpublish(handler)
    stack_is(handler, "UPDATE_COMPLETE_CLEANUP_IN_PROGRESS")
    other_stage_stack(handler.cloudformation_stub, "sandbox-distillation-support-assistant-serving", "UPDATE_COMPLETE")
    models_endpoint = "https://bedrock.us-west-2.amazonaws.com/custom-models"
    lost = lose_answers(
        monkeypatch, handler.bedrock, "list_custom_models", ReadTimeoutError(endpoint_url=models_endpoint)
    )
    assert handler.on_event(delete_request(), context) == {"PhysicalResourceId": JOB_ARN}
    assert lost == [{"nameContains": PREFIX}]
    warnings = [record.getMessage() for record in caplog.records if record.levelname == "WARNING"]
    assert warnings == [
        f'Could not release the stage\'s unserved models: Read timeout on endpoint URL: "{models_endpoint}"'
    ]
    caplog.clear()


@pytest.mark.parametrize("status", ["Failed", "Stopped", "Stopping"])
def test_delete_of_a_job_that_no_longer_runs_only_forgets_it_and_releases(handler, context, status):
    bedrock_knows(handler, JOB_ARN, status)
    expect_unpublish(handler)
    expect_release(handler)
    assert handler.on_event(delete_request("false"), context) == {"PhysicalResourceId": JOB_ARN}
    assert handler.calls == [GET_JOB, *UNPUBLISH, *RELEASE]


def test_delete_of_a_job_bedrock_no_longer_knows_forgets_it_too(handler, context):
    bedrock_knows_no(handler, JOB_ARN)
    expect_unpublish(handler)
    expect_release(handler)
    assert handler.on_event(delete_request(), context) == {"PhysicalResourceId": JOB_ARN}
    assert handler.calls == [GET_JOB, *UNPUBLISH, *RELEASE]


def test_delete_after_a_failed_create_has_nothing_to_stop_or_forget_but_still_releases(handler, context):
    request = event("distillation_job_delete", PhysicalResourceId=CREATE_FAILED)
    expect_release(handler)
    assert handler.on_event(request, context) == {"PhysicalResourceId": CREATE_FAILED}
    assert handler.calls == RELEASE


def test_a_delete_while_the_stack_rolls_back_stops_the_job_but_releases_nothing(handler, context, caplog):
    """The training stack's creation rolls back after the job started: the job is stopped, and no model of the stage
    is released while CloudFormation rolls back."""
    caplog.set_level("INFO")
    bedrock_knows(handler, JOB_ARN, "InProgress")
    handler.stub.add_response("stop_model_customization_job", {}, {"jobIdentifier": JOB_ARN})
    expect_unpublish(handler)
    stack_is(handler, "ROLLBACK_IN_PROGRESS")
    assert handler.on_event(delete_request(), context) == {"PhysicalResourceId": JOB_ARN}
    assert handler.calls == [GET_JOB, STOP_JOB, *UNPUBLISH, "cloudformation.DescribeStacks"]
    assert "Not releasing the stage's unserved models while a stack of the stage rolls back" in caplog.messages
