"""The Provisioned Throughput handler: one throughput per request, and none left billing after a failure."""

from __future__ import annotations

import time

import custom_resource
import pytest
from botocore.stub import Stubber

from tests.handlers.conftest import customization_job, event, load_handler

JOB_ARN = (
    "arn:aws:bedrock:us-west-2:123456789012:model-customization-job/meta.llama3-1-8b-instruct-v1:0:128k/k3x9q2w7e5r1"
)
MODEL_ARN = "arn:aws:bedrock:us-west-2:123456789012:custom-model/meta.llama3-1-8b-instruct-v1:0:128k/m4o8d2e6l0a3"
OTHER_MODEL_ARN = "arn:aws:bedrock:us-west-2:123456789012:custom-model/meta.llama3-1-8b-instruct-v1:0:128k/z9y8x7w6v5u4"
THROUGHPUT_ARN = "arn:aws:bedrock:us-west-2:123456789012:provisioned-model/p7t3h9r2u5s1"
NEW_THROUGHPUT_ARN = "arn:aws:bedrock:us-west-2:123456789012:provisioned-model/n3w7h9r2u5s1"
TAGS = [{"key": "project", "value": "support-assistant"}, {"key": "stage", "value": "sandbox"}]
CREATE_FAILED = "AWSCDK::CustomResourceProviderFramework::CREATE_FAILED"


@pytest.fixture
def handler():
    module = load_handler("provisioned_throughput")
    with Stubber(module.bedrock) as bedrock:
        module.stub = bedrock
        yield module
        bedrock.assert_no_pending_responses()


def name_for(request: dict) -> str:
    return custom_resource.unique_name("support-assistant", custom_resource.request_token(request), 63)


def expect_job(stub: Stubber, status: str = "Completed") -> None:
    job = customization_job(JOB_ARN, status)
    if status == "Completed":
        job["outputModelArn"] = MODEL_ARN
    stub.add_response("get_model_customization_job", job, {"jobIdentifier": JOB_ARN})


def expect_create(stub: Stubber, request: dict, answer: str = THROUGHPUT_ARN, **changes) -> None:
    token = custom_resource.request_token(request)
    expected = {
        "clientRequestToken": token,
        "provisionedModelName": name_for(request),
        "modelId": MODEL_ARN,
        "modelUnits": 1,
        "tags": TAGS,
        **changes,
    }
    stub.add_response("create_provisioned_model_throughput", {"provisionedModelArn": answer}, expected)


def throughput(status: str, name: str, arn: str = THROUGHPUT_ARN, **extra) -> dict:
    """A GetProvisionedModelThroughput answer with what the service model requires."""
    return {
        "modelUnits": 1,
        "desiredModelUnits": 1,
        "provisionedModelName": name,
        "provisionedModelArn": arn,
        "modelArn": MODEL_ARN,
        "desiredModelArn": MODEL_ARN,
        "foundationModelArn": "arn:aws:bedrock:us-west-2::foundation-model/meta.llama3-1-8b-instruct-v1:0:128k",
        "status": status,
        "creationTime": "2026-11-28T14:10:00Z",
        "lastModifiedTime": "2026-11-28T14:10:00Z",
        **extra,
    }


def expect_get(stub: Stubber, answer: dict) -> None:
    stub.add_response("get_provisioned_model_throughput", answer, {"provisionedModelId": answer["provisionedModelArn"]})


def expect_gone(stub: Stubber, arn: str = THROUGHPUT_ARN) -> None:
    stub.add_client_error(
        "get_provisioned_model_throughput", "ResourceNotFoundException", "Not found", 404, {"provisionedModelId": arn}
    )


def test_create_provisions_the_jobs_model_with_no_commitment(handler):
    request = event("provisioned_throughput_create")
    expect_job(handler.stub)
    expect_create(handler.stub, request)
    before = int(time.time())
    result = handler.on_event(request, None)
    started_at = int(result["Data"].pop("StartedAt"))
    assert result == {
        "PhysicalResourceId": THROUGHPUT_ARN,
        "Data": {"ProvisionedModelArn": THROUGHPUT_ARN, "ModelArn": MODEL_ARN},
    }
    assert before <= started_at <= time.time()


