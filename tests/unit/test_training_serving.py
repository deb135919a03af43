"""The training and serving stacks: what the job is sent, how the model is awaited, how it is served."""

from __future__ import annotations

import json
import re

import pytest
from aws_cdk import App
from aws_cdk.assertions import Annotations, Match, Template

from distill.app import build_app
from distill.constructs.model_wait import JOB_STATE_CHANGE
from tests.conftest import project_context


def only_model(stage):
    """The stacks of a stage's one model (``DistillationStage.models``)."""
    (model,) = stage.models.values()
    return model


def poll_rule(stage) -> str:
    """The job wait's fallback schedule: ``<stage>-<model>-poll-<the job name's 12 hex digits>``."""
    name = job_name(stage)
    return f"{name.split('-distill-')[0]}-poll-{name.rsplit('-', 1)[1]}"


def resources(template: Template, resource_type: str) -> dict[str, dict]:
    return template.find_resources(resource_type)


def only(template: Template, resource_type: str) -> dict:
    (resource,) = resources(template, resource_type).values()
    return resource


def statements(template: Template) -> list[dict]:
    return [
        statement
        for policy in resources(template, "AWS::IAM::ManagedPolicy").values()
        for statement in policy["Properties"]["PolicyDocument"]["Statement"]
    ]


def actions_of(statement: dict) -> list[str]:
    return [statement["Action"]] if isinstance(statement["Action"], str) else statement["Action"]


@pytest.fixture(scope="module")
def sandbox(templates) -> dict[str, Template]:
    return templates["sandbox"]


@pytest.fixture(scope="module")
def prod(templates) -> dict[str, Template]:
    """The shipped stage that serves through a Provisioned Throughput."""
    return templates["prod"]


def invoke_statement(template: Template) -> dict:
    (statement,) = [s for s in statements(template) if s["Action"] == "bedrock:InvokeModel"]
    return statement


def test_the_job_is_a_distillation_of_the_configured_pair(sandbox):
    job = only(sandbox["Training"], "Custom::BedrockDistillationJob")["Properties"]
    assert job["TeacherModelIdentifier"] == "amazon.nova-pro-v1:0"
    assert job["StudentModelIdentifier"] == "amazon.nova-lite-v1:0:300k"
    assert job["MaxResponseLengthForInference"] == "1000"
    assert re.fullmatch(r"sandbox-support-assistant-distill-[0-9a-f]{12}", job["JobName"])
    assert job["RetainModelOnDelete"] == "true"
    assert "VpcConfig" not in job


def test_the_job_encrypts_the_model_with_the_stage_key_and_writes_to_the_output_bucket(sandbox):
    job = only(sandbox["Training"], "Custom::BedrockDistillationJob")["Properties"]
    assert "DataKey" in json.dumps(job["CustomModelKmsKeyId"])
    assert "StorageOutput" in json.dumps(job["OutputS3Uri"])
    assert "distillation-output/" in json.dumps(job["OutputS3Uri"])


def test_a_local_dataset_is_copied_into_the_training_bucket_under_its_content_hash(sandbox):
    ((upload_id, upload),) = resources(sandbox["Training"], "Custom::TrainingDataUpload").items()
    key = upload["Properties"]["DestinationKey"]
    assert key.startswith("datasets/") and key.endswith(".jsonl")
    job = only(sandbox["Training"], "Custom::BedrockDistillationJob")["Properties"]
    assert {"Fn::GetAtt": [upload_id, "S3Uri"]} in job["TrainingDataConfig"]["Fn::Join"][1]


def test_invocation_log_training_data_carries_the_filter_and_the_log_prefix(templates):
    job = only(templates["compliant"]["Training"], "Custom::BedrockDistillationJob")["Properties"]
    rendered = json.dumps(job["TrainingDataConfig"])
    assert '\\"usePromptResponse\\":true' in rendered
    assert "/bedrock/logs/AWSLogs/" in rendered
    assert (
        '\\"requestMetadataFilters\\":{\\"andAll\\":[{\\"equals\\":{\\"project\\":\\"claims\\"}},'
        '{\\"notEquals\\":{\\"priority\\":\\"low\\"}}]}' in rendered
    )


