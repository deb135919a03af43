"""The smaller custom-resource handlers: training data upload, distilled model lookup and model copy."""

from __future__ import annotations

import time

import pytest
from botocore.stub import Stubber

from tests.handlers.conftest import customization_job, event, load_handler

SOURCE_MODEL = (
    "arn:aws:bedrock:us-west-2:111111111111:custom-model/anthropic.claude-3-haiku-20240307-v1:0:200k/abcdefghij12"
)
COPY_JOB = "arn:aws:bedrock:us-west-2:222222222222:model-copy-job/0a1b2c3d4e5f"
COPIED_MODEL = (
    "arn:aws:bedrock:us-west-2:222222222222:custom-model/anthropic.claude-3-haiku-20240307-v1:0:200k/zyxwvutsrq98"
)
JOB = "arn:aws:bedrock:us-west-2:123456789012:model-customization-job/meta.llama3-1-8b-instruct-v1:0:128k/a1b2c3d4e5f6"
MODEL = "arn:aws:bedrock:us-west-2:123456789012:custom-model/meta.llama3-1-8b-instruct-v1:0:128k/q1w2e3r4t5y6"


def lookup_event(request_type: str, **extra) -> dict:
    base = event("distillation_job_create")
    return {
        **base,
        "RequestType": request_type,
        "ResourceType": "Custom::BedrockDistilledModel",
        "ResourceProperties": {"ServiceToken": base["ServiceToken"], "JobArn": JOB},
        **extra,
    }


UPLOAD_PROPERTIES = {
    "SourceBucket": "cdk-hnb659fds-assets-123456789012-us-west-2",
    "SourceKey": "3f2a1b.jsonl",
    "DestinationBucket": "sandbox-training-data",
    "DestinationKey": "datasets/3f2a1b0c9d8e7f6a.jsonl",
    "KmsKeyArn": "arn:aws:kms:us-west-2:123456789012:key/1a2b3c4d-5e6f-7a8b-9c0d-1e2f3a4b5c6d",
}


class TestTrainingDataUpload:
    @pytest.fixture
    def handler(self):
        module = load_handler("training_data")
        with Stubber(module.s3) as s3:
            module.stub = s3
            yield module
            s3.assert_no_pending_responses()

    def request(self, request_type: str) -> dict:
        base = event("invocation_logging_create")
        return {**base, "RequestType": request_type, "ResourceProperties": dict(UPLOAD_PROPERTIES)}

    def test_create_copies_the_dataset_encrypted_with_the_stage_key(self, handler):
        handler.stub.add_response(
            "copy_object",
            {},
            {
                "CopySource": {"Bucket": UPLOAD_PROPERTIES["SourceBucket"], "Key": UPLOAD_PROPERTIES["SourceKey"]},
                "Bucket": "sandbox-training-data",
                "Key": "datasets/3f2a1b0c9d8e7f6a.jsonl",
                "ServerSideEncryption": "aws:kms",
                "SSEKMSKeyId": UPLOAD_PROPERTIES["KmsKeyArn"],
                "ContentType": "application/jsonl",
                "MetadataDirective": "REPLACE",
            },
        )
        result = handler.on_event(self.request("Create"), None)
        uri = "s3://sandbox-training-data/datasets/3f2a1b0c9d8e7f6a.jsonl"
        assert result == {"PhysicalResourceId": uri, "Data": {"S3Uri": uri}}

    def test_a_denied_copy_fails_the_request_with_s3s_reason(self, handler):
        handler.stub.add_client_error("copy_object", "AccessDenied", "Access Denied", http_status_code=403)
        with pytest.raises(handler.s3.exceptions.ClientError, match="AccessDenied"):
            handler.on_event(self.request("Create"), None)

    def test_delete_keeps_the_data(self, handler):
        request = {**self.request("Delete"), "PhysicalResourceId": "s3://sandbox-training-data/datasets/x.jsonl"}
        assert handler.on_event(request, None) == {"PhysicalResourceId": "s3://sandbox-training-data/datasets/x.jsonl"}


class TestDistilledModel:
    @pytest.fixture
    def handler(self):
        module = load_handler("distilled_model")
        with Stubber(module.bedrock) as bedrock:
            module.stub = bedrock
            yield module
            bedrock.assert_no_pending_responses()

    def job(self, status: str, **fields) -> dict:
        return customization_job(JOB, status, "sandbox-distill-a1b2c3d4e5f6", **fields)

    def test_create_reads_the_model_of_the_completed_job(self, handler):
        handler.stub.add_response(
            "get_model_customization_job", self.job("Completed", outputModelArn=MODEL), {"jobIdentifier": JOB}
        )
        assert handler.on_event(lookup_event("Create"), None) == {
            "PhysicalResourceId": MODEL,
            "Data": {"ModelArn": MODEL},
        }

    def test_a_job_still_running_fails_with_what_to_do(self, handler):
        handler.stub.add_response("get_model_customization_job", self.job("InProgress"), {"jobIdentifier": JOB})
        with pytest.raises(RuntimeError) as raised:
            handler.on_event(lookup_event("Create"), None)
        assert str(raised.value) == (
            "The distillation job sandbox-distill-a1b2c3d4e5f6 is InProgress; its model does not exist yet. Deploy "
            "this stack again once the job has completed."
        )

    def test_delete_does_nothing(self, handler):
        assert handler.on_event(lookup_event("Delete", PhysicalResourceId=MODEL), None) == {"PhysicalResourceId": MODEL}


