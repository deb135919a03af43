"""The model copy: one copy per target name, adopted by any later request that names it, and waited for."""

from __future__ import annotations

import copy
import hashlib
import time
import types

import pytest
import stage_ownership
from botocore.exceptions import EndpointConnectionError, ReadTimeoutError

from tests.handlers.conftest import (
    CREATE_FAILED,
    RELEASE_FAILED,
    assert_none_logged,
    event,
    load_handler,
    lose_answers,
    other_stage_stack,
    own_stack_is,
    record_calls,
    rollback_of,
)

SOURCE_MODEL = "arn:aws:bedrock:us-east-1:444444444444:custom-model/amazon.nova-lite-v1:0:300k/abcdefghij12"
NEW_SOURCE_MODEL = "arn:aws:bedrock:us-east-1:444444444444:custom-model/amazon.nova-lite-v1:0:300k/n3w5o6u7r8c9"
NAME = "prod-copy-a3813fa7ad4e"
NEW_NAME = "prod-copy-7e2c9b4d1f06"
COPY_JOB = "arn:aws:bedrock:us-east-1:123456789012:model-copy-job/0a1b2c3d4e5f"
OTHER_COPY_JOB = "arn:aws:bedrock:us-east-1:123456789012:model-copy-job/9z8y7x6w5v4u"
COPIED_MODEL = "arn:aws:bedrock:us-east-1:123456789012:custom-model/amazon.nova-lite-v1:0:300k/zyxwvutsrq98"
KEY = "arn:aws:kms:us-east-1:123456789012:key/1a2b3c4d-5e6f-7a8b-9c0d-1e2f3a4b5c6d"
# The fixtures' StartedAt; the tests' clock reads it plus what each test says.
STARTED_AT = 1764320400


# The stage's copies are all named <stage>-copy-<digest>; every on_event releases those that nothing serves first.
PREFIX = "prod-copy-"
EARLIER_COPY = "arn:aws:bedrock:us-east-1:123456789012:custom-model/amazon.nova-lite-v1:0:300k/e4r1i2e3r4l5"
THROUGHPUT_ARN = "arn:aws:bedrock:us-east-1:123456789012:provisioned-model/p7t3h9r2u5s1"
DELETE_WHEN_UNSERVED = {"key": "bedrock-distillation:delete-when-unserved", "value": "true"}
# The stage's tag, which every copy the stage makes carries (the Tags property).
OURS = {"key": "distillation-stage", "value": "prod"}
STACK_ID = event("model_copy_create")["StackId"]
# A copy that a failed forward update started and whose answer was lost: the stack never held it.
STRAY_COPY_JOB = "arn:aws:bedrock:us-east-1:123456789012:model-copy-job/s7r8a9y0c1p2"
STRAY_MODEL = "arn:aws:bedrock:us-east-1:123456789012:custom-model/amazon.nova-lite-v1:0:300k/s7r8a9y0m1d2"


@pytest.fixture(autouse=True)
def release_answered(caplog):
    """The stage's release was answered as the test expects (assert_none_logged)."""
    yield
    assert_none_logged(caplog, RELEASE_FAILED)


@pytest.fixture
def handler(stub):
    module = load_handler("model_copy")
    module.stub = stub(module.bedrock)
    module.cloudformation_stub = stub(module.cloudformation)
    module.calls = record_calls(module.bedrock, module.cloudformation)
    clock_at(module, 0)
    return module


def clock_at(handler, seconds_after_start: int) -> None:
    """The handler's clock reads StartedAt plus ``seconds_after_start``; its sleeps are the tests' (the ``context``
    fixture's, or refused)."""
    handler.time = types.SimpleNamespace(time=lambda: STARTED_AT + seconds_after_start, sleep=lambda s: time.sleep(s))


def copy_job(status: str, *, arn: str = COPY_JOB, name: str = NAME, created: str = "2026-11-28T06:00:00Z", **extra):
    """A copy job of the stage's as GetModelCopyJob and ListModelCopyJobs describe it, with what the service model
    requires and the tags the stage's request gives its model (targetModelTags)."""
    return {
        "jobArn": arn,
        "status": status,
        "creationTime": created,
        "targetModelArn": COPIED_MODEL,
        "targetModelName": name,
        "sourceAccountId": "444444444444",
        "sourceModelArn": SOURCE_MODEL,
        "targetModelTags": [OURS],
        **extra,
    }


