"""Who may act on a stage's resources: service principals only under a condition, trusts as narrow as the callers,
dead-letter queues for what EventBridge invokes, encrypted handler environments, a hash-checked boto3 layer."""

from __future__ import annotations

import json
import re
from typing import Any

import pytest
from aws_cdk import App

from distill.constructs.handler_function import LAYER_REQUIREMENTS, layer_digest, layer_install_arguments
from tests.conftest import PIPELINE, ROOT, project_context

# The policy documents a resource carries, by resource type: who else than the account's own principals may act.
POLICY_DOCUMENTS = {
    "AWS::KMS::Key": "KeyPolicy",
    "AWS::SNS::TopicPolicy": "PolicyDocument",
    "AWS::S3::BucketPolicy": "PolicyDocument",
    "AWS::SQS::QueuePolicy": "PolicyDocument",
    "AWS::IAM::Role": "AssumeRolePolicyDocument",
}
# The deliberate exceptions: the trust of an execution role that CDK writes for these services (Lambda functions,
# CDK Pipelines' CodeBuild and CodePipeline roles, the Provider framework's state machine). A service assumes such a
# role only for a resource that a principal of the role's own account configured with it, which takes iam:PassRole
# in that account, and a role cannot be passed to a resource of another account (IAM user guide, "Grant a user
# permissions to pass a role to an AWS service", id_roles_use_passrole.html, read 2026-12-02): no other account can
# make the service act with it.
EXECUTION_ROLE_SERVICES = {
    "lambda.amazonaws.com",
    "codebuild.amazonaws.com",
    "codepipeline.amazonaws.com",
    "states.amazonaws.com",
}


def assembly_templates(app: App) -> dict[str, dict[str, Any]]:
    """Every template of ``app`` (stages nested in the pipeline included), by the stack's path."""
    return {stack.hierarchical_id: stack.template for stack in app.synth().stacks_recursively}


@pytest.fixture(scope="module")
def every_template(stages, pipeline_app) -> dict[str, dict[str, Any]]:
    app = next(iter(stages.values())).node.root
    found = {**assembly_templates(app), **{f"pipeline:{k}": v for k, v in assembly_templates(pipeline_app).items()}}
    assert any(path.startswith("pipeline:DeliveryPipeline/prod/") for path in found)
    return found


def services(statement: dict[str, Any]) -> list[str]:
    principal = statement.get("Principal")
    named = principal.get("Service", []) if isinstance(principal, dict) else []
    return named if isinstance(named, list) else [named]


def unconditioned_service_grants(templates: dict[str, dict[str, Any]]) -> list[str]:
    """Every Allow to a service principal without a Condition, outside the execution-role trusts."""
    found = []
    for path, template in templates.items():
        for logical_id, resource in template.get("Resources", {}).items():
            if resource["Type"] == "AWS::Lambda::Permission":
                properties = resource["Properties"]
                if properties["Principal"].endswith(".amazonaws.com") and not (
                    "SourceArn" in properties or "SourceAccount" in properties
                ):
                    found.append(f"{path} {logical_id}: {properties['Principal']} may invoke without SourceArn")
            document = resource.get("Properties", {}).get(POLICY_DOCUMENTS.get(resource["Type"], ""))
            if not document:
                continue
            for statement in document["Statement"]:
                if statement["Effect"] != "Allow" or "Condition" in statement:
                    continue
                for service in services(statement):
                    if resource["Type"] == "AWS::IAM::Role" and service in EXECUTION_ROLE_SERVICES:
                        continue
                    found.append(f"{path} {logical_id} ({resource['Type']}): {service} {statement['Action']}")
    return found


def test_no_policy_of_any_stage_or_the_pipeline_allows_a_service_without_a_condition(every_template):
    assert unconditioned_service_grants(every_template) == []


