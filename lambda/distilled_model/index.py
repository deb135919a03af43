"""Custom resource handler: the ARN of the custom model that the stage's completed distillation job produced.

CloudFormation types a wait condition's data as an object, so the serving stack cannot hand the signalled ARN to
other resources; this resource asks Bedrock for it once the wait is over. A new job is a new JobArn, hence a new
physical id, and resources that use the model are updated with it. Delete has nothing to do: the model belongs to
the job's lifecycle, not to this lookup.
"""

import custom_resource

bedrock = custom_resource.client("bedrock")


def on_event(event, _context):
    """Provider framework entry point."""
    if event["RequestType"] == "Delete":
        return {"PhysicalResourceId": event["PhysicalResourceId"]}
    model_arn = custom_resource.model_arn(bedrock, event["ResourceProperties"])
    return {"PhysicalResourceId": model_arn, "Data": {"ModelArn": model_arn}}
