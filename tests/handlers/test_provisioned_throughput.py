"""The Provisioned Throughput handler: found by its name before anything is bought, moved in place to each new model,
and deleted with its resource."""

from __future__ import annotations

import copy
import hashlib
import json
import logging
import time
import types

import pytest
import stage_ownership
from botocore.exceptions import EndpointConnectionError, ReadTimeoutError

from tests.handlers.conftest import CREATE_FAILED, event, load_handler, lose_answers, rollback_of

NAME = "sandbox-serving-2f462a79fa34"
NEW_NAME = "sandbox-serving-9d3b7e1a5c20"
MODEL_ARN = "arn:aws:bedrock:us-west-2:123456789012:custom-model/meta.llama3-1-8b-instruct-v1:0:128k/m4o8d2e6l0a3"
RETRAINED_MODEL_ARN = (
    "arn:aws:bedrock:us-west-2:123456789012:custom-model/meta.llama3-1-8b-instruct-v1:0:128k/r3t2a1n4e5d6"
)
# A model neither the request nor the throughput's move names: what a throughput moves from when it is not the
# model asked for.
EARLIER_MODEL_ARN = (
    "arn:aws:bedrock:us-west-2:123456789012:custom-model/meta.llama3-1-8b-instruct-v1:0:128k/e4r1i2e3r4m5"
)
THROUGHPUT_ARN = "arn:aws:bedrock:us-west-2:123456789012:provisioned-model/p7t3h9r2u5s1"
NEW_THROUGHPUT_ARN = "arn:aws:bedrock:us-west-2:123456789012:provisioned-model/n3w7h9r2u5s1"
ENDPOINT = "https://bedrock.us-west-2.amazonaws.com/provisioned-model-throughput"
TAGS = [{"key": "distillation-stage", "value": "sandbox"}, {"key": "project", "value": "support-assistant"}]


# The epoch seconds at which on_event answers in these tests (2026-12-01T00:00:00Z).
STARTED_AT = 1_796_083_200


@pytest.fixture
def handler(stub, monkeypatch):
    """The handler with its Bedrock client stubbed and the lifecycle's clock standing at STARTED_AT (its sleeps stay
    the conftest's: refused, or taken from the ``context`` fixture's time left)."""
    module = load_handler("provisioned_throughput")
    module.stub = stub(module.bedrock)
    monkeypatch.setattr(
        module.serving_lifecycle, "time", types.SimpleNamespace(time=lambda: STARTED_AT, sleep=lambda s: time.sleep(s))
    )
    return module


def clock_at(handler, seconds_after_start: int) -> None:
    handler.serving_lifecycle.time.time = lambda: STARTED_AT + seconds_after_start


def answer(arn: str = THROUGHPUT_ARN, model: str = MODEL_ARN, *, pending: bool = False) -> dict:
    """on_event's answer; ``pending``: the throughput was busy, so is_complete makes its move."""
    data = {"Arn": arn, "ModelArn": model}
    if pending:
        data.update(MovePending="true", StartedAt=str(STARTED_AT))
    return {"PhysicalResourceId": arn, "Data": data}


def throughput(status: str, *, desired: str = MODEL_ARN, name: str = NAME, arn: str = THROUGHPUT_ARN, **extra):
    """A GetProvisionedModelThroughput answer with what the service model requires."""
    return {
        "modelUnits": 1,
        "desiredModelUnits": 1,
        "provisionedModelName": name,
        "provisionedModelArn": arn,
        "modelArn": MODEL_ARN if status == "Updating" else desired,
        "desiredModelArn": desired,
        "foundationModelArn": "arn:aws:bedrock:us-west-2::foundation-model/meta.llama3-1-8b-instruct-v1:0:128k",
        "status": status,
        "creationTime": "2026-11-28T14:10:00Z",
        "lastModifiedTime": "2026-11-28T15:10:00Z",
        **extra,
    }


def bedrock_knows(handler, identifier: str, description: dict) -> None:
    handler.stub.add_response("get_provisioned_model_throughput", description, {"provisionedModelId": identifier})


def bedrock_knows_no(handler, identifier: str) -> None:
    handler.stub.add_client_error(
        "get_provisioned_model_throughput",
        "ResourceNotFoundException",
        f"Provisioned model {identifier} not found",
        404,
        {"provisionedModelId": identifier},
    )


