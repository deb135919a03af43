"""Custom resource handler: a Provisioned Throughput that serves the distilled custom model.

A Provisioned Throughput bills by the hour from the moment it exists, so none is left behind: one that fails or
does not reach InService in time is deleted by is_complete (the Provider framework sends no Delete after a failed
Create), and Delete waits until Bedrock has really removed it. Only the model, the model units and the commitment
define a throughput; a change to any of them replaces it, and anything else keeps the one that serves. The lifecycle
is custom_resource.ServingLifecycle; this module holds the Provisioned Throughput calls.
"""

import custom_resource

bedrock = custom_resource.client("bedrock")


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
    return bedrock.create_provisioned_model_throughput(**request)["provisionedModelArn"]


def serves(current, properties, model):
    wanted = (model, int(properties["ModelUnits"]), properties["CommitmentDuration"])
    return (current["desiredModelArn"], current["desiredModelUnits"], current.get("commitmentDuration", "")) == wanted


def describe(arn):
    return custom_resource.unless_gone(bedrock.get_provisioned_model_throughput, provisionedModelId=arn)


def remove(arn):
    custom_resource.unless_gone(bedrock.delete_provisioned_model_throughput, provisionedModelId=arn)


LIFECYCLE = custom_resource.ServingLifecycle(
    bedrock,
    kind="Provisioned Throughput",
    ready_status="InService",
    arn_key="ProvisionedModelArn",
    name_key="provisionedModelName",
    create=create,
    describe=describe,
    remove=remove,
    serves=serves,
)
on_event = LIFECYCLE.on_event
is_complete = LIFECYCLE.is_complete
