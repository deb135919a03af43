"""The distilled model lookup: the model of the job its name names, deleted once its deleted job wants it gone."""

from __future__ import annotations

import pytest

from tests.handlers.conftest import CREATE_FAILED, customization_job, event, load_handler

NAME = "sandbox-distill-3aa7f4218eee"
JOB_ARN = (
    "arn:aws:bedrock:us-west-2:123456789012:model-customization-job/meta.llama3-1-8b-instruct-v1:0:128k/k3x9q2w7e5r1"
)
MODEL_ARN = "arn:aws:bedrock:us-west-2:123456789012:custom-model/meta.llama3-1-8b-instruct-v1:0:128k/m4o8d2e6l0a3"
BASE_MODEL_ARN = "arn:aws:bedrock:us-west-2::foundation-model/meta.llama3-1-8b-instruct-v1:0:128k"
DEPLOYMENT_ARN = "arn:aws:bedrock:us-west-2:123456789012:custom-model-deployment/d3p1o4y7m2n5"
DELETE_WHEN_UNSERVED = {"key": "bedrock-distillation:delete-when-unserved", "value": "true"}
REVISION_HINT = "Raise distillation.revision in cdk.json to start a new job, then deploy again."


@pytest.fixture
def handler(stub):
    module = load_handler("distilled_model")
    module.stub = stub(module.bedrock)
    return module


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
def test_the_model_is_the_one_the_completed_job_of_its_name_produced(handler, request_type):
    bedrock_knows_the_job(handler, "Completed", outputModelArn=MODEL_ARN)
    bedrock_knows_the_model(handler)
    request = event("distilled_model_create", RequestType=request_type)
    assert handler.on_event(request, None) == {
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


def the_model_is_tagged(handler, tags: list) -> None:
    handler.stub.add_response("list_tags_for_resource", {"tags": tags}, {"resourceARN": MODEL_ARN})


def expect_served_by(handler, deployments: list) -> None:
    handler.stub.add_response(
        "list_provisioned_model_throughputs", {"provisionedModelSummaries": []}, {"modelArnEquals": MODEL_ARN}
    )
    handler.stub.add_response(
        "list_custom_model_deployments", {"modelDeploymentSummaries": deployments}, {"modelArnEquals": MODEL_ARN}
    )


def test_delete_keeps_a_model_its_job_did_not_ask_to_delete(handler):
    the_model_is_tagged(handler, [{"key": "distillation-stage", "value": "sandbox"}])
    assert handler.on_event(event("distilled_model_delete"), None) == {"PhysicalResourceId": MODEL_ARN}


def test_delete_deletes_a_tagged_model_once_nothing_serves_it(handler):
    the_model_is_tagged(handler, [{"key": "distillation-stage", "value": "sandbox"}, DELETE_WHEN_UNSERVED])
    expect_served_by(handler, [])
    handler.stub.add_response("delete_custom_model", {}, {"modelIdentifier": MODEL_ARN})
    assert handler.on_event(event("distilled_model_delete"), None) == {"PhysicalResourceId": MODEL_ARN}


def test_a_tagged_model_something_still_serves_is_kept_and_stays_tagged(handler):
    the_model_is_tagged(handler, [DELETE_WHEN_UNSERVED])
    expect_served_by(
        handler,
        [
            {
                "customModelDeploymentArn": DEPLOYMENT_ARN,
                "customModelDeploymentName": "other-team-deployment",
                "modelArn": MODEL_ARN,
                "createdAt": "2026-11-29T09:00:00Z",
                "status": "Active",
            }
        ],
    )
    handler.stub.add_response("tag_resource", {}, {"resourceARN": MODEL_ARN, "tags": [DELETE_WHEN_UNSERVED]})
    assert handler.on_event(event("distilled_model_delete"), None) == {"PhysicalResourceId": MODEL_ARN}


def test_delete_of_a_model_already_gone_succeeds(handler):
    handler.stub.add_client_error(
        "list_tags_for_resource", "ResourceNotFoundException", "Model not found", 404, {"resourceARN": MODEL_ARN}
    )
    assert handler.on_event(event("distilled_model_delete"), None) == {"PhysicalResourceId": MODEL_ARN}


def test_delete_after_a_failed_create_has_nothing_to_release(handler):
    request = event("distilled_model_delete", PhysicalResourceId=CREATE_FAILED)
    assert handler.on_event(request, None) == {"PhysicalResourceId": CREATE_FAILED}
