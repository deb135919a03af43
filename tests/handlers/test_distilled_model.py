"""The distilled model lookup: the model of the job its name names, deleted once its deleted job wants it gone; every
request then releases the stage's models that nothing serves any more."""

from __future__ import annotations

import pytest

from tests.handlers.conftest import (
    CREATE_FAILED,
    RELEASE_FAILED,
    assert_none_logged,
    customization_job,
    event,
    load_handler,
    other_stage_stack,
    own_stack_is,
    record_calls,
)

NAME = "sandbox-distill-3aa7f4218eee"
JOB_ARN = (
    "arn:aws:bedrock:us-west-2:123456789012:model-customization-job/meta.llama3-1-8b-instruct-v1:0:128k/k3x9q2w7e5r1"
)
MODEL_ARN = "arn:aws:bedrock:us-west-2:123456789012:custom-model/meta.llama3-1-8b-instruct-v1:0:128k/m4o8d2e6l0a3"
BASE_MODEL_ARN = "arn:aws:bedrock:us-west-2::foundation-model/meta.llama3-1-8b-instruct-v1:0:128k"
DEPLOYMENT_ARN = "arn:aws:bedrock:us-west-2:123456789012:custom-model-deployment/d3p1o4y7m2n5"
THROUGHPUT_ARN = "arn:aws:bedrock:us-west-2:123456789012:provisioned-model/p7t3h9r2u5s1"
NEW_MODEL_ARN = "arn:aws:bedrock:us-west-2:123456789012:custom-model/meta.llama3-1-8b-instruct-v1:0:128k/n8w2m4d6l0e1"
EARLIER_MODEL_ARN = (
    "arn:aws:bedrock:us-west-2:123456789012:custom-model/meta.llama3-1-8b-instruct-v1:0:128k/e4r1i2e3r4l5"
)
DELETE_WHEN_UNSERVED = {"key": "bedrock-distillation:delete-when-unserved", "value": "true"}
# The stage's tag, which the lookup's Stage property names.
OURS = {"key": "distillation-stage", "value": "sandbox"}
STACK_ID = event("distilled_model_create")["StackId"]
REVISION_HINT = "Raise distillation.revision in cdk.json to start a new job, then deploy again."
# The stage's jobs and their models are all named <stage>-distill-<digest>.
PREFIX = "sandbox-distill-"


@pytest.fixture
def handler(stub):
    module = load_handler("distilled_model")
    module.stub = stub(module.bedrock)
    module.cloudformation_stub = stub(module.cloudformation)
    module.calls = record_calls(module.bedrock, module.cloudformation)
    return module


@pytest.fixture(autouse=True)
def release_answered(caplog):
    """The stage's release was answered as the test expects (assert_none_logged)."""
    yield
    assert_none_logged(caplog, RELEASE_FAILED)


@pytest.fixture
def lookup_context(context):
    """An invocation of the lookup's function, whose timeout is the 5-minute default of
    distill/constructs/handler_function.py."""
    context.remaining_seconds = 300
    return context


def custom_model(model_arn: str, name: str) -> dict:
    """A ListCustomModels summary with what the service model requires."""
    return {
        "modelArn": model_arn,
        "modelName": name,
        "creationTime": "2026-11-28T14:02:09Z",
        "baseModelArn": BASE_MODEL_ARN,
        "baseModelName": "Llama 3.1 8B Instruct",
    }


def stack_is(handler, status: str) -> None:
    """The lookup's stack: the release runs only when the stack is not rolling back."""
    own_stack_is(handler.cloudformation_stub, STACK_ID, status)


def expect_release(handler, models: list | None = None, status: str = "UPDATE_IN_PROGRESS") -> None:
    """The stack's status, then the stage's models listed by the release that follows every request (none unless
    given)."""
    stack_is(handler, status)
    if not status.endswith("ROLLBACK_IN_PROGRESS"):
        other_stage_stack(
            handler.cloudformation_stub, "sandbox-distillation-support-assistant-training", "UPDATE_COMPLETE"
        )
    handler.stub.add_response("list_custom_models", {"modelSummaries": models or []}, {"nameContains": PREFIX})


