"""Deleting custom models once nothing serves them: a served model is tagged, and released by whatever comes next.

Bedrock cannot delete a model that a Provisioned Throughput serves (user guide, prov-thru-delete.html, read
2026-11-30), so a handler that is to delete one tags it instead (DELETE_WHEN_UNSERVED_TAG), and every handler that
trains, copies or serves for the stage releases the stage's tagged models that nothing serves any more.
"""

import json
import logging
import time

import aws_clients
import resource_identity
import stack_rollback
import stage_ownership
from botocore.exceptions import BotoCoreError, ClientError

LOG = logging.getLogger()

# The tag a job's handler puts on a custom model it could not delete because a Provisioned Throughput or deployment
# still served it; whatever stops serving the model deletes it then (distilled_model's Delete).
DELETE_WHEN_UNSERVED_TAG = "bedrock-distillation:delete-when-unserved"


def serving_state(bedrock, model_arn):
    """``(staying, leaving)``: the ARNs of the Provisioned Throughputs and deployments that serve ``model_arn``, split
    into those that serve it or are moving to it, and those moving from it to another model (which serve it until the
    move completes). Every throughput and deployment of the account and Region is looked at, as a list call filtered
    on the model matches only what serves it now (ListProvisionedModelThroughputs modelArnEquals), not what moves."""
    staying, leaving = [], []
    for throughput in aws_clients.pages(bedrock.list_provisioned_model_throughputs, "provisionedModelSummaries"):
        if model_arn == throughput["desiredModelArn"]:
            staying.append(throughput["provisionedModelArn"])
        elif model_arn == throughput["modelArn"]:
            leaving.append(throughput["provisionedModelArn"])
    for summary in aws_clients.pages(bedrock.list_custom_model_deployments, "modelDeploymentSummaries"):
        arn = summary["customModelDeploymentArn"]
        deployment = bedrock.get_custom_model_deployment(customModelDeploymentIdentifier=arn)
        move = deployment.get("updateDetails") or {}
        moving_to = move.get("modelArn") if move.get("updateStatus") == "Updating" else deployment["modelArn"]
        if model_arn == moving_to:
            staying.append(arn)
        elif model_arn == deployment["modelArn"]:
            leaving.append(arn)
    return staying, leaving


def delete_model_unless_served(bedrock, model_arn, context=None):
    """Delete a custom model that nothing serves. One that a throughput or deployment is moving off is deleted once
    the move is over, if that comes within the function's time (``context``); one still served is tagged to be deleted
    once it is not (``release_unserved_models``). Returns what happened, for the log."""
    staying, leaving = serving_state(bedrock, model_arn)
    while (
        leaving
        and not staying
        and context is not None
        and aws_clients.remaining_seconds(context) > 30 + 2 * aws_clients.CALL_BUDGET_SECONDS
    ):
        time.sleep(30)
        staying, leaving = serving_state(bedrock, model_arn)
    if not staying and not leaving:
        try:
            bedrock.delete_custom_model(modelIdentifier=model_arn)
            return "deleted"
        except ClientError as error:
            code = error.response["Error"]["Code"]
            if code == "ResourceNotFoundException":
                return "already gone"
            if code != "ConflictException":  # something began serving it since the check
                raise
    bedrock.tag_resource(resourceARN=model_arn, tags=[{"key": DELETE_WHEN_UNSERVED_TAG, "value": "true"}])
    serving = ", ".join(staying + leaving) or "something"
    return f"kept while {serving} serves it, tagged to be deleted afterwards"


def untag_for_deletion(bedrock, model_arn):
    """A model its job's stack owns again (adopted) is no longer to be deleted once unserved."""
    bedrock.untag_resource(resourceARN=model_arn, tagKeys=[DELETE_WHEN_UNSERVED_TAG])


