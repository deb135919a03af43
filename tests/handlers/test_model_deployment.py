"""The custom model deployment handler: the throughput's lifecycle, for a deployment that serves on demand."""

from __future__ import annotations

import hashlib
import logging

import pytest
from botocore.exceptions import ReadTimeoutError

from tests.handlers.conftest import CREATE_FAILED, event, load_handler, lose_answers, rollback_of

NAME = "sandbox-serving-0d41259abc27"
MODEL_ARN = "arn:aws:bedrock:us-east-1:123456789012:custom-model/amazon.nova-lite-v1:0:300k/n0v4l1t3x9y8"
RETRAINED_MODEL_ARN = "arn:aws:bedrock:us-east-1:123456789012:custom-model/amazon.nova-lite-v1:0:300k/r3t2a1n4e5d6"
# A model neither a request nor a move names: what a deployment moves from when it is not the model asked for.
EARLIER_MODEL_ARN = "arn:aws:bedrock:us-east-1:123456789012:custom-model/amazon.nova-lite-v1:0:300k/e4r1i2e3r4m5"
DEPLOYMENT_ARN = "arn:aws:bedrock:us-east-1:123456789012:custom-model-deployment/d3p1o4y7m2n5"
NEW_DEPLOYMENT_ARN = "arn:aws:bedrock:us-east-1:123456789012:custom-model-deployment/n3w0d3p1o4y7"
DESCRIPTION = "Distilled model of the sandbox stage"
TAGS = [{"key": "distillation-stage", "value": "sandbox"}, {"key": "project", "value": "support-assistant"}]


@pytest.fixture
def handler(stub):
    module = load_handler("model_deployment")
    module.stub = stub(module.bedrock)
    return module


def answer(arn: str = DEPLOYMENT_ARN, model: str = MODEL_ARN) -> dict:
    return {"PhysicalResourceId": arn, "Data": {"Arn": arn, "ModelArn": model}}


def deployment(status: str, model: str = MODEL_ARN, **extra) -> dict:
    """A GetCustomModelDeployment answer with what the service model requires."""
    return {
        "customModelDeploymentArn": DEPLOYMENT_ARN,
        "modelDeploymentName": NAME,
        "modelArn": model,
        "description": DESCRIPTION,
        "createdAt": "2026-11-28T14:10:00Z",
        "status": status,
        **extra,
    }


def bedrock_knows(handler, identifier: str, description: dict) -> None:
    handler.stub.add_response(
        "get_custom_model_deployment", description, {"customModelDeploymentIdentifier": identifier}
    )


def bedrock_knows_no(handler, identifier: str) -> None:
    handler.stub.add_client_error(
        "get_custom_model_deployment",
        "ResourceNotFoundException",
        "Deployment not found",
        404,
        {"customModelDeploymentIdentifier": identifier},
    )


def expect_create(handler, request: dict, arn: str = DEPLOYMENT_ARN, **changes) -> None:
    expected = {
        "clientRequestToken": hashlib.sha256(f"{NAME}\n{request['RequestId']}".encode()).hexdigest(),
        "modelDeploymentName": NAME,
        "modelArn": request["ResourceProperties"]["ModelArn"],
        "tags": TAGS,
        "description": DESCRIPTION,
        **changes,
    }
    handler.stub.add_response("create_custom_model_deployment", {"customModelDeploymentArn": arn}, expected)


def expect_move(handler, model: str) -> None:
    handler.stub.add_response(
        "update_custom_model_deployment",
        {"customModelDeploymentArn": DEPLOYMENT_ARN},
        {"customModelDeploymentIdentifier": DEPLOYMENT_ARN, "modelArn": model},
    )


def test_create_deploys_the_model_on_demand(handler, context):
    request = event("model_deployment_create")
    bedrock_knows_no(handler, NAME)
    expect_create(handler, request)
    assert handler.on_event(request, context) == answer()