def expect_create(handler, request: dict, arn: str = THROUGHPUT_ARN, **changes) -> None:
    name = request["ResourceProperties"]["Name"]
    expected = {
        "clientRequestToken": hashlib.sha256(f"{name}\n{request['RequestId']}".encode()).hexdigest(),
        "provisionedModelName": name,
        "modelId": request["ResourceProperties"]["ModelArn"],
        "modelUnits": 1,
        "tags": TAGS,
        **changes,
    }
    handler.stub.add_response("create_provisioned_model_throughput", {"provisionedModelArn": arn}, expected)


def expect_move(handler, model: str, arn: str = THROUGHPUT_ARN) -> None:
    handler.stub.add_response(
        "update_provisioned_model_throughput", {}, {"provisionedModelId": arn, "desiredModelId": model}
    )


def expect_tags(handler, arn: str = THROUGHPUT_ARN) -> None:
    handler.stub.add_response("tag_resource", {}, {"resourceARN": arn, "tags": TAGS})


def tags_are(handler, arn: str = THROUGHPUT_ARN, tags: list[dict] = TAGS) -> None:
    """ListTagsForResource of a throughput found by name: its STAGE_TAG says whether it is the stage's."""
    handler.stub.add_response("list_tags_for_resource", {"tags": tags}, {"resourceARN": arn})


def expect_delete(handler, arn: str = THROUGHPUT_ARN) -> None:
    handler.stub.add_response("delete_provisioned_model_throughput", {}, {"provisionedModelId": arn})


# -- Create -------------------------------------------------------------------------------------------------------
def test_create_buys_the_throughput_when_bedrock_knows_none_of_its_name(handler, context):
    request = event("provisioned_throughput_create")
    bedrock_knows_no(handler, NAME)
    expect_create(handler, request)
    assert handler.on_event(request, context) == answer()


def test_create_with_a_commitment_asks_for_its_term(handler, context):
    request = event("provisioned_throughput_create")
    request["ResourceProperties"].update(CommitmentDuration="OneMonth", ModelUnits="2")
    bedrock_knows_no(handler, NAME)
    expect_create(handler, request, modelUnits=2, commitmentDuration="OneMonth")
    assert handler.on_event(request, context) == answer()


def test_a_retried_request_sends_the_same_token_and_another_request_another(handler, context):
    """The token carries the request id as well as the name: a name is free again once its throughput is deleted."""
    sent = []
    handler.bedrock.meta.events.register(
        "before-parameter-build.bedrock.CreateProvisionedModelThroughput",
        lambda params, **_: sent.append(params["clientRequestToken"]),
    )
    first = event("provisioned_throughput_create")
    for request in (first, copy.deepcopy(first), event("provisioned_throughput_create", RequestId="0b0b0b0b")):
        bedrock_knows_no(handler, NAME)
        expect_create(handler, request)
        handler.on_event(request, context)
    assert sent[0] == sent[1] != sent[2]


def test_create_adopts_the_throughput_its_name_already_names(handler, context):
    bedrock_knows(handler, NAME, throughput("InService"))
    tags_are(handler)
    expect_tags(handler)
    assert handler.on_event(event("provisioned_throughput_create"), context) == answer()


def test_create_adopts_a_throughput_serving_another_model_and_moves_it_in_place(handler, context):
    bedrock_knows(handler, NAME, throughput("InService", desired=RETRAINED_MODEL_ARN))
    tags_are(handler)
    expect_move(handler, MODEL_ARN)
    expect_tags(handler)
    assert handler.on_event(event("provisioned_throughput_create"), context) == answer()


def test_create_adopts_a_throughput_still_being_bought_for_its_model(handler, context):
    bedrock_knows(handler, NAME, throughput("Creating"))
    tags_are(handler)
    expect_tags(handler)
    assert handler.on_event(event("provisioned_throughput_create"), context) == answer()


def refusal(status: str, model: str = MODEL_ARN) -> str:
    return (
        f"The Provisioned Throughput {THROUGHPUT_ARN} is {status} and cannot move to {model} until it is ready. "
        "Once Bedrock reports it ready, deploy again (or, if the stack is in UPDATE_ROLLBACK_FAILED, continue its "
        "rollback: aws cloudformation continue-update-rollback)."
    )


def polled(request: dict, answered: dict) -> dict:
    """The event is_complete is given: the on_event event with what on_event answered added to it (CDK API
    reference, ProviderProps onEventHandler, https://docs.aws.amazon.com/cdk/api/latest/python/
    aws_cdk.custom_resources/ProviderProps.html, read 2026-12-01)."""
    return {**copy.deepcopy(request), **answered}


