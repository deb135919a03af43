"""InvocationLogging alone: the custom resource that owns the account's logging configuration, what its handler may
do, and the statements Bedrock needs in the bucket's and the key's policies (added to a bucket and key of the same
app, given as a warning for imported ones)."""

from __future__ import annotations

import pytest

from distill.constructs import DataKey, DistillationStorage, InvocationLogging
from distill.constructs.invocation_logging import LOGGING_ACTIONS
from distill.constructs.resource_policy import IMPORTED_POLICY_WARNING
from tests.constructs.bare import ACCOUNT, REGION, imported_bucket, imported_key

LOG_OBJECTS = f"bedrock/AWSLogs/{ACCOUNT}/BedrockModelInvocationLogs/*"
FROM_THIS_ACCOUNTS_BEDROCK = {
    "ArnLike": {"aws:SourceArn": f"arn:aws:bedrock:{REGION}:{ACCOUNT}:*"},
    "StringEquals": {"aws:SourceAccount": ACCOUNT},
}


def own(stack):
    """The logging of a stage whose key and buckets are built in the same app (DataKey, DistillationStorage)."""
    key = DataKey(stack, "DataKey", alias="alias/dev/bedrock-distillation").key
    storage = DistillationStorage(stack, "Storage", key=key)
    return InvocationLogging(
        stack, "Logging", stage_name="dev", bucket=storage.invocation_logs, key=key, key_prefix="bedrock"
    )


def imported(stack):
    return InvocationLogging(
        stack,
        "Logging",
        stage_name="dev",
        bucket=imported_bucket(stack, "example-logs"),
        key=imported_key(stack),
        key_prefix="bedrock",
    )


@pytest.fixture(scope="module")
def bare(synth):
    return synth(own)


@pytest.fixture(scope="module")
def bare_imported(synth):
    return synth(imported)


@pytest.mark.parametrize("variant", ["own bucket and key", "imported bucket and key"])
def test_cdk_nag_reports_nothing(bare, bare_imported, variant):
    assert {"own bucket and key": bare, "imported bucket and key": bare_imported}[variant].findings == []


def test_one_custom_resource_with_its_handler_and_provider(bare_imported):
    assert bare_imported.counts() == {
        "Custom::BedrockInvocationLogging": 1,
        "AWS::IAM::ManagedPolicy": 2,
        "AWS::IAM::Policy": 1,
        "AWS::IAM::Role": 2,
        "AWS::Lambda::Function": 2,
        "AWS::Lambda::LayerVersion": 2,
        "AWS::Logs::LogGroup": 2,
    }


def test_the_resource_names_the_bucket_the_prefix_and_where_it_keeps_what_it_replaced(bare_imported):
    properties = bare_imported.only("Custom::BedrockInvocationLogging")["Properties"]
    assert {key: properties[key] for key in ("BucketName", "KeyPrefix", "TakeOver", "StateParameterName")} == {
        "BucketName": "example-logs",
        "KeyPrefix": "bedrock",
        # Another configuration of the account is never replaced unless asked.
        "TakeOver": False,
        "StateParameterName": "/bedrock-distillation/dev/invocation-logging",
    }
    assert bare_imported.built.logs_prefix == "bedrock/AWSLogs/"


def test_the_handler_may_change_the_logging_configuration_its_parameter_and_pass_roles_only_to_bedrock(bare_imported):
    statements = bare_imported.statements(bare_imported.find("Logging/Handler/Policy"))
    # After the handler's own log writing (HandlerFunction).
    assert statements[1:] == [
        {"Action": sorted(LOGGING_ACTIONS), "Effect": "Allow", "Resource": ["*"]},
        {
            "Action": ["ssm:DeleteParameter", "ssm:GetParameter", "ssm:PutParameter"],
            "Effect": "Allow",
            "Resource": [f"arn:aws:ssm:{REGION}:{ACCOUNT}:parameter/bedrock-distillation/dev/invocation-logging"],
        },
        {
            "Action": ["iam:PassRole"],
            "Condition": {"StringEquals": {"iam:PassedToService": "bedrock.amazonaws.com"}},
            "Effect": "Allow",
            "Resource": [f"arn:aws:iam::{ACCOUNT}:role/*"],
        },
    ]


def test_bedrock_may_write_under_the_log_prefix_of_a_bucket_of_the_same_app_and_use_its_key(bare):
    logging = bare.built
    (write,) = [s for s in bare.statements(logging.bucket.policy) if s.get("Sid") == "BedrockWritesInvocationLogs"]
    bucket_arn = "${" + bare.logical_id(logging.bucket) + ".Arn}"
    assert write == {
        "Action": ["s3:PutObject"],
        "Condition": FROM_THIS_ACCOUNTS_BEDROCK,
        "Effect": "Allow",
        "Principal": {"Service": "bedrock.amazonaws.com"},
        "Resource": [f"{bucket_arn}/{LOG_OBJECTS}"],
        "Sid": "BedrockWritesInvocationLogs",
    }
    key = bare.stack.node.find_child("DataKey").key
    (encrypt,) = [s for s in bare.statements(key) if s.get("Sid") == "BedrockWritesInvocationLogs"]
    assert (encrypt["Action"], encrypt["Condition"]) == (["kms:GenerateDataKey"], FROM_THIS_ACCOUNTS_BEDROCK)
    # Bedrock checks that it can write when the configuration is put.
    resource = bare.only("Custom::BedrockInvocationLogging")
    assert bare.logical_id(logging.bucket.policy) in resource["DependsOn"]


def test_an_imported_bucket_and_key_get_a_warning_with_the_statement_their_owner_must_add(bare_imported):
    warnings = bare_imported.other_warnings()
    assert [w.split(":")[0] for w in warnings] == ["Bare/ImportedKey", "Bare/Importedexample-logs"]
    assert all(IMPORTED_POLICY_WARNING in w for w in warnings)
    key_warning, bucket_warning = warnings
    assert "Bedrock cannot encrypt the invocation logs it delivers" in key_warning
    assert '"Action": "kms:GenerateDataKey"' in key_warning
    assert "Bedrock cannot deliver invocation logs into the bucket" in bucket_warning
    assert f":s3:::example-logs/{LOG_OBJECTS}" in bucket_warning
    assert "DependsOn" not in bare_imported.only("Custom::BedrockInvocationLogging")
