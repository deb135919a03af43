"""Promotion: stages per environment, the optional pipeline, and copying a shared model between accounts."""

from __future__ import annotations

import copy
import json

import pytest
from aws_cdk import Stack
from aws_cdk.assertions import Template

from distill.config.reader import ConfigError
from distill.config.stages import load_app, load_stages
from tests.conftest import PIPELINE, ROOT, SHARED_MODEL_ARN, TEST_STAGES, project_context, stand_in_sharing


def problems(stages: dict, pipeline: dict | None = None) -> list[str]:
    context = {"stages": stages, **({"pipeline": pipeline} if pipeline is not None else {})}
    with pytest.raises(ConfigError) as raised:
        load_app(context, ROOT)
    return raised.value.problems


# --- stages ---------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "account", "region"), [("dev", "111111111111", "us-east-1"), ("prod", "222222222222", "us-east-1")]
)
def test_each_example_stage_has_its_environment_and_prefixed_stack_names(stages, name, account, region):
    stage = stages[name]
    assert (stage.account, stage.region) == (account, region)
    names = sorted(child.stack_name for child in stage.node.children if isinstance(child, Stack))
    models = [f"{name}-distillation-{model}-{part}" for model in stage.models for part in ("serving", "training")]
    assert names == sorted([f"{name}-distillation-foundation", f"{name}-distillation-dashboard", *models])


@pytest.mark.parametrize("name", ["dev", "prod"])
def test_every_resource_that_takes_tags_carries_the_cost_allocation_tags(templates, name):
    expected = {"distillation-stage": name, "environment": name, "cost-center": "ml-platform"}
    tagged = 0
    for template in templates[name].values():
        for resource in template.to_json()["Resources"].values():
            tags = resource.get("Properties", {}).get("Tags")
            if isinstance(tags, list):
                found = {t["Key"]: t["Value"] for t in tags}
                assert expected.items() <= found.items(), resource["Type"]
                tagged += 1
    assert tagged > 10


def test_bedrock_resources_get_the_stage_tags_too(templates):
    for model, training in templates["dev"].parts("training").items():
        job = training.find_resources("Custom::BedrockDistillationJob")
        (properties,) = [r["Properties"] for r in job.values()]
        assert '\\"environment\\":\\"dev\\"' in json.dumps(properties["JobTags"])
        assert f'\\"distillation-model\\":\\"{model}\\"' in json.dumps(properties["JobTags"])


def test_prod_keeps_its_data_and_dev_may_destroy(templates):
    dev_buckets = templates["dev"]["Foundation"].find_resources("AWS::S3::Bucket")
    prod_buckets = templates["prod"]["Foundation"].find_resources("AWS::S3::Bucket")
    assert {b["DeletionPolicy"] for b in dev_buckets.values()} == {"Delete"}
    assert {b["DeletionPolicy"] for b in prod_buckets.values()} == {"Retain"}


def test_a_production_stage_with_destroy_removal_is_refused():
    stage = {
        "account": "222222222222",
        "region": "us-west-2",
        "production": True,
        "removalPolicy": "destroy",
        "budget": {"monthlyUsd": 5000},
    }
    assert problems({"prod": stage}) == [
        'context.stages.prod.removalPolicy is "destroy", but the stage is a production stage ("production": true), '
        'whose buckets, key and logs must outlive the stack; use "retain"'
    ]


def test_a_production_stage_must_name_its_account():
    stage = {"region": "us-west-2", "production": True, "budget": {"monthlyUsd": 5000}}
    assert problems({"prod": stage}) == [
        "context.stages.prod.account is missing; a production stage must name its 12-digit account"
    ]


def test_an_account_that_is_not_twelve_digits_is_refused():
    assert problems({"dev": {"account": "1234-5678-9012", "region": "us-west-2"}}) == [
        'context.stages.dev.account is "1234-5678-9012"; it must be an AWS account id of 12 digits'
    ]


def test_a_region_where_the_pair_is_unavailable_is_refused():
    stage = copy.deepcopy(project_context()["stages"]["dev"])
    stage["region"] = "eu-west-1"
    for model in stage["models"].values():
        del model["serving"]  # on-demand serving is not offered there either; this test is about the pair
    assert [problem.split(" is not available")[0] for problem in problems({"dev": stage})] == [
        f'context.stages.dev.models.{name}.distillation: teacher "amazon.nova-pro-v1:0"' for name in stage["models"]
    ]
    assert problems({"dev": stage})[0].endswith(
        "in eu-west-1; its Regions are: us-east-1 (catalog read 2026-12-01; set allowUnlistedPair to true to use a "
        "pair AWS added since)"
    )