def warnings_of(stage, kind: str) -> list[str]:
    found = Annotations.from_stack(only_model(stage).training).find_warning("*", Match.any_value())
    return [w.entry.data for w in found if w.entry.data.endswith(f"[ack: {kind}]")]


def test_an_unlisted_pair_synthesizes_with_a_warning(stages):
    (warning,) = warnings_of(stages["committed"], "distill:unlisted-pair")
    assert warning.startswith('student "meta.llama3-2-11b-instruct-v1:0:128k" is not offered for teacher')
    assert warning.endswith("allowed by allowUnlistedPair [ack: distill:unlisted-pair]")


def test_a_model_without_a_confirmed_lifecycle_synthesizes_with_a_warning(stages):
    assert warnings_of(stages["committed"], "distill:model-lifecycle") == [
        'student "meta.llama3-2-11b-instruct-v1:0:128k" has no lifecycle in the catalog; check its model card, or '
        "run `distill preflight`, which reads it from Bedrock [ack: distill:model-lifecycle]"
    ]
    assert warnings_of(stages["sandbox"], "distill:model-lifecycle") == []


def test_vpc_and_tags_reach_the_job(templates):
    job = only(templates["committed"]["Training"], "Custom::BedrockDistillationJob")["Properties"]
    assert "subnet-0123456789abcdef0" in json.dumps(job["VpcConfig"])
    assert "use-case" in json.dumps(job["JobTags"])
    assert job["RetainModelOnDelete"] == "false"


def test_the_service_role_may_invoke_exactly_the_teacher(sandbox):
    statement = invoke_statement(sandbox["Training"])
    assert statement["Resource"] == "arn:aws:bedrock:us-east-1::foundation-model/amazon.nova-pro-v1:0"


def test_a_teacher_behind_an_inference_profile_gets_the_profile_and_every_region_it_routes_to(templates):
    # us.amazon.nova-pro-v1:0 called from us-east-1 routes to us-east-1, us-east-2 and us-west-2 (its model card).
    statement = invoke_statement(templates["compliant"]["Training"])
    assert statement["Resource"] == [
        "arn:aws:bedrock:us-east-1:111111111111:inference-profile/us.amazon.nova-pro-v1:0",
        "arn:aws:bedrock:us-east-1::foundation-model/amazon.nova-pro-v1:0",
        "arn:aws:bedrock:us-east-2::foundation-model/amazon.nova-pro-v1:0",
        "arn:aws:bedrock:us-west-2::foundation-model/amazon.nova-pro-v1:0",
    ]


def test_a_profile_the_catalog_has_no_regions_for_gets_the_regions_the_stage_lists(templates):
    statement = invoke_statement(templates["committed"]["Training"])
    rendered = json.dumps(statement["Resource"])
    for region in ("us-east-1", "us-east-2", "us-west-2"):
        assert f"bedrock:{region}::foundation-model/meta.llama3-1-70b-instruct-v1:0" in rendered
    assert "inference-profile/us.meta.llama3-1-70b-instruct-v1:0" in rendered


@pytest.fixture(scope="module")
def arn_teachers() -> dict[str, dict[str, Template]]:
    """Two stages whose teachers are given as ARNs (case 06-arn-teacher): the shipped teacher as a foundation-model
    ARN, and the compliant stage's profile as an inference-profile ARN."""
    data = {"s3Uri": "s3://example-datasets/support/train.jsonl"}
    stages = {
        "fm-arn": {
            "region": "us-east-1",
            "models": {
                "support-assistant": {
                    "distillation": {
                        "teacher": "arn:aws:bedrock:us-east-1::foundation-model/amazon.nova-pro-v1:0",
                        "student": "arn:aws:bedrock:us-east-1::foundation-model/amazon.nova-lite-v1:0:300k",
                        "trainingData": data,
                    },
                    "serving": {"mode": "none"},
                }
            },
        },
        "profile-arn": {
            "account": "111111111111",
            "region": "us-east-1",
            "models": {
                "support-assistant": {
                    "distillation": {
                        "teacher": "arn:aws:bedrock:us-east-1:123456789012:inference-profile/us.amazon.nova-pro-v1:0",
                        "student": "amazon.nova-lite-v1:0:300k",
                        "trainingData": data,
                    },
                    "serving": {"mode": "none"},
                }
            },
        },
    }
    app = App(context={**project_context(), "stages": stages}, analytics_reporting=False)
    built = build_app(app)
    return {name: {"Training": Template.from_stack(only_model(stage).training)} for name, stage in built.items()}


