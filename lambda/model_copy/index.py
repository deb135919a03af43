"""Custom resource handler: a copy, in this account, of a custom model another account shares through AWS RAM.

CreateModelCopyJob runs in the background, so on_event starts it and is_complete reports the copied model once the
job has completed. The copy's name (TargetModelName, derived by the stack from the source model and the key) is its
identity: Create and Update first look for a copy job of that name and adopt it, so a retried request or a
CloudFormation rollback never makes a second copy; a copy whose model has since been deleted is made again. A
CreateModelCopyJob whose answer is lost is settled the same way, by looking the copy up by name. A copy of that name
is adopted only if its model carries the stage's tag (stage_ownership.require_stage): another team's copy fails the
request and is left as it is. A new name on Update
is a new copy, and CloudFormation then deletes the old one. Delete removes the copied model only when
RetainModelOnDelete is "false"; the shared source model in the other account is never touched.

A failed forward Update may have started a copy that the stack never learnt of (its answer lost past the handler's
time). CloudFormation's rollback (an Update back to the previous properties) then finds that stray by the name in its
OldResourceProperties and releases it as its Delete would have: a copy cannot be stopped, so is_complete waits for it
to complete, then deletes its model when RetainModelOnDelete is "false" (or tags it to be deleted once unserved).
"""

import logging
import time

import aws_clients
import lost_answers
import model_release
import request_log
import resource_identity
import stage_ownership
from botocore.exceptions import BotoCoreError

LOG = logging.getLogger()

bedrock = aws_clients.client("bedrock")
cloudformation = aws_clients.client("cloudformation")

# How long to wait before looking again for a copy whose CreateModelCopyJob answer was lost, when Bedrock is out of
# reach.
SETTLE_RETRY_SECONDS = 5
# What to do when a copy of the stage's name is not the stage's: a custom model cannot be renamed, and the copy's name
# comes from the source model and the stage's key (distill/constructs/model_copy.py).
NOT_THE_STAGES_REMEDY = (
    "Delete its copied model if it is yours and unused (a copy still running can be deleted once it completes); "
    "otherwise deploy the stage under another stage name"
)


@request_log.cloudformation_request
def on_event(event, context):
    """Provider framework entry point: one function per request type."""
    LOG.info("%s %s (%s)", event["RequestType"], event["LogicalResourceId"], event.get("PhysicalResourceId", ""))
    # The wait's deadline counts from here: the looks below may take minutes when Bedrock is slow to answer, and
    # CloudFormation's hour runs from the request.
    began = int(time.time())
    properties = event["ResourceProperties"]
    model_release.release_stage_models(
        bedrock,
        cloudformation,
        event,
        properties["TargetModelName"],
        stage_ownership.stage_of(properties.get("Tags")),
    )
    if event["RequestType"] == "Delete":
        return delete(event, context)
    answered = find_or_create(event, context, began)
    if event["RequestType"] == "Update":
        stray = stray_copy(event, answered["PhysicalResourceId"])
        if stray is not None:
            LOG.info(
                "The model copy %s was made by a failed update and nothing holds it; releasing it", stray["jobArn"]
            )
            answered["Data"]["StrayCopyJobArn"] = stray["jobArn"]
    return answered


def find_or_create(event, context, began):
    """Adopt the copy of the name the properties give, or start it; ``began`` is when the request came."""
    properties = event["ResourceProperties"]
    name = properties["TargetModelName"]
    existing = find_copy(name)
    if existing is not None:
        require_stage(properties, existing)
        LOG.info("Adopting the model copy %s (%s)", existing["jobArn"], existing["status"])
        if existing["status"] == "Completed":
            # A copy adopted again owns its model again: an earlier Delete may have marked it to be deleted once
            # unserved (a running copy has no model yet, and its Delete waits for it instead of marking it).
            model_release.untag_for_deletion(bedrock, existing["targetModelArn"])
        return started(existing["jobArn"], began)
    try:
        response = bedrock.create_model_copy_job(
            sourceModelArn=properties["SourceModelArn"],
            targetModelName=name,
            modelKmsKeyId=properties["KmsKeyArn"],
            targetModelTags=resource_identity.tag_list(properties.get("Tags")),
            clientRequestToken=resource_identity.token(name, event["RequestId"]),
        )
    except BotoCoreError as error:
        found = lost_answers.settle_by_name(
            find_copy, "model copy", name, error, context, interval=SETTLE_RETRY_SECONDS
        )
        require_stage(properties, found)
        return started(found["jobArn"], began)
    return started(response["jobArn"], began)


def started(job_arn, began):
    return {"PhysicalResourceId": job_arn, "Data": {"StartedAt": str(began)}}


def stray_copy(event, kept):
    """The copy named by the OldResourceProperties when it is neither the one the stack holds nor the one this
    request keeps: made by a failed forward Update whose answer was lost, it would be held by nothing after the
    rollback. None when there is none."""
    old_name = event["OldResourceProperties"].get("TargetModelName")
    if not old_name or old_name == event["ResourceProperties"]["TargetModelName"]:
        return None
    stray = find_copy(old_name)
    if stray is None or stray["jobArn"] in (event["PhysicalResourceId"], kept):
        return None
    try:
        require_stage(event["ResourceProperties"], stray)
    except stage_ownership.NotTheStages as refusal:
        # Failing here would fail the request (in a rollback, leaving the stack in UPDATE_ROLLBACK_FAILED) for a
        # copy that is not the stage's; it is only not released.
        LOG.warning("Not releasing the model copy named %s: %s", old_name, refusal)
        return None
    return stray


