"""The foundation stack's security properties, asserted on the synthesized templates."""

from __future__ import annotations

import json

import pytest
from aws_cdk.assertions import Match, Template


@pytest.fixture(scope="module")
def sandbox(templates) -> Template:
    return templates["sandbox"]["Foundation"]


@pytest.fixture(scope="module")
def scratch(templates) -> Template:
    """A sandbox-like stage (no account, destroy) that turns on invocation logging, as it trains from its logs."""
    return templates["scratch"]["Foundation"]


@pytest.fixture(scope="module")
def compliant(templates) -> Template:
    return templates["compliant"]["Foundation"]


def logical_ids(template: Template, resource_type: str, props: dict | None = None) -> list[str]:
    return list(template.find_resources(resource_type, {"Properties": props} if props else None))


def data_bucket_ids(template: Template) -> list[str]:
    return logical_ids(
        template,
        "AWS::S3::Bucket",
        {
            "BucketEncryption": {
                "ServerSideEncryptionConfiguration": [
                    Match.object_like(
                        {
                            "ServerSideEncryptionByDefault": {
                                "SSEAlgorithm": "aws:kms",
                                "KMSMasterKeyID": Match.any_value(),
                            }
                        }
                    )
                ]
            }
        },
    )


def service_role_id(template: Template) -> str:
    (role_id,) = [
        rid
        for rid, role in template.find_resources("AWS::IAM::Role").items()
        if "bedrock.amazonaws.com" in str(role["Properties"]["AssumeRolePolicyDocument"])
    ]
    return role_id


def key_statement(template: Template, sid: str) -> dict:
    (key,) = template.find_resources("AWS::KMS::Key").values()
    statements = {s.get("Sid"): s for s in key["Properties"]["KeyPolicy"]["Statement"]}
    return statements[sid]


def test_key_rotates_and_has_an_alias(sandbox):
    sandbox.has_resource_properties("AWS::KMS::Key", {"EnableKeyRotation": True})
    sandbox.has_resource_properties("AWS::KMS::Alias", {"AliasName": "alias/sandbox/bedrock-distillation"})


def job_access_statements(templates, stage: str) -> list[dict]:
    """The statements the stage's job grants the service role (DistillationJob's Access policy, in the training
    stack, attached to the foundation's role)."""
    role_id = service_role_id(templates[stage]["Foundation"])
    policies = [
        policy
        for policy in templates[stage]["Training"].find_resources("AWS::IAM::ManagedPolicy").values()
        if role_id in json.dumps(policy["Properties"].get("Roles", []))
    ]
    (policy,) = policies
    return policy["Properties"]["PolicyDocument"]["Statement"]


def test_the_service_role_uses_the_key_only_through_bedrock_and_s3_and_only_for_a_job(templates, sandbox):
    key_uses = {
        s["Condition"]["StringEquals"]["kms:ViaService"]: sorted(s["Action"])
        for s in job_access_statements(templates, "sandbox")
        if str(s["Action"]).startswith("['kms:")
    }
    assert key_uses == {
        "bedrock.us-east-1.amazonaws.com": ["kms:CreateGrant", "kms:Decrypt", "kms:DescribeKey", "kms:GenerateDataKey"],
        "s3.us-east-1.amazonaws.com": ["kms:Decrypt", "kms:GenerateDataKey"],
    }
    # The key policy itself names no service-role statement: without a job, the role can use nothing.
    (key,) = sandbox.find_resources("AWS::KMS::Key").values()
    assert service_role_id(sandbox) not in json.dumps(key["Properties"]["KeyPolicy"])


def test_key_lets_bedrock_write_invocation_logs_for_this_account_only(scratch):
    statement = key_statement(scratch, "BedrockWritesInvocationLogs")
    assert statement["Principal"] == {"Service": "bedrock.amazonaws.com"}
    assert statement["Action"] == "kms:GenerateDataKey"
    assert statement["Condition"]["StringEquals"] == {"aws:SourceAccount": {"Ref": "AWS::AccountId"}}
    assert "ArnLike" in statement["Condition"]


def test_three_data_buckets_use_the_stage_key(sandbox):
    (key_id,) = logical_ids(sandbox, "AWS::KMS::Key")
    buckets = sandbox.find_resources("AWS::S3::Bucket")
    kms_buckets = data_bucket_ids(sandbox)
    assert len(kms_buckets) == 3
    for bucket_id in kms_buckets:
        default = buckets[bucket_id]["Properties"]["BucketEncryption"]["ServerSideEncryptionConfiguration"][0]
        assert default["ServerSideEncryptionByDefault"]["KMSMasterKeyID"] == {"Fn::GetAtt": [key_id, "Arn"]}