def custom_model(model_arn: str, name: str) -> dict:
    """A ListCustomModels summary of a copied model, with what the service model requires."""
    return {
        "modelArn": model_arn,
        "modelName": name,
        "creationTime": "2026-11-20T06:20:00Z",
        "baseModelArn": "arn:aws:bedrock:us-east-1::foundation-model/amazon.nova-lite-v1:0:300k",
        "baseModelName": "Nova Lite",
    }


def stack_is(handler, status: str) -> None:
    """The copy's stack: the release runs only when the stack is not rolling back."""
    own_stack_is(handler.cloudformation_stub, STACK_ID, status)


def expect_release(handler, models: list | None = None, status: str = "UPDATE_IN_PROGRESS") -> None:
    """The stack's status, then the stage's copies listed by the release that begins every on_event (none unless
    given)."""
    stack_is(handler, status)
    if not status.endswith("ROLLBACK_IN_PROGRESS"):
        other_stage_stack(handler.cloudformation_stub, "prod-distillation-support-assistant-training", None)
    handler.stub.add_response("list_custom_models", {"modelSummaries": models or []}, {"nameContains": PREFIX})


def copies_named(handler, name: str, summaries: list) -> None:
    handler.stub.add_response(
        "list_model_copy_jobs", {"modelCopyJobSummaries": summaries}, {"targetModelNameContains": name}
    )


def the_copied_model(handler, exists: bool) -> None:
    if exists:
        handler.stub.add_response(
            "get_custom_model",
            {"modelArn": COPIED_MODEL, "modelName": NAME, "creationTime": "2026-11-28T06:20:00Z"},
            {"modelIdentifier": COPIED_MODEL},
        )
    else:
        handler.stub.add_client_error(
            "get_custom_model", "ResourceNotFoundException", "Not found", 404, {"modelIdentifier": COPIED_MODEL}
        )


def model_tags_are(handler, tags: tuple[dict, ...] = (OURS,)) -> None:
    """ListTagsForResource of a completed copy's model, found by the copy's name: its STAGE_TAG says whether the copy
    is the stage's."""
    handler.stub.add_response("list_tags_for_resource", {"tags": list(tags)}, {"resourceARN": COPIED_MODEL})


def expect_untag(handler) -> None:
    """A completed copy adopted again owns its model again: the mark an earlier Delete may have left is removed."""
    handler.stub.add_response(
        "untag_resource", {}, {"resourceARN": COPIED_MODEL, "tagKeys": [DELETE_WHEN_UNSERVED["key"]]}
    )


def expect_create(handler, request: dict, *, source: str = SOURCE_MODEL, name: str = NAME) -> None:
    handler.stub.add_response(
        "create_model_copy_job",
        {"jobArn": COPY_JOB},
        {
            "sourceModelArn": source,
            "targetModelName": name,
            "modelKmsKeyId": KEY,
            "targetModelTags": [{"key": "distillation-stage", "value": "prod"}],
            "clientRequestToken": hashlib.sha256(f"{name}\n{request['RequestId']}".encode()).hexdigest(),
        },
    )


STARTED = {"PhysicalResourceId": COPY_JOB, "Data": {"StartedAt": str(STARTED_AT)}}


def update_to_a_new_source() -> dict:
    created = event("model_copy_create")
    properties = dict(created["ResourceProperties"], SourceModelArn=NEW_SOURCE_MODEL, TargetModelName=NEW_NAME)
    return {
        **created,
        "RequestType": "Update",
        "RequestId": "7d0a3c6f-9b2e-4d5a-8c1f-4e7b0a3d6c9f",
        "PhysicalResourceId": OTHER_COPY_JOB,
        "ResourceProperties": properties,
        "OldResourceProperties": copy.deepcopy(created["ResourceProperties"]),
    }


def test_create_starts_the_copy_when_no_copy_has_its_name(handler):
    expect_release(handler)
    request = event("model_copy_create")
    copies_named(handler, NAME, [])
    expect_create(handler, request)
    assert handler.on_event(request, None) == STARTED


def test_create_adopts_the_copy_its_name_already_names(handler):
    expect_release(handler)
    copies_named(handler, NAME, [copy_job("InProgress")])
    assert handler.on_event(event("model_copy_create"), None) == STARTED


def test_create_adopts_a_completed_copy_whose_model_still_exists(handler):
    expect_release(handler)
    copies_named(handler, NAME, [copy_job("Completed")])
    the_copied_model(handler, exists=True)
    model_tags_are(handler)
    expect_untag(handler)
    assert handler.on_event(event("model_copy_create"), None) == STARTED