def test_the_walk_finds_an_unconditioned_service_grant():
    topic_policy = {
        "Type": "AWS::SNS::TopicPolicy",
        "Properties": {
            "PolicyDocument": {
                "Statement": [{"Effect": "Allow", "Principal": {"Service": "events.amazonaws.com"}, "Action": "sns:*"}]
            }
        },
    }
    lambda_trust = {
        "Type": "AWS::IAM::Role",
        "Properties": {
            "AssumeRolePolicyDocument": {
                "Statement": [
                    {"Effect": "Allow", "Principal": {"Service": "lambda.amazonaws.com"}, "Action": "sts:AssumeRole"}
                ]
            }
        },
    }
    events_trust = json.loads(json.dumps(lambda_trust).replace("lambda.amazonaws.com", "events.amazonaws.com"))
    found = unconditioned_service_grants(
        {"s": {"Resources": {"T": topic_policy, "L": lambda_trust, "E": events_trust}}}
    )
    assert found == [
        "s T (AWS::SNS::TopicPolicy): events.amazonaws.com sns:*",
        "s E (AWS::IAM::Role): events.amazonaws.com sts:AssumeRole",
    ]


def foundation_templates(every_template) -> dict[str, dict[str, Any]]:
    return {path: t for path, t in every_template.items() if path.endswith("/Foundation")}


def test_eventbridge_publishes_to_the_topic_through_a_role_trusted_for_the_stages_rules_alone(every_template, stages):
    foundations = foundation_templates(every_template)
    assert len(foundations) >= 10
    for path, template in foundations.items():
        resources = template["Resources"]
        (topic_id,) = [i for i, r in resources.items() if r["Type"] == "AWS::SNS::Topic"]
        account = stages[path.removeprefix("pipeline:").split("/")[-2]].config.account or {"Ref": "AWS::AccountId"}
        rule_names, roles = set(), set()
        for resource in resources.values():
            if resource["Type"] != "AWS::Events::Rule":
                continue
            for target in resource["Properties"]["Targets"]:
                if target["Arn"] == {"Ref": topic_id}:
                    rule_names.add(resource["Properties"]["Name"])
                    roles.add(target["RoleArn"]["Fn::GetAtt"][0])
        assert len(rule_names) == 2, path
        (role_id,) = roles
        (trust,) = resources[role_id]["Properties"]["AssumeRolePolicyDocument"]["Statement"]
        assert trust["Principal"] == {"Service": "events.amazonaws.com"}
        sources = trust["Condition"]["ArnEquals"]["aws:SourceArn"]
        assert trust["Condition"]["StringEquals"]["aws:SourceAccount"] == account, path
        named = sorted(re.search(r':rule/([A-Za-z0-9-]+)"', json.dumps(source)).group(1) for source in sources)
        assert named == sorted(rule_names), path
        key_policy = json.dumps([r for r in resources.values() if r["Type"] == "AWS::KMS::Key"])
        topic_policy = json.dumps([r for r in resources.values() if r["Type"] == "AWS::SNS::TopicPolicy"])
        assert "events.amazonaws.com" not in key_policy and "events.amazonaws.com" not in topic_policy, path


def rule_targeted_functions(template: dict[str, Any]) -> set[str]:
    functions = set()
    for resource in template["Resources"].values():
        if resource["Type"] == "AWS::Events::Rule":
            for target in resource["Properties"].get("Targets", []):
                arn = target["Arn"]
                target_id = arn["Fn::GetAtt"][0] if isinstance(arn, dict) and "Fn::GetAtt" in arn else None
                if target_id and template["Resources"][target_id]["Type"] == "AWS::Lambda::Function":
                    functions.add(target_id)
    return functions