def test_create_without_a_description_sends_none(handler, context):
    """Bedrock refuses an empty description; leaving it out is the way to give none."""
    request = event("model_deployment_create")
    request["ResourceProperties"]["Description"] = ""
    bedrock_knows_no(handler, NAME)
    handler.stub.add_response(
        "create_custom_model_deployment",
        {"customModelDeploymentArn": DEPLOYMENT_ARN},
        {
            "clientRequestToken": hashlib.sha256(f"{NAME}\n{request['RequestId']}".encode()).hexdigest(),
            "modelDeploymentName": NAME,
            "modelArn": MODEL_ARN,
            "tags": TAGS,
        },
    )
    assert handler.on_event(request, context) == answer()


def test_create_adopts_the_deployment_its_name_already_names(handler, context):
    bedrock_knows(handler, NAME, deployment("Active"))
    handler.stub.add_response("tag_resource", {}, {"resourceARN": DEPLOYMENT_ARN, "tags": TAGS})
    assert handler.on_event(event("model_deployment_create"), context) == answer()


def test_create_adopts_a_deployment_of_another_model_and_moves_it(handler, context):
    bedrock_knows(handler, NAME, deployment("Active", RETRAINED_MODEL_ARN))
    expect_move(handler, MODEL_ARN)
    handler.stub.add_response("tag_resource", {}, {"resourceARN": DEPLOYMENT_ARN, "tags": TAGS})
    assert handler.on_event(event("model_deployment_create"), context) == answer()


def refusal(status: str, model: str = MODEL_ARN) -> str:
    return (
        f"The custom model deployment {DEPLOYMENT_ARN} is {status} and cannot move to {model} until it is ready. "
        "Once Bedrock reports it ready, deploy again (or, if the stack is in UPDATE_ROLLBACK_FAILED, continue its "
        "rollback: aws cloudformation continue-update-rollback)."
    )


def moving_to(model: str, update_status: str = "Updating") -> dict:
    """updateDetails of a deployment's move to ``model`` (API reference, CustomModelDeploymentUpdateDetails)."""
    return {"updateDetails": {"modelArn": model, "updateStatus": update_status}}


def test_a_deployment_being_created_for_another_model_is_moved_once_it_is_active(handler, context):
    bedrock_knows(handler, NAME, deployment("Creating", RETRAINED_MODEL_ARN))
    bedrock_knows(handler, DEPLOYMENT_ARN, deployment("Creating", RETRAINED_MODEL_ARN))
    bedrock_knows(handler, DEPLOYMENT_ARN, deployment("Active", RETRAINED_MODEL_ARN))
    expect_move(handler, MODEL_ARN)
    handler.stub.add_response("tag_resource", {}, {"resourceARN": DEPLOYMENT_ARN, "tags": TAGS})
    assert handler.on_event(event("model_deployment_create"), context) == answer()
    assert context.slept == [30, 30]


def test_a_deployment_still_being_created_when_the_time_runs_out_is_refused_with_what_to_do(handler, context):
    # Looks 30 s apart while more than 30 s and two calls' budget (2 x 102 s) are left: from 300 s, three waits.
    context.remaining_seconds = 300
    bedrock_knows(handler, NAME, deployment("Creating", RETRAINED_MODEL_ARN))
    for _ in range(3):
        bedrock_knows(handler, DEPLOYMENT_ARN, deployment("Creating", RETRAINED_MODEL_ARN))
    with pytest.raises(RuntimeError) as raised:
        handler.on_event(event("model_deployment_create"), context)
    assert context.slept == [30, 30, 30]
    assert str(raised.value) == refusal("Creating")


def test_a_failed_deployment_of_the_name_is_deleted_and_created_anew(handler, context):
    request = event("model_deployment_create")
    bedrock_knows(handler, NAME, deployment("Failed", failureMessage="Internal error"))
    handler.stub.add_response("delete_custom_model_deployment", {}, {"customModelDeploymentIdentifier": DEPLOYMENT_ARN})
    expect_create(handler, request, NEW_DEPLOYMENT_ARN)
    assert handler.on_event(request, context) == answer(NEW_DEPLOYMENT_ARN)