def test_failed_copies_copies_whose_model_was_deleted_and_longer_names_are_not_adopted(handler):
    expect_release(handler)
    request = event("model_copy_create")
    copies_named(
        handler,
        NAME,
        [
            copy_job("Completed", created="2026-11-20T06:00:00Z"),
            copy_job("Failed", created="2026-11-27T06:00:00Z", failureMessage="Access denied to the source model"),
            copy_job("InProgress", arn=OTHER_COPY_JOB, name=f"{NAME}-2", created="2026-11-28T05:00:00Z"),
        ],
    )
    the_copied_model(handler, exists=False)
    expect_create(handler, request)
    assert handler.on_event(request, None) == STARTED


def test_of_several_copies_of_the_name_the_newest_is_adopted(handler):
    expect_release(handler)
    copies_named(
        handler,
        NAME,
        [copy_job("Completed", created="2026-11-20T06:00:00Z"), copy_job("InProgress", arn=OTHER_COPY_JOB)],
    )
    result = handler.on_event(event("model_copy_create"), None)
    assert result["PhysicalResourceId"] == OTHER_COPY_JOB


# -- a copy of the name that is not the stage's ---------------------------------------------------------------------
def not_the_stages(kind: str, arn: str, owner: str, name: str = NAME) -> str:
    return (
        f"The {kind} {arn} has the name {name} that this stage derives for its own, but {owner} rather than "
        "distillation-stage=prod: it is not this stage's, so it is left as it is. Delete its copied model if it is "
        "yours and unused (a copy still running can be deleted once it completes); otherwise deploy the stage under "
        "another stage name, then deploy again."
    )


def test_create_refuses_a_running_copy_of_its_name_made_for_no_stage(handler):
    """A running copy has no model to ask yet: the tags its request gives the model say whose it is."""
    expect_release(handler)
    copies_named(handler, NAME, [copy_job("InProgress", targetModelTags=[{"key": "team", "value": "search"}])])
    with pytest.raises(stage_ownership.NotTheStages) as raised:
        handler.on_event(event("model_copy_create"), None)
    assert str(raised.value) == not_the_stages("model copy", COPY_JOB, "it has no distillation-stage tag")
    assert handler.calls == [
        "cloudformation.DescribeStacks",
        "cloudformation.DescribeStacks",
        "bedrock.ListCustomModels",
        "bedrock.ListModelCopyJobs",
    ]


def test_create_refuses_a_completed_copy_of_its_name_whose_model_is_another_stages(handler):
    """Refused before its model is untagged or the copy adopted."""
    expect_release(handler)
    copies_named(handler, NAME, [copy_job("Completed")])
    the_copied_model(handler, exists=True)
    model_tags_are(handler, ({"key": "distillation-stage", "value": "staging"},))
    with pytest.raises(stage_ownership.NotTheStages) as raised:
        handler.on_event(event("model_copy_create"), None)
    assert str(raised.value) == not_the_stages("copied model", COPIED_MODEL, "it is tagged distillation-stage=staging")


def test_a_create_whose_answer_is_lost_refuses_another_teams_copy_it_finds_by_name(handler, context, monkeypatch):
    expect_release(handler)
    copies_named(handler, NAME, [])
    lose_answers(monkeypatch, handler.bedrock, "create_model_copy_job", ReadTimeoutError(endpoint_url=CREATE_ENDPOINT))
    copies_named(handler, NAME, [copy_job("InProgress", targetModelTags=[])])
    with pytest.raises(stage_ownership.NotTheStages) as raised:
        handler.on_event(event("model_copy_create"), context)
    assert str(raised.value) == not_the_stages("model copy", COPY_JOB, "it has no distillation-stage tag")


def test_update_to_a_new_source_model_makes_a_new_copy(handler):
    """The copy the old properties name is the one the stack holds: no stray, and CloudFormation's cleanup deletes
    it."""
    expect_release(handler)
    request = update_to_a_new_source()
    copies_named(handler, NEW_NAME, [])
    expect_create(handler, request, source=NEW_SOURCE_MODEL, name=NEW_NAME)
    copies_named(handler, NAME, [copy_job("InProgress", arn=OTHER_COPY_JOB)])
    assert handler.on_event(request, None) == STARTED


