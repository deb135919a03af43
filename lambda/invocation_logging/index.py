"""Custom resource handler: the account and Region's Bedrock model invocation logging configuration.

There is one configuration per account and Region, so this handler never replaces one it did not create unless told
to take it over; then it keeps the replaced configuration and puts it back on Delete. Delete removes the
configuration only while it is still the one this stack put in place.

What the handler must remember (the configuration it replaced, and the one it last put in place) lives in an SSM
parameter named by the stack (StateParameterName), not in a bucket the stack may replace or empty: a new logs bucket
must not make Delete forget what it promised to restore.

CloudFormation rolls back a refused Update with a second Update carrying the previous properties. When those
describe the configuration this stack last put in place, there is nothing to undo: if someone else's configuration
is in place now, it is left alone and the rollback succeeds, instead of being refused a second time
(UPDATE_ROLLBACK_FAILED). Only a change the stack asks for is refused.
"""

import json
import logging

import aws_clients
import request_log

LOG = logging.getLogger()

bedrock = aws_clients.client("bedrock")
ssm = aws_clients.client("ssm")

# CloudFormation's fixed physical id: Updates keep it, so only a real removal sends Delete.
PHYSICAL_ID = "bedrock-model-invocation-logging"


@request_log.cloudformation_request
def on_event(event, _context):
    """Provider framework entry point: Create, Update and Delete each get one function."""
    LOG.info("%s %s", event["RequestType"], event["LogicalResourceId"])
    properties = event["ResourceProperties"]
    if event["RequestType"] == "Create":
        return create(properties)
    if event["RequestType"] == "Update":
        return update(properties, event["OldResourceProperties"])
    return delete(properties)


def create(properties):
    current = current_configuration()
    state = load_state(properties)
    if current and not ours(current, properties, state):
        refuse_unless_taking_over(current, properties)
        remember_replaced(properties, state, current)
    put(properties, state)
    return answer(properties)


def update(properties, old_properties):
    current = current_configuration()
    state = load_state(properties)
    desired = desired_configuration(properties)
    if current == desired:
        if state.get("applied") != desired:
            state["applied"] = desired
            save_state(properties, state)
    elif not current or ours(current, old_properties, state):
        put(properties, state)
    elif desired == state.get("applied") and not taking_over(properties):
        # This stack is asked to be what it last was (a rollback of a refused change, say), but someone else's
        # configuration has replaced it since: there is nothing to undo, and theirs is not ours to replace.
        LOG.info("Leaving the configuration in place (%s): it is not this stack's", describe(current))
    else:
        refuse_unless_taking_over(current, properties)
        remember_replaced(properties, state, current)
        put(properties, state)
    return answer(properties)


def delete(properties):
    current = current_configuration()
    state = load_state(properties)
    if not ours(current, properties, state):
        LOG.info("The configuration is no longer this stack's (%s); leaving it as it is", describe(current))
    elif state.get("replaced"):
        restore(state["replaced"])
    else:
        bedrock.delete_model_invocation_logging_configuration()
    aws_clients.unless_gone(ssm.delete_parameter, gone=("ParameterNotFound",), Name=properties["StateParameterName"])
    return {"PhysicalResourceId": PHYSICAL_ID}


def restore(replaced):
    """Put back the configuration this stack replaced. One Bedrock refuses (its destination is gone, say) cannot be
    restored: this stack's own is deleted instead, so that nothing keeps delivering the account's prompts to a bucket
    that is going away, and the delete goes on."""
    try:
        bedrock.put_model_invocation_logging_configuration(loggingConfig=replaced)
    except bedrock.exceptions.ValidationException as error:
        LOG.warning(
            "Could not restore the configuration this stack replaced (%s): %s. Deleted this stack's own instead: "
            "the account now has no invocation logging configuration.",
            describe(replaced),
            error,
        )
        bedrock.delete_model_invocation_logging_configuration()
        return
    LOG.info("Restored the replaced configuration: %s", describe(replaced))


def remember_replaced(properties, state, current):
    """Keep someone else's configuration, about to be replaced, to restore on Delete (``put`` saves it before it
    replaces anything). The latest one replaced is the one to restore: an older one was replaced by its successor."""
    state["replaced"] = current


def ours(configuration, properties, state):
    """Whether the configuration is this stack's: what ``properties`` ask for, what it last put, or what it was about
    to put when a request of it ended (a put whose answer or record was lost)."""
    return is_ours(configuration, properties) or configuration in (state.get("applied"), state.get("pending"))


def put(properties, state):
    """Put this stack's configuration in place. The record is saved first, with what is about to be put (and what it
    replaces): a record that cannot be saved stops the change before anything is replaced, and a put whose outcome
    is lost is still recognised as ours. Once Bedrock has taken it, it is recorded as the one this stack applied."""
    desired = desired_configuration(properties)
    state["pending"] = desired
    save_state(properties, state)
    bedrock.put_model_invocation_logging_configuration(loggingConfig=desired)
    state["applied"] = desired
    del state["pending"]
    save_state(properties, state)


def answer(properties):
    return {"PhysicalResourceId": PHYSICAL_ID, "Data": {"Destination": destination(properties)}}


def current_configuration():
    return bedrock.get_model_invocation_logging_configuration().get("loggingConfig") or {}


def desired_configuration(properties):
    return {
        "s3Config": {"bucketName": properties["BucketName"], "keyPrefix": properties["KeyPrefix"]},
        "textDataDeliveryEnabled": True,
        "imageDataDeliveryEnabled": False,
        "embeddingDataDeliveryEnabled": False,
    }


def is_ours(configuration, properties):
    s3_config = configuration.get("s3Config") or {}
    return (
        s3_config.get("bucketName") == properties["BucketName"]
        and s3_config.get("keyPrefix", "") == properties["KeyPrefix"]
    )


def taking_over(properties):
    return str(properties.get("TakeOver", "false")).lower() == "true"


def refuse_unless_taking_over(current, properties):
    if not taking_over(properties):
        raise RuntimeError(
            f"This account and Region already has a model invocation logging configuration that this stack "
            f"did not create ({describe(current)}). Set invocationLogging.takeOver to true in the stage to "
            f"replace it (it is restored when the stack is deleted), or set invocationLogging.enabled to false "
            f"to leave it alone."
        )


def destination(properties):
    return f"s3://{properties['BucketName']}/{properties['KeyPrefix']}"


def describe(configuration):
    if not configuration:
        return "no configuration"
    places = []
    if "s3Config" in configuration:
        s3_config = configuration["s3Config"]
        places.append(f"s3://{s3_config['bucketName']}/{s3_config.get('keyPrefix', '')}")
    if "cloudWatchConfig" in configuration:
        places.append(f"CloudWatch Logs group {configuration['cloudWatchConfig']['logGroupName']}")
    return "delivering to " + " and ".join(places) if places else "delivering nowhere"


def load_state(properties):
    """What this stack remembers: {"replaced": the configuration it took over, "applied": the one it put}. The
    parameter's name comes from the stage's name, which a stack never changes."""
    try:
        return json.loads(ssm.get_parameter(Name=properties["StateParameterName"])["Parameter"]["Value"])
    except ssm.exceptions.ParameterNotFound:
        return {}


def save_state(properties, state):
    ssm.put_parameter(
        Name=properties["StateParameterName"],
        Value=json.dumps(state),
        Type="String",
        Overwrite=True,
        Description="What the stage's invocation logging resource replaced and last put in place; do not edit",
    )
