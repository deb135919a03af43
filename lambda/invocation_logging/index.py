"""Custom resource handler: the account and Region's Bedrock model invocation logging configuration.

There is one configuration per account and Region, so this handler never replaces one it did not create
unless told to take it over; then it keeps the replaced configuration in S3 and puts it back on Delete.
Delete removes the configuration only while it is still the one this stack put in place.
"""

import json
import logging

import custom_resource

LOG = logging.getLogger()
LOG.setLevel(logging.INFO)

bedrock = custom_resource.client("bedrock")
s3 = custom_resource.LazyClient("s3")

# CloudFormation's fixed physical id: Updates keep it, so only a real removal sends Delete.
PHYSICAL_ID = "bedrock-model-invocation-logging"


def on_event(event, _context):
    """Provider framework entry point: Create, Update and Delete each get one function."""
    LOG.info("%s %s", event["RequestType"], json.dumps(event["ResourceProperties"]))
    properties = event["ResourceProperties"]
    if event["RequestType"] == "Create":
        return create(properties)
    if event["RequestType"] == "Update":
        return update(properties, event["OldResourceProperties"])
    return delete(properties)


def create(properties):
    current = current_configuration()
    if current and not is_ours(current, properties):
        refuse_unless_taking_over(current, properties)
        save_replaced(properties, current)
    bedrock.put_model_invocation_logging_configuration(loggingConfig=desired_configuration(properties))
    return {"PhysicalResourceId": PHYSICAL_ID, "Data": {"Destination": destination(properties)}}


def update(properties, old_properties):
    current = current_configuration()
    if current and not is_ours(current, properties) and not is_ours(current, old_properties):
        refuse_unless_taking_over(current, properties)
        if load_replaced(properties) is None:
            save_replaced(properties, current)
    bedrock.put_model_invocation_logging_configuration(loggingConfig=desired_configuration(properties))
    return {"PhysicalResourceId": PHYSICAL_ID, "Data": {"Destination": destination(properties)}}


def delete(properties):
    current = current_configuration()
    if not is_ours(current, properties):
        LOG.info("The configuration is no longer this stack's (%s); leaving it as it is", describe(current))
        return {"PhysicalResourceId": PHYSICAL_ID}
    replaced = load_replaced(properties)
    if replaced:
        try:
            bedrock.put_model_invocation_logging_configuration(loggingConfig=replaced)
        except bedrock.exceptions.ClientError as error:
            raise RuntimeError(
                f"Could not restore the invocation logging configuration this stack replaced "
                f"({describe(replaced)}): {error}. Fix its destination, or delete the configuration by hand "
                f"and retry the delete."
            ) from error
        LOG.info("Restored the replaced configuration: %s", describe(replaced))
    else:
        bedrock.delete_model_invocation_logging_configuration()
    forget_replaced(properties)
    return {"PhysicalResourceId": PHYSICAL_ID}


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


def refuse_unless_taking_over(current, properties):
    if str(properties.get("TakeOver", "false")).lower() != "true":
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


def save_replaced(properties, configuration):
    s3.put_object(
        Bucket=properties["BucketName"],
        Key=properties["StateKey"],
        Body=json.dumps(configuration).encode(),
        ContentType="application/json",
    )


def load_replaced(properties):
    try:
        body = s3.get_object(Bucket=properties["BucketName"], Key=properties["StateKey"])["Body"].read()
    except s3.exceptions.NoSuchKey:
        return None
    return json.loads(body)


def forget_replaced(properties):
    s3.delete_object(Bucket=properties["BucketName"], Key=properties["StateKey"])