def test_a_teacher_given_as_a_foundation_model_arn_gets_the_same_iam_and_job_as_its_id(arn_teachers, sandbox):
    assert invoke_statement(arn_teachers["fm-arn"]["Training"]) == invoke_statement(sandbox["Training"])
    job = only(arn_teachers["fm-arn"]["Training"], "Custom::BedrockDistillationJob")["Properties"]
    assert (job["TeacherModelIdentifier"], job["StudentModelIdentifier"]) == (
        "amazon.nova-pro-v1:0",
        "amazon.nova-lite-v1:0:300k",
    )


def test_a_teacher_given_as_an_inference_profile_arn_gets_the_same_iam_and_job_as_its_id(arn_teachers, templates):
    compliant = templates["compliant"]["Training"]
    assert invoke_statement(arn_teachers["profile-arn"]["Training"]) == invoke_statement(compliant)
    job = only(arn_teachers["profile-arn"]["Training"], "Custom::BedrockDistillationJob")["Properties"]
    assert job["TeacherModelIdentifier"] == "us.amazon.nova-pro-v1:0"


def test_pass_role_is_limited_to_the_service_role_and_to_bedrock(sandbox):
    (statement,) = [s for s in statements(sandbox["Training"]) if s["Action"] == "iam:PassRole"]
    assert statement["Condition"] == {"StringEquals": {"iam:PassedToService": "bedrock.amazonaws.com"}}
    assert "ServiceRole" in json.dumps(statement["Resource"])


def test_job_handler_actions_are_scoped_to_this_accounts_jobs_and_models(sandbox):
    bedrock = [s for s in statements(sandbox["Training"]) if any(a.startswith("bedrock:") for a in actions_of(s))]
    listing = [s for s in bedrock if all(a.startswith("bedrock:List") and "Tags" not in a for a in actions_of(s))]
    # Listing what serves a model takes no resource-level permission; everything else (a model's tags included) is
    # this account's.
    assert [s["Resource"] for s in listing] == ["*"]
    for statement in bedrock:
        if statement in listing:
            continue
        rendered = json.dumps(statement["Resource"])
        assert "*" not in rendered.replace("/*", "")
        assert "AWS::AccountId" in rendered or "foundation-model" in rendered


def job_name(stage: dict[str, Template]) -> str:
    return only(stage["Training"], "Custom::BedrockDistillationJob")["Properties"]["JobName"]


def test_the_job_arn_is_published_for_the_distill_command_by_the_job_handler(sandbox):
    # Not by a stack resource: nothing in the training stack may fail after the job started.
    sandbox["Training"].resource_count_is("AWS::SSM::Parameter", 0)
    sandbox["Training"].has_resource_properties(
        "Custom::BedrockDistillationJob",
        {"JobArnParameterName": "/bedrock-distillation/sandbox/support-assistant/job-arn"},
    )


def test_serving_waits_for_the_job_by_the_name_the_training_stack_gives_it(sandbox):
    # No SSM parameter or export ties the stacks: the job's name is known at synth, so a new job is a new wait.
    assert "SsmParameterValue" not in json.dumps(sandbox["Serving"].to_json().get("Parameters", {}))
    sandbox["Serving"].has_resource_properties("Custom::BedrockDistilledModel", {"JobName": job_name(sandbox)})
    sandbox["Serving"].has_resource_properties(
        "AWS::Lambda::Function", {"Environment": {"Variables": Match.object_like({"JOB_NAME": job_name(sandbox)})}}
    )


