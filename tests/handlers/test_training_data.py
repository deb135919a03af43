"""The training data upload: the dataset copied once into the stage's bucket under its key, encrypted with its key."""

from __future__ import annotations

import pytest

from tests.handlers.conftest import event, load_handler

BUCKET = "sandbox-distillation-fou-storagetrainingdata-3m4n5o6p7q8r"
KEY = "datasets/51b1a2b679ae3489.jsonl"
URI = f"s3://{BUCKET}/{KEY}"
COPY = {
    "CopySource": {
        "Bucket": "cdk-hnb659fds-assets-123456789012-us-west-2",
        "Key": "03368603ce03221e7fe9e625bd09b555a58584c37c9b6fe357975a352f44fadf.jsonl",
    },
    "Bucket": BUCKET,
    "Key": KEY,
    "ServerSideEncryption": "aws:kms",
    "SSEKMSKeyId": "arn:aws:kms:us-west-2:123456789012:key/3f1c2b7a-8d4e-4f5a-9b6c-0d1e2f3a4b5c",
    "ContentType": "application/jsonl",
    "MetadataDirective": "REPLACE",
}


@pytest.fixture
def handler(stub):
    module = load_handler("training_data")
    module.stub = stub(module.s3)
    return module


def the_destination_is_missing(handler) -> None:
    # HeadObject has no body, so S3 names the error by its HTTP status alone.
    handler.stub.add_client_error("head_object", "404", "Not Found", 404, {"Bucket": BUCKET, "Key": KEY})


@pytest.mark.parametrize("request_type", ["Create", "Update"])
def test_the_dataset_is_copied_encrypted_with_the_stage_key(handler, request_type):
    the_destination_is_missing(handler)
    handler.stub.add_response("copy_object", {}, COPY)
    result = handler.on_event(event("training_data_create", RequestType=request_type), None)
    assert result == {"PhysicalResourceId": URI, "Data": {"S3Uri": URI}}


def test_a_dataset_already_in_the_bucket_is_not_copied_again(handler):
    """A rollback asks for the previous dataset, which the previous deploy copied under its content hash."""
    handler.stub.add_response("head_object", {"ContentLength": 482113}, {"Bucket": BUCKET, "Key": KEY})
    result = handler.on_event(event("training_data_create"), None)
    assert result == {"PhysicalResourceId": URI, "Data": {"S3Uri": URI}}


def test_a_destination_that_cannot_be_checked_fails_the_request(handler):
    handler.stub.add_client_error("head_object", "403", "Forbidden", 403, {"Bucket": BUCKET, "Key": KEY})
    with pytest.raises(handler.s3.exceptions.ClientError, match=r"\(403\)"):
        handler.on_event(event("training_data_create"), None)


def test_a_denied_copy_fails_the_request_with_s3s_reason(handler):
    the_destination_is_missing(handler)
    handler.stub.add_client_error("copy_object", "AccessDenied", "Access Denied", 403, COPY)
    with pytest.raises(handler.s3.exceptions.ClientError, match="AccessDenied"):
        handler.on_event(event("training_data_create"), None)


def test_delete_keeps_the_data(handler):
    assert handler.on_event(event("training_data_delete"), None) == {"PhysicalResourceId": URI}
