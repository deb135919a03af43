"""Custom resource handler: the Provisioned Throughput that serves the distilled custom model.

A throughput bills by the hour per model unit from the moment it exists. Its lifecycle is
serving_lifecycle.ServingLifecycle: found by name before anything is bought, moved in place to each new model of the
same base model, created anew only when the model units, the commitment or the base model change (those are in its
name). This module holds the Provisioned Throughput calls.
"""

import aws_clients
import request_log
import resource_identity
import serving_lifecycle

bedrock = aws_clients.client("bedrock")


def create(properties, model, token):
    request = {
        "clientRequestToken": token,
        "provisionedModelName": properties["Name"],
        "modelId": model,
        "modelUnits": int(properties["ModelUnits"]),
        "tags": resource_identity.tag_list(properties.get("Tags")),
    }
    if properties["CommitmentDuration"]:
        request["commitmentDuration"] = properties["CommitmentDuration"]
    return bedrock.create_provisioned_model_throughput(**request)["provisionedModelArn"]


def describe(identifier):
    return aws_clients.unless_gone(bedrock.get_provisioned_model_throughput, provisionedModelId=identifier)


def move(arn, model):
    bedrock.update_provisioned_model_throughput(provisionedModelId=arn, desiredModelId=model)


def remove(arn):
    bedrock.delete_provisioned_model_throughput(provisionedModelId=arn)


lifecycle = serving_lifecycle.ServingLifecycle(
    bedrock,
    kind="Provisioned Throughput",
    describe=describe,
    create=create,
    move=move,
    remove=remove,
    wanted_model=lambda throughput: throughput["desiredModelArn"],
    busy=lambda throughput: throughput["status"] if throughput["status"] in ("Creating", "Updating") else None,
    remedy="Rename it (aws bedrock update-provisioned-model-throughput --desired-provisioned-model-name) or delete "
    "it if it is yours and unused, or change serving.modelUnits or serving.commitment so that the stage derives "
    "another name",
)
on_event = request_log.cloudformation_request(lifecycle.on_event)
is_complete = request_log.cloudformation_request(lifecycle.is_complete)