def require_stage(properties, summary):
    """stage_ownership.require_stage for a copy found by name (a ListModelCopyJobs summary), against the stage of the
    properties' Tags. A copy job has no tags of its own (CreateModelCopyJob tags only the copied model: API reference,
    CreateModelCopyJob, read 2026-12-02): a completed copy's model is asked for its tags, and a copy still running
    has no model yet, so the tags it was asked to give the model are read from the summary (ModelCopyJobSummary
    targetModelTags)."""
    stage, name = stage_ownership.stage_of(properties.get("Tags")), summary["targetModelName"]
    if summary["status"] == "Completed":
        stage_ownership.require_stage(
            bedrock, "copied model", name, summary["targetModelArn"], stage, NOT_THE_STAGES_REMEDY
        )
    else:
        tags = summary.get("targetModelTags", [])
        stage_ownership.require_stage(
            bedrock, "model copy", name, summary["jobArn"], stage, NOT_THE_STAGES_REMEDY, tags=tags
        )


def find_copy(name):
    """The copy job that makes (or made) the model ``name``, unless it failed or its model was deleted since."""
    summaries = bedrock.list_model_copy_jobs(targetModelNameContains=name)["modelCopyJobSummaries"]
    for summary in sorted(summaries, key=lambda s: s["creationTime"], reverse=True):
        if summary.get("targetModelName") != name or summary["status"] == "Failed":
            continue
        if summary["status"] == "Completed" and not model_exists(summary["targetModelArn"]):
            continue
        return summary
    return None


def model_exists(model_arn):
    return aws_clients.unless_gone(bedrock.get_custom_model, modelIdentifier=model_arn) is not None


def delete(event, context):
    """Delete the copied model when it is not to be kept; is_complete finishes that for a copy still running."""
    release(event, context)
    return {"PhysicalResourceId": event["PhysicalResourceId"]}


def release(event, context):
    """release_copy of the copy the stack holds, as its properties say. A physical id that is no ARN follows a Create
    CloudFormation never heard back from (past its hour, or the stack deleted while is_complete waited): the copy
    that Create started or adopted is found by its name, if it is the stage's."""
    properties = event["ResourceProperties"]
    retain = properties.get("RetainModelOnDelete")
    job_arn = event["PhysicalResourceId"]
    if retain == "false" and not resource_identity.is_arn(job_arn):
        job_arn = unheard_copy(properties)
    return release_copy(job_arn, retain, context)


def unheard_copy(properties):
    found = find_copy(properties["TargetModelName"])
    if found is None:
        return None
    try:
        require_stage(properties, found)
    except stage_ownership.NotTheStages as refusal:
        LOG.warning("Not releasing the model copy named %s: %s", properties["TargetModelName"], refusal)
        return None
    return found["jobArn"]


def release_copy(job_arn, retain_model_on_delete, context):
    """Whether the copied model of ``job_arn`` is taken care of: kept, deleted, or (False) not there yet because the
    copy runs."""
    if retain_model_on_delete != "false" or not job_arn or not resource_identity.is_arn(job_arn):
        return True
    job = aws_clients.unless_gone(bedrock.get_model_copy_job, jobArn=job_arn)
    if job is None or job["status"] == "Failed":
        return True
    if job["status"] != "Completed":
        LOG.info("The model copy %s still runs; its model is deleted once it exists", job_arn)
        return False
    outcome = model_release.delete_model_unless_served(bedrock, job["targetModelArn"], context)
    LOG.info("The copied model %s: %s", job["targetModelArn"], outcome)
    return True


@request_log.cloudformation_request
def is_complete(event, context):
    """Create and Update complete once the copy job has (an Update also once the stray it found is released); Delete
    once the copied model is kept or deleted (a copy cannot be stopped, so one still running is waited for, and its
    model deleted when it is there)."""
    if event["RequestType"] == "Delete":
        return {"IsComplete": release(event, context)}
    give_up_after = int(event["ResourceProperties"]["GiveUpAfterSeconds"])
    waited = time.time() - int(event["Data"]["StartedAt"])
    if not release_stray(event, context, give_up=waited > give_up_after):
        return {"IsComplete": False}
    job = bedrock.get_model_copy_job(jobArn=event["PhysicalResourceId"])
    if job["status"] == "Completed":
        return {"IsComplete": True, "Data": {"ModelArn": job["targetModelArn"], "CopyJobArn": job["jobArn"]}}
    if job["status"] == "Failed":
        raise RuntimeError(
            f"Copying {job['sourceModelArn']} failed: {job.get('failureMessage') or 'Bedrock gave no reason'}. "
            "Check that the source stage shares the model with this account (AWS RAM) and deploy again."
        )
    if waited > give_up_after:
        raise RuntimeError(
            f"The model copy {job['jobArn']} did not complete within {give_up_after / 60:g} minutes. It goes on in "
            "the background (a copy cannot be stopped); deploy again later: the next deploy adopts it."
        )
    return {"IsComplete": False}


def release_stray(event, context, *, give_up):
    """Whether the stray copy on_event found (if any) is released: its model kept or deleted as RetainModelOnDelete of
    the properties it was made with (the OldResourceProperties) says. Past the wait (``give_up``) it is left running
    and logged, as failing a rollback for it would leave the stack in UPDATE_ROLLBACK_FAILED."""
    stray = (event.get("Data") or {}).get("StrayCopyJobArn")
    if not stray or release_copy(stray, event["OldResourceProperties"].get("RetainModelOnDelete"), context):
        return True
    if give_up:
        LOG.warning(
            "The model copy %s, made by a failed update and held by nothing, still runs; delete its model once it "
            "completes (aws bedrock delete-custom-model)",
            stray,
        )
        return True
    return False