def test_every_wait_lasts_up_to_twelve_hours_on_a_handle_of_its_own(sandbox):
    conditions = resources(sandbox["Serving"], "AWS::CloudFormation::WaitCondition").values()
    handles = set(resources(sandbox["Serving"], "AWS::CloudFormation::WaitConditionHandle"))
    assert len(conditions) == 2  # the job's model, then the on-demand deployment serving it
    assert {c["Properties"]["Timeout"] for c in conditions} == {"43200"}
    assert {c["Properties"]["Count"] for c in conditions} == {1}
    assert {c["Properties"]["Handle"]["Ref"] for c in conditions} == handles


def test_the_state_change_rule_matches_the_jobs_name(sandbox):
    rules = resources(sandbox["Serving"], "AWS::Events::Rule")
    (pattern,) = [r["Properties"]["EventPattern"] for r in rules.values() if "EventPattern" in r["Properties"]]
    assert pattern["source"] == ["aws.bedrock"]
    assert pattern["detail-type"] == [JOB_STATE_CHANGE]
    # The documented sample event's jobArn is in a shorter form than the API's: the name is what both carry.
    assert pattern["detail"] == {"jobName": [job_name(sandbox)]}


def test_the_fallback_poll_runs_no_more_often_than_every_five_minutes(sandbox, templates):
    def schedules(template):
        return [
            r["Properties"]["ScheduleExpression"]
            for r in resources(template, "AWS::Events::Rule").values()
            if "ScheduleExpression" in r["Properties"]
        ]

    # The job's fallback poll, then the check that the served model is ready (Bedrock sends no events for that).
    assert sorted(schedules(sandbox["Serving"])) == ["rate(10 minutes)", "rate(2 minutes)"]
    assert sorted(schedules(templates["committed"]["Serving"])) == ["rate(2 minutes)", "rate(5 minutes)"]


def test_each_wait_starts_after_its_watchers_triggers_exist(sandbox):
    conditions = resources(sandbox["Serving"], "AWS::CloudFormation::WaitCondition").values()
    rule_ids = set(resources(sandbox["Serving"], "AWS::Events::Rule"))
    waited_after = {d for c in conditions for d in c["DependsOn"]}
    assert rule_ids <= waited_after


def test_each_watcher_may_disable_only_its_own_poll_rule(sandbox):
    disabling = [s for s in statements(sandbox["Serving"]) if s["Action"] == "events:DisableRule"]
    rendered = sorted(json.dumps(s["Resource"]) for s in disabling)
    assert len(rendered) == 2
    assert f"rule/{poll_rule(sandbox)}" in rendered[0] + rendered[1]
    assert "rule/sandbox-support-assistant-ready-" in rendered[0] + rendered[1]


def test_provisioned_throughput_has_no_commitment_by_default_and_is_deleted_with_the_stack(prod):
    throughput = only(prod["Serving"], "Custom::BedrockProvisionedThroughput")
    assert throughput["Properties"]["CommitmentDuration"] == ""
    assert throughput["Properties"]["ModelUnits"] == "1"
    assert throughput["DeletionPolicy"] == "Delete"


def test_throughput_is_created_for_the_model_once_the_wait_is_over(prod):
    throughput = only(prod["Serving"], "Custom::BedrockProvisionedThroughput")
    ((model_id, model),) = resources(prod["Serving"], "Custom::BedrockDistilledModel").items()
    conditions = resources(prod["Serving"], "AWS::CloudFormation::WaitCondition")
    assert any(condition_id in model["DependsOn"] for condition_id in conditions)
    assert model_id in throughput["DependsOn"]
    assert throughput["Properties"]["ModelArn"] == {"Fn::GetAtt": [model_id, "ModelArn"]}


def test_a_committed_throughput_is_retained(templates):
    throughput = only(templates["committed"]["Serving"], "Custom::BedrockProvisionedThroughput")
    assert throughput["Properties"]["CommitmentDuration"] == "OneMonth"
    assert throughput["Properties"]["ModelUnits"] == "2"
    assert throughput["DeletionPolicy"] == "Retain"


