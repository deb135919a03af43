"""What serves a custom model, its deletion once nothing does, and the release of the stage's unserved models
(lambda/shared/python/model_release.py)."""

from __future__ import annotations

import json

import model_release
import pytest
from botocore.exceptions import ReadTimeoutError

from tests.handlers.conftest import RELEASE_FAILED, lose_answers, other_stage_stack, own_stack_is

MODEL_ARN = "arn:aws:bedrock:us-west-2:123456789012:custom-model/meta.llama3-1-8b-instruct-v1:0:128k/m4o8d2e6l0a3"
THROUGHPUT_ARN = "arn:aws:bedrock:us-west-2:123456789012:provisioned-model/p7t3h9r2u5s1"
DEPLOYMENT_ARN = "arn:aws:bedrock:us-west-2:123456789012:custom-model-deployment/d3p1o4y7m2n5"
RETRAINED_MODEL_ARN = (
    "arn:aws:bedrock:us-west-2:123456789012:custom-model/meta.llama3-1-8b-instruct-v1:0:128k/r3t2a1n4e5d6"
)
OTHER_THROUGHPUT_ARN = "arn:aws:bedrock:us-west-2:123456789012:provisioned-model/o4t5h6e7r8t9"
OTHER_DEPLOYMENT_ARN = "arn:aws:bedrock:us-west-2:123456789012:custom-model-deployment/o1t2h3e4r5d6"
DELETE_WHEN_UNSERVED = [{"key": "bedrock-distillation:delete-when-unserved", "value": "true"}]


def throughput_summary(arn: str = THROUGHPUT_ARN, desired: str | None = None, model: str = MODEL_ARN) -> dict:
    """A ListProvisionedModelThroughputs summary of a throughput on ``model`` that wants ``desired``: another model
    while it moves (status Updating), when it keeps serving ``model`` until the move is deployed (user guide,
    prov-thru-edit.html, read 2026-12-01: "you might receive output from the old model until the update is fully
    deployed")."""
    desired = desired or model
    return {
        "provisionedModelName": "sandbox-serving-2f462a79fa34",
        "provisionedModelArn": arn,
        "modelArn": model,
        "desiredModelArn": desired,
        "foundationModelArn": "arn:aws:bedrock:us-west-2::foundation-model/meta.llama3-1-8b-instruct-v1:0:128k",
        "modelUnits": 1,
        "desiredModelUnits": 1,
        "status": "InService" if desired == model else "Updating",
        "creationTime": "2026-11-28T14:10:00Z",
        "lastModifiedTime": "2026-11-28T14:10:00Z",
    }


def deployment(update_details: dict | None = None, *, arn: str = DEPLOYMENT_ARN, model: str = MODEL_ARN) -> dict:
    """A GetCustomModelDeployment answer for a deployment on ``model``; a move to another model shows in
    updateDetails (API reference, CustomModelDeploymentUpdateDetails, read 2026-12-01), its modelArn staying the
    model it serves until then."""
    answer = {
        "customModelDeploymentArn": arn,
        "modelDeploymentName": "sandbox-serving-0d41259abc27",
        "modelArn": model,
        "createdAt": "2026-11-28T14:10:00Z",
        "status": "Active",
    }
    if update_details is not None:
        answer["updateDetails"] = update_details
    return answer


def deployment_summary(described: dict) -> dict:
    """The ListCustomModelDeployments summary of a deployment GetCustomModelDeployment describes as ``described``."""
    return {
        "customModelDeploymentArn": described["customModelDeploymentArn"],
        "customModelDeploymentName": described["modelDeploymentName"],
        "modelArn": described["modelArn"],
        "createdAt": described["createdAt"],
        "status": described["status"],
    }


def expect_throughput_pages(bedrock, *pages: list) -> None:
    """Every Provisioned Throughput of the account and Region, unfiltered, page after page (nextToken)."""
    for number, throughputs in enumerate(pages, start=1):
        answer = {"provisionedModelSummaries": throughputs}
        if number < len(pages):
            answer["nextToken"] = f"throughputs-{number + 1}"
        asked = {"nextToken": f"throughputs-{number}"} if number > 1 else {}
        bedrock.stubber.add_response("list_provisioned_model_throughputs", answer, asked)


