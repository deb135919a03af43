"""Custom resource handler: copies a training dataset from the CDK asset bucket into the stage's data bucket.

The CDK uploads the local JSONL file as an asset; the distillation job reads it from the training-data bucket, where
it is encrypted with the stage's key and governed by that bucket's policies. The destination key carries the
file's content hash, so a changed dataset is a new object (and a new job) and nothing is overwritten; an object
that is already there is the same data and is not copied again (a CloudFormation rollback asks for the previous
dataset, which the previous deploy copied). Delete keeps the object: the data outlives the stack unless the bucket
itself is destroyed with it.
"""

import logging

import aws_clients
import request_log

LOG = logging.getLogger()

s3 = aws_clients.client("s3")


@request_log.cloudformation_request
def on_event(event, _context):
    """Provider framework entry point."""
    properties = event["ResourceProperties"]
    LOG.info("%s %s", event["RequestType"], event["LogicalResourceId"])
    if event["RequestType"] == "Delete":
        return {"PhysicalResourceId": event["PhysicalResourceId"]}
    return copy(properties)


def copy(properties):
    destination = f"s3://{properties['DestinationBucket']}/{properties['DestinationKey']}"
    if exists(properties["DestinationBucket"], properties["DestinationKey"]):
        LOG.info("%s is already there", destination)
        return {"PhysicalResourceId": destination, "Data": {"S3Uri": destination}}
    s3.copy_object(
        CopySource={"Bucket": properties["SourceBucket"], "Key": properties["SourceKey"]},
        Bucket=properties["DestinationBucket"],
        Key=properties["DestinationKey"],
        ServerSideEncryption="aws:kms",
        SSEKMSKeyId=properties["KmsKeyArn"],
        ContentType="application/jsonl",
        MetadataDirective="REPLACE",
    )
    return {"PhysicalResourceId": destination, "Data": {"S3Uri": destination}}


def exists(bucket, key):
    try:
        s3.head_object(Bucket=bucket, Key=key)
    except s3.exceptions.ClientError as error:
        if error.response["Error"]["Code"] in ("404", "NoSuchKey", "NotFound"):
            return False
        raise
    return True