def test_on_demand_serving_uses_a_custom_model_deployment(templates):
    serving = templates["compliant"]["Serving"]
    serving.resource_count_is("Custom::BedrockProvisionedThroughput", 0)
    serving.resource_count_is("Custom::BedrockCustomModelDeployment", 1)
    assert "DeploymentArn" in serving.find_outputs("*")


def test_a_throughput_is_waited_for_on_a_wait_condition_not_inside_its_custom_resource(prod):
    # A throughput can take more than the hour a custom resource may wait: the resource returns once Bedrock has
    # accepted it, and a wait condition signalled by the serving watcher waits for it. The resource's one waiter
    # state machine (the Provider's isComplete) only makes a move that had to wait for a busy throughput, within
    # the hour: it checks every minute, 60 times.
    [waiter] = resources(prod["Serving"], "AWS::StepFunctions::StateMachine").values()
    definition = json.dumps(waiter["Properties"]["DefinitionString"])
    assert '\\"IntervalSeconds\\":60' in definition and '\\"MaxAttempts\\":60' in definition, definition[:400]
    throughput_id = next(iter(resources(prod["Serving"], "Custom::BedrockProvisionedThroughput")))
    prod["Serving"].has_resource_properties(
        "AWS::Lambda::Function",
        {
            "Environment": {
                "Variables": Match.object_like(
                    {"KIND": "Provisioned Throughput", "RESOURCE_ARN": {"Fn::GetAtt": [throughput_id, "Arn"]}}
                )
            }
        },
    )


def test_handler_functions_get_enough_time_for_their_calls(sandbox):
    for stack in ("Training", "Serving"):
        for function in resources(sandbox[stack], "AWS::Lambda::Function").values():
            assert function["Properties"]["Timeout"] <= 900


def test_serving_outputs(prod):
    assert set(prod["Serving"].find_outputs("*")) >= {
        "JobArn",
        "MetricsS3Uri",
        "CustomModelArn",
        "ProvisionedModelArn",
    }


def test_metrics_uri_points_at_the_step_wise_training_metrics(sandbox):
    uri = json.dumps(sandbox["Serving"].find_outputs("MetricsS3Uri")["MetricsS3Uri"]["Value"])
    assert "model-customization-job-" in uri
    assert "training_artifacts/step_wise_training_metrics.csv" in uri


def test_a_stage_without_distillation_has_only_its_foundation(templates):
    assert set(templates["nologging"]) == {"Foundation"}


def test_serving_depends_on_training(stages):
    model = only_model(stages["sandbox"])
    assert model.training in model.serving.dependencies


@pytest.mark.parametrize("stage", ["sandbox", "compliant", "committed"])
def test_every_lambda_runs_the_pinned_runtime(templates, stage):
    for stack in templates[stage].values():
        for function in resources(stack, "AWS::Lambda::Function").values():
            assert function["Properties"]["Runtime"] in {"python3.14", "nodejs24.x"}


def test_the_watcher_knows_its_job_wait_handle_condition_and_poll_rule(sandbox):
    conditions = resources(sandbox["Serving"], "AWS::CloudFormation::WaitCondition")
    sandbox["Serving"].has_resource_properties(
        "AWS::Lambda::Function",
        {
            "Handler": "index.handler",
            "Environment": {
                "Variables": {
                    "JOB_NAME": job_name(sandbox),
                    "WAIT_HANDLE_URL": {"Ref": Match.string_like_regexp("Handle")},
                    "POLL_RULE_NAME": poll_rule(sandbox),
                    "STACK_ID": {"Ref": "AWS::StackId"},
                    "WAIT_CONDITION": Match.any_value(),
                }
            },
        },
    )
    watchers = [
        f["Properties"]["Environment"]["Variables"]
        for f in resources(sandbox["Serving"], "AWS::Lambda::Function").values()
        if "WAIT_CONDITION" in f["Properties"].get("Environment", {}).get("Variables", {})
    ]
    assert sorted(w["WAIT_CONDITION"] for w in watchers) == sorted(conditions)