def test_a_rollback_update_adopts_the_previous_copy_and_creates_nothing(handler):
    expect_release(handler)
    copies_named(handler, NAME, [copy_job("Completed")])
    the_copied_model(handler, exists=True)
    model_tags_are(handler)
    expect_untag(handler)
    copies_named(handler, NEW_NAME, [])
    request = rollback_of(update_to_a_new_source(), physical_id=OTHER_COPY_JOB)
    assert handler.on_event(request, None) == STARTED


def test_every_request_first_releases_the_stages_copies_that_nothing_serves_any_more(handler, caplog):
    """Before its own work: an earlier copy of the stage, tagged by its Delete while a throughput still served it and
    served by nothing now, is deleted; another stage's copy whose name holds this stage's prefix is not looked at."""
    caplog.set_level("INFO")
    request = event("model_copy_create")
    expect_release(
        handler,
        [custom_model(EARLIER_COPY, "prod-copy-1f2e3d4c5b6a"), custom_model(COPIED_MODEL, "preprod-copy-5e6f7a8b9c0d")],
    )
    handler.stub.add_response(
        "list_tags_for_resource", {"tags": [OURS, DELETE_WHEN_UNSERVED]}, {"resourceARN": EARLIER_COPY}
    )
    expect_serving(handler, [throughput_summary(COPIED_MODEL, COPIED_MODEL)])
    handler.stub.add_response("delete_custom_model", {}, {"modelIdentifier": EARLIER_COPY})
    copies_named(handler, NAME, [])
    expect_create(handler, request)
    assert handler.on_event(request, None) == STARTED
    assert f"Deleted the custom model {EARLIER_COPY}, which nothing serves any more" in caplog.messages


def test_a_release_bedrock_refuses_is_logged_and_the_copy_goes_on(handler, caplog):
    request = event("model_copy_create")
    stack_is(handler, "CREATE_IN_PROGRESS")
    other_stage_stack(handler.cloudformation_stub, "prod-distillation-support-assistant-training", None)
    handler.stub.add_client_error(
        "list_custom_models", "AccessDeniedException", "Not authorized", 403, {"nameContains": PREFIX}
    )
    copies_named(handler, NAME, [])
    expect_create(handler, request)
    assert handler.on_event(request, None) == STARTED
    assert [r.getMessage() for r in caplog.records if r.levelname == "WARNING"] == [
        f"{RELEASE_FAILED}An error occurred (AccessDeniedException) when calling the ListCustomModels operation: "
        "Not authorized"
    ]
    caplog.clear()


def test_adopting_a_completed_copy_its_delete_tagged_untags_its_model(handler):
    """A return to a copy whose replacement's cleanup tagged its model while a throughput was moving off it: the
    release passes over it (still served), and the copy adopted again owns its model again."""
    expect_release(handler, [custom_model(COPIED_MODEL, NAME)])
    handler.stub.add_response(
        "list_tags_for_resource", {"tags": [OURS, DELETE_WHEN_UNSERVED]}, {"resourceARN": COPIED_MODEL}
    )
    expect_serving(handler, [throughput_summary(COPIED_MODEL, EARLIER_COPY)])
    copies_named(handler, NAME, [copy_job("Completed")])
    the_copied_model(handler, exists=True)
    model_tags_are(handler)
    expect_untag(handler)
    assert handler.on_event(event("model_copy_create"), None) == STARTED


def test_is_complete_waits_while_the_copy_runs(handler):
    clock_at(handler, 60)
    handler.stub.add_response("get_model_copy_job", copy_job("InProgress"), {"jobArn": COPY_JOB})
    assert handler.is_complete(event("model_copy_is_complete_create"), None) == {"IsComplete": False}


def test_is_complete_reports_the_copied_model(handler):
    handler.stub.add_response("get_model_copy_job", copy_job("Completed"), {"jobArn": COPY_JOB})
    assert handler.is_complete(event("model_copy_is_complete_create"), None) == {
        "IsComplete": True,
        "Data": {"ModelArn": COPIED_MODEL, "CopyJobArn": COPY_JOB},
    }


def test_a_failed_copy_says_why_and_what_to_check(handler):
    failed = copy_job("Failed", failureMessage="The source model is not shared with this account.")
    handler.stub.add_response("get_model_copy_job", failed, {"jobArn": COPY_JOB})
    with pytest.raises(RuntimeError) as raised:
        handler.is_complete(event("model_copy_is_complete_create"), None)
    assert str(raised.value) == (
        f"Copying {SOURCE_MODEL} failed: The source model is not shared with this account.. Check that the source "
        "stage shares the model with this account (AWS RAM) and deploy again."
    )