def release_unserved_models(bedrock, prefix, stage):
    """Delete the stage ``stage``'s custom models (named ``prefix``... and tagged STAGE_TAG ``stage``) that were tagged
    to be deleted once unserved and that nothing serves any more; returns their ARNs. Whatever serves or trains for the
    stage calls it, so a model whose serving moved off it is not left behind for want of a later Delete.

    A name prefix is not a stage: stage names may hold hyphens, so ``dev-copy-`` (stage dev's copies) also begins the
    names of stage dev-copy's jobs (``dev-copy-distill-...``); only a model whose own STAGE_TAG is ``stage`` is the
    stage's. One that Bedrock still finds in use (ConflictException) is left for the next time; one whose tags or
    deletion Bedrock refuses otherwise is logged and passed over, so that it does not keep the others."""
    released = []
    for model in aws_clients.pages(bedrock.list_custom_models, "modelSummaries", nameContains=prefix):
        model_arn = model["modelArn"]
        if not model["modelName"].startswith(prefix):
            continue
        try:
            if _release(bedrock, model_arn, stage):
                released.append(model_arn)
        except ClientError as error:
            LOG.warning("Could not release the custom model %s: %s", model_arn, error)
    return released


def _release(bedrock, model_arn, stage):
    """Whether the model ``model_arn`` was released: deleted, or gone already."""
    listed = aws_clients.unless_gone(bedrock.list_tags_for_resource, resourceARN=model_arn) or {"tags": []}
    tags = {t["key"]: t["value"] for t in listed["tags"]}
    if DELETE_WHEN_UNSERVED_TAG not in tags:
        return False
    if tags.get(stage_ownership.STAGE_TAG) != stage:
        LOG.info(
            "Leaving the custom model %s alone: it is tagged %s=%s, not %s",
            model_arn,
            stage_ownership.STAGE_TAG,
            tags.get(stage_ownership.STAGE_TAG),
            stage,
        )
        return False
    if serving_state(bedrock, model_arn) != ([], []):
        return False
    try:
        aws_clients.unless_gone(bedrock.delete_custom_model, modelIdentifier=model_arn)
    except ClientError as error:
        if error.response["Error"]["Code"] != "ConflictException":
            raise
        return False
    return True


def release_stage_models(bedrock, cloudformation, event, name, stage):
    """release_unserved_models for the stage ``stage`` of ``name`` (a job's or a copy's), as every handler that trains,
    copies or serves for the stage runs it after its own work. Returns the ARNs of the models deleted.

    Never while one of the request's GuardStacks (the model's stacks) rolls back or waits in a failed rollback
    (stack_rollback.stage_unsettled): a
    rollback moves serving back to the model it served before, which may be one tagged to be deleted once unserved
    and, at that moment, served by nothing (the model lookup is rolled back before the throughput whose ModelArn it
    gives). When the stack's status cannot be read, or the request names no stage or no GuardStacks, nothing is
    released. A failure is
    logged, not raised: the models it deletes are not the request's own, so a refused or lost answer must not fail
    the request (the next request tries again)."""
    if not stage:
        LOG.warning("Not releasing the stage's unserved models: the resource's properties name no stage")
        return []
    guards = event.get("ResourceProperties", {}).get("GuardStacks")
    if not guards:
        LOG.warning("Not releasing the stage's unserved models: the resource's properties name no GuardStacks")
        return []
    try:
        if stack_rollback.stage_unsettled(cloudformation, event["StackId"], json.loads(guards)):
            LOG.info("Not releasing the stage's unserved models while a stack of the stage rolls back")
            return []
    except (ClientError, BotoCoreError) as error:
        LOG.warning("Not releasing the stage's unserved models: could not read whether the stack rolls back: %s", error)
        return []
    try:
        released = release_unserved_models(bedrock, resource_identity.name_prefix(name), stage)
    except (ClientError, BotoCoreError) as error:
        LOG.warning("Could not release the stage's unserved models: %s", error)
        return []
    for model_arn in released:
        LOG.info("Deleted the custom model %s, which nothing serves any more", model_arn)
    return released
