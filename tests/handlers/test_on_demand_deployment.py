"""The custom model deployment handler: the throughput's lifecycle, for a deployment that serves on demand."""

from __future__ import annotations

import copy
import hashlib
import logging
import time
import types

import pytest
import stage_ownership
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


# The epoch seconds at which on_event answers in these tests (2026-12-01T00:00:00Z).
STARTED_AT = 1_796_083_200


@pytest.fixture
def handler(stub, monkeypatch):
    """The handler with its Bedrock client stubbed and the lifecycle's clock standing at STARTED_AT (its sleeps stay
    the conftest's: refused, or taken from the ``context`` fixture's time left)."""
    module = load_handler("on_demand_deployment")
    module.stub = stub(module.bedrock)
    monkeypatch.setattr(
        module.serving_lifecycle, "time", types.SimpleNamespace(time=lambda: STARTED_AT, sleep=lambda s: time.sleep(s))
    )
    return module


def clock_at(handler, seconds_after_start: int) -> None:
    handler.serving_lifecycle.time.time = lambda: STARTED_AT + seconds_after_start


def answer(arn: str = DEPLOYMENT_ARN, model: str = MODEL_ARN, *, pending: bool = False) -> dict:
    """on_event's answer; ``pending``: the deployment was busy, so is_complete makes its move."""
    data = {"Arn": arn, "ModelArn": model}
    if pending:
        data.update(MovePending="true", StartedAt=str(STARTED_AT))
    return {"PhysicalResourceId": arn, "Data": data}


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


def tags_are(handler, arn: str = DEPLOYMENT_ARN, tags: list[dict] = TAGS) -> None:
    """ListTagsForResource of a deployment found by name: its STAGE_TAG says whether it is the stage's."""
    handler.stub.add_response("list_tags_for_resource", {"tags": tags}, {"resourceARN": arn})


def expect_move(handler, model: str) -> None:
    handler.stub.add_response(
        "update_custom_model_deployment",
        {"customModelDeploymentArn": DEPLOYMENT_ARN},
        {"customModelDeploymentIdentifier": DEPLOYMENT_ARN, "modelArn": model},
    )


def test_create_deploys_the_model_on_demand(handler, context):
    request = event("on_demand_deployment_create")
    bedrock_knows_no(handler, NAME)
    expect_create(handler, request)
    assert handler.on_event(request, context) == answer()


def test_create_without_a_description_sends_none(handler, context):
    """Bedrock refuses an empty description; leaving it out is the way to give none."""
    request = event("on_demand_deployment_create")
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
    tags_are(handler)
    handler.stub.add_response("tag_resource", {}, {"resourceARN": DEPLOYMENT_ARN, "tags": TAGS})
    assert handler.on_event(event("on_demand_deployment_create"), context) == answer()


def test_create_adopts_a_deployment_of_another_model_and_moves_it(handler, context):
    bedrock_knows(handler, NAME, deployment("Active", RETRAINED_MODEL_ARN))
    tags_are(handler)
    expect_move(handler, MODEL_ARN)
    handler.stub.add_response("tag_resource", {}, {"resourceARN": DEPLOYMENT_ARN, "tags": TAGS})
    assert handler.on_event(event("on_demand_deployment_create"), context) == answer()


def refusal(status: str, model: str = MODEL_ARN) -> str:
    return (
        f"The custom model deployment {DEPLOYMENT_ARN} is {status} and cannot move to {model} until it is ready. "
        "Once Bedrock reports it ready, deploy again (or, if the stack is in UPDATE_ROLLBACK_FAILED, continue its "
        "rollback: aws cloudformation continue-update-rollback)."
    )


def moving_to(model: str, update_status: str = "Updating") -> dict:
    """updateDetails of a deployment's move to ``model`` (API reference, CustomModelDeploymentUpdateDetails)."""
    return {"updateDetails": {"modelArn": model, "updateStatus": update_status}}


def polled(request: dict, answered: dict) -> dict:
    """The event is_complete is given: the on_event event with what on_event answered added to it (CDK API
    reference, ProviderProps onEventHandler, https://docs.aws.amazon.com/cdk/api/latest/python/
    aws_cdk.custom_resources/ProviderProps.html, read 2026-12-01)."""
    return {**copy.deepcopy(request), **answered}