def test_a_create_that_bedrock_refuses_fails_with_bedrocks_reason(handler, context):
    request = event("model_deployment_create")
    bedrock_knows_no(handler, NAME)
    handler.stub.add_client_error(
        "create_custom_model_deployment",
        "ValidationException",
        "On-demand deployment is not supported for this custom model",
        400,
    )
    with pytest.raises(handler.bedrock.exceptions.ValidationException, match="not supported for this custom model"):
        handler.on_event(request, context)


def test_a_create_whose_answer_is_lost_finds_the_deployment_by_name(handler, context, monkeypatch):
    """Bedrock created it but the answer never came: looked up by its name, it is this request's."""
    request = event("model_deployment_create")
    endpoint = "https://bedrock.us-east-1.amazonaws.com/model-customization/custom-model-deployments"
    lost = lose_answers(
        monkeypatch, handler.bedrock, "create_custom_model_deployment", ReadTimeoutError(endpoint_url=endpoint)
    )
    bedrock_knows_no(handler, NAME)
    bedrock_knows(handler, NAME, deployment("Creating"))
    assert handler.on_event(request, context) == answer()
    assert [sent["modelDeploymentName"] for sent in lost] == [NAME]


def test_update_moves_the_deployment_in_place_to_the_new_model(handler, context):
    bedrock_knows(handler, DEPLOYMENT_ARN, deployment("Active"))
    expect_move(handler, RETRAINED_MODEL_ARN)
    assert handler.on_event(event("model_deployment_update"), context) == answer(model=RETRAINED_MODEL_ARN)


def test_a_rollback_update_moves_the_deployment_back_and_creates_nothing(handler, context):
    bedrock_knows(handler, DEPLOYMENT_ARN, deployment("Active", RETRAINED_MODEL_ARN))
    expect_move(handler, MODEL_ARN)
    request = rollback_of(event("model_deployment_update"), physical_id=DEPLOYMENT_ARN)
    assert handler.on_event(request, context) == answer()


def test_a_rollback_finding_the_deployment_moving_off_its_model_leaves_the_move_to_finish_when_no_wait_fits(
    handler, context, caplog
):
    """Its modelArn is still the model the rollback asks for while updateDetails says it moves off it: the rollback
    succeeds rather than ending in UPDATE_ROLLBACK_FAILED, and the next deploy moves it to what the stack asks for."""
    caplog.set_level(logging.INFO)
    context.remaining_seconds = 30 + 2 * 102
    bedrock_knows(handler, DEPLOYMENT_ARN, deployment("Active", MODEL_ARN, **moving_to(RETRAINED_MODEL_ARN)))
    request = rollback_of(event("model_deployment_update"), physical_id=DEPLOYMENT_ARN)
    assert handler.on_event(request, context) == answer()
    assert context.slept == []
    assert (
        f"The custom model deployment {DEPLOYMENT_ARN} still serves {MODEL_ARN} and is moving off it; leaving the "
        "move to finish"
    ) in caplog.messages


def test_a_rollback_finding_the_deployment_moving_between_other_models_is_refused_when_no_wait_fits(handler, context):
    """Neither the model it serves nor the one it moves to is the one the rollback asks for: it is busy."""
    context.remaining_seconds = 30 + 2 * 102
    moving = deployment("Active", EARLIER_MODEL_ARN, **moving_to(RETRAINED_MODEL_ARN))
    bedrock_knows(handler, DEPLOYMENT_ARN, moving)
    request = rollback_of(event("model_deployment_update"), physical_id=DEPLOYMENT_ARN)
    with pytest.raises(RuntimeError) as raised:
        handler.on_event(request, context)
    assert str(raised.value) == refusal("Updating")
    assert context.slept == []


def test_a_rollback_during_a_move_waits_for_it_and_moves_the_deployment_back(handler, context):
    bedrock_knows(handler, DEPLOYMENT_ARN, deployment("Active", MODEL_ARN, **moving_to(RETRAINED_MODEL_ARN)))
    moved = deployment("Active", RETRAINED_MODEL_ARN, **moving_to(RETRAINED_MODEL_ARN, "UpdateCompleted"))
    bedrock_knows(handler, DEPLOYMENT_ARN, moved)
    expect_move(handler, MODEL_ARN)
    request = rollback_of(event("model_deployment_update"), physical_id=DEPLOYMENT_ARN)
    assert handler.on_event(request, context) == answer()
    assert context.slept == [30]


