"""ProvisionedThroughput and OnDemandDeployment alone: the serving resource, its wait until it serves, what its
handler may buy, move and delete, and the two things a user of the served model needs: ``grant_invoke`` and the
``metric_*`` methods."""

from __future__ import annotations

import pytest
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_iam as iam

from distill.constructs import Commitment, OnDemandDeployment, ProvisionedThroughput
from distill.constructs.bedrock_metrics import DEFAULT_PERIOD
from tests.constructs.bare import ACCOUNT, KEY_ARN, MODEL_ARN, REGION, STUDENT, flat, imported_key

JOB = "dev-distill-0123456789ab"


def throughput(stack, **props) -> ProvisionedThroughput:
    return ProvisionedThroughput(
        stack,
        "Throughput",
        stage_name="dev",
        model_arn=MODEL_ARN,
        model_key=JOB,
        base_model=STUDENT,
        key=imported_key(stack),
        **props,
    )


def with_caller(stack) -> ProvisionedThroughput:
    """A throughput, an application role granted its invocation, and an alarm on its metrics."""
    served = throughput(stack)
    role = iam.Role(stack, "Application", assumed_by=iam.ServicePrincipal("lambda.amazonaws.com"))
    served.grant_invoke(role)
    cloudwatch.Alarm(stack, "Errors", metric=served.metric_server_errors(), threshold=1, evaluation_periods=1)
    return served


def deployment(stack) -> OnDemandDeployment:
    return OnDemandDeployment(
        stack,
        "Deployment",
        stage_name="dev",
        model_arn=MODEL_ARN,
        model_key=JOB,
        base_model=STUDENT,
        key=imported_key(stack),
    )


VARIANTS = {
    "throughput": throughput,
    "committed throughput": lambda stack: throughput(stack, model_units=2, commitment=Commitment.ONE_MONTH),
    "throughput with caller": with_caller,
    "deployment": deployment,
}


@pytest.fixture(scope="module")
def served(synth):
    return {name: synth(build) for name, build in VARIANTS.items()}


# The caller's role and alarm are the test's, not the construct's (the alarm notifies no one).
@pytest.mark.parametrize("variant", [name for name in VARIANTS if name != "throughput with caller"])
def test_cdk_nag_reports_nothing(served, variant):
    assert served[variant].findings == []


def test_a_throughput_is_one_resource_with_a_waiting_provider_and_a_wait_until_it_serves(served):
    bare = served["throughput"]
    assert bare.counts() == {
        "Custom::BedrockProvisionedThroughput": 1,
        # The handler's onEvent and isComplete, the provider's onEvent, isComplete and onTimeout, and the watcher.
        "AWS::Lambda::Function": 6,
        "AWS::Lambda::LayerVersion": 2,
        "AWS::IAM::Role": 6,
        "AWS::IAM::ManagedPolicy": 5,
        "AWS::IAM::Policy": 3,
        "AWS::Logs::LogGroup": 4,
        "AWS::StepFunctions::StateMachine": 1,
        "AWS::CloudFormation::WaitCondition": 1,
        "AWS::CloudFormation::WaitConditionHandle": 1,
        "AWS::Events::Rule": 1,
        "AWS::Lambda::Permission": 1,
        "AWS::SQS::Queue": 1,
        "AWS::SQS::QueuePolicy": 1,
        "AWS::CloudWatch::Alarm": 1,
    }
    # What serving waits for: the wait condition, signalled once the throughput serves the model.
    (condition,) = bare.of_type("AWS::CloudFormation::WaitCondition")
    assert bare.logical_id(bare.built.ready) == condition


def test_one_model_unit_without_commitment_by_default_and_deleted_with_the_stack(served):
    resource = served["throughput"].only("Custom::BedrockProvisionedThroughput")
    properties = resource["Properties"]
    assert (properties["ModelUnits"], properties["CommitmentDuration"], properties["ModelArn"]) == ("1", "", MODEL_ARN)
    assert properties["Name"].startswith("dev-serving-")
    assert resource["DeletionPolicy"] == "Delete"


def test_a_committed_throughput_is_kept_when_its_stack_is_deleted_and_named_by_its_settings(served):
    committed = served["committed throughput"].only("Custom::BedrockProvisionedThroughput")
    plain = served["throughput"].only("Custom::BedrockProvisionedThroughput")
    assert (committed["Properties"]["ModelUnits"], committed["Properties"]["CommitmentDuration"]) == ("2", "OneMonth")
    assert committed["DeletionPolicy"] == "Retain"
    assert committed["Properties"]["Name"] != plain["Properties"]["Name"]