def test_create_with_a_model_arn_and_a_commitment(handler):
    request = event("provisioned_throughput_create")
    properties = request["ResourceProperties"]
    properties.update(ModelArn=MODEL_ARN, CommitmentDuration="OneMonth", ModelUnits="2")
    expect_create(handler.stub, request, modelUnits=2, commitmentDuration="OneMonth")
    assert handler.on_event(request, None)["Data"]["ModelArn"] == MODEL_ARN


def test_a_retried_create_sends_the_same_request_so_bedrock_provisions_once(handler):
    sent = []
    handler.bedrock.meta.events.register(
        "before-parameter-build.bedrock.CreateProvisionedModelThroughput", lambda params, **_: sent.append(dict(params))
    )
    for _ in range(2):
        request = event("provisioned_throughput_create")
        expect_job(handler.stub)
        expect_create(handler.stub, request)
        assert handler.on_event(request, None)["PhysicalResourceId"] == THROUGHPUT_ARN
    assert len(sent) == 2
    assert sent[0] == sent[1]


def test_create_before_the_job_has_its_model_provisions_nothing(handler):
    expect_job(handler.stub, "InProgress")
    with pytest.raises(RuntimeError, match="is InProgress; its model does not exist yet"):
        handler.on_event(event("provisioned_throughput_create"), None)


@pytest.mark.parametrize(
    ("code", "message"),
    [
        ("ValidationException", "The model does not support Provisioned Throughput with no commitment"),
        ("AccessDeniedException", "User is not authorized to perform: bedrock:CreateProvisionedModelThroughput"),
        ("ServiceQuotaExceededException", "Model units quota exceeded for this model"),
    ],
)
def test_a_create_that_bedrock_refuses_fails_with_bedrocks_reason(handler, code, message):
    request = event("provisioned_throughput_create")
    request["ResourceProperties"]["ModelArn"] = MODEL_ARN
    token = custom_resource.request_token(request)
    expected = {
        "clientRequestToken": token,
        "provisionedModelName": name_for(request),
        "modelId": MODEL_ARN,
        "modelUnits": 1,
        "tags": TAGS,
    }
    handler.stub.add_client_error("create_provisioned_model_throughput", code, message, 400, expected)
    with pytest.raises(handler.bedrock.exceptions.ClientError) as raised:
        handler.on_event(request, None)
    assert str(raised.value) == (
        f"An error occurred ({code}) when calling the CreateProvisionedModelThroughput operation: {message}"
    )


def test_update_of_tags_or_deadline_keeps_the_throughput(handler):
    request = event("provisioned_throughput_update")
    request["ResourceProperties"].update(ModelUnits="1", GiveUpAfterSeconds="1800", Tags='{"stage": "sandbox"}')
    expect_job(handler.stub)
    expect_get(handler.stub, throughput("InService", "support-assistant-0ld0ne0ld0ne"))
    result = handler.on_event(request, None)
    assert result["PhysicalResourceId"] == THROUGHPUT_ARN
    assert result["Data"]["ProvisionedModelArn"] == THROUGHPUT_ARN


def test_update_of_model_units_replaces_the_throughput(handler):
    request = event("provisioned_throughput_update")
    expect_job(handler.stub)
    expect_get(handler.stub, throughput("InService", "support-assistant-0ld0ne0ld0ne"))
    expect_create(handler.stub, request, NEW_THROUGHPUT_ARN, modelUnits=2)
    result = handler.on_event(request, None)
    assert result["PhysicalResourceId"] == NEW_THROUGHPUT_ARN
    assert result["Data"]["ProvisionedModelArn"] == NEW_THROUGHPUT_ARN


@pytest.mark.parametrize(
    "change",
    [{"ModelArn": OTHER_MODEL_ARN}, {"CommitmentDuration": "SixMonths"}],
    ids=["model", "commitment"],
)
def test_update_of_the_model_or_the_commitment_replaces_the_throughput(handler, change):
    request = event("provisioned_throughput_update")
    request["ResourceProperties"].update(ModelUnits="1", **change)
    if "ModelArn" not in change:
        expect_job(handler.stub)
    expect_get(handler.stub, throughput("InService", "support-assistant-0ld0ne0ld0ne"))
    create = {"modelId": change.get("ModelArn", MODEL_ARN)}
    if "CommitmentDuration" in change:
        create["commitmentDuration"] = change["CommitmentDuration"]
    expect_create(handler.stub, request, NEW_THROUGHPUT_ARN, **create)
    assert handler.on_event(request, None)["PhysicalResourceId"] == NEW_THROUGHPUT_ARN