def test_every_function_an_event_rule_invokes_has_an_encrypted_dead_letter_queue_with_an_alarm(every_template):
    checked = 0
    for path, template in every_template.items():
        resources = template["Resources"]
        for function_id in rule_targeted_functions(template):
            function = resources[function_id]["Properties"]
            queue_id = function["DeadLetterConfig"]["TargetArn"]["Fn::GetAtt"][0]
            queue = resources[queue_id]
            assert queue["Type"] == "AWS::SQS::Queue"
            # The same stage key that encrypts the function's environment.
            assert queue["Properties"]["KmsMasterKeyId"] == function["KmsKeyArn"], path
            alarms = [
                r["Properties"]
                for r in resources.values()
                if r["Type"] == "AWS::CloudWatch::Alarm"
                and r["Properties"].get("MetricName") == "ApproximateNumberOfMessagesVisible"
                and r["Properties"]["Dimensions"]
                == [{"Name": "QueueName", "Value": {"Fn::GetAtt": [queue_id, "QueueName"]}}]
            ]
            assert len(alarms) == 1, f"{path} {function_id}"
            assert alarms[0]["Threshold"] == 1 and alarms[0]["AlarmActions"], f"{path} {function_id}"
            checked += 1
    assert checked >= 20


def test_the_topic_lets_each_dead_letter_alarm_of_its_stage_publish(every_template):
    allowed = 0
    for path, template in foundation_templates(every_template).items():
        stage = path.rsplit("/", 1)[0]
        alarm_names = [
            r["Properties"]["AlarmName"]
            for p, t in every_template.items()
            if p.rsplit("/", 1)[0] == stage
            for r in t["Resources"].values()
            if r["Type"] == "AWS::CloudWatch::Alarm" and r["Properties"]["AlarmName"].endswith("-dead-letters")
        ]
        policy = json.dumps([r for r in template["Resources"].values() if r["Type"] == "AWS::SNS::TopicPolicy"])
        for name in alarm_names:
            assert f':alarm:{name}"' in policy, f"{stage}: {name}"
            allowed += 1
    assert allowed >= 20


def test_every_handler_environment_is_encrypted_with_the_stage_key(every_template):
    watchers = 0
    for path, template in every_template.items():
        for resource in template["Resources"].values():
            if resource["Type"] != "AWS::Lambda::Function":
                continue
            properties = resource["Properties"]
            variables = properties.get("Environment", {}).get("Variables", {})
            layered = "Boto3Layer" in json.dumps(properties.get("Layers", []))
            if "WAIT_HANDLE_URL" in variables or layered:
                assert "DataKey" in json.dumps(properties["KmsKeyArn"]), path
                watchers += "WAIT_HANDLE_URL" in variables
    assert watchers >= 10


def stage_template(pipeline_app: App, stage: str, stack: str) -> dict[str, Any]:
    return assembly_templates(pipeline_app)[f"DeliveryPipeline/{stage}/{stack}"]


@pytest.mark.parametrize("stage", PIPELINE["stages"])
def test_the_smoke_test_role_trusts_only_the_pipelines_smoke_test_role(pipeline_app, stage):
    model = next(iter(project_context()["stages"][stage]["models"]))
    serving = stage_template(pipeline_app, stage, f"{model}-serving")
    (role,) = [
        r["Properties"]
        for r in serving["Resources"].values()
        if r["Type"] == "AWS::IAM::Role"
        and r["Properties"].get("RoleName") == f"{stage}-distillation-{model}-smoke-test"
    ]
    runner = f"arn:aws:iam::{PIPELINE['account']}:role/bedrock-distillation-smoke-test-{stage}"
    assert role["AssumeRolePolicyDocument"]["Statement"] == [
        {
            "Action": "sts:AssumeRole",
            "Condition": {"ArnEquals": {"aws:PrincipalArn": runner}},
            "Effect": "Allow",
            "Principal": {"AWS": f"arn:aws:iam::{PIPELINE['account']}:root"},
        }
    ]
    # That role exists in the pipeline and is the one the stage's smoke-test CodeBuild project runs as.
    pipeline = assembly_templates(pipeline_app)["DeliveryPipeline"]["Resources"]
    (runner_id,) = [
        i
        for i, r in pipeline.items()
        if r["Type"] == "AWS::IAM::Role" and r["Properties"].get("RoleName") == runner.rsplit("/", 1)[1]
    ]
    projects = [
        r["Properties"]
        for r in pipeline.values()
        if r["Type"] == "AWS::CodeBuild::Project"
        and r["Properties"]["ServiceRole"] == {"Fn::GetAtt": [runner_id, "Arn"]}
    ]
    # One smoke-test project per served model of the stage, all run as the stage's runner.
    assert len(projects) == len(project_context()["stages"][stage]["models"])
    assert all("converse" in json.dumps(project["Source"]) for project in projects)