# A throughput that cannot move yet: being bought for another model, moving off the model asked for, or moving
# between two others.
BUSY = pytest.mark.parametrize(
    ("status", "serving"),
    [("Creating", RETRAINED_MODEL_ARN), ("Updating", MODEL_ARN), ("Updating", EARLIER_MODEL_ARN)],
    ids=["bought-for-another-model", "moving-off-the-model", "moving-between-other-models"],
)


@BUSY
def test_create_adopting_a_busy_throughput_answers_at_once_with_its_move_pending(
    handler, context, caplog, status, serving
):
    """No wait inside on_event: the adopted throughput is retagged, and is_complete makes the move."""
    caplog.set_level(logging.INFO)
    bedrock_knows(handler, NAME, throughput(status, desired=RETRAINED_MODEL_ARN, modelArn=serving))
    tags_are(handler)
    expect_tags(handler)
    assert handler.on_event(event("provisioned_throughput_create"), context) == answer(pending=True)
    assert context.slept == []
    assert (
        f"The Provisioned Throughput {THROUGHPUT_ARN} is {status}; it moves to {MODEL_ARN} once it is ready"
    ) in caplog.messages


@BUSY
def test_is_complete_moves_an_adopted_busy_throughput_once_it_is_ready(handler, context, status, serving):
    request = event("provisioned_throughput_create")
    busy = throughput(status, desired=RETRAINED_MODEL_ARN, modelArn=serving)
    bedrock_knows(handler, NAME, busy)
    tags_are(handler)
    expect_tags(handler)
    polling = polled(request, handler.on_event(request, context))
    bedrock_knows(handler, THROUGHPUT_ARN, busy)
    assert handler.is_complete(polling, context) == {"IsComplete": False}
    bedrock_knows(handler, THROUGHPUT_ARN, throughput("InService", desired=RETRAINED_MODEL_ARN))
    expect_move(handler, MODEL_ARN)
    assert handler.is_complete(polling, context) == {"IsComplete": False}
    bedrock_knows(handler, THROUGHPUT_ARN, throughput("Updating", desired=MODEL_ARN, modelArn=RETRAINED_MODEL_ARN))
    assert handler.is_complete(polling, context) == {"IsComplete": True}
    assert context.slept == []


@BUSY
def test_is_complete_gives_up_on_a_throughput_still_busy_fifty_minutes_after_on_event_with_what_to_do(
    handler, context, status, serving
):
    """It gives up inside the hour CloudFormation waits for a custom resource: still busy 3000 s after on_event
    answered, it is polled again; past that, the request fails with what to do."""
    polling = polled(event("provisioned_throughput_create"), answer(pending=True))
    busy = throughput(status, desired=RETRAINED_MODEL_ARN, modelArn=serving)
    clock_at(handler, 3000)
    bedrock_knows(handler, THROUGHPUT_ARN, busy)
    assert handler.is_complete(polling, context) == {"IsComplete": False}
    clock_at(handler, 3001)
    bedrock_knows(handler, THROUGHPUT_ARN, busy)
    with pytest.raises(RuntimeError) as raised:
        handler.is_complete(polling, context)
    assert str(raised.value) == refusal(status)


@pytest.mark.parametrize(
    "polling",
    [
        polled(event("provisioned_throughput_create"), answer()),
        polled(event("provisioned_throughput_update"), answer(model=RETRAINED_MODEL_ARN)),
        polled(event("provisioned_throughput_delete"), {"PhysicalResourceId": THROUGHPUT_ARN}),
    ],
    ids=["create", "update", "delete"],
)
def test_is_complete_is_done_at_once_when_no_move_is_pending(handler, context, polling):
    """Nothing is asked of Bedrock (the Stubber has no answer queued)."""
    assert handler.is_complete(polling, context) == {"IsComplete": True}


def test_is_complete_is_done_when_the_throughput_already_serves_the_model(handler, context):
    """Moved meanwhile by another deploy: it is not moved again."""
    bedrock_knows(handler, THROUGHPUT_ARN, throughput("InService"))
    polling = polled(event("provisioned_throughput_create"), answer(pending=True))
    assert handler.is_complete(polling, context) == {"IsComplete": True}


def test_a_move_bedrock_refuses_once_the_throughput_is_ready_fails_with_its_reason(handler, context):
    bedrock_knows(handler, THROUGHPUT_ARN, throughput("InService", desired=RETRAINED_MODEL_ARN))
    handler.stub.add_client_error(
        "update_provisioned_model_throughput",
        "ValidationException",
        "The desired model must be a custom model of the same base model",
        400,
        {"provisionedModelId": THROUGHPUT_ARN, "desiredModelId": MODEL_ARN},
    )
    polling = polled(event("provisioned_throughput_create"), answer(pending=True))
    with pytest.raises(handler.bedrock.exceptions.ValidationException, match="same base model"):
        handler.is_complete(polling, context)