def expect_deployment_pages(bedrock, *pages: list) -> None:
    """Every custom model deployment of the account and Region, unfiltered, page after page, each page's
    deployments described (given as GetCustomModelDeployment answers) before the next page is asked for."""
    for number, deployments in enumerate(pages, start=1):
        answer = {"modelDeploymentSummaries": [deployment_summary(d) for d in deployments]}
        if number < len(pages):
            answer["nextToken"] = f"deployments-{number + 1}"
        asked = {"nextToken": f"deployments-{number}"} if number > 1 else {}
        bedrock.stubber.add_response("list_custom_model_deployments", answer, asked)
        for described in deployments:
            bedrock.stubber.add_response(
                "get_custom_model_deployment",
                described,
                {"customModelDeploymentIdentifier": described["customModelDeploymentArn"]},
            )


def expect_serving(bedrock, throughputs: list, deployments: list | None = None) -> None:
    """The calls of serving_state: every throughput and every deployment (no modelArnEquals filter, which matches
    only what serves a model now, not what moves to or off it), then each deployment's description."""
    expect_throughput_pages(bedrock, throughputs)
    expect_deployment_pages(bedrock, deployments or [])


def test_a_throughput_and_a_deployment_that_stay_on_the_model_are_staying(bedrock):
    expect_serving(bedrock, [throughput_summary()], [deployment()])
    assert model_release.serving_state(bedrock, MODEL_ARN) == ([THROUGHPUT_ARN, DEPLOYMENT_ARN], [])


def test_a_throughput_moving_to_another_model_is_leaving(bedrock):
    expect_serving(bedrock, [throughput_summary(desired=RETRAINED_MODEL_ARN), throughput_summary(OTHER_THROUGHPUT_ARN)])
    assert model_release.serving_state(bedrock, MODEL_ARN) == ([OTHER_THROUGHPUT_ARN], [THROUGHPUT_ARN])


def test_a_throughput_moving_onto_the_model_from_another_is_staying(bedrock):
    """The list's modelArn is still the model it moves off: only the unfiltered list shows this one at all."""
    expect_serving(bedrock, [throughput_summary(model=RETRAINED_MODEL_ARN, desired=MODEL_ARN)])
    assert model_release.serving_state(bedrock, MODEL_ARN) == ([THROUGHPUT_ARN], [])


def test_a_deployment_updating_to_another_model_is_leaving(bedrock):
    expect_serving(bedrock, [], [deployment({"modelArn": RETRAINED_MODEL_ARN, "updateStatus": "Updating"})])
    assert model_release.serving_state(bedrock, MODEL_ARN) == ([], [DEPLOYMENT_ARN])


def test_a_deployment_updating_onto_the_model_from_another_is_staying(bedrock):
    moving_on = deployment({"modelArn": MODEL_ARN, "updateStatus": "Updating"}, model=RETRAINED_MODEL_ARN)
    expect_serving(bedrock, [], [moving_on])
    assert model_release.serving_state(bedrock, MODEL_ARN) == ([DEPLOYMENT_ARN], [])


@pytest.mark.parametrize(
    "update_details",
    [
        # A move that ended: a failed one left the deployment on this model; a completed one that the list still
        # names (a list that lags) is taken as serving it, the reading under which no served model is deleted.
        {"modelArn": RETRAINED_MODEL_ARN, "updateStatus": "UpdateFailed"},
        {"modelArn": RETRAINED_MODEL_ARN, "updateStatus": "UpdateCompleted"},
        # Moving onto this model is no move off it.
        {"modelArn": MODEL_ARN, "updateStatus": "Updating"},
    ],
)
def test_a_deployment_not_moving_off_the_model_is_staying(bedrock, update_details):
    expect_serving(bedrock, [], [deployment(update_details)])
    assert model_release.serving_state(bedrock, MODEL_ARN) == ([DEPLOYMENT_ARN], [])


def test_what_serves_other_models_is_neither_staying_nor_leaving(bedrock):
    """The account's other throughputs and deployments: on another model, or a failed move that aimed at this one
    and left the deployment where it was."""
    expect_serving(
        bedrock,
        [throughput_summary(OTHER_THROUGHPUT_ARN, model=RETRAINED_MODEL_ARN)],
        [
            deployment(model=RETRAINED_MODEL_ARN),
            deployment(
                {"modelArn": MODEL_ARN, "updateStatus": "UpdateFailed"},
                arn=OTHER_DEPLOYMENT_ARN,
                model=RETRAINED_MODEL_ARN,
            ),
        ],
    )
    assert model_release.serving_state(bedrock, MODEL_ARN) == ([], [])