def test_create_adopting_a_deployment_being_created_for_another_model_answers_at_once_with_its_move_pending(
    handler, context, caplog
):
    """No wait inside on_event: the adopted deployment is retagged, and is_complete makes the move."""
    caplog.set_level(logging.INFO)
    bedrock_knows(handler, NAME, deployment("Creating", RETRAINED_MODEL_ARN))
    tags_are(handler)
    handler.stub.add_response("tag_resource", {}, {"resourceARN": DEPLOYMENT_ARN, "tags": TAGS})
    assert handler.on_event(event("on_demand_deployment_create"), context) == answer(pending=True)
    assert context.slept == []
    assert (
        f"The custom model deployment {DEPLOYMENT_ARN} is Creating; it moves to {MODEL_ARN} once it is ready"
    ) in caplog.messages


def test_is_complete_moves_an_adopted_deployment_once_it_is_active(handler, context):
    request = event("on_demand_deployment_create")
    bedrock_knows(handler, NAME, deployment("Creating", RETRAINED_MODEL_ARN))
    tags_are(handler)
    handler.stub.add_response("tag_resource", {}, {"resourceARN": DEPLOYMENT_ARN, "tags": TAGS})
    polling = polled(request, handler.on_event(request, context))
    bedrock_knows(handler, DEPLOYMENT_ARN, deployment("Creating", RETRAINED_MODEL_ARN))
    assert handler.is_complete(polling, context) == {"IsComplete": False}
    bedrock_knows(handler, DEPLOYMENT_ARN, deployment("Active", RETRAINED_MODEL_ARN))
    expect_move(handler, MODEL_ARN)
    assert handler.is_complete(polling, context) == {"IsComplete": False}
    bedrock_knows(handler, DEPLOYMENT_ARN, deployment("Active", RETRAINED_MODEL_ARN, **moving_to(MODEL_ARN)))
    assert handler.is_complete(polling, context) == {"IsComplete": True}
    assert context.slept == []


@pytest.mark.parametrize(
    ("busy", "status"),
    [
        (deployment("Creating", RETRAINED_MODEL_ARN), "Creating"),
        (deployment("Active", EARLIER_MODEL_ARN, **moving_to(RETRAINED_MODEL_ARN)), "Updating"),
    ],
    ids=["created-for-another-model", "moving-between-other-models"],
)
def test_is_complete_gives_up_on_a_deployment_still_busy_fifty_minutes_after_on_event_with_what_to_do(
    handler, context, busy, status
):
    """It gives up inside the hour CloudFormation waits for a custom resource: still busy 3000 s after on_event
    answered, it is polled again; past that, the request fails with what to do."""
    polling = polled(event("on_demand_deployment_create"), answer(pending=True))
    clock_at(handler, 3000)
    bedrock_knows(handler, DEPLOYMENT_ARN, busy)
    assert handler.is_complete(polling, context) == {"IsComplete": False}
    clock_at(handler, 3001)
    bedrock_knows(handler, DEPLOYMENT_ARN, busy)
    with pytest.raises(RuntimeError) as raised:
        handler.is_complete(polling, context)
    assert str(raised.value) == refusal(status)


@pytest.mark.parametrize(
    "polling",
    [
        polled(event("on_demand_deployment_create"), answer()),
        polled(event("on_demand_deployment_update"), answer(model=RETRAINED_MODEL_ARN)),
        polled(event("on_demand_deployment_delete"), {"PhysicalResourceId": DEPLOYMENT_ARN}),
    ],
    ids=["create", "update", "delete"],
)
def test_is_complete_is_done_at_once_when_no_move_is_pending(handler, context, polling):
    """Nothing is asked of Bedrock (the Stubber has no answer queued)."""
    assert handler.is_complete(polling, context) == {"IsComplete": True}


def test_a_failed_deployment_of_the_name_is_deleted_and_created_anew(handler, context):
    request = event("on_demand_deployment_create")
    bedrock_knows(handler, NAME, deployment("Failed", failureMessage="Internal error"))
    tags_are(handler)
    handler.stub.add_response("delete_custom_model_deployment", {}, {"customModelDeploymentIdentifier": DEPLOYMENT_ARN})
    expect_create(handler, request, NEW_DEPLOYMENT_ARN)
    assert handler.on_event(request, context) == answer(NEW_DEPLOYMENT_ARN)