def test_a_failed_throughput_of_the_name_is_deleted_and_bought_anew(handler, context):
    request = event("provisioned_throughput_create")
    bedrock_knows(handler, NAME, throughput("Failed", failureMessage="Insufficient capacity"))
    tags_are(handler)
    expect_delete(handler)
    expect_create(handler, request, NEW_THROUGHPUT_ARN)
    assert handler.on_event(request, context) == answer(NEW_THROUGHPUT_ARN)


def test_a_failed_throughput_deleted_meanwhile_is_bought_anew(handler, context):
    request = event("provisioned_throughput_create")
    bedrock_knows(handler, NAME, throughput("Failed"))
    tags_are(handler)
    handler.stub.add_client_error(
        "delete_provisioned_model_throughput",
        "ResourceNotFoundException",
        "Provisioned model not found",
        404,
        {"provisionedModelId": THROUGHPUT_ARN},
    )
    expect_create(handler, request, NEW_THROUGHPUT_ARN)
    assert handler.on_event(request, context) == answer(NEW_THROUGHPUT_ARN)


@pytest.mark.parametrize(
    ("code", "message"),
    [
        ("ValidationException", "The model does not support Provisioned Throughput with no commitment"),
        ("AccessDeniedException", "User is not authorized to perform: bedrock:CreateProvisionedModelThroughput"),
        ("ServiceQuotaExceededException", "Model units quota exceeded for this model"),
    ],
)
def test_a_create_that_bedrock_refuses_fails_with_bedrocks_reason(handler, context, code, message):
    request = event("provisioned_throughput_create")
    bedrock_knows_no(handler, NAME)
    handler.stub.add_client_error(
        "create_provisioned_model_throughput",
        code,
        message,
        400,
        {
            "clientRequestToken": hashlib.sha256(f"{NAME}\n{request['RequestId']}".encode()).hexdigest(),
            "provisionedModelName": NAME,
            "modelId": MODEL_ARN,
            "modelUnits": 1,
            "tags": TAGS,
        },
    )
    with pytest.raises(handler.bedrock.exceptions.ClientError) as raised:
        handler.on_event(request, context)
    assert str(raised.value) == (
        f"An error occurred ({code}) when calling the CreateProvisionedModelThroughput operation: {message}"
    )


def test_a_create_whose_answer_is_lost_finds_the_throughput_by_name(handler, context, monkeypatch):
    """Bedrock bought it but the answer never came: looked up by its name, it is this request's."""
    request = event("provisioned_throughput_create")
    lost = lose_answers(
        monkeypatch, handler.bedrock, "create_provisioned_model_throughput", ReadTimeoutError(endpoint_url=ENDPOINT)
    )
    bedrock_knows_no(handler, NAME)
    bedrock_knows(handler, NAME, throughput("Creating"))
    tags_are(handler)
    assert handler.on_event(request, context) == answer()
    assert [sent["provisionedModelName"] for sent in lost] == [NAME]


def test_a_create_whose_answer_is_lost_and_that_bedrock_did_not_buy_fails_saying_so(handler, context, monkeypatch):
    request = event("provisioned_throughput_create")
    lose_answers(
        monkeypatch, handler.bedrock, "create_provisioned_model_throughput", ReadTimeoutError(endpoint_url=ENDPOINT)
    )
    bedrock_knows_no(handler, NAME)
    bedrock_knows_no(handler, NAME)
    with pytest.raises(RuntimeError) as raised:
        handler.on_event(request, context)
    assert str(raised.value) == (
        f'Bedrock did not accept the Provisioned Throughput {NAME} (Read timeout on endpoint URL: "{ENDPOINT}"); '
        "deploy again to retry."
    )


def test_a_create_bedrock_cannot_be_reached_to_settle_fails_with_what_the_next_deploy_does(
    handler, context, monkeypatch
):
    """Looked up every 30 s while two calls' budget (2 x 102 s) is left: from 300 s, four looks."""
    context.remaining_seconds = 300
    request = event("provisioned_throughput_create")
    unreachable = EndpointConnectionError(endpoint_url=ENDPOINT)
    lose_answers(monkeypatch, handler.bedrock, "create_provisioned_model_throughput", unreachable)
    bedrock_knows_no(handler, NAME)
    looks = lose_answers(monkeypatch, handler.bedrock, "get_provisioned_model_throughput", unreachable, 4, after=1)
    with pytest.raises(RuntimeError) as raised:
        handler.on_event(request, context)
    assert len(looks) == 4
    assert context.slept == [30] * 4
    assert str(raised.value) == (
        f"Bedrock could not be reached to create the Provisioned Throughput {NAME} (Could not connect to the "
        f'endpoint URL: "{ENDPOINT}"). Deploy again: the next deploy adopts it if Bedrock did create it, and creates '
        "it otherwise. A stack deleted instead never learns of it: then look for the Provisioned Throughput "
        f"{NAME} in Bedrock, as it may exist and bill."
    )