def test_serving_is_read_from_every_page_of_throughputs_and_deployments(bedrock):
    expect_throughput_pages(
        bedrock, [throughput_summary(OTHER_THROUGHPUT_ARN, model=RETRAINED_MODEL_ARN)], [throughput_summary()]
    )
    expect_deployment_pages(
        bedrock,
        [deployment(model=RETRAINED_MODEL_ARN, arn=OTHER_DEPLOYMENT_ARN)],
        [deployment({"modelArn": RETRAINED_MODEL_ARN, "updateStatus": "Updating"})],
    )
    assert model_release.serving_state(bedrock, MODEL_ARN) == ([THROUGHPUT_ARN], [DEPLOYMENT_ARN])


def test_a_model_nothing_serves_has_nothing_staying_or_leaving(bedrock):
    expect_serving(bedrock, [])
    assert model_release.serving_state(bedrock, MODEL_ARN) == ([], [])


def test_a_model_nothing_serves_is_deleted(bedrock):
    expect_serving(bedrock, [])
    bedrock.stubber.add_response("delete_custom_model", {}, {"modelIdentifier": MODEL_ARN})
    assert model_release.delete_model_unless_served(bedrock, MODEL_ARN) == "deleted"


def test_a_model_already_deleted_is_already_gone(bedrock):
    expect_serving(bedrock, [])
    bedrock.stubber.add_client_error(
        "delete_custom_model", "ResourceNotFoundException", "Model not found", 404, {"modelIdentifier": MODEL_ARN}
    )
    assert model_release.delete_model_unless_served(bedrock, MODEL_ARN) == "already gone"


def test_a_served_model_is_tagged_instead_of_deleted(bedrock):
    expect_serving(bedrock, [throughput_summary()])
    bedrock.stubber.add_response("tag_resource", {}, {"resourceARN": MODEL_ARN, "tags": DELETE_WHEN_UNSERVED})
    assert model_release.delete_model_unless_served(bedrock, MODEL_ARN) == (
        f"kept while {THROUGHPUT_ARN} serves it, tagged to be deleted afterwards"
    )


def test_a_model_that_begins_to_be_served_during_its_deletion_is_tagged(bedrock):
    expect_serving(bedrock, [])
    bedrock.stubber.add_client_error(
        "delete_custom_model",
        "ConflictException",
        "The model is in use by a provisioned throughput",
        400,
        {"modelIdentifier": MODEL_ARN},
    )
    bedrock.stubber.add_response("tag_resource", {}, {"resourceARN": MODEL_ARN, "tags": DELETE_WHEN_UNSERVED})
    assert model_release.delete_model_unless_served(bedrock, MODEL_ARN) == (
        "kept while something serves it, tagged to be deleted afterwards"
    )


def test_a_deletion_bedrock_refuses_otherwise_is_raised(bedrock):
    expect_serving(bedrock, [])
    bedrock.stubber.add_client_error(
        "delete_custom_model", "AccessDeniedException", "Not authorized", 403, {"modelIdentifier": MODEL_ARN}
    )
    with pytest.raises(bedrock.exceptions.AccessDeniedException):
        model_release.delete_model_unless_served(bedrock, MODEL_ARN)


def test_a_model_a_throughput_is_moving_off_is_deleted_once_the_move_is_over(bedrock, context):
    moving_off = throughput_summary(desired=RETRAINED_MODEL_ARN)
    expect_serving(bedrock, [moving_off])
    expect_serving(bedrock, [moving_off])
    expect_serving(bedrock, [])
    bedrock.stubber.add_response("delete_custom_model", {}, {"modelIdentifier": MODEL_ARN})
    assert model_release.delete_model_unless_served(bedrock, MODEL_ARN, context) == "deleted"
    assert context.slept == [30, 30]


def test_a_model_a_deployment_is_moving_off_is_deleted_once_the_move_is_over(bedrock, context):
    expect_serving(bedrock, [], [deployment({"modelArn": RETRAINED_MODEL_ARN, "updateStatus": "Updating"})])
    expect_serving(bedrock, [])
    bedrock.stubber.add_response("delete_custom_model", {}, {"modelIdentifier": MODEL_ARN})
    assert model_release.delete_model_unless_served(bedrock, MODEL_ARN, context) == "deleted"
    assert context.slept == [30]