def test_a_failed_copy_without_a_message_says_bedrock_gave_none(handler):
    handler.stub.add_response("get_model_copy_job", copy_job("Failed"), {"jobArn": COPY_JOB})
    with pytest.raises(RuntimeError, match=f"^Copying {SOURCE_MODEL} failed: Bedrock gave no reason. Check"):
        handler.is_complete(event("model_copy_is_complete_create"), None)


def test_a_copy_past_the_deadline_fails_and_a_later_deploy_adopts_it(handler):
    clock_at(handler, 3301)
    handler.stub.add_response("get_model_copy_job", copy_job("InProgress"), {"jobArn": COPY_JOB})
    with pytest.raises(RuntimeError) as raised:
        handler.is_complete(event("model_copy_is_complete_create"), None)
    assert str(raised.value) == (
        f"The model copy {COPY_JOB} did not complete within 55 minutes. It goes on in the background (a copy cannot "
        "be stopped); deploy again later: the next deploy adopts it."
    )


def test_a_copy_at_the_deadline_is_still_waited_for(handler):
    clock_at(handler, 3300)
    handler.stub.add_response("get_model_copy_job", copy_job("InProgress"), {"jobArn": COPY_JOB})
    assert handler.is_complete(event("model_copy_is_complete_create"), None) == {"IsComplete": False}


def delete_request(retain: str) -> dict:
    request = event("model_copy_delete")
    request["ResourceProperties"]["RetainModelOnDelete"] = retain
    return request


def test_delete_keeps_the_copy_by_default(handler):
    expect_release(handler)
    request = delete_request("true")
    assert handler.on_event(request, None) == {"PhysicalResourceId": COPY_JOB}
    assert handler.is_complete(request, None) == {"IsComplete": True}


def copy_is(handler, status: str) -> None:
    handler.stub.add_response("get_model_copy_job", copy_job(status), {"jobArn": COPY_JOB})


def throughput_summary(model: str, desired: str) -> dict:
    """A throughput of the account on ``model`` that wants ``desired`` (another model while it moves)."""
    return {
        "provisionedModelName": "prod-serving-2f462a79fa34",
        "provisionedModelArn": THROUGHPUT_ARN,
        "modelArn": model,
        "desiredModelArn": desired,
        "foundationModelArn": "arn:aws:bedrock:us-east-1::foundation-model/amazon.nova-lite-v1:0:300k",
        "modelUnits": 1,
        "desiredModelUnits": 1,
        "status": "InService" if desired == model else "Updating",
        "creationTime": "2026-11-28T14:10:00Z",
        "lastModifiedTime": "2026-11-28T14:10:00Z",
    }


def expect_serving(handler, throughputs: list) -> None:
    """serving_state's calls: every throughput and every deployment of the account and Region (unfiltered); there
    are no deployments here."""
    handler.stub.add_response("list_provisioned_model_throughputs", {"provisionedModelSummaries": throughputs}, {})
    handler.stub.add_response("list_custom_model_deployments", {"modelDeploymentSummaries": []}, {})


def nothing_serves_the_copy(handler) -> None:
    """The account's one throughput serves another model than the copy."""
    expect_serving(handler, [throughput_summary(EARLIER_COPY, EARLIER_COPY)])


def test_delete_deletes_the_copied_model_nothing_serves_when_the_stage_destroys(handler):
    """The provider asks is_complete right after on_event; the model on_event deleted is gone by then."""
    expect_release(handler)
    request = delete_request("false")
    copy_is(handler, "Completed")
    nothing_serves_the_copy(handler)
    handler.stub.add_response("delete_custom_model", {}, {"modelIdentifier": COPIED_MODEL})
    assert handler.on_event(request, None) == {"PhysicalResourceId": COPY_JOB}
    copy_is(handler, "Completed")
    nothing_serves_the_copy(handler)
    handler.stub.add_client_error(
        "delete_custom_model", "ResourceNotFoundException", "Model not found", 404, {"modelIdentifier": COPIED_MODEL}
    )
    assert handler.is_complete(request, None) == {"IsComplete": True}