def test_a_create_that_bedrock_refuses_fails_with_bedrocks_reason(handler, context):
    request = event("on_demand_deployment_create")
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
    request = event("on_demand_deployment_create")
    endpoint = "https://bedrock.us-east-1.amazonaws.com/model-customization/custom-model-deployments"
    lost = lose_answers(
        monkeypatch, handler.bedrock, "create_custom_model_deployment", ReadTimeoutError(endpoint_url=endpoint)
    )
    bedrock_knows_no(handler, NAME)
    bedrock_knows(handler, NAME, deployment("Creating"))
    tags_are(handler)
    assert handler.on_event(request, context) == answer()
    assert [sent["modelDeploymentName"] for sent in lost] == [NAME]


def test_create_refuses_another_teams_deployment_of_its_name_before_it_is_tagged_or_moved(handler, context):
    """IAM would let the stage tag an untagged deployment; the Stubber refuses any call not queued."""
    bedrock_knows(handler, NAME, deployment("Creating", RETRAINED_MODEL_ARN))
    tags_are(handler, tags=[{"key": "team", "value": "search"}])
    with pytest.raises(stage_ownership.NotTheStages) as raised:
        handler.on_event(event("on_demand_deployment_create"), context)
    assert str(raised.value) == (
        f"The custom model deployment {DEPLOYMENT_ARN} has the name {NAME} that this stage derives for its own, but "
        "it has no distillation-stage tag rather than distillation-stage=sandbox: it is not this stage's, so it is "
        "left as it is. Delete it if it is yours and unused; otherwise, as its name comes from the stage's name and "
        "base model alone, serve the stage with a Provisioned Throughput (serving.mode) or deploy it under another "
        "stage name, then deploy again."
    )


def test_update_moves_the_deployment_in_place_to_the_new_model(handler, context):
    bedrock_knows(handler, DEPLOYMENT_ARN, deployment("Active"))
    expect_move(handler, RETRAINED_MODEL_ARN)
    assert handler.on_event(event("on_demand_deployment_update"), context) == answer(model=RETRAINED_MODEL_ARN)


def test_a_rollback_update_moves_the_deployment_back_and_creates_nothing(handler, context):
    bedrock_knows(handler, DEPLOYMENT_ARN, deployment("Active", RETRAINED_MODEL_ARN))
    expect_move(handler, MODEL_ARN)
    request = rollback_of(event("on_demand_deployment_update"), physical_id=DEPLOYMENT_ARN)
    assert handler.on_event(request, context) == answer()


def rollback_request() -> dict:
    return rollback_of(event("on_demand_deployment_update"), physical_id=DEPLOYMENT_ARN)


@pytest.mark.parametrize("serving", [MODEL_ARN, EARLIER_MODEL_ARN], ids=["off-the-model", "between-other-models"])
def test_a_rollback_finding_the_deployment_moving_answers_at_once_and_is_complete_moves_it_back(
    handler, context, serving
):
    """The failed forward Update had just begun to move the deployment to the retrained model: the rollback leaves
    it on no other model than the one the stack records, whether it still serves that one or not."""
    request = rollback_request()
    moving = deployment("Active", serving, **moving_to(RETRAINED_MODEL_ARN))
    bedrock_knows(handler, DEPLOYMENT_ARN, moving)
    answered = handler.on_event(request, context)
    assert answered == answer(pending=True)
    polling = polled(request, answered)
    bedrock_knows(handler, DEPLOYMENT_ARN, moving)
    assert handler.is_complete(polling, context) == {"IsComplete": False}
    moved = deployment("Active", RETRAINED_MODEL_ARN, **moving_to(RETRAINED_MODEL_ARN, "UpdateCompleted"))
    bedrock_knows(handler, DEPLOYMENT_ARN, moved)
    expect_move(handler, MODEL_ARN)
    assert handler.is_complete(polling, context) == {"IsComplete": False}
    bedrock_knows(handler, DEPLOYMENT_ARN, deployment("Active", RETRAINED_MODEL_ARN, **moving_to(MODEL_ARN)))
    assert handler.is_complete(polling, context) == {"IsComplete": True}
    assert context.slept == []