def test_a_failed_throughput_of_the_name_with_a_commitment_is_refused_with_what_to_do(handler, context):
    """It can be neither deleted before its term ends (prov-thru-delete.html) nor bought anew under its name."""
    failed = throughput("Failed", failureMessage="Insufficient capacity", commitmentDuration="SixMonths")
    bedrock_knows(handler, NAME, failed)
    tags_are(handler)
    with pytest.raises(RuntimeError) as raised:
        handler.on_event(event("provisioned_throughput_create"), context)
    assert str(raised.value) == (
        f"The Provisioned Throughput {THROUGHPUT_ARN} for these settings has failed (Insufficient capacity) and has a "
        "SixMonths commitment, so it can be neither deleted nor bought anew before its term ends. Ask AWS support to "
        "restore it, or change serving.modelUnits to buy another."
    )


# -- a throughput of the name that is not the stage's --------------------------------------------------------------
UNTAGGED = "it has no distillation-stage tag"
OTHER_STAGES = "it is tagged distillation-stage=prod"


def not_the_stages(owner: str, arn: str = THROUGHPUT_ARN, name: str = NAME) -> str:
    return (
        f"The Provisioned Throughput {arn} has the name {name} that this stage derives for its own, but {owner} "
        "rather than distillation-stage=sandbox: it is not this stage's, so it is left as it is. Rename it (aws "
        "bedrock update-provisioned-model-throughput --desired-provisioned-model-name) or delete it if it is yours "
        "and unused, or change serving.modelUnits or serving.commitment so that the stage derives another name, then "
        "deploy again."
    )


@pytest.mark.parametrize(
    "description",
    [
        throughput("InService", desired=RETRAINED_MODEL_ARN),
        throughput("InService"),
        throughput("Creating", desired=RETRAINED_MODEL_ARN),
        throughput("Failed", failureMessage="Insufficient capacity"),
    ],
    ids=["serving-another-model", "serving-the-model", "being-bought", "failed"],
)
@pytest.mark.parametrize(
    "tags, owner",
    [([], UNTAGGED), ([{"key": "distillation-stage", "value": "prod"}], OTHER_STAGES)],
    ids=["untagged", "another-stages"],
)
def test_create_refuses_a_throughput_of_its_name_that_is_not_the_stages(handler, context, description, tags, owner):
    """Neither moved, tagged (IAM would let the stage tag an untagged one), deleted nor bought anew: the Stubber
    refuses any call not queued."""
    bedrock_knows(handler, NAME, description)
    tags_are(handler, tags=tags)
    with pytest.raises(stage_ownership.NotTheStages) as raised:
        handler.on_event(event("provisioned_throughput_create"), context)
    assert str(raised.value) == not_the_stages(owner)


def test_a_create_whose_answer_is_lost_refuses_another_teams_throughput_it_finds_by_name(handler, context, monkeypatch):
    lose_answers(
        monkeypatch, handler.bedrock, "create_provisioned_model_throughput", ReadTimeoutError(endpoint_url=ENDPOINT)
    )
    bedrock_knows_no(handler, NAME)
    bedrock_knows(handler, NAME, throughput("Creating"))
    tags_are(handler, tags=[])
    with pytest.raises(stage_ownership.NotTheStages) as raised:
        handler.on_event(event("provisioned_throughput_create"), context)
    assert str(raised.value) == not_the_stages(UNTAGGED)


# -- Update -------------------------------------------------------------------------------------------------------
def test_update_moves_the_throughput_in_place_to_the_new_model(handler, context):
    bedrock_knows(handler, THROUGHPUT_ARN, throughput("InService"))
    expect_move(handler, RETRAINED_MODEL_ARN)
    assert handler.on_event(event("provisioned_throughput_update"), context) == answer(model=RETRAINED_MODEL_ARN)


