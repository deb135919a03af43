"""The custom model deployment handler: the throughput's lifecycle, for a deployment that serves on demand."""

from __future__ import annotations

import time

import custom_resource
import pytest
from botocore.stub import Stubber

from tests.handlers.conftest import event, load_handler

MODEL_ARN = "arn:aws:bedrock:us-east-1:123456789012:custom-model/amazon.nova-lite-v1:0:300k/n0v4l1t3x9y8"
RETRAINED_MODEL_ARN = "arn:aws:bedrock:us-east-1:123456789012:custom-model/amazon.nova-lite-v1:0:300k/r3t2a1n4e5d6"
DEPLOYMENT_ARN = "arn:aws:bedrock:us-east-1:123456789012:custom-model-deployment/d3p1o4y7m2n5"
NEW_DEPLOYMENT_ARN = "arn:aws:bedrock:us-east-1:123456789012:custom-model-deployment/n3w0d3p1o4y7"
DESCRIPTION = "support-assistant: Nova Lite distilled from Nova Pro (sandbox)"
TAGS = [{"key": "project", "value": "support-assistant"}, {"key": "stage", "value": "sandbox"}]


@pytest.fixture
def handler():
    module = load_handler("model_deployment")
    with Stubber(module.bedrock) as bedrock:
        module.stub = bedrock
        yield module
        bedrock.assert_no_pending_responses()


def name_for(request: dict) -> str:
    return custom_resource.unique_name("support-assistant", custom_resource.request_token(request), 63)


def expect_create(stub: Stubber, request: dict, answer: str = DEPLOYMENT_ARN, **changes) -> None:
    expected = {
        "clientRequestToken": custom_resource.request_token(request),
        "modelDeploymentName": name_for(request),
        "modelArn": MODEL_ARN,
        "description": DESCRIPTION,
        "tags": TAGS,
        **changes,
    }
    stub.add_response("create_custom_model_deployment", {"customModelDeploymentArn": answer}, expected)


def deployment(status: str, name: str, **extra) -> dict:
    """A GetCustomModelDeployment answer with what the service model requires."""
    return {
        "customModelDeploymentArn": DEPLOYMENT_ARN,
        "modelDeploymentName": name,
        "modelArn": MODEL_ARN,
        "description": DESCRIPTION,
        "createdAt": "2026-11-28T14:10:00Z",
        "status": status,
        **extra,
    }


def expect_get(stub: Stubber, answer: dict) -> None:
    stub.add_response("get_custom_model_deployment", answer, {"customModelDeploymentIdentifier": DEPLOYMENT_ARN})


def expect_gone(stub: Stubber) -> None:
    stub.add_client_error(
        "get_custom_model_deployment",
        "ResourceNotFoundException",
        "Deployment not found",
        404,
        {"customModelDeploymentIdentifier": DEPLOYMENT_ARN},
    )


def test_create_deploys_the_model_on_demand(handler):
    request = event("model_deployment_create")
    expect_create(handler.stub, request)
    result = handler.on_event(request, None)
    assert int(result["Data"].pop("StartedAt")) <= time.time()
    assert result == {
        "PhysicalResourceId": DEPLOYMENT_ARN,
        "Data": {"DeploymentArn": DEPLOYMENT_ARN, "ModelArn": MODEL_ARN},
    }


def test_create_without_a_description_sends_none(handler):
    request = event("model_deployment_create")
    request["ResourceProperties"]["Description"] = ""
    expected = {
        "clientRequestToken": custom_resource.request_token(request),
        "modelDeploymentName": name_for(request),
        "modelArn": MODEL_ARN,
        "tags": TAGS,
    }
    handler.stub.add_response("create_custom_model_deployment", {"customModelDeploymentArn": DEPLOYMENT_ARN}, expected)
    assert handler.on_event(request, None)["PhysicalResourceId"] == DEPLOYMENT_ARN


def test_a_retried_create_sends_the_same_request_so_bedrock_deploys_once(handler):
    sent = []
    handler.bedrock.meta.events.register(
        "before-parameter-build.bedrock.CreateCustomModelDeployment", lambda params, **_: sent.append(dict(params))
    )
    for _ in range(2):
        request = event("model_deployment_create")
        expect_create(handler.stub, request)
        handler.on_event(request, None)
    assert len(sent) == 2
    assert sent[0] == sent[1]


@pytest.mark.parametrize(
    ("code", "message"),
    [
        ("ValidationException", "On-demand deployment is not supported for this custom model"),
        ("AccessDeniedException", "User is not authorized to perform: bedrock:CreateCustomModelDeployment"),
    ],
)
def test_a_create_that_bedrock_refuses_fails_with_bedrocks_reason(handler, code, message):
    request = event("model_deployment_create")
    expected = {
        "clientRequestToken": custom_resource.request_token(request),
        "modelDeploymentName": name_for(request),
        "modelArn": MODEL_ARN,
        "description": DESCRIPTION,
        "tags": TAGS,
    }
    handler.stub.add_client_error("create_custom_model_deployment", code, message, 400, expected)
    with pytest.raises(handler.bedrock.exceptions.ClientError) as raised:
        handler.on_event(request, None)
    assert (
        str(raised.value)
        == f"An error occurred ({code}) when calling the CreateCustomModelDeployment operation: {message}"
    )