def test_a_model_something_stays_on_is_tagged_at_once_though_another_moves_off(bedrock, context):
    expect_serving(bedrock, [throughput_summary(desired=RETRAINED_MODEL_ARN), throughput_summary(OTHER_THROUGHPUT_ARN)])
    bedrock.stubber.add_response("tag_resource", {}, {"resourceARN": MODEL_ARN, "tags": DELETE_WHEN_UNSERVED})
    assert model_release.delete_model_unless_served(bedrock, MODEL_ARN, context) == (
        f"kept while {OTHER_THROUGHPUT_ARN}, {THROUGHPUT_ARN} serves it, tagged to be deleted afterwards"
    )
    assert context.slept == []


def test_a_model_moved_back_onto_while_the_handler_waits_is_tagged(bedrock, context):
    """A rollback moves the throughput back to the model while the deletion waits for it to move off."""
    expect_serving(bedrock, [throughput_summary(desired=RETRAINED_MODEL_ARN)])
    expect_serving(bedrock, [throughput_summary()])
    bedrock.stubber.add_response("tag_resource", {}, {"resourceARN": MODEL_ARN, "tags": DELETE_WHEN_UNSERVED})
    assert model_release.delete_model_unless_served(bedrock, MODEL_ARN, context) == (
        f"kept while {THROUGHPUT_ARN} serves it, tagged to be deleted afterwards"
    )
    assert context.slept == [30]


def test_a_model_still_being_moved_off_when_the_time_runs_out_is_tagged(bedrock, context):
    # A look every 30 s while more than 30 s and two calls' budget (2 x 102 s) are left of the function's 900 s:
    # 23 waits, after which 210 s are left.
    moving_off = throughput_summary(desired=RETRAINED_MODEL_ARN)
    for _ in range(24):
        expect_serving(bedrock, [moving_off])
    bedrock.stubber.add_response("tag_resource", {}, {"resourceARN": MODEL_ARN, "tags": DELETE_WHEN_UNSERVED})
    assert model_release.delete_model_unless_served(bedrock, MODEL_ARN, context) == (
        f"kept while {THROUGHPUT_ARN} serves it, tagged to be deleted afterwards"
    )
    assert context.slept == [30] * 23
    assert context.remaining_seconds == 210


def test_without_the_functions_context_a_model_being_moved_off_is_tagged_without_waiting(bedrock):
    """No context, no way to tell the time left: no wait (the no_sleeping fixture would fail any)."""
    expect_serving(bedrock, [throughput_summary(desired=RETRAINED_MODEL_ARN)])
    bedrock.stubber.add_response("tag_resource", {}, {"resourceARN": MODEL_ARN, "tags": DELETE_WHEN_UNSERVED})
    assert model_release.delete_model_unless_served(bedrock, MODEL_ARN) == (
        f"kept while {THROUGHPUT_ARN} serves it, tagged to be deleted afterwards"
    )


# -- releasing the stage's unserved models -----------------------------------------------------------------------
PREFIX = "sandbox-distill-"
STAGE = "sandbox"
# The stage's own tag (STAGE_TAG), which every model the stage makes carries.
OURS = [{"key": "distillation-stage", "value": STAGE}]
# A model of the stage tagged to be deleted once unserved.
FREED = [*OURS, *DELETE_WHEN_UNSERVED]


def custom_model(name: str, model_id: str) -> dict:
    """A ListCustomModels summary with what the service model requires."""
    return {
        "modelArn": f"{MODEL_ARN.rsplit('/', 1)[0]}/{model_id}",
        "modelName": name,
        "creationTime": "2026-11-28T14:02:09Z",
        "baseModelArn": "arn:aws:bedrock:us-west-2::foundation-model/meta.llama3-1-8b-instruct-v1:0:128k",
        "baseModelName": "Llama 3.1 8B Instruct",
        "customizationType": "DISTILLATION",
    }


EARLIER = custom_model("sandbox-distill-1b2c3d4e5f60", "e4r1i2e3r4l5")
SERVED = custom_model("sandbox-distill-7a8b9c0d1e2f", "s5e6r7v8e9d0")
UNTAGGED = custom_model("sandbox-distill-3aa7f4218eee", "m4o8d2e6l0a3")
# nameContains matches anywhere in the name: another stage's models whose name holds this stage's prefix are listed.
OTHER_STAGE = custom_model("shared-sandbox-distill-5e6f7a8b9c0d", "o7t8h9e0r1s2")
# Stage names may hold hyphens: stage sandbox-distill's jobs are named sandbox-distill-distill-..., which begins with
# stage sandbox's prefix.
HYPHENATED_STAGE = custom_model("sandbox-distill-distill-9f8e7d6c5b4a", "h1y2p3h4e5n6")


