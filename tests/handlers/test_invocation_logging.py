"""The invocation-logging handler: it never replaces or deletes a configuration that is not its own."""

from __future__ import annotations

import io
import json

import pytest
from botocore.response import StreamingBody
from botocore.stub import Stubber

from tests.handlers.conftest import event, load_handler

BUCKET = "sandbox-distillation-fou-storageinvocationlogs-1a2b3c4d5e6f"
STATE_KEY = "invocation-logging-state/previous-configuration.json"
OURS = {
    "s3Config": {"bucketName": BUCKET, "keyPrefix": "invocation-logs"},
    "textDataDeliveryEnabled": True,
    "imageDataDeliveryEnabled": False,
    "embeddingDataDeliveryEnabled": False,
}
THEIRS = {
    "cloudWatchConfig": {"logGroupName": "/team/bedrock", "roleArn": "arn:aws:iam::123456789012:role/BedrockLogs"},
    "s3Config": {"bucketName": "security-team-logs", "keyPrefix": "bedrock"},
    "textDataDeliveryEnabled": True,
    "imageDataDeliveryEnabled": True,
    "embeddingDataDeliveryEnabled": True,
}


@pytest.fixture
def handler():
    module = load_handler("invocation_logging")
    with Stubber(module.bedrock) as bedrock, Stubber(module.s3) as s3:
        module.stubs = (bedrock, s3)
        yield module
        bedrock.assert_no_pending_responses()
        s3.assert_no_pending_responses()


def currently(bedrock: Stubber, configuration: dict | None) -> None:
    response = {"loggingConfig": configuration} if configuration else {}
    bedrock.add_response("get_model_invocation_logging_configuration", response, {})


def expect_put(bedrock: Stubber, configuration: dict) -> None:
    bedrock.add_response("put_model_invocation_logging_configuration", {}, {"loggingConfig": configuration})


def saved_state(s3: Stubber, configuration: dict | None) -> None:
    if configuration is None:
        s3.add_client_error("get_object", "NoSuchKey", http_status_code=404)
        return
    body = json.dumps(configuration).encode()
    s3.add_response(
        "get_object",
        {"Body": StreamingBody(io.BytesIO(body), len(body))},
        {"Bucket": BUCKET, "Key": STATE_KEY},
    )


def test_create_with_no_configuration_puts_ours(handler):
    bedrock, _ = handler.stubs
    currently(bedrock, None)
    expect_put(bedrock, OURS)
    result = handler.on_event(event("invocation_logging_create"), None)
    assert result == {
        "PhysicalResourceId": "bedrock-model-invocation-logging",
        "Data": {"Destination": f"s3://{BUCKET}/invocation-logs"},
    }


def test_create_refuses_to_replace_a_configuration_it_did_not_create(handler):
    bedrock, _ = handler.stubs
    currently(bedrock, THEIRS)
    with pytest.raises(RuntimeError) as raised:
        handler.on_event(event("invocation_logging_create"), None)
    assert str(raised.value) == (
        "This account and Region already has a model invocation logging configuration that this stack did not "
        "create (delivering to s3://security-team-logs/bedrock and CloudWatch Logs group /team/bedrock). Set "
        "invocationLogging.takeOver to true in the stage to replace it (it is restored when the stack is "
        "deleted), or set invocationLogging.enabled to false to leave it alone."
    )


def test_create_taking_over_saves_the_replaced_configuration_first(handler):
    bedrock, s3 = handler.stubs
    request = event("invocation_logging_create")
    request["ResourceProperties"]["TakeOver"] = "true"
    currently(bedrock, THEIRS)
    s3.add_response(
        "put_object",
        {},
        {"Bucket": BUCKET, "Key": STATE_KEY, "Body": json.dumps(THEIRS).encode(), "ContentType": "application/json"},
    )
    expect_put(bedrock, OURS)
    assert handler.on_event(request, None)["PhysicalResourceId"] == "bedrock-model-invocation-logging"


