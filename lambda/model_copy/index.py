"""Custom resource handler: a copy, in this account, of a custom model another account shares through AWS RAM.

CreateModelCopyJob runs in the background, so on_event starts it and is_complete reports the copied model once the
job has completed. The copy's name (TargetModelName, derived by the stack from the source model and the key) is its
identity: Create and Update first look for a copy job of that name and adopt it, so a retried request or a
CloudFormation rollback never makes a second copy; a copy whose model has since been deleted is made again. A new
name on Update is a new copy, and CloudFormation then deletes the old one. Delete removes the copied model only when
RetainModelOnDelete is "false"; the shared source model in the other account is never touched.
"""

import logging
import time

import custom_resource

LOG = logging.getLogger()
LOG.setLevel(logging.INFO)

bedrock = custom_resource.client("bedrock")


def on_event(event, context):
    """Provider framework entry point: one function per request type."""
    LOG.info("%s %s (%s)", event["RequestType"], event["LogicalResourceId"], event.get("PhysicalResourceId", ""))
    custom_resource.release_stage_models(bedrock, event["ResourceProperties"]["TargetModelName"])
    if event["RequestType"] == "Delete":
        return delete(event, context)
    properties = event["ResourceProperties"]
    existing = find_copy(properties["TargetModelName"])
    if existing is not None:
        LOG.info("Adopting the model copy %s (%s)", existing["jobArn"], existing["status"])
        if existing["status"] == "Completed":
            # A copy adopted again owns its model again: an earlier Delete may have marked it to be deleted once
            # unserved (a running copy has no model yet, and its Delete waits for it instead of marking it).
            custom_resource.untag_for_deletion(bedrock, existing["targetModelArn"])
        return {"PhysicalResourceId": existing["jobArn"], "Data": {"StartedAt": str(int(time.time()))}}
    response = bedrock.create_model_copy_job(
        sourceModelArn=properties["SourceModelArn"],
        targetModelName=properties["TargetModelName"],
        modelKmsKeyId=properties["KmsKeyArn"],
        targetModelTags=custom_resource.tag_list(properties.get("Tags")),
        clientRequestToken=custom_resource.token(properties["TargetModelName"], event["RequestId"]),
    )
    return {"PhysicalResourceId": response["jobArn"], "Data": {"StartedAt": str(int(time.time()))}}


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
    return custom_resource.unless_gone(bedrock.get_custom_model, modelIdentifier=model_arn) is not None


def delete(event, context):
    """Delete the copied model when it is not to be kept; is_complete finishes that for a copy still running."""
    release(event, context)
    return {"PhysicalResourceId": event["PhysicalResourceId"]}


def release(event, context):
    """Whether the copied model is taken care of: kept, deleted, or (False) not there yet because the copy runs."""
    job_arn = event["PhysicalResourceId"]
    if event["ResourceProperties"].get("RetainModelOnDelete") != "false" or not custom_resource.is_arn(job_arn):
        return True
    job = custom_resource.unless_gone(bedrock.get_model_copy_job, jobArn=job_arn)
    if job is None or job["status"] == "Failed":
        return True
    if job["status"] != "Completed":
        LOG.info("The model copy %s still runs; its model is deleted once it exists", job_arn)
        return False
    outcome = custom_resource.delete_model_unless_served(bedrock, job["targetModelArn"], context)
    LOG.info("The copied model %s: %s", job["targetModelArn"], outcome)
    return True


def is_complete(event, context):
    """Create and Update complete once the copy job has; Delete once the copied model is kept or deleted (a copy
    cannot be stopped, so one still running is waited for, and its model deleted when it is there)."""
    if event["RequestType"] == "Delete":
        return {"IsComplete": release(event, context)}
    job = bedrock.get_model_copy_job(jobArn=event["PhysicalResourceId"])
    if job["status"] == "Completed":
        return {"IsComplete": True, "Data": {"ModelArn": job["targetModelArn"], "CopyJobArn": job["jobArn"]}}
    if job["status"] == "Failed":
        raise RuntimeError(
            f"Copying {job['sourceModelArn']} failed: {job.get('failureMessage') or 'Bedrock gave no reason'}. "
            "Check that the source stage shares the model with this account (AWS RAM) and deploy again."
        )
    give_up_after = int(event["ResourceProperties"]["GiveUpAfterSeconds"])
    if time.time() - int(event["Data"]["StartedAt"]) > give_up_after:
        raise RuntimeError(
            f"The model copy {job['jobArn']} did not complete within {give_up_after / 60:g} minutes. It goes on in "
            "the background (a copy cannot be stopped); deploy again later: the next deploy adopts it."
        )
    return {"IsComplete": False}