def bedrock_knows_the_job(handler, status: str, **extra) -> None:
    handler.stub.add_response(
        "get_model_customization_job", customization_job(JOB_ARN, status, NAME, **extra), {"jobIdentifier": NAME}
    )


def bedrock_knows_the_model(handler) -> None:
    handler.stub.add_response(
        "get_custom_model",
        {
            "modelArn": MODEL_ARN,
            "modelName": NAME,
            "creationTime": "2026-11-28T14:02:09Z",
            "baseModelArn": BASE_MODEL_ARN,
        },
        {"modelIdentifier": MODEL_ARN},
    )


@pytest.mark.parametrize("request_type", ["Create", "Update"])
def test_the_model_is_the_one_the_completed_job_of_its_name_produced(handler, lookup_context, request_type):
    bedrock_knows_the_job(handler, "Completed", outputModelArn=MODEL_ARN)
    bedrock_knows_the_model(handler)
    expect_release(handler)
    request = event("distilled_model_create", RequestType=request_type)
    assert handler.on_event(request, lookup_context) == {
        "PhysicalResourceId": MODEL_ARN,
        "Data": {"ModelArn": MODEL_ARN, "JobArn": JOB_ARN, "BaseModelArn": BASE_MODEL_ARN},
    }


def test_without_a_job_of_its_name_it_says_to_deploy_the_training_stack(handler):
    handler.stub.add_client_error(
        "get_model_customization_job", "ResourceNotFoundException", "Job not found", 404, {"jobIdentifier": NAME}
    )
    with pytest.raises(RuntimeError) as raised:
        handler.on_event(event("distilled_model_create"), None)
    assert str(raised.value) == f"No distillation job named {NAME} exists: deploy the training stack first."


def test_a_job_still_running_has_no_model_yet(handler):
    bedrock_knows_the_job(handler, "InProgress")
    with pytest.raises(RuntimeError) as raised:
        handler.on_event(event("distilled_model_create"), None)
    assert str(raised.value) == (
        f"The distillation job {NAME} is InProgress; its model does not exist. Deploy again once it has completed."
    )


@pytest.mark.parametrize("status", ["Failed", "Stopped", "Stopping"])
def test_a_job_that_ended_without_a_model_needs_a_new_revision(handler, status):
    bedrock_knows_the_job(handler, status)
    with pytest.raises(RuntimeError) as raised:
        handler.on_event(event("distilled_model_create"), None)
    assert str(raised.value) == f"The distillation job {NAME} is {status}; its model does not exist. {REVISION_HINT}"


def test_a_model_deleted_since_its_job_completed_needs_a_new_revision(handler):
    bedrock_knows_the_job(handler, "Completed", outputModelArn=MODEL_ARN)
    handler.stub.add_client_error(
        "get_custom_model", "ResourceNotFoundException", "Model not found", 404, {"modelIdentifier": MODEL_ARN}
    )
    with pytest.raises(RuntimeError) as raised:
        handler.on_event(event("distilled_model_create"), None)
    assert str(raised.value) == (
        f"The custom model of the distillation job {NAME} has been deleted. Raise distillation.revision in cdk.json "
        "to train it again, then deploy again."
    )


def the_model_is_tagged(handler, tags: list, model_arn: str = MODEL_ARN) -> None:
    handler.stub.add_response("list_tags_for_resource", {"tags": tags}, {"resourceARN": model_arn})


def throughput_summary(desired: str = MODEL_ARN) -> dict:
    """A throughput on the model; one that wants another model is moving off it and serves it until the move is
    deployed (user guide, prov-thru-edit.html, read 2026-12-01)."""
    return {
        "provisionedModelName": "sandbox-serving-2f462a79fa34",
        "provisionedModelArn": THROUGHPUT_ARN,
        "modelArn": MODEL_ARN,
        "desiredModelArn": desired,
        "foundationModelArn": BASE_MODEL_ARN,
        "modelUnits": 1,
        "desiredModelUnits": 1,
        "status": "InService" if desired == MODEL_ARN else "Updating",
        "creationTime": "2026-11-28T14:10:00Z",
        "lastModifiedTime": "2026-11-28T14:10:00Z",
    }


