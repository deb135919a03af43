"""Custom resource handler: a Provisioned Throughput that serves the distilled custom model.

A Provisioned Throughput bills by the hour from the moment it exists, so none is left behind: one that fails or
does not reach InService in time is deleted by is_complete (the Provider framework sends no Delete after a failed
Create), and Delete waits until Bedrock has really removed it. Only the model, the model units and the commitment
define a throughput; a change to any of them replaces it, and anything else keeps the one that serves.
"""

import json
import logging

import custom_resource

LOG = logging.getLogger()
LOG.setLevel(logging.INFO)

bedrock = custom_resource.client("bedrock")

KIND = "Provisioned Throughput"


def on_event(event, _context):
    """Provider framework entry point: Create, Update and Delete each get one function."""
    LOG.info("%s %s", event["RequestType"], json.dumps(event["ResourceProperties"]))
    if event["RequestType"] == "Create":
        return create(event, custom_resource.model_arn(bedrock, event["ResourceProperties"]))
    if event["RequestType"] == "Update":
        return update(event)
    return delete(event["PhysicalResourceId"])


def is_complete(event, _context):
    """Provider framework entry point: polled until the throughput is InService, or gone after a Delete."""
    return custom_resource.wait_until_ready(
        event,
        kind=KIND,
        ready_status="InService",
        arn_key="ProvisionedModelArn",
        name_key="provisionedModelName",
        describe=describe,
        delete=remove,
    )


def create(event, model):
    properties = event["ResourceProperties"]
    token = custom_resource.request_token(event)
    request = {
        "clientRequestToken": token,
        "provisionedModelName": custom_resource.unique_name(
            properties["NamePrefix"], token, custom_resource.NAME_MAX_LENGTH
        ),
        "modelId": model,
        "modelUnits": int(properties["ModelUnits"]),
        "tags": custom_resource.tag_list(properties.get("Tags")),
    }
    if properties["CommitmentDuration"]:
        request["commitmentDuration"] = properties["CommitmentDuration"]
    arn = bedrock.create_provisioned_model_throughput(**request)["provisionedModelArn"]
    LOG.info("Created %s %s (%s)", KIND, arn, request["provisionedModelName"])
    return waiting_for(arn, model)


def update(event):
    """Compares with the throughput itself rather than the old properties: an Update that CloudFormation sends to roll
    back a failed one then keeps the throughput that still serves, and one that failed or vanished is replaced."""
    properties = event["ResourceProperties"]
    model = custom_resource.model_arn(bedrock, properties)
    current = describe(event["PhysicalResourceId"])
    wanted = (model, int(properties["ModelUnits"]), properties["CommitmentDuration"])
    if (
        current is None
        or current["status"] == "Failed"
        or (current["desiredModelArn"], current["desiredModelUnits"], current.get("commitmentDuration", "")) != wanted
    ):
        return create(event, model)
    return waiting_for(event["PhysicalResourceId"], model)


def delete(arn):
    if custom_resource.is_arn(arn):
        remove(arn)
    return {"PhysicalResourceId": arn}


def waiting_for(arn, model):
    data = {"ProvisionedModelArn": arn, "ModelArn": model, "StartedAt": custom_resource.started_at()}
    return {"PhysicalResourceId": arn, "Data": data}


def describe(arn):
    try:
        return bedrock.get_provisioned_model_throughput(provisionedModelId=arn)
    except bedrock.exceptions.ResourceNotFoundException:
        return None


def remove(arn):
    try:
        bedrock.delete_provisioned_model_throughput(provisionedModelId=arn)
    except bedrock.exceptions.ResourceNotFoundException:
        LOG.info("The %s %s is already gone", KIND, arn)
