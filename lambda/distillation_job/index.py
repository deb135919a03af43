"""Custom resource handler: a Bedrock model distillation job, started by CloudFormation and left to run.

A job runs for hours and a custom resource may wait one hour at most, so Create returns as soon as Bedrock has
accepted the job; the serving stack waits for its model (see job_watcher). A job bills from the moment it starts, so
a Create that fails after starting one stops it (the Provider framework sends no Delete after a failed Create), and
the request's clientRequestToken makes a retried Create get back the job it already started rather than a second.
A change to anything that defines the job starts a new one; CloudFormation then deletes the old, which stops it if
it still runs. Tags do not define the job: a change of tags is applied to the job and its model in place. The custom
model a job produced is kept on Delete unless RetainModelOnDelete is "false".
"""

import json
import logging

import custom_resource

LOG = logging.getLogger()
LOG.setLevel(logging.INFO)

bedrock = custom_resource.client("bedrock")

# Properties that do not define the job: changing them must never start a new, paid one. ServiceToken and
# ServiceTimeout belong to CloudFormation's custom resource itself; tags are applied in place.
NOT_JOB_DEFINING = frozenset({"ServiceToken", "ServiceTimeout", "RetainModelOnDelete", "JobTags", "CustomModelTags"})
# Compared as values, not text, so that a change in JSON formatting does not start a new job either.
JSON_PROPERTIES = ("TrainingDataConfig", "VpcConfig", "JobTags", "CustomModelTags")


def on_event(event, _context):
    """Provider framework entry point: Create, Update and Delete each get one function."""
    LOG.info("%s %s", event["RequestType"], json.dumps(event["ResourceProperties"]))
    if event["RequestType"] == "Create":
        return start_job(event)
    if event["RequestType"] == "Update":
        return update(event)
    return delete(event)


def start_job(event):
    properties = event["ResourceProperties"]
    token = custom_resource.request_token(event)
    name = custom_resource.unique_name(properties["JobNamePrefix"], token, custom_resource.NAME_MAX_LENGTH)
    job_arn = bedrock.create_model_customization_job(
        **job_request(properties), jobName=name, customModelName=name, clientRequestToken=token
    )["jobArn"]
    LOG.info("Bedrock accepted the distillation job %s (%s)", name, job_arn)
    try:
        return {
            "PhysicalResourceId": job_arn,
            "Data": job_data(bedrock.get_model_customization_job(jobIdentifier=job_arn)),
        }
    except Exception as error:
        raise failure_after_stopping(job_arn, error) from error


def job_request(properties):
    request = {
        "roleArn": properties["RoleArn"],
        "baseModelIdentifier": properties["StudentModelIdentifier"],
        "customizationType": "DISTILLATION",
        "customizationConfig": {
            "distillationConfig": {
                "teacherModelConfig": {
                    "teacherModelIdentifier": properties["TeacherModelIdentifier"],
                    "maxResponseLengthForInference": int(properties["MaxResponseLengthForInference"]),
                }
            }
        },
        "trainingDataConfig": json.loads(properties["TrainingDataConfig"]),
        "outputDataConfig": {"s3Uri": properties["OutputS3Uri"]},
        "customModelKmsKeyId": properties["CustomModelKmsKeyId"],
        "jobTags": custom_resource.tag_list(properties.get("JobTags")),
        "customModelTags": custom_resource.tag_list(properties.get("CustomModelTags")),
    }
    if properties.get("VpcConfig"):
        request["vpcConfig"] = json.loads(properties["VpcConfig"])
    return request


def failure_after_stopping(job_arn, error):
    """Stops the job this request started, as nothing else would once the request fails, and says so in the error."""
    try:
        bedrock.stop_model_customization_job(jobIdentifier=job_arn)
    except bedrock.exceptions.ClientError as stop_error:
        return RuntimeError(
            f"Bedrock accepted the distillation job {job_arn}, then this request failed: {error}. Stopping the job "
            f"failed too ({stop_error}): stop it by hand (aws bedrock stop-model-customization-job "
            f"--job-identifier {job_arn}) so that it does not run on unwatched."
        )
    return RuntimeError(
        f"Bedrock accepted the distillation job {job_arn}, then this request failed: {error}. The job was stopped "
        f"so that it does not run on unwatched; fix the cause and deploy again."
    )


def update(event):
    if job_definition(event["ResourceProperties"]) != job_definition(event["OldResourceProperties"]):
        return start_job(event)
    job_arn = event["PhysicalResourceId"]
    job = bedrock.get_model_customization_job(jobIdentifier=job_arn)
    retag(job, event["ResourceProperties"], event["OldResourceProperties"])
    return {"PhysicalResourceId": job_arn, "Data": job_data(job)}


def retag(job, properties, old_properties):
    """Apply changed tags to the job and, once it exists, its custom model; removed keys are untagged."""
    targets = [(job["jobArn"], "JobTags")]
    if job.get("outputModelArn"):
        targets.append((job["outputModelArn"], "CustomModelTags"))
    for arn, name in targets:
        new = json.loads(properties.get(name) or "{}")
        old = json.loads(old_properties.get(name) or "{}")
        if new != old:
            if new:
                bedrock.tag_resource(resourceARN=arn, tags=custom_resource.tag_list(properties.get(name)))
            removed = sorted(set(old) - set(new))
            if removed:
                bedrock.untag_resource(resourceARN=arn, tagKeys=removed)


def job_definition(properties):
    definition = {name: value for name, value in properties.items() if name not in NOT_JOB_DEFINING}
    for name in JSON_PROPERTIES:
        if definition.get(name):
            definition[name] = json.loads(definition[name])
    return definition


def job_data(job):
    return {
        "JobArn": job["jobArn"],
        "JobName": job["jobName"],
        "CustomModelName": job["outputModelName"],
        "Status": job["status"],
    }


def delete(event):
    job_arn = event["PhysicalResourceId"]
    if not custom_resource.is_arn(job_arn):
        return {"PhysicalResourceId": job_arn}
    try:
        job = bedrock.get_model_customization_job(jobIdentifier=job_arn)
    except bedrock.exceptions.ResourceNotFoundException:
        LOG.info("The distillation job %s is already gone", job_arn)
        return {"PhysicalResourceId": job_arn}
    retain_model = str(event["ResourceProperties"].get("RetainModelOnDelete", "true")).lower() != "false"
    if job["status"] == "InProgress":
        bedrock.stop_model_customization_job(jobIdentifier=job_arn)
        LOG.info("Stopped the distillation job %s", job_arn)
    elif job["status"] == "Completed" and not retain_model:
        delete_model(job["outputModelArn"])
    else:
        LOG.info("The distillation job %s is %s; nothing to stop or delete", job_arn, job["status"])
    return {"PhysicalResourceId": job_arn}


def delete_model(model_arn):
    try:
        bedrock.delete_custom_model(modelIdentifier=model_arn)
    except bedrock.exceptions.ResourceNotFoundException:
        LOG.info("The custom model %s is already gone", model_arn)
        return
    LOG.info("Deleted the custom model %s", model_arn)