def deployment(model_arn: str = MODEL_ARN) -> dict:
    """A GetCustomModelDeployment answer for a deployment that serves ``model_arn`` and moves nowhere."""
    return {
        "customModelDeploymentArn": DEPLOYMENT_ARN,
        "modelDeploymentName": "other-team-deployment",
        "modelArn": model_arn,
        "createdAt": "2026-11-29T09:00:00Z",
        "status": "Active",
    }


def expect_serving(handler, throughputs: list, deployments: list | None = None) -> None:
    """serving_state's calls: every throughput and every deployment of the account and Region (unfiltered), then
    each deployment described."""
    handler.stub.add_response("list_provisioned_model_throughputs", {"provisionedModelSummaries": throughputs}, {})
    summaries = [
        {
            "customModelDeploymentArn": d["customModelDeploymentArn"],
            "customModelDeploymentName": d["modelDeploymentName"],
            "modelArn": d["modelArn"],
            "createdAt": d["createdAt"],
            "status": d["status"],
        }
        for d in deployments or []
    ]
    handler.stub.add_response("list_custom_model_deployments", {"modelDeploymentSummaries": summaries}, {})
    for described in deployments or []:
        handler.stub.add_response(
            "get_custom_model_deployment",
            described,
            {"customModelDeploymentIdentifier": described["customModelDeploymentArn"]},
        )


def test_create_releases_the_stages_tagged_models_that_nothing_serves_any_more(handler, lookup_context, caplog):
    """After the lookup: the earlier job's tagged model, which the account's throughput no longer serves (it serves
    the new model), is deleted; the new model, never tagged, is kept."""
    bedrock_knows_the_job(handler, "Completed", outputModelArn=MODEL_ARN)
    bedrock_knows_the_model(handler)
    expect_release(
        handler, [custom_model(EARLIER_MODEL_ARN, "sandbox-distill-1b2c3d4e5f60"), custom_model(MODEL_ARN, NAME)]
    )
    the_model_is_tagged(handler, [OURS, DELETE_WHEN_UNSERVED], EARLIER_MODEL_ARN)
    expect_serving(handler, [throughput_summary()])
    handler.stub.add_response("delete_custom_model", {}, {"modelIdentifier": EARLIER_MODEL_ARN})
    the_model_is_tagged(handler, [{"key": "distillation-stage", "value": "sandbox"}])
    assert handler.on_event(event("distilled_model_create"), lookup_context)["PhysicalResourceId"] == MODEL_ARN
    assert f"Deleted the custom model {EARLIER_MODEL_ARN}, which nothing serves any more" in caplog.messages


def test_a_release_bedrock_refuses_leaves_the_lookups_answer_as_it_is(handler, lookup_context, caplog):
    """The models the release deletes are not this resource's: a refusal is logged, and the next request tries
    again."""
    bedrock_knows_the_job(handler, "Completed", outputModelArn=MODEL_ARN)
    bedrock_knows_the_model(handler)
    stack_is(handler, "UPDATE_IN_PROGRESS")
    other_stage_stack(handler.cloudformation_stub, "sandbox-distillation-support-assistant-training", "UPDATE_COMPLETE")
    handler.stub.add_client_error(
        "list_custom_models", "ThrottlingException", "Rate exceeded", 400, {"nameContains": PREFIX}
    )
    assert handler.on_event(event("distilled_model_create"), lookup_context) == {
        "PhysicalResourceId": MODEL_ARN,
        "Data": {"ModelArn": MODEL_ARN, "JobArn": JOB_ARN, "BaseModelArn": BASE_MODEL_ARN},
    }
    warnings = [r.getMessage() for r in caplog.records if r.levelname == "WARNING"]
    assert warnings == [
        f"{RELEASE_FAILED}An error occurred (ThrottlingException) when calling the ListCustomModels operation: "
        "Rate exceeded"
    ]
    caplog.clear()


