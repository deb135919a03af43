"""Custom resource handler: a copy, in this account, of a custom model another account shares through AWS RAM.

CreateModelCopyJob runs in the background, so on_event starts it and is_complete reports the copied model once the
job has completed. The copy takes the clientRequestToken of the CloudFormation request, so a retried request cannot
start a second copy. A change of source model or key is a replacement: a new copy, and CloudFormation then deletes
the old one. Delete removes the copied model only when RetainModelOnDelete is "false"; the shared source model in
the other account is never touched.
"""

import json
import logging
import time

import custom_resource

LOG = logging.getLogger()
LOG.setLevel(logging.INFO)

bedrock = custom_resource.client("bedrock")

# A change to any of these is a different copy.
DEFINING = ("SourceModelArn", "KmsKeyArn")


def on_event(event, _context):
    """Provider framework entry point: one function per request type."""
    properties = event["ResourceProperties"]
    LOG.info("%s %s", event["RequestType"], json.dumps(properties))
    if event["RequestType"] == "Create":
        return start_copy(event)
    if event["RequestType"] == "Update":
        old = event["OldResourceProperties"]
        if any(properties.get(key) != old.get(key) for key in DEFINING):
            return start_copy(event)
        return {"PhysicalResourceId": event["PhysicalResourceId"], "Data": {"StartedAt": custom_resource.started_at()}}
    return delete(event)


def start_copy(event):
    properties = event["ResourceProperties"]
    token = custom_resource.request_token(event)
    response = bedrock.create_model_copy_job(
        sourceModelArn=properties["SourceModelArn"],
        targetModelName=custom_resource.unique_name(properties["NamePrefix"], token, custom_resource.NAME_MAX_LENGTH),
        modelKmsKeyId=properties["KmsKeyArn"],
        targetModelTags=custom_resource.tag_list(properties.get("Tags")),
        clientRequestToken=token,
    )
    return {"PhysicalResourceId": response["jobArn"], "Data": {"StartedAt": custom_resource.started_at()}}


def delete(event):
    job_arn = event["PhysicalResourceId"]
    if event["ResourceProperties"].get("RetainModelOnDelete") == "false" and custom_resource.is_arn(job_arn):
        try:
            job = bedrock.get_model_copy_job(jobArn=job_arn)
            if job.get("targetModelArn"):
                bedrock.delete_custom_model(modelIdentifier=job["targetModelArn"])
        except bedrock.exceptions.ResourceNotFoundException:
            LOG.info("The copy job or its model is already gone")
    return {"PhysicalResourceId": job_arn}


def is_complete(event, _context):
    """Create and Update complete once the copy job has; Delete has nothing to wait for."""
    if event["RequestType"] == "Delete":
        return {"IsComplete": True}
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
            f"The model copy {job['jobArn']} did not complete within {give_up_after / 60:g} minutes. A copy cannot be "
            f"stopped: when it completes, its model {job['targetModelName']} stays in this account (delete it with "
            "`aws bedrock delete-custom-model` if the next deployment makes a new copy)."
        )
    return {"IsComplete": False}
