"""Where the account's prompts go and how long they stay, asserted on every synthesized stage: invocation logging
only where it serves the stage, logs that expire, a service role that reads them only to train, a destroy that
puts the logging configuration back before it empties the bucket, and a key that outlives the models it encrypts.

Each expectation is derived from the stage's own settings in cdk.json (or the test stages), never from the code
under test.
"""

from __future__ import annotations

import json
from typing import Any

import pytest
from aws_cdk.assertions import Template

from tests.conftest import TEST_STAGES, project_context

SETTINGS: dict[str, dict[str, Any]] = {**project_context()["stages"], **TEST_STAGES}
STAGES = list(SETTINGS)


def models(settings: dict) -> list[dict]:
    return list(settings.get("models", {}).values())


def trains_from_own_logs(settings: dict) -> bool:
    """Whether a model of the stage trains from the stage's own invocation logs."""
    sources = [model.get("distillation", {}).get("trainingData", {}) for model in models(settings)]
    return any("invocationLogs" in data and "s3Uri" not in data["invocationLogs"] for data in sources)


def logs_the_account(settings: dict) -> bool:
    return settings.get("invocationLogging", {}).get("enabled", trains_from_own_logs(settings))


def destroys(settings: dict) -> bool:
    return settings.get("removalPolicy") == "destroy"


def distils(settings: dict) -> bool:
    return any("distillation" in model for model in models(settings))


def retains_models(settings: dict) -> bool:
    """Whether a custom model of the stage outlives its stacks: kept by retainModel, or served by a commitment."""
    kept = any("distillation" in model and model["distillation"].get("retainModel", True) for model in models(settings))
    committed = any(model.get("serving", {}).get("commitment", "none") != "none" for model in models(settings))
    return kept or committed


def foundation(templates, stage: str) -> Template:
    return templates[stage]["Foundation"]


def output_target(template: Template, name: str) -> str:
    """The logical id of the resource a stack output names (its Ref or GetAtt)."""
    value = template.find_outputs(name)[name]["Value"]
    return value["Ref"] if "Ref" in value else value["Fn::GetAtt"][0]


def resources(template: Template) -> dict[str, dict]:
    return template.to_json()["Resources"]


def policy_statements(template: Template) -> list[tuple[dict, dict]]:
    """(policy resource, statement) for every identity policy in the template."""
    found = []
    for resource in resources(template).values():
        if resource["Type"] in ("AWS::IAM::Policy", "AWS::IAM::ManagedPolicy"):
            found += [(resource, s) for s in resource["Properties"]["PolicyDocument"]["Statement"]]
    return found


def actions(statement: dict) -> list[str]:
    return [statement["Action"]] if isinstance(statement["Action"], str) else statement["Action"]


def test_the_stages_cover_both_kinds_of_training_data_and_both_removal_policies():
    # Without both kinds the tests below could pass by never meeting the case they are about.
    assert {trains_from_own_logs(s) for s in SETTINGS.values()} == {True, False}
    assert any(logs_the_account(s) and not trains_from_own_logs(s) for s in SETTINGS.values())
    assert any(destroys(s) and logs_the_account(s) for s in SETTINGS.values())
    assert any(destroys(s) and retains_models(s) for s in SETTINGS.values())
    assert any(destroys(s) and distils(s) and not retains_models(s) for s in SETTINGS.values())


@pytest.mark.parametrize("stage", STAGES)
def test_every_invocation_log_expires_after_the_stages_retention(templates, stage):
    template = foundation(templates, stage)
    bucket = resources(template)[output_target(template, "InvocationLogsBucketName")]
    (rule,) = bucket["Properties"]["LifecycleConfiguration"]["Rules"]
    days = SETTINGS[stage].get("invocationLogging", {}).get("retentionDays", 90)
    assert rule["Status"] == "Enabled"
    assert rule["ExpirationInDays"] == days
    # Expiring a current version in a versioned bucket leaves a noncurrent one: it must go too, and soon.
    assert rule["NoncurrentVersionExpiration"]["NoncurrentDays"] <= 7
    # The whole bucket, whichever prefix a log was delivered under.
    assert "Prefix" not in rule and "TagFilters" not in rule


@pytest.mark.parametrize("stage", STAGES)
def test_training_data_and_job_output_are_never_expired(templates, stage):
    template = foundation(templates, stage)
    for output in ("TrainingDataBucketName", "OutputBucketName"):
        bucket = resources(template)[output_target(template, output)]
        for rule in bucket["Properties"]["LifecycleConfiguration"]["Rules"]:
            assert "ExpirationInDays" not in rule and "ExpirationDate" not in rule, (output, rule)


@pytest.mark.parametrize("stage", STAGES)
def test_the_account_is_logged_only_when_the_stage_trains_from_its_logs_or_asks(templates, stage):
    template = foundation(templates, stage)
    expected = logs_the_account(SETTINGS[stage])
    template.resource_count_is("Custom::BedrockInvocationLogging", 1 if expected else 0)
    # Without logging, Bedrock has no business writing into the bucket or using the key for it.
    assert ("BedrockWritesInvocationLogs" in json.dumps(template.to_json())) is expected


@pytest.mark.parametrize("stage", STAGES)
def test_the_service_role_reads_the_logs_bucket_only_when_the_stage_trains_from_it(templates, stage):
    logs = output_target(foundation(templates, stage), "InvocationLogsBucketName")
    role = output_target(foundation(templates, stage), "ServiceRoleArn")
    # Only the job's own policy (in the training stack, attached to the service role) reads the logs, and only
    # when the job trains from them; no other policy of the stage's stacks names the bucket (a value of another
    # stack names the logical id of its resource).
    reads = [
        (part, policy)
        for part, template in templates[stage].items()
        for policy, statement in policy_statements(template)
        if logs in json.dumps(statement["Resource"]) and {"s3:GetObject", "s3:ListBucket"} & set(actions(statement))
    ]
    if trains_from_own_logs(SETTINGS[stage]):
        assert all(part.endswith("-training") for part, _ in reads) and reads
        assert all(role in json.dumps(policy["Properties"]["Roles"]) for _, policy in reads)
    else:
        assert reads == []


@pytest.mark.parametrize("stage", STAGES)
def test_the_logging_configuration_is_put_back_before_its_bucket_is_emptied(templates, stage):
    settings = SETTINGS[stage]
    template = foundation(templates, stage)
    logs = output_target(template, "InvocationLogsBucketName")
    emptying = [
        logical_id
        for logical_id, resource in resources(template).items()
        if resource["Type"] == "Custom::S3AutoDeleteObjects" and resource["Properties"]["BucketName"] == {"Ref": logs}
    ]
    assert len(emptying) == (1 if destroys(settings) else 0)
    if logs_the_account(settings):
        (logging,) = template.find_resources("Custom::BedrockInvocationLogging").values()
        # CloudFormation deletes a resource before those it depends on: the logging configuration goes first.
        assert set(emptying) <= set(logging["DependsOn"])


@pytest.mark.parametrize("stage", STAGES)
def test_the_key_is_kept_while_a_retained_custom_model_uses_it(templates, stage):
    settings = SETTINGS[stage]
    template = foundation(templates, stage)
    key = resources(template)[output_target(template, "DataKeyArn")]
    kept = not destroys(settings) or retains_models(settings)
    assert key["DeletionPolicy"] == key["UpdateReplacePolicy"] == ("Retain" if kept else "Delete")
    description = template.find_outputs("DataKeyArn")["DataKeyArn"]["Description"]
    assert ("kept when the stack is deleted" in description) is (destroys(settings) and retains_models(settings))