def test_a_deployment_whose_move_fails_while_the_rollback_waits_is_where_the_rollback_wants_it(handler, context):
    """The forward move failed and left the deployment on the previous model, the one the rollback asks for: it is
    not moved again."""
    bedrock_knows(handler, DEPLOYMENT_ARN, deployment("Active", MODEL_ARN, **moving_to(RETRAINED_MODEL_ARN)))
    failed = deployment("Active", MODEL_ARN, **moving_to(RETRAINED_MODEL_ARN, "UpdateFailed"))
    bedrock_knows(handler, DEPLOYMENT_ARN, failed)
    request = rollback_of(event("model_deployment_update"), physical_id=DEPLOYMENT_ARN)
    assert handler.on_event(request, context) == answer()
    assert context.slept == [30]


def test_a_deployment_that_fails_while_the_rollback_waits_is_created_anew(handler, context):
    request = rollback_of(event("model_deployment_update"), physical_id=DEPLOYMENT_ARN)
    bedrock_knows(handler, DEPLOYMENT_ARN, deployment("Active", MODEL_ARN, **moving_to(RETRAINED_MODEL_ARN)))
    failed = deployment("Failed", MODEL_ARN, failureMessage="Internal error")
    bedrock_knows(handler, DEPLOYMENT_ARN, failed)
    bedrock_knows(handler, NAME, failed)
    handler.stub.add_response("delete_custom_model_deployment", {}, {"customModelDeploymentIdentifier": DEPLOYMENT_ARN})
    expect_create(handler, request, NEW_DEPLOYMENT_ARN)
    assert handler.on_event(request, context) == answer(NEW_DEPLOYMENT_ARN)
    assert context.slept == [30]


def test_a_deployment_already_moving_to_the_model_is_left_to_finish(handler, context):
    bedrock_knows(handler, DEPLOYMENT_ARN, deployment("Active", MODEL_ARN, **moving_to(RETRAINED_MODEL_ARN)))
    assert handler.on_event(event("model_deployment_update"), context) == answer(model=RETRAINED_MODEL_ARN)
    assert context.slept == []


def test_a_deployment_whose_move_failed_is_moved_again(handler, context):
    failed = deployment("Active", MODEL_ARN, **moving_to(RETRAINED_MODEL_ARN, "UpdateFailed"))
    bedrock_knows(handler, DEPLOYMENT_ARN, failed)
    expect_move(handler, RETRAINED_MODEL_ARN)
    assert handler.on_event(event("model_deployment_update"), context) == answer(model=RETRAINED_MODEL_ARN)


def test_update_of_a_deployment_gone_meanwhile_creates_it_anew(handler, context):
    request = event("model_deployment_update")
    bedrock_knows_no(handler, DEPLOYMENT_ARN)
    bedrock_knows_no(handler, NAME)
    expect_create(handler, request, NEW_DEPLOYMENT_ARN)
    assert handler.on_event(request, context) == answer(NEW_DEPLOYMENT_ARN, RETRAINED_MODEL_ARN)


def test_delete_deletes_the_deployment(handler, context):
    handler.stub.add_response("delete_custom_model_deployment", {}, {"customModelDeploymentIdentifier": DEPLOYMENT_ARN})
    assert handler.on_event(event("model_deployment_delete"), context) == {"PhysicalResourceId": DEPLOYMENT_ARN}


def test_delete_of_a_deployment_already_gone_succeeds(handler, context):
    handler.stub.add_client_error(
        "delete_custom_model_deployment",
        "ResourceNotFoundException",
        "Deployment not found",
        404,
        {"customModelDeploymentIdentifier": DEPLOYMENT_ARN},
    )
    assert handler.on_event(event("model_deployment_delete"), context) == {"PhysicalResourceId": DEPLOYMENT_ARN}


def test_delete_after_a_failed_create_has_nothing_to_delete(handler, context):
    request = event("model_deployment_delete", PhysicalResourceId=CREATE_FAILED)
    assert handler.on_event(request, context) == {"PhysicalResourceId": CREATE_FAILED}