def test_an_update_rolling_back_to_what_still_serves_keeps_it(handler):
    """CloudFormation's rollback Update carries the old properties as new: they match the throughput, so no change."""
    request = event("provisioned_throughput_update")
    request["ResourceProperties"], request["OldResourceProperties"] = (
        request["OldResourceProperties"],
        request["ResourceProperties"],
    )
    expect_job(handler.stub)
    expect_get(handler.stub, throughput("InService", "support-assistant-0ld0ne0ld0ne"))
    assert handler.on_event(request, None)["PhysicalResourceId"] == THROUGHPUT_ARN


@pytest.mark.parametrize("found", ["failed", "gone"])
def test_update_replaces_a_throughput_that_failed_or_vanished(handler, found):
    request = event("provisioned_throughput_update")
    request["ResourceProperties"]["ModelUnits"] = "1"
    expect_job(handler.stub)
    if found == "failed":
        expect_get(handler.stub, throughput("Failed", "support-assistant-0ld0ne0ld0ne"))
    else:
        expect_gone(handler.stub)
    expect_create(handler.stub, request, NEW_THROUGHPUT_ARN)
    assert handler.on_event(request, None)["PhysicalResourceId"] == NEW_THROUGHPUT_ARN


def test_delete_deletes_the_throughput(handler):
    handler.stub.add_response("delete_provisioned_model_throughput", {}, {"provisionedModelId": THROUGHPUT_ARN})
    assert handler.on_event(event("provisioned_throughput_delete"), None) == {"PhysicalResourceId": THROUGHPUT_ARN}


def test_delete_of_a_throughput_already_gone_succeeds(handler):
    handler.stub.add_client_error(
        "delete_provisioned_model_throughput",
        "ResourceNotFoundException",
        "Provisioned model not found",
        404,
        {"provisionedModelId": THROUGHPUT_ARN},
    )
    assert handler.on_event(event("provisioned_throughput_delete"), None) == {"PhysicalResourceId": THROUGHPUT_ARN}


def test_delete_after_a_failed_create_has_nothing_to_delete(handler):
    request = event("provisioned_throughput_delete", PhysicalResourceId=CREATE_FAILED)
    assert handler.on_event(request, None) == {"PhysicalResourceId": CREATE_FAILED}
    assert handler.is_complete(request, None) == {"IsComplete": True}


def test_delete_that_bedrock_refuses_fails_with_bedrocks_reason(handler):
    handler.stub.add_client_error(
        "delete_provisioned_model_throughput",
        "AccessDeniedException",
        "User is not authorized to perform: bedrock:DeleteProvisionedModelThroughput",
        403,
        {"provisionedModelId": THROUGHPUT_ARN},
    )
    with pytest.raises(handler.bedrock.exceptions.AccessDeniedException):
        handler.on_event(event("provisioned_throughput_delete"), None)


def waiting(request: dict, seconds_ago: int = 60) -> dict:
    request["Data"]["StartedAt"] = str(int(time.time()) - seconds_ago)
    return request


@pytest.mark.parametrize("status", ["Creating", "Updating"])
def test_is_complete_waits_while_the_throughput_is_being_made(handler, status):
    request = waiting(event("provisioned_throughput_is_complete_create"))
    expect_get(handler.stub, throughput(status, name_for(request)))
    assert handler.is_complete(request, None) == {"IsComplete": False}


def test_is_complete_once_in_service(handler):
    request = waiting(event("provisioned_throughput_is_complete_create"))
    expect_get(handler.stub, throughput("InService", name_for(request)))
    assert handler.is_complete(request, None) == {
        "IsComplete": True,
        "Data": {"ProvisionedModelArn": THROUGHPUT_ARN, "ModelArn": MODEL_ARN},
    }