def test_the_delete_of_a_running_copy_waits_for_it_and_then_deletes_its_model(handler):
    """A copy cannot be stopped; its model appears when it completes, and is deleted then."""
    expect_release(handler)
    request = delete_request("false")
    copy_is(handler, "InProgress")
    assert handler.on_event(request, None) == {"PhysicalResourceId": COPY_JOB}
    copy_is(handler, "InProgress")
    assert handler.is_complete(request, None) == {"IsComplete": False}
    copy_is(handler, "Completed")
    nothing_serves_the_copy(handler)
    handler.stub.add_response("delete_custom_model", {}, {"modelIdentifier": COPIED_MODEL})
    assert handler.is_complete(request, None) == {"IsComplete": True}


def test_the_delete_of_a_failed_copy_completes_at_once(handler):
    expect_release(handler)
    request = delete_request("false")
    copy_is(handler, "Failed")
    assert handler.on_event(request, None) == {"PhysicalResourceId": COPY_JOB}
    copy_is(handler, "Failed")
    assert handler.is_complete(request, None) == {"IsComplete": True}


def test_delete_of_a_copy_bedrock_no_longer_knows_succeeds(handler):
    expect_release(handler)
    request = delete_request("false")
    for _ in range(2):
        handler.stub.add_client_error(
            "get_model_copy_job", "ResourceNotFoundException", "Copy job not found", 404, {"jobArn": COPY_JOB}
        )
    assert handler.on_event(request, None) == {"PhysicalResourceId": COPY_JOB}
    assert handler.is_complete(request, None) == {"IsComplete": True}


def test_delete_after_a_failed_create_has_nothing_to_delete(handler):
    expect_release(handler)
    request = {**delete_request("false"), "PhysicalResourceId": CREATE_FAILED}
    copies_named(handler, NAME, [])
    assert handler.on_event(request, None) == {"PhysicalResourceId": CREATE_FAILED}
    copies_named(handler, NAME, [])
    assert handler.is_complete(request, None) == {"IsComplete": True}


# A Create CloudFormation never heard back from (its hour ran out while is_complete waited) is followed by a Delete
# whose physical id is no ARN: the copy it started is found by name and released like the one the stack holds.
UNHEARD = "2b5e8a1d-4c7f-4a0b-9d3e-6f9a2c5b8e1d"


def test_a_delete_after_an_unheard_create_waits_for_the_copy_it_started_and_deletes_its_model(handler):
    expect_release(handler)
    request = {**delete_request("false"), "PhysicalResourceId": UNHEARD}
    running = copy_job("InProgress", targetModelTags=[{"key": "distillation-stage", "value": "prod"}])
    copies_named(handler, NAME, [running])
    handler.stub.add_response("get_model_copy_job", copy_job("InProgress"), {"jobArn": COPY_JOB})
    assert handler.on_event(request, None) == {"PhysicalResourceId": UNHEARD}
    copies_named(handler, NAME, [copy_job("Completed")])
    the_copied_model(handler, exists=True)
    handler.stub.add_response(
        "list_tags_for_resource",
        {"tags": [{"key": "distillation-stage", "value": "prod"}]},
        {"resourceARN": COPIED_MODEL},
    )
    handler.stub.add_response("get_model_copy_job", copy_job("Completed"), {"jobArn": COPY_JOB})
    expect_serving(handler, [])
    handler.stub.add_response("delete_custom_model", {}, {"modelIdentifier": COPIED_MODEL})
    assert handler.is_complete(request, None) == {"IsComplete": True}


def test_a_delete_after_an_unheard_create_leaves_a_copy_that_is_not_the_stages(handler, caplog):
    expect_release(handler)
    request = {**delete_request("false"), "PhysicalResourceId": UNHEARD}
    theirs = copy_job("InProgress", targetModelTags=[{"key": "distillation-stage", "value": "dev"}])
    copies_named(handler, NAME, [theirs])
    assert handler.on_event(request, None) == {"PhysicalResourceId": UNHEARD}
    assert any(m.startswith(f"Not releasing the model copy named {NAME}: ") for m in caplog.messages)


# -- a lost answer, and the stray a failed update leaves ------------------------------------------------------------
CREATE_ENDPOINT = "https://bedrock.us-east-1.amazonaws.com/model-copy-jobs"