class TestModelCopy:
    @pytest.fixture
    def handler(self):
        module = load_handler("model_copy")
        with Stubber(module.bedrock) as bedrock:
            module.stub = bedrock
            yield module
            bedrock.assert_no_pending_responses()

    def copy_job(self, status: str, **fields) -> dict:
        return {
            "jobArn": COPY_JOB,
            "status": status,
            "creationTime": "2026-11-28T06:00:00Z",
            "targetModelArn": COPIED_MODEL,
            "targetModelName": "prod-distilled-copy-1a2b3c4d5e6f",
            "sourceAccountId": "111111111111",
            "sourceModelArn": SOURCE_MODEL,
            **fields,
        }

    def expect_create(self, handler, request: dict) -> None:
        token = handler.custom_resource.request_token(request)
        handler.stub.add_response(
            "create_model_copy_job",
            {"jobArn": COPY_JOB},
            {
                "sourceModelArn": SOURCE_MODEL,
                "targetModelName": f"prod-distilled-copy-{token[:12]}",
                "modelKmsKeyId": request["ResourceProperties"]["KmsKeyArn"],
                "targetModelTags": [{"key": "distillation-stage", "value": "prod"}],
                "clientRequestToken": token,
            },
        )

    def test_create_starts_one_copy_per_request_even_when_retried(self, handler):
        request = event("model_copy_create")
        self.expect_create(handler, request)
        self.expect_create(handler, request)
        first = handler.on_event(request, None)
        second = handler.on_event(request, None)
        assert first["PhysicalResourceId"] == second["PhysicalResourceId"] == COPY_JOB

    def test_update_of_the_source_model_makes_a_new_copy(self, handler):
        request = event("model_copy_create")
        old = dict(request["ResourceProperties"], SourceModelArn=SOURCE_MODEL.replace("abcdefghij12", "oldoldoldold"))
        update = {**request, "RequestType": "Update", "PhysicalResourceId": "old", "OldResourceProperties": old}
        self.expect_create(handler, update)
        assert handler.on_event(update, None)["PhysicalResourceId"] == COPY_JOB

    def test_update_of_tags_only_keeps_the_copy(self, handler):
        request = event("model_copy_create")
        old = dict(request["ResourceProperties"], Tags="{}")
        update = {**request, "RequestType": "Update", "PhysicalResourceId": COPY_JOB, "OldResourceProperties": old}
        assert handler.on_event(update, None)["PhysicalResourceId"] == COPY_JOB

    def test_is_complete_reports_the_copied_model(self, handler):
        request = {
            **event("model_copy_create"),
            "PhysicalResourceId": COPY_JOB,
            "Data": {"StartedAt": str(int(time.time()))},
        }
        handler.stub.add_response("get_model_copy_job", self.copy_job("InProgress"), {"jobArn": COPY_JOB})
        handler.stub.add_response("get_model_copy_job", self.copy_job("Completed"), {"jobArn": COPY_JOB})
        assert handler.is_complete(request, None) == {"IsComplete": False}
        assert handler.is_complete(request, None) == {
            "IsComplete": True,
            "Data": {"ModelArn": COPIED_MODEL, "CopyJobArn": COPY_JOB},
        }

    def test_a_failed_copy_says_why_and_what_to_check(self, handler):
        request = {
            **event("model_copy_create"),
            "PhysicalResourceId": COPY_JOB,
            "Data": {"StartedAt": str(int(time.time()))},
        }
        handler.stub.add_response(
            "get_model_copy_job",
            self.copy_job("Failed", failureMessage="The source model is not shared with this account."),
            {"jobArn": COPY_JOB},
        )
        with pytest.raises(RuntimeError) as raised:
            handler.is_complete(request, None)
        assert str(raised.value) == (
            f"Copying {SOURCE_MODEL} failed: The source model is not shared with this account.. Check that the "
            "source stage shares the model with this account (AWS RAM) and deploy again."
        )

    def test_a_copy_past_the_deadline_fails_and_names_the_model_it_leaves(self, handler):
        request = {**event("model_copy_create"), "PhysicalResourceId": COPY_JOB, "Data": {"StartedAt": "0"}}
        handler.stub.add_response("get_model_copy_job", self.copy_job("InProgress"), {"jobArn": COPY_JOB})
        with pytest.raises(RuntimeError, match="prod-distilled-copy-1a2b3c4d5e6f stays in this account"):
            handler.is_complete(request, None)

    def test_delete_keeps_the_copy_by_default(self, handler):
        request = {**event("model_copy_create"), "RequestType": "Delete", "PhysicalResourceId": COPY_JOB}
        assert handler.on_event(request, None) == {"PhysicalResourceId": COPY_JOB}
        assert handler.is_complete(request, None) == {"IsComplete": True}

    def test_delete_removes_the_copy_when_the_stage_destroys(self, handler):
        request = {**event("model_copy_create"), "RequestType": "Delete", "PhysicalResourceId": COPY_JOB}
        request["ResourceProperties"]["RetainModelOnDelete"] = "false"
        handler.stub.add_response("get_model_copy_job", self.copy_job("Completed"), {"jobArn": COPY_JOB})
        handler.stub.add_response("delete_custom_model", {}, {"modelIdentifier": COPIED_MODEL})
        handler.on_event(request, None)

    def test_delete_of_a_copy_already_gone(self, handler):
        request = {**event("model_copy_create"), "RequestType": "Delete", "PhysicalResourceId": COPY_JOB}
        request["ResourceProperties"]["RetainModelOnDelete"] = "false"
        handler.stub.add_client_error("get_model_copy_job", "ResourceNotFoundException", http_status_code=404)
        assert handler.on_event(request, None) == {"PhysicalResourceId": COPY_JOB}