def test_access_log_bucket_uses_s3_managed_keys_because_log_delivery_cannot_use_kms(sandbox):
    sandbox.has_resource_properties(
        "AWS::S3::Bucket",
        {
            "BucketEncryption": {
                "ServerSideEncryptionConfiguration": [{"ServerSideEncryptionByDefault": {"SSEAlgorithm": "AES256"}}]
            }
        },
    )


def test_every_bucket_blocks_public_access_and_is_versioned(sandbox):
    for bucket in sandbox.find_resources("AWS::S3::Bucket").values():
        properties = bucket["Properties"]
        assert properties["PublicAccessBlockConfiguration"] == {
            "BlockPublicAcls": True,
            "BlockPublicPolicy": True,
            "IgnorePublicAcls": True,
            "RestrictPublicBuckets": True,
        }
        assert properties["VersioningConfiguration"] == {"Status": "Enabled"}


def test_data_buckets_log_access_to_the_access_log_bucket(sandbox):
    (access_logs,) = set(logical_ids(sandbox, "AWS::S3::Bucket")) - set(data_bucket_ids(sandbox))
    buckets = sandbox.find_resources("AWS::S3::Bucket")
    for bucket_id in data_bucket_ids(sandbox):
        logging = buckets[bucket_id]["Properties"]["LoggingConfiguration"]
        assert logging["DestinationBucketName"] == {"Ref": access_logs}


def test_every_bucket_refuses_requests_without_tls(sandbox):
    policies = sandbox.find_resources("AWS::S3::BucketPolicy")
    assert len(policies) == 4
    for policy in policies.values():
        statements = policy["Properties"]["PolicyDocument"]["Statement"]
        assert any(
            s["Effect"] == "Deny" and s["Condition"] == {"Bool": {"aws:SecureTransport": "false"}} for s in statements
        )


def test_destroy_stage_deletes_buckets_with_their_objects(sandbox):
    for bucket in sandbox.find_resources("AWS::S3::Bucket").values():
        assert bucket["DeletionPolicy"] == "Delete"
    assert len(sandbox.find_resources("Custom::S3AutoDeleteObjects")) == 4


def test_retain_stage_keeps_buckets_and_key(compliant):
    for bucket in compliant.find_resources("AWS::S3::Bucket").values():
        assert bucket["DeletionPolicy"] == "Retain"
    compliant.resource_count_is("Custom::S3AutoDeleteObjects", 0)
    for key in compliant.find_resources("AWS::KMS::Key").values():
        assert key["DeletionPolicy"] == "Retain"


def test_service_role_trusts_bedrock_only_for_this_accounts_customization_jobs(sandbox):
    sandbox.has_resource_properties(
        "AWS::IAM::Role",
        {
            "AssumeRolePolicyDocument": {
                "Statement": [
                    {
                        "Action": "sts:AssumeRole",
                        "Effect": "Allow",
                        "Principal": {"Service": "bedrock.amazonaws.com"},
                        "Condition": {
                            "StringEquals": {"aws:SourceAccount": {"Ref": "AWS::AccountId"}},
                            "ArnLike": {
                                "aws:SourceArn": {
                                    "Fn::Join": [
                                        "",
                                        [
                                            "arn:aws:bedrock:us-east-1:",
                                            {"Ref": "AWS::AccountId"},
                                            ":model-customization-job/*",
                                        ],
                                    ]
                                }
                            },
                        },
                    }
                ]
            }
        },
    )


def test_the_service_role_holds_no_policy_of_its_own(sandbox):
    role_id = service_role_id(sandbox)
    attached = [
        policy
        for policy in sandbox.find_resources("AWS::IAM::ManagedPolicy").values()
        if {"Ref": role_id} in policy["Properties"].get("Roles", [])
    ]
    assert attached == []
    assert "Policies" not in sandbox.find_resources("AWS::IAM::Role")[role_id]["Properties"]


def test_the_job_lets_the_service_role_invoke_the_teacher_read_data_write_output_and_nothing_else(templates):
    actions = sorted(
        {
            a
            for s in job_access_statements(templates, "sandbox")
            for a in ([s["Action"]] if isinstance(s["Action"], str) else s["Action"])
            if not a.startswith("kms:")
        }
    )
    assert actions == ["bedrock:InvokeModel", "s3:GetObject", "s3:ListBucket", "s3:PutObject"]