def test_a_create_whose_answer_is_lost_adopts_the_copy_bedrock_started(handler, context, monkeypatch, caplog):
    """Every attempt's answer lost (ReadTimeoutError after botocore's retries): the copy is looked up by name, and
    the one Bedrock started is this request's."""
    caplog.set_level("INFO")
    request = event("model_copy_create")
    expect_release(handler)
    copies_named(handler, NAME, [])
    lost = lose_answers(
        monkeypatch, handler.bedrock, "create_model_copy_job", ReadTimeoutError(endpoint_url=CREATE_ENDPOINT)
    )
    copies_named(handler, NAME, [copy_job("InProgress")])
    assert handler.on_event(request, context) == STARTED
    assert [params["targetModelName"] for params in lost] == [NAME]
    assert handler.calls == [
        "cloudformation.DescribeStacks",
        "cloudformation.DescribeStacks",
        "bedrock.ListCustomModels",
        "bedrock.ListModelCopyJobs",
        "bedrock.ListModelCopyJobs",
    ]
    assert f"Bedrock had accepted the model copy {NAME}" in caplog.messages


def test_a_create_whose_answer_is_lost_and_that_bedrock_did_not_start_says_to_deploy_again(
    handler, context, monkeypatch
):
    request = event("model_copy_create")
    expect_release(handler)
    copies_named(handler, NAME, [])
    lose_answers(monkeypatch, handler.bedrock, "create_model_copy_job", ReadTimeoutError(endpoint_url=CREATE_ENDPOINT))
    copies_named(handler, NAME, [])
    with pytest.raises(RuntimeError) as raised:
        handler.on_event(request, context)
    assert str(raised.value) == (
        f'Bedrock did not accept the model copy {NAME} (Read timeout on endpoint URL: "{CREATE_ENDPOINT}"); deploy '
        "again to retry."
    )


def test_a_create_bedrock_stays_out_of_reach_for_fails_once_the_functions_time_is_short(handler, context, monkeypatch):
    """Looks every 5 s while more than two calls' budget (2 x 102 s) is left of the function's 900 s: 140 looks, all
    unreachable, after which 200 s are left, and the request fails saying what the next deploy does."""
    request = event("model_copy_create")
    expect_release(handler)
    copies_named(handler, NAME, [])
    lose_answers(monkeypatch, handler.bedrock, "create_model_copy_job", ReadTimeoutError(endpoint_url=CREATE_ENDPOINT))
    unreachable = EndpointConnectionError(endpoint_url=CREATE_ENDPOINT)
    looks = lose_answers(monkeypatch, handler.bedrock, "list_model_copy_jobs", unreachable, times=1000, after=1)
    with pytest.raises(RuntimeError) as raised:
        handler.on_event(request, context)
    assert str(raised.value) == (
        f"Bedrock could not be reached to create the model copy {NAME} "
        f'(Read timeout on endpoint URL: "{CREATE_ENDPOINT}"). Deploy again: the next deploy adopts it if '
        "Bedrock did create it, and creates it otherwise. A stack deleted instead never learns of it: then look for "
        f"the model copy {NAME} in Bedrock, as it may exist and bill."
    )
    assert len(looks) == 140
    assert context.remaining_seconds == 200


def rollback_with_a_stray() -> dict:
    """The rollback of an update to a new source whose CreateModelCopyJob answer was lost: the stack still holds the
    previous copy, and the copy the forward update started is known to nothing but its name."""
    return rollback_of(update_to_a_new_source(), physical_id=COPY_JOB)


def test_a_rollback_finds_the_copy_the_failed_update_started_and_releases_nothing_else(handler, caplog):
    caplog.set_level("INFO")
    stack_is(handler, "UPDATE_ROLLBACK_IN_PROGRESS")
    copies_named(handler, NAME, [copy_job("Completed")])
    the_copied_model(handler, exists=True)
    model_tags_are(handler)
    expect_untag(handler)
    copies_named(handler, NEW_NAME, [copy_job("InProgress", arn=STRAY_COPY_JOB, name=NEW_NAME)])
    assert handler.on_event(rollback_with_a_stray(), None) == {
        "PhysicalResourceId": COPY_JOB,
        "Data": {"StartedAt": str(STARTED_AT), "StrayCopyJobArn": STRAY_COPY_JOB},
    }
    assert handler.calls == [
        "cloudformation.DescribeStacks",
        "bedrock.ListModelCopyJobs",
        "bedrock.GetCustomModel",
        "bedrock.ListTagsForResource",
        "bedrock.UntagResource",
        "bedrock.ListModelCopyJobs",
    ]
    assert "Not releasing the stage's unserved models while a stack of the stage rolls back" in caplog.messages