def test_a_failed_save_stops_the_take_over_before_anything_is_replaced(handler):
    bedrock, s3 = handler.stubs
    request = event("invocation_logging_create")
    request["ResourceProperties"]["TakeOver"] = "true"
    currently(bedrock, THEIRS)
    s3.add_client_error("put_object", "AccessDenied", "Access Denied", http_status_code=403)
    with pytest.raises(handler.s3.exceptions.ClientError, match="AccessDenied"):
        handler.on_event(request, None)


def test_a_retried_create_finds_its_own_configuration_and_puts_it_again(handler):
    bedrock, _ = handler.stubs
    currently(bedrock, OURS)
    expect_put(bedrock, OURS)
    handler.on_event(event("invocation_logging_create"), None)


def test_update_moves_its_own_configuration_to_the_new_prefix_in_place(handler):
    bedrock, _ = handler.stubs
    currently(bedrock, OURS)
    expect_put(bedrock, {**OURS, "s3Config": {"bucketName": BUCKET, "keyPrefix": "bedrock/invocation-logs"}})
    result = handler.on_event(event("invocation_logging_update"), None)
    assert result["PhysicalResourceId"] == "bedrock-model-invocation-logging"


def test_update_refuses_a_configuration_someone_else_put_in_the_meantime(handler):
    bedrock, _ = handler.stubs
    currently(bedrock, THEIRS)
    with pytest.raises(RuntimeError, match="did not create"):
        handler.on_event(event("invocation_logging_update"), None)


def test_update_taking_over_keeps_an_earlier_saved_configuration(handler):
    bedrock, s3 = handler.stubs
    request = event("invocation_logging_update")
    request["ResourceProperties"]["TakeOver"] = "true"
    currently(bedrock, THEIRS)
    saved_state(s3, {"s3Config": {"bucketName": "original", "keyPrefix": ""}})
    expect_put(bedrock, {**OURS, "s3Config": {"bucketName": BUCKET, "keyPrefix": "bedrock/invocation-logs"}})
    handler.on_event(request, None)


def test_delete_restores_the_configuration_it_replaced(handler):
    bedrock, s3 = handler.stubs
    currently(bedrock, OURS)
    saved_state(s3, THEIRS)
    expect_put(bedrock, THEIRS)
    s3.add_response("delete_object", {}, {"Bucket": BUCKET, "Key": STATE_KEY})
    handler.on_event(event("invocation_logging_delete"), None)


def test_delete_removes_its_own_configuration_when_it_replaced_nothing(handler):
    bedrock, s3 = handler.stubs
    currently(bedrock, OURS)
    saved_state(s3, None)
    bedrock.add_response("delete_model_invocation_logging_configuration", {}, {})
    s3.add_response("delete_object", {}, {"Bucket": BUCKET, "Key": STATE_KEY})
    handler.on_event(event("invocation_logging_delete"), None)


def test_delete_leaves_alone_a_configuration_that_is_no_longer_its_own(handler):
    bedrock, _ = handler.stubs
    currently(bedrock, THEIRS)
    result = handler.on_event(event("invocation_logging_delete"), None)
    assert result == {"PhysicalResourceId": "bedrock-model-invocation-logging"}


def test_delete_with_no_configuration_left_does_nothing(handler):
    bedrock, _ = handler.stubs
    currently(bedrock, None)
    handler.on_event(event("invocation_logging_delete"), None)


def test_delete_says_what_it_could_not_restore(handler):
    bedrock, s3 = handler.stubs
    currently(bedrock, OURS)
    saved_state(s3, THEIRS)
    bedrock.add_client_error(
        "put_model_invocation_logging_configuration",
        "ValidationException",
        "Failed to validate permissions for log group: /team/bedrock",
        expected_params={"loggingConfig": THEIRS},
    )
    with pytest.raises(RuntimeError) as raised:
        handler.on_event(event("invocation_logging_delete"), None)
    message = str(raised.value)
    assert message.startswith(
        "Could not restore the invocation logging configuration this stack replaced (delivering to "
        "s3://security-team-logs/bedrock and CloudWatch Logs group /team/bedrock): An error occurred "
        "(ValidationException)"
    )
    assert message.endswith("Fix its destination, or delete the configuration by hand and retry the delete.")
