"""Custom resource handler: an on-demand custom model deployment that serves the distilled model.

Where Bedrock supports it (Amazon Nova models customized after 2025-07-16), a deployment serves a custom model on
demand, billed per token, instead of a Provisioned Throughput billed by the hour. It shares the throughput's
lifecycle: one that fails or does not become Active in time is deleted by is_complete (the Provider framework sends
no Delete after a failed Create), and Delete waits until Bedrock has removed it. The model and the description define
a deployment: a change to either replaces it, anything else keeps it. (UpdateCustomModelDeployment could swap the
model in place and keep the ARN; replacing keeps one lifecycle for both kinds of serving.)
"""

import json
import logging

import custom_resource

LOG = logging.getLogger()
LOG.setLevel(logging.INFO)

bedrock = custom_resource.client("bedrock")

KIND = "custom model deployment"


def on_event(event, _context):
    """Provider framework entry point: Create, Update and Delete each get one function."""
    LOG.info("%s %s", event["RequestType"], json.dumps(event["ResourceProperties"]))
    if event["RequestType"] == "Create":
        return create(event, custom_resource.model_arn(bedrock, event["ResourceProperties"]))
    if event["RequestType"] == "Update":
        return update(event)
    return delete(event["PhysicalResourceId"])


def is_complete(event, _context):
    """Provider framework entry point: polled until the deployment is Active, or gone after a Delete."""
    return custom_resource.wait_until_ready(
        event,
        kind=KIND,
        ready_status="Active",
        arn_key="DeploymentArn",
        name_key="modelDeploymentName",
        describe=describe,
        delete=remove,
    )


def create(event, model):
    properties = event["ResourceProperties"]
    token = custom_resource.request_token(event)
    request = {
        "clientRequestToken": token,
        "modelDeploymentName": custom_resource.unique_name(
            properties["NamePrefix"], token, custom_resource.NAME_MAX_LENGTH
        ),
        "modelArn": model,
        "tags": custom_resource.tag_list(properties.get("Tags")),
    }
    # Bedrock refuses an empty description; no description is the way to say none.
    if properties.get("Description"):
        request["description"] = properties["Description"]
    arn = bedrock.create_custom_model_deployment(**request)["customModelDeploymentArn"]
    LOG.info("Created %s %s (%s)", KIND, arn, request["modelDeploymentName"])
    return waiting_for(arn, model)


def update(event):
    """Compares with the deployment itself rather than the old properties: an Update that CloudFormation sends to roll
    back a failed one then keeps the deployment that still serves, and one that failed or vanished is replaced."""
    properties = event["ResourceProperties"]
    model = custom_resource.model_arn(bedrock, properties)
    current = describe(event["PhysicalResourceId"])
    if (
        current is None
        or current["status"] == "Failed"
        or (current["modelArn"], current.get("description", "")) != (model, properties.get("Description", ""))
    ):
        return create(event, model)
    return waiting_for(event["PhysicalResourceId"], model)


def delete(arn):
    if custom_resource.is_arn(arn):
        remove(arn)
    return {"PhysicalResourceId": arn}


def waiting_for(arn, model):
    data = {"DeploymentArn": arn, "ModelArn": model, "StartedAt": custom_resource.started_at()}
    return {"PhysicalResourceId": arn, "Data": data}


def describe(arn):
    try:
        return bedrock.get_custom_model_deployment(customModelDeploymentIdentifier=arn)
    except bedrock.exceptions.ResourceNotFoundException:
        return None


def remove(arn):
    try:
        bedrock.delete_custom_model_deployment(customModelDeploymentIdentifier=arn)
    except bedrock.exceptions.ResourceNotFoundException:
        LOG.info("The %s %s is already gone", KIND, arn)
