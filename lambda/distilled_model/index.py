"""Custom resource handler: the custom model that the stage's completed distillation job produced, and its release.

The serving stack waits for the job on a wait condition, whose data CloudFormation types as an object, so other
resources cannot take the model ARN from it; this resource asks Bedrock for it once the wait is over. Its physical
id is the model ARN: a new job is a new model, hence a new physical id, and resources that use the model are updated
with it.

Delete releases the model. When its job's resource was deleted while a Provisioned Throughput still served the model
(RetainModelOnDelete "false"), the job's handler tagged it to be deleted once unserved; CloudFormation deletes this
resource only after whatever served the model has moved off it (the cleanup after an update) or been deleted (a stack
deletion), so that is when a tagged model is deleted.

Every request then releases the stage's (Stage) other models that nothing serves any more, except while the stack
rolls back: its rollback runs before the throughput's, which moves back to a model that may be one of them.
"""

import logging

import aws_clients
import model_release
import request_log
import resource_identity

LOG = logging.getLogger()

bedrock = aws_clients.client("bedrock")
cloudformation = aws_clients.client("cloudformation")


@request_log.cloudformation_request
def on_event(event, context):
    """Provider framework entry point."""
    properties = event["ResourceProperties"]
    name = properties["JobName"]
    answered = release(event["PhysicalResourceId"], context) if event["RequestType"] == "Delete" else look_up(name)
    model_release.release_stage_models(bedrock, cloudformation, event, name, properties.get("Stage"))
    return answered


def look_up(name):
    job = aws_clients.unless_gone(bedrock.get_model_customization_job, jobIdentifier=name)
    if job is None:
        raise RuntimeError(f"No distillation job named {name} exists: deploy the training stack first.")
    if job["status"] != "Completed":
        raise RuntimeError(
            f"The distillation job {name} is {job['status']}; its model does not exist. "
            + (
                "Deploy again once it has completed."
                if job["status"] == "InProgress"
                else "Raise distillation.revision in cdk.json to start a new job, then deploy again."
            )
        )
    model = aws_clients.unless_gone(bedrock.get_custom_model, modelIdentifier=job["outputModelArn"])
    if model is None:
        raise RuntimeError(
            f"The custom model of the distillation job {name} has been deleted. Raise distillation.revision in "
            "cdk.json to train it again, then deploy again."
        )
    data = {"ModelArn": model["modelArn"], "JobArn": job["jobArn"], "BaseModelArn": model.get("baseModelArn", "")}
    return {"PhysicalResourceId": model["modelArn"], "Data": data}


def release(model_arn, context):
    if resource_identity.is_arn(model_arn):
        tags = aws_clients.unless_gone(bedrock.list_tags_for_resource, resourceARN=model_arn)
        if tags and any(t["key"] == model_release.DELETE_WHEN_UNSERVED_TAG for t in tags["tags"]):
            outcome = model_release.delete_model_unless_served(bedrock, model_arn, context)
            LOG.info("The custom model %s, no longer wanted by its job's stack: %s", model_arn, outcome)
    return {"PhysicalResourceId": model_arn}
