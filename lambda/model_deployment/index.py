"""Custom resource handler: an on-demand custom model deployment that serves the distilled model.

Where Bedrock supports it (Amazon Nova models customized after 2025-07-16), a deployment serves a custom model on
demand, billed per token, instead of a Provisioned Throughput billed by the hour. It shares the throughput's
lifecycle (custom_resource.ServingLifecycle): one that fails or does not become Active in time is deleted by
is_complete, and Delete waits until Bedrock has removed it. The model and the description define a deployment: a
change to either replaces it, anything else keeps it. (UpdateCustomModelDeployment could swap the model in place
and keep the ARN; replacing keeps one lifecycle for both kinds of serving.)
"""

import custom_resource

bedrock = custom_resource.client("bedrock")


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
    return bedrock.create_custom_model_deployment(**request)["customModelDeploymentArn"]


def serves(current, properties, model):
    return (current["modelArn"], current.get("description", "")) == (model, properties.get("Description", ""))


def describe(arn):
    return custom_resource.unless_gone(bedrock.get_custom_model_deployment, customModelDeploymentIdentifier=arn)


def remove(arn):
    custom_resource.unless_gone(bedrock.delete_custom_model_deployment, customModelDeploymentIdentifier=arn)


LIFECYCLE = custom_resource.ServingLifecycle(
    bedrock,
    kind="custom model deployment",
    ready_status="Active",
    arn_key="DeploymentArn",
    name_key="modelDeploymentName",
    create=create,
    describe=describe,
    remove=remove,
    serves=serves,
)
on_event = LIFECYCLE.on_event
is_complete = LIFECYCLE.is_complete