def expect_models(bedrock, models: list, next_token: str | None = None, after: str | None = None) -> None:
    answer = {"modelSummaries": models, **({"nextToken": next_token} if next_token else {})}
    bedrock.stubber.add_response(
        "list_custom_models", answer, {"nameContains": PREFIX, **({"nextToken": after} if after else {})}
    )


def expect_tags(bedrock, model: dict, tags: list) -> None:
    bedrock.stubber.add_response("list_tags_for_resource", {"tags": tags}, {"resourceARN": model["modelArn"]})


def expect_deletion(bedrock, model: dict) -> None:
    bedrock.stubber.add_response("delete_custom_model", {}, {"modelIdentifier": model["modelArn"]})


def test_the_release_deletes_a_tagged_unserved_model_and_keeps_the_rest(bedrock):
    """Kept: a tagged model a throughput serves, a model never tagged (no serving lookups), another stage's model
    (no lookups at all)."""
    expect_models(bedrock, [EARLIER, SERVED, UNTAGGED, OTHER_STAGE])
    expect_tags(bedrock, EARLIER, FREED)
    expect_serving(bedrock, [])
    expect_deletion(bedrock, EARLIER)
    expect_tags(bedrock, SERVED, FREED)
    expect_serving(bedrock, [throughput_summary(model=SERVED["modelArn"])])
    expect_tags(bedrock, UNTAGGED, OURS)
    assert model_release.release_unserved_models(bedrock, PREFIX, STAGE) == [EARLIER["modelArn"]]


@pytest.mark.parametrize(
    "tags",
    [
        [{"key": "distillation-stage", "value": "sandbox-distill"}, *DELETE_WHEN_UNSERVED],
        DELETE_WHEN_UNSERVED,
    ],
    ids=["another stage's", "no stage's"],
)
def test_the_release_leaves_a_tagged_model_of_its_prefix_that_is_not_the_stages_alone(bedrock, caplog, tags):
    """A model named with the stage's prefix, tagged to be deleted once unserved, but tagged for another stage (one
    whose hyphenated name begins like this stage's prefix) or for none: neither looked at further nor deleted."""
    caplog.set_level("INFO")
    expect_models(bedrock, [HYPHENATED_STAGE])
    expect_tags(bedrock, HYPHENATED_STAGE, tags)
    assert model_release.release_unserved_models(bedrock, PREFIX, STAGE) == []
    stage = "sandbox-distill" if len(tags) == 2 else None
    assert caplog.messages == [
        f"Leaving the custom model {HYPHENATED_STAGE['modelArn']} alone: it is tagged distillation-stage={stage}, "
        "not sandbox"
    ]


def test_the_release_keeps_a_tagged_model_that_serving_is_still_moving_off(bedrock):
    """The handler that waits for a move is the Delete of what served it; the release only takes what is free."""
    expect_models(bedrock, [EARLIER])
    expect_tags(bedrock, EARLIER, FREED)
    moving_off = throughput_summary(model=EARLIER["modelArn"], desired=MODEL_ARN)
    expect_serving(bedrock, [moving_off])
    assert model_release.release_unserved_models(bedrock, PREFIX, STAGE) == []


def test_the_release_follows_every_page_of_models(bedrock):
    expect_models(bedrock, [EARLIER], next_token="page-2")
    expect_tags(bedrock, EARLIER, FREED)
    expect_serving(bedrock, [])
    expect_deletion(bedrock, EARLIER)
    expect_models(bedrock, [SERVED], after="page-2")
    expect_tags(bedrock, SERVED, FREED)
    expect_serving(bedrock, [])
    expect_deletion(bedrock, SERVED)
    assert model_release.release_unserved_models(bedrock, PREFIX, STAGE) == [EARLIER["modelArn"], SERVED["modelArn"]]


def test_the_release_of_a_stage_without_models_asks_once(bedrock):
    expect_models(bedrock, [])
    assert model_release.release_unserved_models(bedrock, PREFIX, STAGE) == []


def test_a_model_gone_before_its_tags_are_read_is_passed_over(bedrock):
    expect_models(bedrock, [EARLIER])
    bedrock.stubber.add_client_error(
        "list_tags_for_resource",
        "ResourceNotFoundException",
        "Model not found",
        404,
        {"resourceARN": EARLIER["modelArn"]},
    )
    assert model_release.release_unserved_models(bedrock, PREFIX, STAGE) == []