def test_notification_email_must_be_an_address():
    assert problems({"dev": {"region": "us-west-2", "notifications": {"email": "oncall"}}}) == [
        'context.stages.dev.notifications.email is "oncall"; it must be an e-mail address to subscribe to the '
        "stage's topic"
    ]


# --- model sharing and copying --------------------------------------------------------------------------------


def test_the_source_stage_shares_its_model_with_the_copying_account(templates):
    share = templates["shared-dev"]["Serving"].find_resources("AWS::RAM::ResourceShare")
    (resource,) = share.values()
    assert resource["Properties"]["Principals"] == ["555555555555"]
    assert resource["Properties"]["AllowExternalPrincipals"] is False
    (model_id,) = templates["shared-dev"]["Serving"].find_resources("Custom::BedrockDistilledModel")
    assert resource["Properties"]["ResourceArns"] == [{"Fn::GetAtt": [model_id, "ModelArn"]}]
    assert model_id in resource["DependsOn"]


def test_the_copying_stage_copies_the_model_and_serves_the_copy(templates):
    assert set(templates["shared-prod"]) == {"Foundation", "support-assistant-serving", "Dashboard"}
    serving = templates["shared-prod"]["Serving"]
    ((copy_id, copy_resource),) = serving.find_resources("Custom::BedrockModelCopy").items()
    assert copy_resource["Properties"]["SourceModelArn"] == SHARED_MODEL_ARN
    assert copy_resource["Properties"]["RetainModelOnDelete"] == "true"
    ((_, throughput),) = serving.find_resources("Custom::BedrockProvisionedThroughput").items()
    assert throughput["Properties"]["ModelArn"] == {"Fn::GetAtt": [copy_id, "ModelArn"]}


def shared_stages() -> dict:
    return copy.deepcopy({name: TEST_STAGES[name] for name in ("shared-dev", "shared-prod")})


def shared_problems(stages: dict) -> list[str]:
    with stand_in_sharing():
        return problems(stages)


def test_no_student_distillation_offers_today_can_be_shared():
    # The real catalog: the sharing table's only distillation student, Claude 3 Haiku, is past its end of life.
    assert problems(shared_stages()) == [
        "context.stages.shared-prod.models.support-assistant.modelSource.modelArn is a custom model of "
        "amazon.nova-lite-v1:0:300k, which "
        "Bedrock cannot share across accounts; models that can be shared: amazon.titan-embed-image-v1, "
        "amazon.titan-image-generator-v1, amazon.titan-text-express-v1, amazon.titan-text-lite-v1, "
        "anthropic.claude-3-haiku-20240307-v1:0. Run the distillation in this stage instead (give "
        "context.stages.shared-prod.models.support-assistant a distillation section)"
    ]


def test_copying_a_model_family_bedrock_cannot_share_is_refused():
    stages = {
        "dev": {
            "account": "111111111111",
            "region": "us-west-2",
            "models": {
                "claims": {
                    "distillation": {
                        "teacher": "meta.llama3-1-70b-instruct-v1:0",
                        "student": "meta.llama3-1-8b-instruct-v1:0:128k",
                        "trainingData": {"s3Uri": "s3://datasets/train.jsonl"},
                        "shareWith": ["222222222222"],
                    }
                }
            },
        },
        "prod": {
            "account": "222222222222",
            "region": "us-west-2",
            "models": {
                "claims": {
                    "modelSource": {
                        "copyFromStage": "dev",
                        "model": "claims",
                        "modelArn": (
                            "arn:aws:bedrock:us-west-2:111111111111:custom-model/meta.llama3-1-8b-instruct-v1:0:128k/"
                            "abcdefghij12"
                        ),
                    }
                }
            },
        },
    }
    assert shared_problems(stages) == [
        "context.stages.prod.models.claims.modelSource.modelArn is a custom model of "
        "meta.llama3-1-8b-instruct-v1:0:128k, which Bedrock cannot share across accounts; models that can be shared: "
        "amazon.titan-embed-image-v1, amazon.titan-image-generator-v1, amazon.titan-text-express-v1, "
        "amazon.titan-text-lite-v1, anthropic.claude-3-haiku-20240307-v1:0, amazon.nova-lite-v1:0. Run the "
        "distillation in this stage instead (give context.stages.prod.models.claims a distillation section)"
    ]