def test_update_of_tags_or_deadline_keeps_the_deployment(handler):
    request = event("model_deployment_update")
    request["ResourceProperties"].update(ModelArn=MODEL_ARN, GiveUpAfterSeconds="600", Tags="{}")
    expect_get(handler.stub, deployment("Active", "support-assistant-0ld0ne0ld0ne"))
    result = handler.on_event(request, None)
    assert result["PhysicalResourceId"] == DEPLOYMENT_ARN
    assert result["Data"]["DeploymentArn"] == DEPLOYMENT_ARN


@pytest.mark.parametrize(
    ("change", "create"),
    [
        ({}, {"modelArn": RETRAINED_MODEL_ARN}),
        ({"ModelArn": MODEL_ARN, "Description": "support-assistant v2"}, {"description": "support-assistant v2"}),
    ],
    ids=["model", "description"],
)
def test_update_of_the_model_or_the_description_replaces_the_deployment(handler, change, create):
    request = event("model_deployment_update")
    request["ResourceProperties"].update(change)
    expect_get(handler.stub, deployment("Active", "support-assistant-0ld0ne0ld0ne"))
    expect_create(handler.stub, request, NEW_DEPLOYMENT_ARN, **create)
    result = handler.on_event(request, None)
    assert result["PhysicalResourceId"] == NEW_DEPLOYMENT_ARN
    assert result["Data"]["ModelArn"] == create.get("modelArn", MODEL_ARN)


def test_update_replaces_a_deployment_that_vanished(handler):
    request = event("model_deployment_update")
    request["ResourceProperties"]["ModelArn"] = MODEL_ARN
    expect_gone(handler.stub)
    expect_create(handler.stub, request, NEW_DEPLOYMENT_ARN)
    assert handler.on_event(request, None)["PhysicalResourceId"] == NEW_DEPLOYMENT_ARN


def test_delete_deletes_the_deployment(handler):
    handler.stub.add_response("delete_custom_model_deployment", {}, {"customModelDeploymentIdentifier": DEPLOYMENT_ARN})
    assert handler.on_event(event("model_deployment_delete"), None) == {"PhysicalResourceId": DEPLOYMENT_ARN}


def test_delete_of_a_deployment_already_gone_succeeds(handler):
    handler.stub.add_client_error(
        "delete_custom_model_deployment",
        "ResourceNotFoundException",
        "Deployment not found",
        404,
        {"customModelDeploymentIdentifier": DEPLOYMENT_ARN},
    )
    assert handler.on_event(event("model_deployment_delete"), None) == {"PhysicalResourceId": DEPLOYMENT_ARN}


def test_delete_that_bedrock_refuses_fails_with_bedrocks_reason(handler):
    handler.stub.add_client_error(
        "delete_custom_model_deployment",
        "ValidationException",
        "The deployment is being created and cannot be deleted yet",
        400,
        {"customModelDeploymentIdentifier": DEPLOYMENT_ARN},
    )
    with pytest.raises(handler.bedrock.exceptions.ValidationException):
        handler.on_event(event("model_deployment_delete"), None)


def waiting(request: dict, seconds_ago: int = 60) -> dict:
    request["Data"]["StartedAt"] = str(int(time.time()) - seconds_ago)
    return request


def test_is_complete_waits_while_creating_then_completes_once_active(handler):
    request = waiting(event("model_deployment_is_complete_create"))
    expect_get(handler.stub, deployment("Creating", name_for(request)))
    assert handler.is_complete(request, None) == {"IsComplete": False}
    expect_get(handler.stub, deployment("Active", name_for(request)))
    assert handler.is_complete(request, None) == {
        "IsComplete": True,
        "Data": {"DeploymentArn": DEPLOYMENT_ARN, "ModelArn": MODEL_ARN},
    }


def test_a_failed_deployment_is_deleted_then_the_request_fails_with_bedrocks_message(handler):
    request = waiting(event("model_deployment_is_complete_create"))
    expect_get(handler.stub, deployment("Failed", name_for(request), failureMessage="The model is not supported"))
    handler.stub.add_response("delete_custom_model_deployment", {}, {"customModelDeploymentIdentifier": DEPLOYMENT_ARN})
    with pytest.raises(RuntimeError) as raised:
        handler.is_complete(request, None)
    assert str(raised.value) == (
        f"The custom model deployment {DEPLOYMENT_ARN} failed: The model is not supported; it was deleted so that it "
        f"does not bill; deploy again to retry."
    )


def test_a_deployment_past_the_deadline_is_deleted_then_the_request_fails(handler):
    request = waiting(event("model_deployment_is_complete_create"), seconds_ago=3400)
    expect_get(handler.stub, deployment("Creating", name_for(request)))
    handler.stub.add_response("delete_custom_model_deployment", {}, {"customModelDeploymentIdentifier": DEPLOYMENT_ARN})
    with pytest.raises(RuntimeError) as raised:
        handler.is_complete(request, None)
    assert str(raised.value) == (
        f"The custom model deployment {DEPLOYMENT_ARN} did not reach Active within 55 minutes; it was deleted so that "
        f"it does not bill; deploy again to retry."
    )


def test_is_complete_for_delete_waits_until_the_deployment_is_gone(handler):
    request = event("model_deployment_is_complete_delete")
    expect_get(handler.stub, deployment("Active", "support-assistant-0ld0ne0ld0ne"))
    assert handler.is_complete(request, None) == {"IsComplete": False}
    expect_gone(handler.stub)
    assert handler.is_complete(request, None) == {"IsComplete": True}
