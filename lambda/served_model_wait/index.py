"""Scheduled target: tells the serving stack's wait condition when the served model is ready, or failed.

A Provisioned Throughput can take more than an hour to reach InService (user guide, prov-thru-purchase.html, read
2026-11-30), longer than a custom resource may wait, so the serving resource returns once Bedrock has accepted it
and a wait condition (up to 12 hours) waits for this function's signal. Bedrock sends no events for throughputs or
deployments, so a schedule invokes it. It signals SUCCESS once the resource serves the wanted model (a throughput
InService, a deployment Active), FAILURE with Bedrock's failureMessage when it failed; then the stack's rollback
deletes what it created.
"""

import logging
import os

import aws_clients
import request_log
import wait_signal

LOG = logging.getLogger()

bedrock = aws_clients.client("bedrock")

# How each kind of serving is described, and the status in which it serves.
KINDS = {
    "Provisioned Throughput": (
        lambda arn: bedrock.get_provisioned_model_throughput(provisionedModelId=arn),
        "InService",
    ),
    "custom model deployment": (
        lambda arn: bedrock.get_custom_model_deployment(customModelDeploymentIdentifier=arn),
        "Active",
    ),
}


def watched(_event):
    """The ids on the log lines besides the event's: the serving resource's ARN and the model it is to serve."""
    return {"resourceArn": os.environ["RESOURCE_ARN"], "modelArn": os.environ["MODEL_ARN"]}


@request_log.eventbridge_event(watched)
def handler(event, _context):
    """Signals the wait condition once the served model is ready or has failed; returns its status."""
    kind, arn, model = os.environ["KIND"], os.environ["RESOURCE_ARN"], os.environ["MODEL_ARN"]
    if not wait_signal.still_waiting():
        wait_signal.stop_polling()
        return "not waiting"
    describe, ready = KINDS[kind]
    resource = aws_clients.unless_gone(describe, arn=arn)
    if resource is None:
        wait_signal.signal("FAILURE", f"The {kind} {arn} no longer exists. Deploy again to create it anew.")
        return "missing"
    status = resource["status"]
    move = resource.get("updateDetails") or {}  # a deployment moving to another model says how that went here
    if move.get("updateStatus") == "UpdateFailed":
        reason = wait_signal.shorten(resource.get("failureMessage") or "Bedrock gave no reason")
        wait_signal.signal("FAILURE", f"The {kind} {arn} could not move to {model}: {reason}. Deploy again to retry.")
        return "UpdateFailed"
    if status == ready and resource["modelArn"] == model and move.get("updateStatus") != "Updating":
        wait_signal.signal("SUCCESS", f"The {kind} {arn} serves {model}.", arn)
    elif status == "Failed":
        reason = wait_signal.shorten(resource.get("failureMessage") or "Bedrock gave no reason")
        kept = (
            "It has a commitment, so it is kept (it cannot be deleted before its term ends): ask AWS support."
            if resource.get("commitmentDuration")
            else "The rollback deletes it if this deployment created it; deploy again to retry."
        )
        wait_signal.signal("FAILURE", f"The {kind} {arn} failed: {reason}. {kept}")
    else:
        LOG.info("The %s %s is %s (serving %s, wanted %s)", kind, arn, status, resource["modelArn"], model)
    return status