def test_a_failed_throughput_is_deleted_then_the_request_fails_with_bedrocks_message(handler):
    request = waiting(event("provisioned_throughput_is_complete_create"))
    failed = throughput(
        "Failed", name_for(request), failureMessage="Insufficient capacity for the requested model units"
    )
    expect_get(handler.stub, failed)
    handler.stub.add_response("delete_provisioned_model_throughput", {}, {"provisionedModelId": THROUGHPUT_ARN})
    with pytest.raises(RuntimeError) as raised:
        handler.is_complete(request, None)
    assert str(raised.value) == (
        f"The Provisioned Throughput {THROUGHPUT_ARN} failed: Insufficient capacity for the requested model units; "
        f"it was deleted so that it does not bill; deploy again to retry."
    )


def test_a_throughput_past_the_deadline_is_deleted_then_the_request_fails(handler):
    request = waiting(event("provisioned_throughput_is_complete_create"), seconds_ago=3301)
    expect_get(handler.stub, throughput("Creating", name_for(request)))
    handler.stub.add_response("delete_provisioned_model_throughput", {}, {"provisionedModelId": THROUGHPUT_ARN})
    with pytest.raises(RuntimeError) as raised:
        handler.is_complete(request, None)
    assert str(raised.value) == (
        f"The Provisioned Throughput {THROUGHPUT_ARN} did not reach InService within 55 minutes; it was deleted so "
        f"that it does not bill; deploy again to retry."
    )


def test_a_throughput_that_cannot_be_deleted_is_named_so_it_can_be_deleted_by_hand(handler):
    request = waiting(event("provisioned_throughput_is_complete_create"), seconds_ago=3301)
    expect_get(handler.stub, throughput("Creating", name_for(request)))
    handler.stub.add_client_error(
        "delete_provisioned_model_throughput",
        "ConflictException",
        "The provisioned model is being created",
        400,
        {"provisionedModelId": THROUGHPUT_ARN},
    )
    with pytest.raises(RuntimeError) as raised:
        handler.is_complete(request, None)
    assert str(raised.value) == (
        f"The Provisioned Throughput {THROUGHPUT_ARN} did not reach InService within 55 minutes. Deleting it failed "
        f"too (An error occurred (ConflictException) when calling the DeleteProvisionedModelThroughput operation: The "
        f"provisioned model is being created): delete it by hand so that it does not bill, then deploy again to retry."
    )


def test_a_throughput_this_request_did_not_create_is_never_deleted(handler):
    """An Update that kept the throughput waits on it too; if it failed meanwhile, it is reported, not deleted."""
    request = waiting(event("provisioned_throughput_is_complete_create", RequestType="Update"))
    expect_get(handler.stub, throughput("Failed", "support-assistant-0ld0ne0ld0ne", failureMessage="Capacity lost"))
    with pytest.raises(RuntimeError) as raised:
        handler.is_complete(request, None)
    assert str(raised.value) == (
        f"The Provisioned Throughput {THROUGHPUT_ARN} failed: Capacity lost. This deployment did not create it, so it "
        f"was left as it is; check it in Bedrock."
    )


def test_a_throughput_deleted_while_being_created_fails_the_request(handler):
    request = waiting(event("provisioned_throughput_is_complete_create"))
    expect_gone(handler.stub)
    with pytest.raises(RuntimeError) as raised:
        handler.is_complete(request, None)
    assert str(raised.value) == (
        f"The Provisioned Throughput {THROUGHPUT_ARN} was deleted while it was being created. Deploy again to "
        f"create it anew."
    )


def test_is_complete_for_delete_waits_until_bedrock_no_longer_knows_the_throughput(handler):
    request = event("provisioned_throughput_is_complete_delete")
    expect_get(handler.stub, throughput("InService", "support-assistant-0ld0ne0ld0ne"))
    assert handler.is_complete(request, None) == {"IsComplete": False}
    expect_gone(handler.stub)
    assert handler.is_complete(request, None) == {"IsComplete": True}


def test_is_complete_fails_when_bedrock_will_not_describe_the_throughput(handler):
    handler.stub.add_client_error(
        "get_provisioned_model_throughput",
        "AccessDeniedException",
        "User is not authorized to perform: bedrock:GetProvisionedModelThroughput",
        403,
        {"provisionedModelId": THROUGHPUT_ARN},
    )
    with pytest.raises(handler.bedrock.exceptions.AccessDeniedException):
        handler.is_complete(waiting(event("provisioned_throughput_is_complete_create")), None)