def test_copying_needs_the_source_to_share_with_this_account():
    stages = shared_stages()
    stages["shared-dev"]["models"]["support-assistant"]["distillation"]["shareWith"] = []
    assert shared_problems(stages) == [
        'context.stages.shared-prod.models.support-assistant.modelSource: stage "shared-dev" does not share its model '
        '"support-assistant" with this stage\'s account 555555555555; add it to '
        "context.stages.shared-dev.models.support-assistant.distillation.shareWith"
    ]


def test_copying_needs_a_model_of_the_source_stages_account():
    stages = shared_stages()
    stages["shared-prod"]["models"]["support-assistant"]["modelSource"]["modelArn"] = SHARED_MODEL_ARN.replace(
        "444444444444", "999999999999"
    )
    assert shared_problems(stages) == [
        "context.stages.shared-prod.models.support-assistant.modelSource.modelArn belongs to account 999999999999 in "
        "us-east-1; stage "
        '"shared-dev" is account 444444444444 in us-east-1'
    ]


def test_copying_from_a_stage_that_does_not_distil():
    stages = shared_stages()
    stages["shared-prod"]["models"]["support-assistant"]["modelSource"]["copyFromStage"] = "nowhere"
    assert shared_problems(stages) == [
        'context.stages.shared-prod.models.support-assistant.modelSource.copyFromStage is "nowhere"; it must name a '
        "stage that runs a "
        "distillation: shared-dev"
    ]


def test_copying_a_model_the_source_stage_does_not_distil():
    stages = shared_stages()
    stages["shared-prod"]["models"]["support-assistant"]["modelSource"]["model"] = "summarizer"
    assert shared_problems(stages) == [
        'context.stages.shared-prod.models.support-assistant.modelSource.model is "summarizer"; stage "shared-dev" '
        "distils no model of that name; its distilled models: support-assistant"
    ]


def test_a_model_source_names_the_model_it_copies():
    stages = shared_stages()
    del stages["shared-prod"]["models"]["support-assistant"]["modelSource"]["model"]
    assert shared_problems(stages) == [
        "context.stages.shared-prod.models.support-assistant.modelSource.model is missing; it must be the name of the "
        "copied model in that stage (its context.stages.<stage>.models)"
    ]


def test_a_model_either_distils_or_copies():
    stages = shared_stages()
    copied = stages["shared-prod"]["models"]["support-assistant"]
    copied["distillation"] = copy.deepcopy(stages["shared-dev"]["models"]["support-assistant"]["distillation"])
    assert (
        "context.stages.shared-prod.models.support-assistant has both distillation and modelSource; a model is either "
        "distilled in the stage or copied from another" in shared_problems(stages)
    )


def test_a_model_source_needs_a_custom_model_arn():
    stages = shared_stages()
    stages["shared-prod"]["models"]["support-assistant"]["modelSource"]["modelArn"] = "amazon.nova-lite-v1:0:300k"
    assert shared_problems(stages) == [
        'context.stages.shared-prod.models.support-assistant.modelSource.modelArn is "amazon.nova-lite-v1:0:300k"; it '
        "must be a "
        "custom model ARN like arn:aws:bedrock:us-west-2:111122223333:custom-model/<base model id>/<12-character id>"
    ]


def test_share_with_takes_account_ids():
    stages = shared_stages()
    stages["shared-dev"]["models"]["support-assistant"]["distillation"]["shareWith"] = ["prod"]
    assert (
        'context.stages.shared-dev.models.support-assistant.distillation.shareWith is ["prod"]; it must be a list of '
        "12-digit account ids" in (shared_problems(stages))
    )


# --- pipeline ----------------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def pipeline_template(pipeline_app) -> Template:
    return Template.from_stack(pipeline_app.node.find_child("DeliveryPipeline"))


def pipeline_stages(template: Template) -> list[dict]:
    (pipeline,) = template.find_resources("AWS::CodePipeline::Pipeline").values()
    return pipeline["Properties"]["Stages"]