def test_delete_keeps_a_model_its_job_did_not_ask_to_delete(handler, lookup_context):
    the_model_is_tagged(handler, [{"key": "distillation-stage", "value": "sandbox"}])
    expect_release(handler)
    assert handler.on_event(event("distilled_model_delete"), lookup_context) == {"PhysicalResourceId": MODEL_ARN}


def test_delete_deletes_a_tagged_model_once_nothing_serves_it(handler, lookup_context, caplog):
    the_model_is_tagged(handler, [{"key": "distillation-stage", "value": "sandbox"}, DELETE_WHEN_UNSERVED])
    expect_serving(handler, [])
    handler.stub.add_response("delete_custom_model", {}, {"modelIdentifier": MODEL_ARN})
    expect_release(handler)
    assert handler.on_event(event("distilled_model_delete"), lookup_context) == {"PhysicalResourceId": MODEL_ARN}
    assert lookup_context.slept == []
    assert f"The custom model {MODEL_ARN}, no longer wanted by its job's stack: deleted" in caplog.messages


def test_delete_waits_for_the_throughput_moving_off_a_tagged_model_then_deletes_it(handler, lookup_context, caplog):
    """Serving is moving off the model when CloudFormation deletes this resource (the cleanup after a rolled-back
    move, say): the Delete waits for the move, then deletes the model."""
    the_model_is_tagged(handler, [DELETE_WHEN_UNSERVED])
    expect_serving(handler, [throughput_summary(NEW_MODEL_ARN)])
    expect_serving(handler, [{**throughput_summary(NEW_MODEL_ARN), "modelArn": NEW_MODEL_ARN, "status": "InService"}])
    handler.stub.add_response("delete_custom_model", {}, {"modelIdentifier": MODEL_ARN})
    expect_release(handler)
    assert handler.on_event(event("distilled_model_delete"), lookup_context) == {"PhysicalResourceId": MODEL_ARN}
    assert lookup_context.slept == [30]
    assert f"The custom model {MODEL_ARN}, no longer wanted by its job's stack: deleted" in caplog.messages


def test_a_move_off_a_tagged_model_that_outlasts_the_function_leaves_it_tagged(handler, lookup_context, caplog):
    """Looks 30 s apart while more than 30 s and two calls' budget (2 x 102 s) are left of 300 s: three waits. The
    model stays tagged, and the release after it keeps it (still served); the serving stack's next deploy releases
    it."""
    the_model_is_tagged(handler, [DELETE_WHEN_UNSERVED])
    for _ in range(4):
        expect_serving(handler, [throughput_summary(NEW_MODEL_ARN)])
    handler.stub.add_response("tag_resource", {}, {"resourceARN": MODEL_ARN, "tags": [DELETE_WHEN_UNSERVED]})
    expect_release(handler, [custom_model(MODEL_ARN, NAME)])
    the_model_is_tagged(handler, [OURS, DELETE_WHEN_UNSERVED])
    expect_serving(handler, [throughput_summary(NEW_MODEL_ARN)])
    assert handler.on_event(event("distilled_model_delete"), lookup_context) == {"PhysicalResourceId": MODEL_ARN}
    assert lookup_context.slept == [30, 30, 30]
    assert (
        f"The custom model {MODEL_ARN}, no longer wanted by its job's stack: kept while {THROUGHPUT_ARN} serves it, "
        "tagged to be deleted afterwards"
    ) in caplog.messages


