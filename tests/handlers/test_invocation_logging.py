"""The invocation-logging handler: it never replaces or deletes a configuration that is not its own, and remembers."""

from __future__ import annotations

import json

import botocore.validate
import pytest
from botocore.exceptions import ClientError

from tests.handlers.conftest import event, load_handler, rollback_of

PHYSICAL_ID = "bedrock-model-invocation-logging"
BUCKET = "sandbox-distillation-fou-storageinvocationlogs-1a2b3c4d5e6f"
PARAMETER = "/bedrock-distillation/sandbox/invocation-logging"
DESCRIPTION = "What the stage's invocation logging resource replaced and last put in place; do not edit"


def ours(prefix: str = "invocation-logs") -> dict:
    return {
        "s3Config": {"bucketName": BUCKET, "keyPrefix": prefix},
        "textDataDeliveryEnabled": True,
        "imageDataDeliveryEnabled": False,
        "embeddingDataDeliveryEnabled": False,
    }


OURS = ours()
OURS_MOVED = ours("bedrock/invocation-logs")
THEIRS = {
    "cloudWatchConfig": {"logGroupName": "/team/bedrock", "roleArn": "arn:aws:iam::123456789012:role/BedrockLogs"},
    "s3Config": {"bucketName": "security-team-logs", "keyPrefix": "bedrock"},
    "textDataDeliveryEnabled": True,
    "imageDataDeliveryEnabled": True,
    "embeddingDataDeliveryEnabled": True,
}
THEIRS_DESCRIBED = "delivering to s3://security-team-logs/bedrock and CloudWatch Logs group /team/bedrock"
REFUSAL = (
    "This account and Region already has a model invocation logging configuration that this stack did not create "
    f"({THEIRS_DESCRIBED}). Set invocationLogging.takeOver to true in the stage to replace it (it is restored when "
    "the stack is deleted), or set invocationLogging.enabled to false to leave it alone."
)
ANSWER = {"PhysicalResourceId": PHYSICAL_ID, "Data": {"Destination": f"s3://{BUCKET}/invocation-logs"}}
ANSWER_MOVED = {"PhysicalResourceId": PHYSICAL_ID, "Data": {"Destination": f"s3://{BUCKET}/bedrock/invocation-logs"}}


@pytest.fixture
def handler(stub):
    module = load_handler("invocation_logging")
    module.bedrock_stub = stub(module.bedrock)
    module.ssm_stub = stub(module.ssm)
    return module


def currently(handler, configuration: dict | None) -> None:
    response = {"loggingConfig": configuration} if configuration else {}
    handler.bedrock_stub.add_response("get_model_invocation_logging_configuration", response, {})


def expect_put(handler, configuration: dict) -> None:
    handler.bedrock_stub.add_response(
        "put_model_invocation_logging_configuration", {}, {"loggingConfig": configuration}
    )


def remembered(handler, state: dict | None, name: str = PARAMETER) -> None:
    if state is None:
        handler.ssm_stub.add_client_error("get_parameter", "ParameterNotFound", "", 400, {"Name": name})
        return
    parameter = {"Name": name, "Type": "String", "Value": json.dumps(state), "Version": 3}
    handler.ssm_stub.add_response("get_parameter", {"Parameter": parameter}, {"Name": name})


def expect_remember(handler, state: dict, name: str = PARAMETER) -> None:
    handler.ssm_stub.add_response(
        "put_parameter",
        {"Version": 4},
        {"Name": name, "Value": json.dumps(state), "Type": "String", "Overwrite": True, "Description": DESCRIPTION},
    )


def expect_forget(handler) -> None:
    handler.ssm_stub.add_response("delete_parameter", {}, {"Name": PARAMETER})


def taking_over(request: dict) -> dict:
    request["ResourceProperties"]["TakeOver"] = "true"
    return request


# -- Create -------------------------------------------------------------------------------------------------------
def test_create_with_no_configuration_puts_ours_and_remembers_it(handler):
    currently(handler, None)
    remembered(handler, None)
    expect_put(handler, OURS)
    expect_remember(handler, {"applied": OURS})
    assert handler.on_event(event("invocation_logging_create"), None) == ANSWER


def test_create_refuses_to_replace_a_configuration_it_did_not_create(handler):
    currently(handler, THEIRS)
    remembered(handler, None)
    with pytest.raises(RuntimeError) as raised:
        handler.on_event(event("invocation_logging_create"), None)
    assert str(raised.value) == REFUSAL


@pytest.mark.parametrize(
    ("configuration", "described"),
    [
        (
            {"cloudWatchConfig": {"logGroupName": "/team/bedrock", "roleArn": "arn:aws:iam::123456789012:role/Logs"}},
            "delivering to CloudWatch Logs group /team/bedrock",
        ),
        ({"textDataDeliveryEnabled": True}, "delivering nowhere"),
    ],
)
def test_a_refusal_says_where_the_configuration_in_place_delivers(handler, configuration, described):
    currently(handler, configuration)
    remembered(handler, None)
    with pytest.raises(RuntimeError) as raised:
        handler.on_event(event("invocation_logging_create"), None)
    assert str(raised.value) == REFUSAL.replace(THEIRS_DESCRIBED, described)