def test_the_job_reads_invocation_logs_only_under_the_log_prefix(templates):
    object_reads = [s for s in job_access_statements(templates, "compliant") if s["Action"] == "s3:GetObject"]
    (resource,) = [s["Resource"] for s in object_reads]
    assert "/bedrock/logs/AWSLogs/*" in json.dumps(resource)


def test_the_job_writes_output_only_under_the_output_prefix(templates):
    writes = [s for s in job_access_statements(templates, "sandbox") if "s3:PutObject" in s["Action"]]
    (resource,) = [s["Resource"] for s in writes]
    assert json.dumps(resource).endswith('"/distillation-output/*"]]}')


def test_invocation_logs_bucket_lets_bedrock_write_only_its_own_log_path(compliant):
    policies = compliant.find_resources("AWS::S3::BucketPolicy")
    statements = [
        s
        for p in policies.values()
        for s in p["Properties"]["PolicyDocument"]["Statement"]
        if s.get("Sid") == "BedrockWritesInvocationLogs"
    ]
    (statement,) = statements
    assert statement["Principal"] == {"Service": "bedrock.amazonaws.com"}
    assert statement["Action"] == "s3:PutObject"
    assert "/bedrock/logs/AWSLogs/111111111111/BedrockModelInvocationLogs/*" in str(statement["Resource"])
    assert statement["Condition"] == {
        "StringEquals": {"aws:SourceAccount": "111111111111"},
        "ArnLike": {"aws:SourceArn": "arn:aws:bedrock:us-east-1:111111111111:*"},
    }


def test_invocation_logging_resource_waits_for_the_bucket_policy(compliant):
    (resource,) = compliant.find_resources("Custom::BedrockInvocationLogging").values()
    assert resource["Properties"]["KeyPrefix"] == "bedrock/logs"
    assert resource["Properties"]["TakeOver"] is True
    (policy_id,) = [
        pid
        for pid, p in compliant.find_resources("AWS::S3::BucketPolicy").items()
        if "BedrockWritesInvocationLogs" in str(p)
    ]
    assert policy_id in resource["DependsOn"]


@pytest.mark.parametrize("stage", ["compliant", "scratch"])
def test_the_logging_handler_may_pass_only_this_accounts_roles_and_only_to_bedrock(templates, stage):
    # Restoring a replaced configuration that delivers to CloudWatch passes its role, also after takeOver was
    # switched off, so every stage with logging has the grant.
    policies = templates[stage]["Foundation"].find_resources("AWS::IAM::ManagedPolicy").values()
    (statement,) = [
        s
        for policy in policies
        for s in policy["Properties"]["PolicyDocument"]["Statement"]
        if s["Action"] == "iam:PassRole"
    ]
    assert statement["Condition"] == {"StringEquals": {"iam:PassedToService": "bedrock.amazonaws.com"}}
    assert json.dumps(statement["Resource"]).endswith(':role/*"') or json.dumps(statement["Resource"]).endswith(
        ':role/*"]]}'
    )


def test_a_stage_can_opt_out_of_invocation_logging(templates):
    template = templates["nologging"]["Foundation"]
    template.resource_count_is("Custom::BedrockInvocationLogging", 0)
    assert "BedrockWritesInvocationLogs" not in str(template.to_json())


def test_our_roles_carry_no_aws_managed_policies(scratch):
    ours = {rid: r for rid, r in scratch.find_resources("AWS::IAM::Role").items() if "AutoDeleteObjects" not in rid}
    # service role, invocation logging handler and provider, metrics publisher, EventBridge's delivery role
    assert len(ours) == 5
    for role in ours.values():
        assert "ManagedPolicyArns" not in role["Properties"]


def test_handler_runs_python_with_the_pinned_boto3_layer_and_encrypted_logs(scratch):
    scratch.has_resource_properties(
        "AWS::Lambda::Function",
        {
            "Runtime": "python3.14",
            "Handler": "index.on_event",
            "Layers": [
                {"Ref": Match.string_like_regexp("Boto3Layer")},
                {"Ref": Match.string_like_regexp("SharedCodeLayer")},
            ],
        },
    )
    for log_group in scratch.find_resources("AWS::Logs::LogGroup").values():
        assert "KmsKeyId" in log_group["Properties"]
        assert log_group["Properties"]["RetentionInDays"] == 365


def test_outputs_name_the_buckets_key_and_role(sandbox):
    outputs = sandbox.find_outputs("*")
    assert set(outputs) >= {
        "TrainingDataBucketName",
        "OutputBucketName",
        "InvocationLogsBucketName",
        "AccessLogsBucketName",
        "DataKeyArn",
        "ServiceRoleArn",
    }