def test_update_of_tags_alone_retags_the_throughput_in_place(handler, context):
    request = event("provisioned_throughput_update")
    request["ResourceProperties"]["ModelArn"] = MODEL_ARN
    request["ResourceProperties"]["Tags"] = json.dumps({"distillation-stage": "sandbox"})
    bedrock_knows(handler, THROUGHPUT_ARN, throughput("InService"))
    handler.stub.add_response("tag_resource", {}, {"resourceARN": THROUGHPUT_ARN, "tags": TAGS[:1]})
    handler.stub.add_response("untag_resource", {}, {"resourceARN": THROUGHPUT_ARN, "tagKeys": ["project"]})
    assert handler.on_event(request, context) == answer()


def test_a_rollback_update_moves_the_throughput_back_and_buys_nothing(handler, context):
    bedrock_knows(handler, THROUGHPUT_ARN, throughput("InService", desired=RETRAINED_MODEL_ARN))
    expect_move(handler, MODEL_ARN)
    request = rollback_of(event("provisioned_throughput_update"), physical_id=THROUGHPUT_ARN)
    assert handler.on_event(request, context) == answer()


@pytest.mark.parametrize("serving", [MODEL_ARN, EARLIER_MODEL_ARN], ids=["off-the-model", "between-other-models"])
def test_a_rollback_finding_the_throughput_moving_answers_at_once_and_is_complete_moves_it_back(
    handler, context, serving
):
    """The failed forward Update had just begun to move the throughput to the retrained model: the rollback leaves
    it on no other model than the one the stack records, whether it still serves that one or not."""
    request = rollback_of(event("provisioned_throughput_update"), physical_id=THROUGHPUT_ARN)
    moving = throughput("Updating", desired=RETRAINED_MODEL_ARN, modelArn=serving)
    bedrock_knows(handler, THROUGHPUT_ARN, moving)
    answered = handler.on_event(request, context)
    assert answered == answer(pending=True)
    polling = polled(request, answered)
    bedrock_knows(handler, THROUGHPUT_ARN, moving)
    assert handler.is_complete(polling, context) == {"IsComplete": False}
    bedrock_knows(handler, THROUGHPUT_ARN, throughput("InService", desired=RETRAINED_MODEL_ARN))
    expect_move(handler, MODEL_ARN)
    assert handler.is_complete(polling, context) == {"IsComplete": False}
    bedrock_knows(handler, THROUGHPUT_ARN, throughput("Updating", desired=MODEL_ARN, modelArn=RETRAINED_MODEL_ARN))
    assert handler.is_complete(polling, context) == {"IsComplete": True}
    assert context.slept == []


def create_request() -> dict:
    return event("provisioned_throughput_create")


def rollback_request() -> dict:
    return rollback_of(event("provisioned_throughput_update"), physical_id=THROUGHPUT_ARN)


PENDING_MOVES = pytest.mark.parametrize("request_of", [create_request, rollback_request], ids=["create", "rollback"])


@PENDING_MOVES
@pytest.mark.parametrize(
    ("extra", "reason"),
    [({"failureMessage": "Insufficient capacity"}, "Insufficient capacity"), ({}, "Bedrock gave no reason")],
    ids=["with-a-reason", "without-one"],
)
def test_is_complete_fails_when_the_throughput_fails_before_it_can_move(handler, context, request_of, extra, reason):
    """Nothing is deleted or bought here: the next deploy replaces it, as it does any failed throughput."""
    bedrock_knows(handler, THROUGHPUT_ARN, throughput("Failed", desired=RETRAINED_MODEL_ARN, **extra))
    with pytest.raises(RuntimeError) as raised:
        handler.is_complete(polled(request_of(), answer(pending=True)), context)
    assert str(raised.value) == (
        f"The Provisioned Throughput {THROUGHPUT_ARN} failed ({reason}) before it could move to {MODEL_ARN}; deploy "
        "again to replace it."
    )


@PENDING_MOVES
def test_is_complete_fails_when_the_throughput_is_deleted_before_it_can_move(handler, context, request_of):
    bedrock_knows_no(handler, THROUGHPUT_ARN)
    with pytest.raises(RuntimeError) as raised:
        handler.is_complete(polled(request_of(), answer(pending=True)), context)
    assert str(raised.value) == (
        f"The Provisioned Throughput {THROUGHPUT_ARN} was deleted before it could move to {MODEL_ARN}; deploy again "
        "to create it anew."
    )


def more_model_units() -> dict:
    """The Update a change of model units sends: the stack names the throughput anew (units are in its name)."""
    request = event("provisioned_throughput_update")
    request["ResourceProperties"].update(Name=NEW_NAME, ModelUnits="2", ModelArn=MODEL_ARN)
    return request