def test_a_tagged_model_something_still_serves_is_kept_and_stays_tagged(handler, lookup_context, caplog):
    """Another team's deployment serves it: tagged again, not waited for, and kept by the release after it."""
    the_model_is_tagged(handler, [DELETE_WHEN_UNSERVED])
    expect_serving(handler, [], [deployment()])
    handler.stub.add_response("tag_resource", {}, {"resourceARN": MODEL_ARN, "tags": [DELETE_WHEN_UNSERVED]})
    expect_release(handler, [custom_model(MODEL_ARN, NAME)])
    the_model_is_tagged(handler, [OURS, DELETE_WHEN_UNSERVED])
    expect_serving(handler, [], [deployment()])
    assert handler.on_event(event("distilled_model_delete"), lookup_context) == {"PhysicalResourceId": MODEL_ARN}
    assert lookup_context.slept == []
    assert (
        f"The custom model {MODEL_ARN}, no longer wanted by its job's stack: kept while {DEPLOYMENT_ARN} serves it, "
        "tagged to be deleted afterwards"
    ) in caplog.messages


def test_delete_of_a_model_already_gone_succeeds(handler, lookup_context):
    handler.stub.add_client_error(
        "list_tags_for_resource", "ResourceNotFoundException", "Model not found", 404, {"resourceARN": MODEL_ARN}
    )
    expect_release(handler)
    assert handler.on_event(event("distilled_model_delete"), lookup_context) == {"PhysicalResourceId": MODEL_ARN}


def test_delete_after_a_failed_create_has_nothing_of_its_own_to_release(handler, lookup_context):
    request = event("distilled_model_delete", PhysicalResourceId=CREATE_FAILED)
    expect_release(handler)
    assert handler.on_event(request, lookup_context) == {"PhysicalResourceId": CREATE_FAILED}


def test_the_lookup_releases_after_it_answers_and_after_reading_whether_the_stack_rolls_back(handler, lookup_context):
    bedrock_knows_the_job(handler, "Completed", outputModelArn=MODEL_ARN)
    bedrock_knows_the_model(handler)
    expect_release(handler)
    handler.on_event(event("distilled_model_create", RequestType="Update"), lookup_context)
    assert handler.calls == [
        "bedrock.GetModelCustomizationJob",
        "bedrock.GetCustomModel",
        "cloudformation.DescribeStacks",
        "cloudformation.DescribeStacks",
        "bedrock.ListCustomModels",
    ]


def test_a_rolled_back_lookup_releases_nothing(handler, lookup_context, caplog):
    """CloudFormation rolls the lookup back before the throughput whose ModelArn it gives: the earlier model, tagged
    to be deleted once unserved and (until the throughput moves back to it) served by nothing, must stay."""
    caplog.set_level("INFO")
    bedrock_knows_the_job(handler, "Completed", outputModelArn=MODEL_ARN)
    bedrock_knows_the_model(handler)
    stack_is(handler, "UPDATE_ROLLBACK_IN_PROGRESS")
    request = event("distilled_model_create", RequestType="Update", PhysicalResourceId=NEW_MODEL_ARN)
    assert handler.on_event(request, lookup_context)["PhysicalResourceId"] == MODEL_ARN
    assert handler.calls == [
        "bedrock.GetModelCustomizationJob",
        "bedrock.GetCustomModel",
        "cloudformation.DescribeStacks",
    ]
    assert "Not releasing the stage's unserved models while a stack of the stage rolls back" in caplog.messages


def test_a_release_leaves_a_tagged_model_of_another_stage_alone(handler, lookup_context):
    """Stage sandbox-distill's jobs are named sandbox-distill-distill-...: this stage's prefix, not its tag."""
    other = "arn:aws:bedrock:us-west-2:123456789012:custom-model/meta.llama3-1-8b-instruct-v1:0:128k/o7t8h9e0r1s2"
    the_model_is_tagged(handler, [OURS])
    expect_release(handler, [custom_model(other, "sandbox-distill-distill-9f8e7d6c5b4a")])
    the_model_is_tagged(
        handler, [{"key": "distillation-stage", "value": "sandbox-distill"}, DELETE_WHEN_UNSERVED], other
    )
    assert handler.on_event(event("distilled_model_delete"), lookup_context) == {"PhysicalResourceId": MODEL_ARN}
    assert "bedrock.DeleteCustomModel" not in handler.calls