def test_the_pipeline_deploys_dev_then_prod_after_building(pipeline_template):
    names = [stage["Name"] for stage in pipeline_stages(pipeline_template)]
    assert names[:3] == ["Source", "Build", "UpdatePipeline"]
    assert names.index("dev") < names.index("prod")
    assert names[-2:] == ["dev", "prod"]


def test_the_pipeline_source_is_the_code_connection(pipeline_template):
    (source,) = pipeline_stages(pipeline_template)[0]["Actions"]
    assert source["ActionTypeId"]["Provider"] == "CodeStarSourceConnection"
    assert source["Configuration"]["FullRepositoryId"] == "example-org/bedrock-distillation"
    assert source["Configuration"]["BranchName"] == "main"
    assert source["Configuration"]["ConnectionArn"] == PIPELINE["connectionArn"]


def test_the_synth_step_runs_make_test(pipeline_template):
    projects = pipeline_template.find_resources("AWS::CodeBuild::Project")
    specs = [
        json.loads(p["Properties"]["Source"]["BuildSpec"])
        for p in projects.values()
        if "BuildSpec" in p["Properties"]["Source"]
    ]
    synth = [spec for spec in specs if spec.get("artifacts", {}).get("base-directory") == "cdk.out"]
    (spec,) = synth
    assert spec["phases"]["build"]["commands"] == ["make test"]


def stage_actions(template: Template, name: str) -> list[dict]:
    (stage,) = [s for s in pipeline_stages(template) if s["Name"] == name]
    return sorted(stage["Actions"], key=lambda action: action["RunOrder"])


def test_prod_waits_for_a_manual_approval_and_dev_does_not(pipeline_template):
    prod = stage_actions(pipeline_template, "prod")
    assert [action["Name"] for action in prod[:2]] == ["Preflight-prod", "Approve-prod"]
    assert prod[1]["ActionTypeId"]["Category"] == "Approval"
    assert prod[0]["RunOrder"] < prod[1]["RunOrder"]
    assert all(action["ActionTypeId"]["Category"] != "Approval" for action in stage_actions(pipeline_template, "dev"))


@pytest.mark.parametrize(("name", "account"), [("dev", "111111111111"), ("prod", "222222222222")])
def test_each_stage_starts_with_a_preflight_of_its_account(pipeline_template, name, account):
    actions = stage_actions(pipeline_template, name)
    first = actions[0]
    assert (first["Name"], first["ActionTypeId"]["Category"]) == (f"Preflight-{name}", "Build")
    assert all(first["RunOrder"] < action["RunOrder"] for action in actions[1:])
    lookup_role = f"arn:aws:iam::{account}:role/cdk-hnb659fds-lookup-role-{account}-us-east-1"
    projects = pipeline_template.find_resources("AWS::CodeBuild::Project")
    (project,) = [
        p["Properties"]
        for p in projects.values()
        if {"Name": "ROLE_ARN", "Type": "PLAINTEXT", "Value": lookup_role}
        in p["Properties"]["Environment"].get("EnvironmentVariables", [])
    ]
    assert {"Name": "STAGE", "Type": "PLAINTEXT", "Value": name} in project["Environment"]["EnvironmentVariables"]
    spec = json.loads(project["Source"]["BuildSpec"])
    assert spec["phases"]["build"]["commands"][-1] == 'PYTHONPATH=. python3 -m distill.cli preflight --stage "$STAGE"'
    policies = json.dumps(pipeline_template.find_resources("AWS::IAM::Policy"))
    assert f'{{"Action": "sts:AssumeRole", "Effect": "Allow", "Resource": "{lookup_role}"}}' in policies


@pytest.mark.parametrize("name", ["dev", "prod"])
def test_each_stage_ends_with_a_smoke_test_of_each_served_model(pipeline_template, name):
    actions = stage_actions(pipeline_template, name)
    models = list(project_context()["stages"][name]["models"])
    tests = [a for a in actions if a["Name"].startswith(f"SmokeTest-{name}-")]
    assert sorted(a["Name"] for a in tests) == sorted(f"SmokeTest-{name}-{model}" for model in models)
    assert all(a["ActionTypeId"]["Category"] == "Build" for a in tests)
    last_deploy = max(a["RunOrder"] for a in actions if a not in tests)
    assert all(a["RunOrder"] > last_deploy for a in tests)
    projects = pipeline_template.find_resources("AWS::CodeBuild::Project")
    smoke = [p for p in projects.values() if "bedrock-runtime converse" in json.dumps(p)]
    # One per served model of the pipeline's stages (dev's two, prod's one).
    assert len(smoke) == 3