def test_update_to_a_new_name_buys_the_throughput_it_names_and_leaves_the_one_the_stack_holds(handler, context):
    """The throughput of the old name is the one the stack holds: CloudFormation deletes it in the cleanup."""
    request = more_model_units()
    bedrock_knows_no(handler, NEW_NAME)
    expect_create(handler, request, NEW_THROUGHPUT_ARN, modelUnits=2)
    bedrock_knows(handler, NAME, throughput("InService"))
    assert handler.on_event(request, context) == answer(NEW_THROUGHPUT_ARN)


def test_a_rollback_to_the_previous_name_adopts_the_previous_throughput(handler, context):
    """The forward Update bought a throughput of the new name, which the stack holds until the rollback's answer:
    CloudFormation deletes it in the cleanup, so the handler leaves it."""
    bedrock_knows(handler, NAME, throughput("InService"))
    tags_are(handler)
    expect_tags(handler)
    bedrock_knows(handler, NEW_NAME, throughput("InService", name=NEW_NAME, arn=NEW_THROUGHPUT_ARN))
    request = rollback_of(more_model_units(), physical_id=NEW_THROUGHPUT_ARN)
    assert handler.on_event(request, context) == answer()


def test_a_rollback_deletes_the_throughput_a_failed_update_bought_that_nothing_holds(handler, context, caplog):
    """The forward Update's create answer was lost, so the stack still holds the throughput of the previous name;
    the one Bedrock bought under the new name would bill with no owner after the rollback."""
    caplog.set_level(logging.INFO)
    bedrock_knows(handler, NAME, throughput("InService"))
    tags_are(handler)
    expect_tags(handler)
    bedrock_knows(handler, NEW_NAME, throughput("Creating", name=NEW_NAME, arn=NEW_THROUGHPUT_ARN))
    tags_are(handler, NEW_THROUGHPUT_ARN)
    expect_delete(handler, NEW_THROUGHPUT_ARN)
    request = rollback_of(more_model_units(), physical_id=THROUGHPUT_ARN)
    assert handler.on_event(request, context) == answer()
    assert (
        f"Deleting the Provisioned Throughput {NEW_THROUGHPUT_ARN}, which a failed update made and nothing holds"
    ) in caplog.messages


def test_a_rollback_leaves_another_teams_throughput_of_the_new_name_alone(handler, context, caplog):
    """Not the stage's, so not its stray to delete; failing the rollback for it would leave the stack in
    UPDATE_ROLLBACK_FAILED, so the rollback succeeds and says why it left the throughput alone."""
    bedrock_knows(handler, NAME, throughput("InService"))
    tags_are(handler)
    expect_tags(handler)
    bedrock_knows(handler, NEW_NAME, throughput("InService", name=NEW_NAME, arn=NEW_THROUGHPUT_ARN))
    tags_are(handler, NEW_THROUGHPUT_ARN, tags=[])
    request = rollback_of(more_model_units(), physical_id=THROUGHPUT_ARN)
    assert handler.on_event(request, context) == answer()
    assert (
        f"Not deleting the Provisioned Throughput named {NEW_NAME}: "
        + not_the_stages(UNTAGGED, NEW_THROUGHPUT_ARN, NEW_NAME)
    ) in caplog.messages


def test_a_rollback_keeps_a_stray_throughput_with_a_commitment(handler, context):
    """One with a commitment cannot be deleted before its term ends (prov-thru-delete.html): it is not asked to be."""
    bedrock_knows(handler, NAME, throughput("InService"))
    tags_are(handler)
    expect_tags(handler)
    stray = throughput("Creating", name=NEW_NAME, arn=NEW_THROUGHPUT_ARN, commitmentDuration="OneMonth")
    bedrock_knows(handler, NEW_NAME, stray)
    request = rollback_of(more_model_units(), physical_id=THROUGHPUT_ARN)
    assert handler.on_event(request, context) == answer()


def test_a_rollback_with_no_throughput_of_the_new_name_deletes_nothing(handler, context):
    bedrock_knows(handler, NAME, throughput("InService"))
    tags_are(handler)
    expect_tags(handler)
    bedrock_knows_no(handler, NEW_NAME)
    request = rollback_of(more_model_units(), physical_id=THROUGHPUT_ARN)
    assert handler.on_event(request, context) == answer()


def test_update_of_a_throughput_gone_meanwhile_buys_it_anew(handler, context):
    request = event("provisioned_throughput_update")
    bedrock_knows_no(handler, THROUGHPUT_ARN)
    bedrock_knows_no(handler, NAME)
    expect_create(handler, request, NEW_THROUGHPUT_ARN)
    assert handler.on_event(request, context) == answer(NEW_THROUGHPUT_ARN, RETRAINED_MODEL_ARN)