def test_create_taking_over_remembers_the_configuration_it_replaced(handler):
    currently(handler, THEIRS)
    remembered(handler, None)
    expect_put(handler, OURS)
    expect_remember(handler, {"replaced": THEIRS, "applied": OURS})
    assert handler.on_event(taking_over(event("invocation_logging_create")), None) == ANSWER


def test_a_retried_create_finds_its_own_configuration_and_puts_it_again(handler):
    currently(handler, OURS)
    remembered(handler, {"applied": OURS})
    expect_put(handler, OURS)
    expect_remember(handler, {"applied": OURS})
    assert handler.on_event(event("invocation_logging_create"), None) == ANSWER


def test_a_retried_take_over_keeps_what_it_replaced_the_first_time(handler):
    currently(handler, OURS)
    remembered(handler, {"replaced": THEIRS, "applied": OURS})
    expect_put(handler, OURS)
    expect_remember(handler, {"replaced": THEIRS, "applied": OURS})
    assert handler.on_event(taking_over(event("invocation_logging_create")), None) == ANSWER


@pytest.mark.xfail(
    strict=True,
    reason="lambda/invocation_logging/index.py put() replaces the configuration before it saves the state that "
    "holds the replaced one: a failed save leaves the account with this stack's configuration and no record of "
    "theirs, and after a failed Create no Delete comes to restore it",
)
def test_a_take_over_whose_record_cannot_be_saved_replaces_nothing(handler):
    currently(handler, THEIRS)
    remembered(handler, None)
    handler.ssm_stub.add_client_error("put_parameter", "AccessDeniedException", "Not authorized", 400)
    with pytest.raises(ClientError, match="AccessDeniedException"):
        handler.on_event(taking_over(event("invocation_logging_create")), None)


# -- Update -------------------------------------------------------------------------------------------------------
def test_update_moves_its_own_configuration_to_the_new_prefix_in_place(handler):
    currently(handler, OURS)
    remembered(handler, {"applied": OURS})
    expect_put(handler, OURS_MOVED)
    expect_remember(handler, {"applied": OURS_MOVED})
    expect_remember(handler, {"applied": OURS_MOVED})
    assert handler.on_event(event("invocation_logging_update"), None) == ANSWER_MOVED


def test_update_with_its_configuration_already_in_place_puts_nothing(handler):
    currently(handler, OURS_MOVED)
    remembered(handler, {"applied": OURS_MOVED})
    expect_remember(handler, {"applied": OURS_MOVED})
    assert handler.on_event(event("invocation_logging_update"), None) == ANSWER_MOVED


def test_update_puts_ours_where_there_is_none(handler):
    currently(handler, None)
    remembered(handler, {"applied": OURS})
    expect_put(handler, OURS_MOVED)
    expect_remember(handler, {"applied": OURS_MOVED})
    expect_remember(handler, {"applied": OURS_MOVED})
    assert handler.on_event(event("invocation_logging_update"), None) == ANSWER_MOVED


def test_update_replaces_the_configuration_it_last_applied(handler):
    earlier = ours("earlier-prefix")
    currently(handler, earlier)
    remembered(handler, {"applied": earlier})
    expect_put(handler, OURS_MOVED)
    expect_remember(handler, {"applied": OURS_MOVED})
    expect_remember(handler, {"applied": OURS_MOVED})
    assert handler.on_event(event("invocation_logging_update"), None) == ANSWER_MOVED


def test_update_refuses_a_configuration_someone_else_put_in_the_meantime(handler):
    currently(handler, THEIRS)
    remembered(handler, {"applied": OURS})
    with pytest.raises(RuntimeError) as raised:
        handler.on_event(event("invocation_logging_update"), None)
    assert str(raised.value) == REFUSAL


def test_a_rollback_to_the_configuration_it_last_applied_succeeds_and_leaves_theirs(handler):
    """The forward Update was refused because theirs replaced ours; CloudFormation rolls back to ours: nothing to
    undo, and a second refusal would leave the stack in UPDATE_ROLLBACK_FAILED."""
    currently(handler, THEIRS)
    remembered(handler, {"applied": OURS})
    expect_remember(handler, {"applied": OURS})
    request = rollback_of(event("invocation_logging_update"), physical_id=PHYSICAL_ID)
    assert handler.on_event(request, None) == ANSWER


def test_update_taking_over_remembers_what_it_replaces(handler):
    currently(handler, THEIRS)
    remembered(handler, {"applied": OURS})
    expect_put(handler, OURS_MOVED)
    expect_remember(handler, {"applied": OURS_MOVED, "replaced": THEIRS})
    expect_remember(handler, {"applied": OURS_MOVED, "replaced": THEIRS})
    assert handler.on_event(taking_over(event("invocation_logging_update")), None) == ANSWER_MOVED