def test_a_deployment_whose_move_fails_before_is_complete_moves_it_is_where_the_rollback_wants_it(handler, context):
    """The forward move failed and left the deployment on the previous model, the one the rollback asks for: it is
    not moved again."""
    failed = deployment("Active", MODEL_ARN, **moving_to(RETRAINED_MODEL_ARN, "UpdateFailed"))
    bedrock_knows(handler, DEPLOYMENT_ARN, failed)
    assert handler.is_complete(polled(rollback_request(), answer(pending=True)), context) == {"IsComplete": True}


PENDING_MOVES = pytest.mark.parametrize(
    "request_of", [lambda: event("on_demand_deployment_create"), rollback_request], ids=["create", "rollback"]
)


@PENDING_MOVES
def test_is_complete_fails_when_the_deployment_fails_before_it_can_move(handler, context, request_of):
    """Nothing is deleted or created here: the next deploy replaces it, as it does any failed deployment."""
    bedrock_knows(handler, DEPLOYMENT_ARN, deployment("Failed", RETRAINED_MODEL_ARN, failureMessage="Internal error"))
    with pytest.raises(RuntimeError) as raised:
        handler.is_complete(polled(request_of(), answer(pending=True)), context)
    assert str(raised.value) == (
        f"The custom model deployment {DEPLOYMENT_ARN} failed (Internal error) before it could move to {MODEL_ARN}; "
        "deploy again to replace it."
    )


@PENDING_MOVES
def test_is_complete_fails_when_the_deployment_is_deleted_before_it_can_move(handler, context, request_of):
    bedrock_knows_no(handler, DEPLOYMENT_ARN)
    with pytest.raises(RuntimeError) as raised:
        handler.is_complete(polled(request_of(), answer(pending=True)), context)
    assert str(raised.value) == (
        f"The custom model deployment {DEPLOYMENT_ARN} was deleted before it could move to {MODEL_ARN}; deploy again "
        "to create it anew."
    )


def test_a_deployment_already_moving_to_the_model_is_left_to_finish(handler, context):
    bedrock_knows(handler, DEPLOYMENT_ARN, deployment("Active", MODEL_ARN, **moving_to(RETRAINED_MODEL_ARN)))
    assert handler.on_event(event("on_demand_deployment_update"), context) == answer(model=RETRAINED_MODEL_ARN)
    assert context.slept == []


def test_a_deployment_whose_move_failed_is_moved_again(handler, context):
    failed = deployment("Active", MODEL_ARN, **moving_to(RETRAINED_MODEL_ARN, "UpdateFailed"))
    bedrock_knows(handler, DEPLOYMENT_ARN, failed)
    expect_move(handler, RETRAINED_MODEL_ARN)
    assert handler.on_event(event("on_demand_deployment_update"), context) == answer(model=RETRAINED_MODEL_ARN)


def test_update_of_a_deployment_gone_meanwhile_creates_it_anew(handler, context):
    request = event("on_demand_deployment_update")
    bedrock_knows_no(handler, DEPLOYMENT_ARN)
    bedrock_knows_no(handler, NAME)
    expect_create(handler, request, NEW_DEPLOYMENT_ARN)
    assert handler.on_event(request, context) == answer(NEW_DEPLOYMENT_ARN, RETRAINED_MODEL_ARN)


def test_delete_deletes_the_deployment(handler, context):
    handler.stub.add_response("delete_custom_model_deployment", {}, {"customModelDeploymentIdentifier": DEPLOYMENT_ARN})
    assert handler.on_event(event("on_demand_deployment_delete"), context) == {"PhysicalResourceId": DEPLOYMENT_ARN}


def test_delete_of_a_deployment_already_gone_succeeds(handler, context):
    handler.stub.add_client_error(
        "delete_custom_model_deployment",
        "ResourceNotFoundException",
        "Deployment not found",
        404,
        {"customModelDeploymentIdentifier": DEPLOYMENT_ARN},
    )
    assert handler.on_event(event("on_demand_deployment_delete"), context) == {"PhysicalResourceId": DEPLOYMENT_ARN}


def test_delete_after_a_failed_create_has_nothing_to_delete(handler, context):
    request = event("on_demand_deployment_delete", PhysicalResourceId=CREATE_FAILED)
    bedrock_knows_no(handler, NAME)
    assert handler.on_event(request, context) == {"PhysicalResourceId": CREATE_FAILED}