def test_a_tagged_model_deleted_by_something_else_meanwhile_counts_as_released(bedrock):
    expect_models(bedrock, [EARLIER])
    expect_tags(bedrock, EARLIER, FREED)
    expect_serving(bedrock, [])
    bedrock.stubber.add_client_error(
        "delete_custom_model",
        "ResourceNotFoundException",
        "Model not found",
        404,
        {"modelIdentifier": EARLIER["modelArn"]},
    )
    assert model_release.release_unserved_models(bedrock, PREFIX, STAGE) == [EARLIER["modelArn"]]


def test_a_model_bedrock_still_finds_in_use_is_left_for_the_next_release(bedrock):
    """Something began serving it between the look and the deletion (ConflictException): the release goes on to
    the stage's next model and does not count this one."""
    expect_models(bedrock, [EARLIER, SERVED])
    expect_tags(bedrock, EARLIER, FREED)
    expect_serving(bedrock, [])
    bedrock.stubber.add_client_error(
        "delete_custom_model",
        "ConflictException",
        "The model is in use by a provisioned throughput",
        400,
        {"modelIdentifier": EARLIER["modelArn"]},
    )
    expect_tags(bedrock, SERVED, FREED)
    expect_serving(bedrock, [])
    expect_deletion(bedrock, SERVED)
    assert model_release.release_unserved_models(bedrock, PREFIX, STAGE) == [SERVED["modelArn"]]


def test_a_deletion_refused_otherwise_is_logged_and_the_release_goes_on_to_the_next_model(bedrock, caplog):
    """One model's refusal (AccessDeniedException) must not keep the stage's other models: it is logged, not
    counted, and the next model is released."""
    expect_models(bedrock, [EARLIER, SERVED])
    expect_tags(bedrock, EARLIER, FREED)
    expect_serving(bedrock, [])
    bedrock.stubber.add_client_error(
        "delete_custom_model", "AccessDeniedException", "Not authorized", 403, {"modelIdentifier": EARLIER["modelArn"]}
    )
    expect_tags(bedrock, SERVED, FREED)
    expect_serving(bedrock, [])
    expect_deletion(bedrock, SERVED)
    assert model_release.release_unserved_models(bedrock, PREFIX, STAGE) == [SERVED["modelArn"]]
    assert [(r.levelname, r.getMessage()) for r in caplog.records] == [
        (
            "WARNING",
            f"Could not release the custom model {EARLIER['modelArn']}: An error occurred (AccessDeniedException) "
            "when calling the DeleteCustomModel operation: Not authorized",
        )
    ]


def test_tags_refused_for_one_model_do_not_keep_the_next_from_its_release(bedrock, caplog):
    expect_models(bedrock, [EARLIER, SERVED])
    bedrock.stubber.add_client_error(
        "list_tags_for_resource",
        "AccessDeniedException",
        "Not authorized",
        403,
        {"resourceARN": EARLIER["modelArn"]},
    )
    expect_tags(bedrock, SERVED, FREED)
    expect_serving(bedrock, [])
    expect_deletion(bedrock, SERVED)
    assert model_release.release_unserved_models(bedrock, PREFIX, STAGE) == [SERVED["modelArn"]]
    assert [r.levelname for r in caplog.records] == ["WARNING"]


# -- the release every handler of a stage runs -------------------------------------------------------------------
# The request's own stack: the serving stack.
STACK_ID = (
    "arn:aws:cloudformation:us-west-2:123456789012:stack/sandbox-distillation-support-assistant-serving/"
    "c4d7e0f3-cd44-11f0-b1a4-0a7d3e9f1c25"
)
# The model's stacks (the GuardStacks property), the request's own among them.
SANDBOX_GUARDS = ["sandbox-distillation-support-assistant-serving", "sandbox-distillation-support-assistant-training"]
PROD_GUARDS = ["prod-distillation-support-assistant-serving", "prod-distillation-support-assistant-training"]


def stack_event(guards: list[str] | None) -> dict:
    properties = {} if guards is None else {"GuardStacks": json.dumps(guards)}
    return {"StackId": STACK_ID, "ResourceProperties": properties}


def stack_is(cloudformation, status: str) -> None:
    own_stack_is(cloudformation.stubber, STACK_ID, status)


NOT_RELEASING = "Not releasing the stage's unserved models"