def test_update_taking_over_keeps_an_earlier_replaced_configuration(handler):
    original = {"s3Config": {"bucketName": "original-logs", "keyPrefix": ""}, "textDataDeliveryEnabled": True}
    currently(handler, THEIRS)
    remembered(handler, {"replaced": original, "applied": OURS})
    expect_put(handler, OURS_MOVED)
    expect_remember(handler, {"replaced": original, "applied": OURS_MOVED})
    expect_remember(handler, {"replaced": original, "applied": OURS_MOVED})
    assert handler.on_event(taking_over(event("invocation_logging_update")), None) == ANSWER_MOVED


def test_an_update_that_renames_the_state_parameter_carries_the_state_over(handler, monkeypatch):
    """Read from whichever name holds it, saved under the new name: a set of two names has no fixed order, so SSM's
    GetParameter is answered here by a table of the parameters that exist, checked against the service model."""
    request = event("invocation_logging_update")
    request["ResourceProperties"]["StateParameterName"] = "/bedrock-distillation/sandbox/logging-state"
    state = {"replaced": THEIRS, "applied": OURS}
    operation = handler.ssm.meta.service_model.operation_model("GetParameter")
    asked = []

    def get_parameter(**params):
        botocore.validate.validate_parameters(params, operation.input_shape)
        asked.append(params["Name"])
        if params["Name"] == PARAMETER:
            return {"Parameter": {"Name": PARAMETER, "Type": "String", "Value": json.dumps(state)}}
        raise handler.ssm.exceptions.ParameterNotFound({"Error": {"Code": "ParameterNotFound"}}, "GetParameter")

    monkeypatch.setattr(handler.ssm, "get_parameter", get_parameter)
    currently(handler, OURS)
    expect_put(handler, OURS_MOVED)
    moved = {"replaced": THEIRS, "applied": OURS_MOVED}
    expect_remember(handler, moved, "/bedrock-distillation/sandbox/logging-state")
    expect_remember(handler, moved, "/bedrock-distillation/sandbox/logging-state")
    assert handler.on_event(request, None) == ANSWER_MOVED
    assert PARAMETER in asked


# -- Delete -------------------------------------------------------------------------------------------------------
def test_delete_restores_the_configuration_it_replaced(handler):
    currently(handler, OURS)
    remembered(handler, {"replaced": THEIRS, "applied": OURS})
    expect_put(handler, THEIRS)
    expect_forget(handler)
    assert handler.on_event(event("invocation_logging_delete"), None) == {"PhysicalResourceId": PHYSICAL_ID}


def test_delete_removes_its_own_configuration_when_it_replaced_nothing(handler):
    currently(handler, OURS)
    remembered(handler, {"applied": OURS})
    handler.bedrock_stub.add_response("delete_model_invocation_logging_configuration", {}, {})
    expect_forget(handler)
    assert handler.on_event(event("invocation_logging_delete"), None) == {"PhysicalResourceId": PHYSICAL_ID}


def test_delete_leaves_alone_a_configuration_that_is_no_longer_its_own(handler):
    currently(handler, THEIRS)
    remembered(handler, {"replaced": {"s3Config": {"bucketName": "x", "keyPrefix": ""}}, "applied": OURS})
    expect_forget(handler)
    assert handler.on_event(event("invocation_logging_delete"), None) == {"PhysicalResourceId": PHYSICAL_ID}


def test_delete_with_no_configuration_left_deletes_nothing(handler):
    currently(handler, None)
    remembered(handler, {"applied": OURS})
    expect_forget(handler)
    assert handler.on_event(event("invocation_logging_delete"), None) == {"PhysicalResourceId": PHYSICAL_ID}


def test_delete_says_what_it_could_not_restore(handler):
    currently(handler, OURS)
    remembered(handler, {"replaced": THEIRS, "applied": OURS})
    handler.bedrock_stub.add_client_error(
        "put_model_invocation_logging_configuration",
        "ValidationException",
        "Failed to validate permissions for log group: /team/bedrock",
        400,
        {"loggingConfig": THEIRS},
    )
    with pytest.raises(RuntimeError) as raised:
        handler.on_event(event("invocation_logging_delete"), None)
    assert str(raised.value) == (
        f"Could not restore the invocation logging configuration this stack replaced ({THEIRS_DESCRIBED}): An "
        "error occurred (ValidationException) when calling the PutModelInvocationLoggingConfiguration operation: "
        "Failed to validate permissions for log group: /team/bedrock. Fix its destination, or delete the "
        "configuration by hand and retry the delete."
    )


@pytest.mark.xfail(
    strict=True,
    reason="lambda/invocation_logging/index.py delete() passes ssm.delete_parameter to custom_resource.unless_gone, "
    "which treats only ResourceNotFoundException as gone; SSM says ParameterNotFound, so a repeated Delete fails",
)
def test_a_repeated_delete_succeeds_though_the_state_is_already_forgotten(handler):
    currently(handler, None)
    remembered(handler, None)
    handler.ssm_stub.add_client_error(
        "delete_parameter", "ParameterNotFound", "Parameter not found", 400, {"Name": PARAMETER}
    )
    assert handler.on_event(event("invocation_logging_delete"), None) == {"PhysicalResourceId": PHYSICAL_ID}
