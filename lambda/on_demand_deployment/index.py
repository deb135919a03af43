"""Custom resource handler: an on-demand custom model deployment that serves the distilled model.

Where Bedrock supports it (Amazon Nova models customized after 2025-07-16), a deployment serves a custom model on
demand, billed per token, instead of a Provisioned Throughput billed by the hour. It shares the throughput's
lifecycle (serving_lifecycle.ServingLifecycle): found by name, moved in place to a new model with
UpdateCustomModelDeployment, created anew only when its name changes.
"""

import aws_clients
import request_log
import resource_identity
import serving_lifecycle

bedrock = aws_clients.client("bedrock")


def create(properties, model, token):
    request = {
        "clientRequestToken": token,
        "modelDeploymentName": properties["Name"],
        "modelArn": model,
        "tags": resource_identity.tag_list(properties.get("Tags")),
    }
    # Bedrock refuses an empty description; no description is the way to say none.
    if properties.get("Description"):
        request["description"] = properties["Description"]
    return bedrock.create_custom_model_deployment(**request)["customModelDeploymentArn"]


def describe(identifier):
    return aws_clients.unless_gone(bedrock.get_custom_model_deployment, customModelDeploymentIdentifier=identifier)


def move(arn, model):
    bedrock.update_custom_model_deployment(customModelDeploymentIdentifier=arn, modelArn=model)


def remove(arn):
    bedrock.delete_custom_model_deployment(customModelDeploymentIdentifier=arn)


def moving(deployment):
    """Bedrock reports a deployment's move to another model in updateDetails (API reference,
    CustomModelDeploymentUpdateDetails, read 2026-12-01: modelArn, updateStatus Updating | UpdateCompleted |
    UpdateFailed)."""
    details = deployment.get("updateDetails") or {}
    return details if details.get("updateStatus") == "Updating" else None


def wanted_model(deployment):
    details = moving(deployment)
    return details["modelArn"] if details else deployment["modelArn"]


def busy(deployment):
    if deployment["status"] == "Creating":
        return "Creating"
    return "Updating" if moving(deployment) else None


lifecycle = serving_lifecycle.ServingLifecycle(
    bedrock,
    kind="custom model deployment",
    describe=describe,
    create=create,
    move=move,
    remove=remove,
    wanted_model=wanted_model,
    busy=busy,
    remedy="Delete it if it is yours and unused; otherwise, as its name comes from the stage's name and base model "
    "alone, serve the stage with a Provisioned Throughput (serving.mode) or deploy it under another stage name",
)
on_event = request_log.cloudformation_request(lifecycle.on_event)
is_complete = request_log.cloudformation_request(lifecycle.is_complete)