def release_stage_models(
    bedrock,
    cloudformation,
    name: str = "sandbox-distill-3aa7f4218eee",
    stage: str = STAGE,
    guards: list[str] | None = SANDBOX_GUARDS,
):
    return model_release.release_stage_models(bedrock, cloudformation, stack_event(guards), name, stage)


def test_a_stages_release_deletes_what_is_free_and_logs_each_deletion(bedrock, cloudformation, caplog):
    caplog.set_level("INFO")
    stack_is(cloudformation, "UPDATE_COMPLETE_CLEANUP_IN_PROGRESS")
    other_stage_stack(cloudformation.stubber, "sandbox-distillation-support-assistant-training")
    expect_models(bedrock, [EARLIER, UNTAGGED])
    expect_tags(bedrock, EARLIER, FREED)
    expect_serving(bedrock, [])
    expect_deletion(bedrock, EARLIER)
    expect_tags(bedrock, UNTAGGED, OURS)
    assert release_stage_models(bedrock, cloudformation) == [EARLIER["modelArn"]]
    assert caplog.messages == [f"Deleted the custom model {EARLIER['modelArn']}, which nothing serves any more"]


def test_a_copys_name_releases_the_copies_of_its_stage(bedrock, cloudformation, caplog):
    caplog.set_level("INFO")
    stack_is(cloudformation, "UPDATE_IN_PROGRESS")
    other_stage_stack(cloudformation.stubber, "prod-distillation-support-assistant-serving")
    other_stage_stack(cloudformation.stubber, "prod-distillation-support-assistant-training", None)
    copied = custom_model("prod-copy-1f2e3d4c5b6a", "c0p1e2d3m4o5")
    bedrock.stubber.add_response("list_custom_models", {"modelSummaries": [copied]}, {"nameContains": "prod-copy-"})
    expect_tags(bedrock, copied, [{"key": "distillation-stage", "value": "prod"}, *DELETE_WHEN_UNSERVED])
    expect_serving(bedrock, [])
    expect_deletion(bedrock, copied)
    released = release_stage_models(bedrock, cloudformation, "prod-copy-a3813fa7ad4e", "prod", PROD_GUARDS)
    assert released == [copied["modelArn"]]
    assert caplog.messages == [f"Deleted the custom model {copied['modelArn']}, which nothing serves any more"]


@pytest.mark.parametrize("status", ["UPDATE_ROLLBACK_IN_PROGRESS", "ROLLBACK_IN_PROGRESS"])
def test_a_stages_release_never_runs_while_the_stack_rolls_back(bedrock, cloudformation, caplog, status):
    """What the rollback moves serving back to may be a model tagged to be deleted once unserved that, for now,
    nothing serves: no model is looked at (the Stubber refuses any Bedrock call)."""
    caplog.set_level("INFO")
    stack_is(cloudformation, status)
    assert release_stage_models(bedrock, cloudformation) == []
    assert caplog.messages == [f"{NOT_RELEASING} while a stack of the stage rolls back"]


def test_a_stages_release_is_skipped_when_the_stacks_status_cannot_be_read(bedrock, cloudformation, caplog):
    """Whether the stack rolls back is unknown: the safe reading is that it may, so nothing is released."""
    cloudformation.stubber.add_client_error(
        "describe_stacks", "AccessDenied", "Not authorized to perform: cloudformation:DescribeStacks", 403
    )
    assert release_stage_models(bedrock, cloudformation) == []
    assert [(r.levelname, r.getMessage()) for r in caplog.records] == [
        (
            "WARNING",
            f"{NOT_RELEASING}: could not read whether the stack rolls back: An error occurred (AccessDenied) when "
            "calling the DescribeStacks operation: Not authorized to perform: cloudformation:DescribeStacks",
        )
    ]


def test_a_stages_release_whose_stack_status_answer_is_lost_is_skipped(bedrock, cloudformation, caplog, monkeypatch):
    error = ReadTimeoutError(endpoint_url="https://cloudformation.us-west-2.amazonaws.com/")
    lose_answers(monkeypatch, cloudformation, "describe_stacks", error)
    assert release_stage_models(bedrock, cloudformation) == []
    assert [r.levelname for r in caplog.records] == ["WARNING"]


def test_a_request_that_names_no_stage_releases_nothing(bedrock, cloudformation, caplog):
    """An older template's resource, whose properties do not name the stage: nothing is asked of AWS."""
    assert release_stage_models(bedrock, cloudformation, stage=None) == []
    assert caplog.messages == [f"{NOT_RELEASING}: the resource's properties name no stage"]