def test_the_source_action_may_use_a_codeconnections_connection(pipeline_app):
    assert PIPELINE["connectionArn"].startswith("arn:aws:codeconnections:")
    pipeline = assembly_templates(pipeline_app)["DeliveryPipeline"]["Resources"]
    allowed = [
        statement
        for r in pipeline.values()
        if r["Type"] == "AWS::IAM::Policy"
        for statement in r["Properties"]["PolicyDocument"]["Statement"]
        if statement.get("Resource") == PIPELINE["connectionArn"]
    ]
    actions = {
        a
        for statement in allowed
        for a in ([statement["Action"]] if isinstance(statement["Action"], str) else statement["Action"])
    }
    assert "codeconnections:UseConnection" in actions


# --- the boto3 layer ----------------------------------------------------------------------------------------------


def requirements() -> list[str]:
    """lambda/requirements.txt as pip reads it: comments dropped, continuation lines joined."""
    text = LAYER_REQUIREMENTS.read_text().replace("\\\n", " ")
    return [" ".join(line.split()) for line in text.splitlines() if line.strip() and not line.lstrip().startswith("#")]


def test_the_layer_is_installed_with_require_hashes():
    assert "--require-hashes" in layer_install_arguments(LAYER_REQUIREMENTS.parent / "python", LAYER_REQUIREMENTS)


def test_every_layer_requirement_is_pinned_with_the_hash_of_its_wheel():
    lines = requirements()
    assert {line.split("==")[0] for line in lines} >= {"boto3", "botocore", "s3transfer", "jmespath", "urllib3"}
    for line in lines:
        assert re.fullmatch(r"[A-Za-z0-9_.-]+==[A-Za-z0-9_.]+( --hash=sha256:[0-9a-f]{64})+", line), line


def test_the_layer_cache_key_changes_with_a_pin_or_a_hash():
    current = LAYER_REQUIREMENTS.read_bytes()
    other_pin = current.replace(b"boto3==", b"boto3===", 1)
    other_hash = re.sub(rb"sha256:[0-9a-f]", b"sha256:x", current, count=1)
    assert len({layer_digest(current), layer_digest(other_pin), layer_digest(other_hash)}) == 3
    assert layer_digest(current) == layer_digest(current)


# --- the bootstrap's execution policy (docs/) --------------------------------------------------------------------

# The IAM service prefix of each CloudFormation namespace the stages use, where the two differ.
SERVICE_PREFIX = {"StepFunctions": "states", "CloudFormation": "cloudformation"}


def test_the_execution_policy_covers_the_service_of_every_resource_type_the_stages_create(every_template):
    document = json.loads((ROOT / "docs" / "cdk-execution-policy.json").read_text())
    allowed = {
        action.split(":")[0]
        for statement in document["Statement"]
        if statement["Effect"] == "Allow"
        for action in statement["Action"]
    }
    types = {
        resource["Type"]
        for path, template in every_template.items()
        if not path.startswith("pipeline:DeliveryPipeline") or path.count("/") == 2
        for resource in template["Resources"].values()
        if resource["Type"].startswith("AWS::")
    }
    namespaces = {kind.split("::")[1] for kind in types}
    missing = {n for n in namespaces if SERVICE_PREFIX.get(n, n.lower()) not in allowed}
    assert "IAM" in namespaces and missing == set()