def test_update_of_a_failed_throughput_replaces_it(handler, context):
    request = event("provisioned_throughput_update")
    failed = throughput("Failed", failureMessage="Capacity lost")
    bedrock_knows(handler, THROUGHPUT_ARN, failed)
    bedrock_knows(handler, NAME, failed)
    tags_are(handler)
    expect_delete(handler)
    expect_create(handler, request, NEW_THROUGHPUT_ARN)
    assert handler.on_event(request, context) == answer(NEW_THROUGHPUT_ARN, RETRAINED_MODEL_ARN)


def test_a_move_bedrock_refuses_fails_with_its_reason(handler, context):
    bedrock_knows(handler, THROUGHPUT_ARN, throughput("InService"))
    handler.stub.add_client_error(
        "update_provisioned_model_throughput",
        "ValidationException",
        "The desired model must be a custom model of the same base model",
        400,
        {"provisionedModelId": THROUGHPUT_ARN, "desiredModelId": RETRAINED_MODEL_ARN},
    )
    with pytest.raises(handler.bedrock.exceptions.ValidationException, match="same base model"):
        handler.on_event(event("provisioned_throughput_update"), context)


# -- Delete -------------------------------------------------------------------------------------------------------
def test_delete_deletes_the_throughput(handler, context):
    expect_delete(handler)
    assert handler.on_event(event("provisioned_throughput_delete"), context) == {"PhysicalResourceId": THROUGHPUT_ARN}


def test_delete_of_a_throughput_already_gone_succeeds(handler, context):
    handler.stub.add_client_error(
        "delete_provisioned_model_throughput",
        "ResourceNotFoundException",
        "Provisioned model not found",
        404,
        {"provisionedModelId": THROUGHPUT_ARN},
    )
    assert handler.on_event(event("provisioned_throughput_delete"), context) == {"PhysicalResourceId": THROUGHPUT_ARN}


def test_delete_after_a_failed_create_has_nothing_to_delete(handler, context):
    request = event("provisioned_throughput_delete", PhysicalResourceId=CREATE_FAILED)
    bedrock_knows_no(handler, NAME)
    assert handler.on_event(request, context) == {"PhysicalResourceId": CREATE_FAILED}


# A Create that CloudFormation never heard back from (the stack deleted while is_complete waited to move the
# throughput it had adopted) is followed by a Delete whose physical id is no ARN: the throughput is found by name.
UNHEARD = "2b5e8a1d-4c7f-4a0b-9d3e-6f9a2c5b8e1d"


def test_a_delete_after_an_unheard_create_deletes_the_stages_throughput_of_its_name(handler, context):
    request = event("provisioned_throughput_delete", PhysicalResourceId=UNHEARD)
    bedrock_knows(handler, NAME, throughput("Creating"))
    tags_are(handler)
    expect_delete(handler)
    assert handler.on_event(request, context) == {"PhysicalResourceId": UNHEARD}


def test_a_delete_after_an_unheard_create_leaves_a_throughput_that_is_not_the_stages(handler, context, caplog):
    request = event("provisioned_throughput_delete", PhysicalResourceId=UNHEARD)
    bedrock_knows(handler, NAME, throughput("InService"))
    tags_are(handler, tags=[{"key": "distillation-stage", "value": "other"}])
    assert handler.on_event(request, context) == {"PhysicalResourceId": UNHEARD}
    assert any(m.startswith(f"Not deleting the Provisioned Throughput named {NAME}: ") for m in caplog.messages)


def test_a_delete_after_an_unheard_create_never_deletes_a_committed_throughput(handler, context):
    request = event("provisioned_throughput_delete", PhysicalResourceId=UNHEARD)
    bedrock_knows(handler, NAME, throughput("InService", commitmentDuration="OneMonth"))
    assert handler.on_event(request, context) == {"PhysicalResourceId": UNHEARD}


def test_delete_that_bedrock_refuses_fails_with_bedrocks_reason(handler, context):
    handler.stub.add_client_error(
        "delete_provisioned_model_throughput",
        "AccessDeniedException",
        "User is not authorized to perform: bedrock:DeleteProvisionedModelThroughput",
        403,
        {"provisionedModelId": THROUGHPUT_ARN},
    )
    with pytest.raises(handler.bedrock.exceptions.AccessDeniedException):
        handler.on_event(event("provisioned_throughput_delete"), context)