def test_a_request_that_names_no_guard_stacks_releases_nothing(bedrock, cloudformation, caplog):
    """Without the stacks whose rollback it must wait out, a release cannot tell a rollback: nothing is asked of
    AWS (the Stubbers refuse any call)."""
    assert release_stage_models(bedrock, cloudformation, guards=None) == []
    assert caplog.messages == [f"{NOT_RELEASING}: the resource's properties name no GuardStacks"]


def test_a_stages_release_that_deletes_nothing_logs_nothing(bedrock, cloudformation, caplog):
    caplog.set_level("INFO")
    stack_is(cloudformation, "UPDATE_IN_PROGRESS")
    other_stage_stack(cloudformation.stubber, "sandbox-distillation-support-assistant-training")
    expect_models(bedrock, [])
    assert release_stage_models(bedrock, cloudformation) == []
    assert caplog.messages == []


def test_a_stages_release_that_bedrock_refuses_is_logged_not_raised(bedrock, cloudformation, caplog):
    """The models it deletes are not the request's own: the request goes on, and the next one tries again."""
    stack_is(cloudformation, "UPDATE_IN_PROGRESS")
    other_stage_stack(cloudformation.stubber, "sandbox-distillation-support-assistant-training")
    bedrock.stubber.add_client_error(
        "list_custom_models", "AccessDeniedException", "Not authorized", 403, {"nameContains": PREFIX}
    )
    assert release_stage_models(bedrock, cloudformation) == []
    assert [(r.levelname, r.getMessage()) for r in caplog.records] == [
        (
            "WARNING",
            f"{RELEASE_FAILED}An error occurred (AccessDeniedException) when calling the ListCustomModels operation: "
            "Not authorized",
        )
    ]


def test_a_stages_release_whose_answer_is_lost_is_logged_not_raised(bedrock, cloudformation, caplog, monkeypatch):
    """A timeout after every retry (botocore's ReadTimeoutError, a BotoCoreError) ends the release, not the
    request."""
    stack_is(cloudformation, "UPDATE_IN_PROGRESS")
    other_stage_stack(cloudformation.stubber, "sandbox-distillation-support-assistant-training")
    error = ReadTimeoutError(endpoint_url="https://bedrock.us-west-2.amazonaws.com/custom-models")
    lost = lose_answers(monkeypatch, bedrock, "list_custom_models", error)
    assert release_stage_models(bedrock, cloudformation) == []
    assert lost == [{"nameContains": PREFIX}]
    assert [(r.levelname, r.getMessage()) for r in caplog.records] == [
        (
            "WARNING",
            f'{RELEASE_FAILED}Read timeout on endpoint URL: "https://bedrock.us-west-2.amazonaws.com/custom-models"',
        )
    ]


def test_a_stages_release_raises_what_is_no_aws_error(bedrock, cloudformation, monkeypatch):
    """Only AWS's refusals and lost answers are logged; a defect in the handler still fails the request."""
    stack_is(cloudformation, "UPDATE_IN_PROGRESS")
    other_stage_stack(cloudformation.stubber, "sandbox-distillation-support-assistant-training")
    lose_answers(monkeypatch, bedrock, "list_custom_models", KeyError("modelSummaries"))
    with pytest.raises(KeyError):
        release_stage_models(bedrock, cloudformation)


@pytest.mark.parametrize("status", ["UPDATE_ROLLBACK_IN_PROGRESS", "UPDATE_ROLLBACK_FAILED", "ROLLBACK_FAILED"])
def test_a_stages_release_waits_while_another_stack_of_the_stage_rolls_back_or_is_stuck(
    bedrock, cloudformation, caplog, status
):
    """A serving rollback stuck in UPDATE_ROLLBACK_FAILED still needs the model it moves back to once continued: a
    training deploy meanwhile must not delete it."""
    caplog.set_level("INFO")
    stack_is(cloudformation, "UPDATE_COMPLETE_CLEANUP_IN_PROGRESS")
    other_stage_stack(cloudformation.stubber, "sandbox-distillation-support-assistant-training", status)
    assert release_stage_models(bedrock, cloudformation) == []
    assert caplog.messages == [
        f"The stack sandbox-distillation-support-assistant-training is {status}",
        f"{NOT_RELEASING} while a stack of the stage rolls back",
    ]