def test_the_handler_buys_and_moves_only_with_the_stages_tag_and_deletes_only_the_stages_throughputs(served):
    bare = served["throughput"]
    statements = bare.statements(bare.find("Throughput/Resource/OnEvent/Policy"))
    by_action = {tuple(s["Action"]): s for s in statements if s["Action"] != ["bedrock:TagResource"]}
    throughputs = f"arn:aws:bedrock:{REGION}:{ACCOUNT}:provisioned-model/*"
    models = f"arn:aws:bedrock:{REGION}:{ACCOUNT}:custom-model/*"
    create = by_action[("bedrock:CreateProvisionedModelThroughput",)]
    assert (create["Resource"], create["Condition"]) == (
        sorted([throughputs, models]),
        {"StringEquals": {"aws:RequestTag/distillation-stage": "dev"}},
    )
    for action in ("bedrock:UpdateProvisionedModelThroughput", "bedrock:DeleteProvisionedModelThroughput"):
        assert by_action[(action,)]["Condition"] == {"StringEquals": {"aws:ResourceTag/distillation-stage": "dev"}}
    assert by_action[("bedrock:DeleteProvisionedModelThroughput",)]["Resource"] == [throughputs]


def test_the_watcher_reads_only_this_throughput(served):
    bare = served["throughput"]
    resource = next(iter(bare.of_type("Custom::BedrockProvisionedThroughput")))
    (watcher,) = [p for p in bare.of_type("AWS::IAM::ManagedPolicy").values() if "events:DisableRule" in str(p)]
    statements = [flat(s) for s in watcher["Properties"]["PolicyDocument"]["Statement"]]
    (get,) = [s for s in statements if s["Action"] == "bedrock:GetProvisionedModelThroughput"]
    assert get["Resource"] == "${" + resource + ".Arn}"


def test_grant_invoke_gives_invoke_model_on_the_throughput_and_the_model_and_the_key_through_bedrock(served):
    bare = served["throughput with caller"]
    resource = next(iter(bare.of_type("Custom::BedrockProvisionedThroughput")))
    (policy,) = [
        p for name, p in bare.of_type("AWS::IAM::Policy").items() if name.startswith("ApplicationDefaultPolicy")
    ]
    assert [flat(s) for s in policy["Properties"]["PolicyDocument"]["Statement"]] == [
        {"Action": "bedrock:InvokeModel", "Effect": "Allow", "Resource": ["${" + resource + ".Arn}", MODEL_ARN]},
        {
            "Action": ["kms:Decrypt", "kms:GenerateDataKey"],
            "Condition": {"StringEquals": {"kms:ViaService": f"bedrock.{REGION}.amazonaws.com"}},
            "Effect": "Allow",
            "Resource": KEY_ARN,
        },
    ]
    assert policy["Properties"]["Roles"] == [{"Ref": bare.logical_id(bare.find("Application"))}]


def test_the_metrics_are_aws_bedrock_runtime_metrics_by_the_model_id_inference_names(served):
    bare = served["throughput with caller"]
    resource = next(iter(bare.of_type("Custom::BedrockProvisionedThroughput")))
    (alarm,) = [
        a["Properties"] for name, a in bare.of_type("AWS::CloudWatch::Alarm").items() if name.startswith("Errors")
    ]
    assert (alarm["Namespace"], alarm["MetricName"], alarm["Statistic"], alarm["Period"]) == (
        "AWS/Bedrock",
        "InvocationServerErrors",
        "Sum",
        DEFAULT_PERIOD.to_seconds(),
    )
    assert alarm["Dimensions"] == [{"Name": "ModelId", "Value": {"Fn::GetAtt": [resource, "Arn"]}}]
    served_model = bare.built
    assert served_model.model_id == served_model.arn
    for metric, name, statistic in (
        (served_model.metric_invocations(), "Invocations", "Sum"),
        (served_model.metric_invocation_latency(), "InvocationLatency", "Average"),
        (served_model.metric_client_errors(), "InvocationClientErrors", "Sum"),
        (served_model.metric_server_errors(), "InvocationServerErrors", "Sum"),
        (served_model.metric_throttles(), "InvocationThrottles", "Sum"),
        (served_model.metric("OutputTokenCount"), "OutputTokenCount", "Sum"),
    ):
        assert (metric.namespace, metric.metric_name, metric.statistic) == ("AWS/Bedrock", name, statistic)
        assert metric.dimensions == {"ModelId": served_model.model_id}
    assert served_model.metric_invocation_latency(statistic="p90").statistic == "p90"


def test_a_deployment_is_one_resource_moved_in_place_with_its_own_actions(served):
    bare = served["deployment"]
    resource = bare.only("Custom::BedrockCustomModelDeployment")
    assert resource["Properties"]["Description"] == "Distilled model of the dev stage"
    assert resource["DeletionPolicy"] == "Delete"
    assert "Custom::BedrockProvisionedThroughput" not in bare.counts()
    statements = bare.statements(bare.find("Deployment/Resource/OnEvent/Policy"))
    actions = {action for s in statements for action in s["Action"]}
    assert {"bedrock:CreateCustomModelDeployment", "bedrock:UpdateCustomModelDeployment"} <= actions
    assert not any("ProvisionedModelThroughput" in action for action in actions)