def test_a_rollback_leaves_another_teams_copy_of_the_updated_name_alone(handler, caplog):
    """Not the stage's, so not its stray to release; failing the rollback for it would leave the stack in
    UPDATE_ROLLBACK_FAILED, so the rollback succeeds and says why it left the copy alone."""
    stack_is(handler, "UPDATE_ROLLBACK_IN_PROGRESS")
    copies_named(handler, NAME, [copy_job("Completed")])
    the_copied_model(handler, exists=True)
    model_tags_are(handler)
    expect_untag(handler)
    theirs = copy_job("InProgress", arn=STRAY_COPY_JOB, name=NEW_NAME, targetModelTags=[])
    copies_named(handler, NEW_NAME, [theirs])
    assert handler.on_event(rollback_with_a_stray(), None) == STARTED
    refusal = not_the_stages("model copy", STRAY_COPY_JOB, "it has no distillation-stage tag", NEW_NAME)
    assert f"Not releasing the model copy named {NEW_NAME}: {refusal}" in caplog.messages


def stray_check(retain: str = "false") -> dict:
    """is_complete of that rollback: on_event's Data, the stray's properties (OldResourceProperties) as it was made."""
    request = rollback_with_a_stray()
    request["OldResourceProperties"]["RetainModelOnDelete"] = retain
    request["Data"] = {"StartedAt": str(STARTED_AT), "StrayCopyJobArn": STRAY_COPY_JOB}
    return request


def stray_is(handler, status: str) -> None:
    handler.stub.add_response(
        "get_model_copy_job",
        copy_job(status, arn=STRAY_COPY_JOB, name=NEW_NAME, targetModelArn=STRAY_MODEL),
        {"jobArn": STRAY_COPY_JOB},
    )


def test_the_rollback_waits_for_the_stray_copy_then_deletes_its_model(handler):
    """A copy cannot be stopped: its model is deleted once the copy has made it, as its Delete would have."""
    request = stray_check()
    clock_at(handler, 60)
    stray_is(handler, "InProgress")
    assert handler.is_complete(request, None) == {"IsComplete": False}
    clock_at(handler, 1800)
    stray_is(handler, "Completed")
    nothing_serves_the_copy(handler)
    handler.stub.add_response("delete_custom_model", {}, {"modelIdentifier": STRAY_MODEL})
    copy_is(handler, "Completed")
    assert handler.is_complete(request, None) == {
        "IsComplete": True,
        "Data": {"ModelArn": COPIED_MODEL, "CopyJobArn": COPY_JOB},
    }
    assert handler.calls == [
        "bedrock.GetModelCopyJob",
        "bedrock.GetModelCopyJob",
        "bedrock.ListProvisionedModelThroughputs",
        "bedrock.ListCustomModelDeployments",
        "bedrock.DeleteCustomModel",
        "bedrock.GetModelCopyJob",
    ]


def test_a_stray_copy_of_a_stage_that_keeps_its_models_is_kept(handler):
    copy_is(handler, "Completed")
    assert handler.is_complete(stray_check(retain="true"), None)["IsComplete"] is True
    assert handler.calls == ["bedrock.GetModelCopyJob"]


def test_a_stray_copy_still_running_past_the_wait_is_logged_and_the_rollback_completes(handler, caplog):
    """Failing the rollback for it would leave the stack in UPDATE_ROLLBACK_FAILED: it is left, and said so."""
    clock_at(handler, 3301)
    stray_is(handler, "InProgress")
    copy_is(handler, "Completed")
    assert handler.is_complete(stray_check(), None)["IsComplete"] is True
    assert [(r.levelname, r.getMessage()) for r in caplog.records if r.levelname == "WARNING"] == [
        (
            "WARNING",
            f"The model copy {STRAY_COPY_JOB}, made by a failed update and held by nothing, still runs; delete its "
            "model once it completes (aws bedrock delete-custom-model)",
        )
    ]


def test_a_stray_that_is_the_copy_the_stack_holds_is_none(handler):
    """The forward update succeeded and a later resource failed: the stack holds the newer copy, which
    CloudFormation's cleanup deletes; the rollback takes it for no stray."""
    stack_is(handler, "UPDATE_ROLLBACK_IN_PROGRESS")
    copies_named(handler, NAME, [copy_job("Completed")])
    the_copied_model(handler, exists=True)
    model_tags_are(handler)
    expect_untag(handler)
    copies_named(handler, NEW_NAME, [copy_job("InProgress", arn=STRAY_COPY_JOB, name=NEW_NAME)])
    request = rollback_of(update_to_a_new_source(), physical_id=STRAY_COPY_JOB)
    assert handler.on_event(request, None) == STARTED