def test_artifacts_cross_accounts_with_a_customer_managed_key(pipeline_template):
    pipeline_template.resource_count_is("AWS::KMS::Key", 1)
    (pipeline,) = pipeline_template.find_resources("AWS::CodePipeline::Pipeline").values()
    assert "EncryptionKey" in json.dumps(pipeline["Properties"]["ArtifactStore"])


def test_pipeline_stages_let_the_pipeline_account_run_the_smoke_test(pipeline_app):
    prod = pipeline_app.node.find_child("DeliveryPipeline").node.find_child("prod")
    serving = Template.from_stack(prod.models["support-assistant"].serving)
    serving.has_resource_properties(
        "AWS::IAM::Role",
        {
            "RoleName": "prod-distillation-support-assistant-smoke-test",
            "AssumeRolePolicyDocument": {
                "Statement": [
                    {
                        "Principal": {"AWS": "arn:aws:iam::333333333333:root"},
                        "Action": "sts:AssumeRole",
                        "Effect": "Allow",
                    }
                ]
            },
        },
    )


def test_pipeline_config_is_checked():
    stages = copy.deepcopy(project_context()["stages"])
    pipeline = {**PIPELINE, "stages": ["dev", "staging"], "approvalBefore": []}
    assert problems(stages, pipeline) == [
        'context.pipeline.stages is ["dev", "staging"]; it must list, in deployment order, stages from: sandbox, '
        "dev, prod"
    ]


def test_a_pipeline_must_approve_before_production():
    stages = copy.deepcopy(project_context()["stages"])
    assert problems(stages, {**PIPELINE, "approvalBefore": []}) == [
        'context.pipeline.approvalBefore must include the production stage "prod"'
    ]


def test_a_pipeline_deploys_only_stages_with_accounts():
    stages = copy.deepcopy(project_context()["stages"])
    assert problems(stages, {**PIPELINE, "stages": ["sandbox", "prod"]}) == [
        'context.pipeline.stages: stage "sandbox" has no account; a pipeline deploys to named accounts'
    ]


def test_a_disabled_pipeline_is_not_built(stages):
    assert load_app(project_context(), ROOT).pipeline is None
    assert load_stages(project_context()["stages"], ROOT).keys() == {"sandbox", "dev", "prod"}


@pytest.mark.parametrize(
    ("key", "value", "message"),
    [
        ("enabled", "yes", 'context.pipeline.enabled is "yes"; it must be true or false'),
        (
            "account",
            "33333333333",
            'context.pipeline.account is "33333333333"; it must be the 12-digit account of the pipeline',
        ),
        (
            "connectionArn",
            "arn:aws:codecommit:us-west-2:333333333333:repo",
            'context.pipeline.connectionArn is "arn:aws:codecommit:us-west-2:333333333333:repo"; it must be a '
            "CodeStar/CodeConnections connection ARN",
        ),
        (
            "repository",
            "bedrock-distillation",
            'context.pipeline.repository is "bedrock-distillation"; it must be owner/name',
        ),
        ("branch", 7, "context.pipeline.branch is 7; it must be a string"),
        ("region", 7, "context.pipeline.region is 7; it must be the Region of the pipeline"),
    ],
)
def test_each_pipeline_key_is_checked(key, value, message):
    stages = copy.deepcopy(project_context()["stages"])
    assert problems(stages, {**PIPELINE, key: value}) == [message]


def test_a_pipeline_key_that_does_not_exist():
    stages = copy.deepcopy(project_context()["stages"])
    (problem,) = problems(stages, {**PIPELINE, "approvals": ["prod"]})
    assert problem.startswith('context.pipeline.approvals is not a known key (did you mean "approvalBefore"?)')


def test_production_is_a_boolean():
    assert problems({"prod": {"account": "222222222222", "region": "us-west-2", "production": "yes"}}) == [
        'context.stages.prod.production is "yes"; it must be true or false'
    ]
