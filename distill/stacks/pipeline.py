"""The optional delivery pipeline: one reviewed commit, deployed stage by stage, approved before production."""

from __future__ import annotations

import json
import re
from collections.abc import Mapping

from aws_cdk import DefaultStackSynthesizer, Stack, pipelines
from aws_cdk import aws_codebuild as codebuild
from aws_cdk import aws_iam as iam
from constructs import Construct

from distill.config.promotion import PipelineConfig
from distill.config.stages import StageConfig
from distill.constructs.nag import acknowledge, acknowledge_all, render_resolved
from distill.stacks.serving import smoke_test_caller_role_name, smoke_test_role_name
from distill.stacks.stage import DistillationStage

# Why each kind of wildcard in the policies CDK Pipelines generates is acceptable: (finding pattern, reason). A
# wildcard that matches none of these stays a finding, so a new kind of grant is reviewed rather than waved through.
GENERATED_WILDCARDS = [
    (
        r"Action::s3:(Abort|DeleteObject|GetBucket|GetObject|List)\*|Resource::<PipelineArtifactsBucket\w+\.Arn>/\*",
        "CDK Pipelines lets its actions read and write pipeline artifacts; the wildcards stay inside the pipeline's "
        "own artifact bucket.",
    ),
    (
        r"Action::kms:(GenerateDataKey|ReEncrypt)\*",
        "Data-key operations on the pipeline's own artifact key only, to encrypt and decrypt artifacts.",
    ),
    (
        r"Resource::arn:aws:(logs|codebuild):[a-z0-9-]+:\d{12}:(log-group:/aws/codebuild/|report-group/).*",
        "CodeBuild writes its projects' log streams and test reports, whose names it chooses at run time.",
    ),
    (
        r"Resource::arn:\*:iam::\d{12}:role/\*",
        "Self-mutation assumes only roles tagged as CDK bootstrap roles (deploy, file and image publishing), a "
        "condition on the same statement.",
    ),
    (
        r"Resource::\*",
        'CDK Pipelines writes these statements with Resource "*" and offers no way to narrow them: self-mutation '
        "reads stack state and lists buckets (cloudformation:DescribeStacks, s3:ListBucket, both read-only), and the "
        "asset-publishing role starts, polls and stops CodeBuild builds in the pipeline account.",
    ),
]

# The post-deploy check: assume the stage's smoke-test role, send one prompt through Converse, fail on an error or
# an empty answer. Plain sh, as CodeBuild runs it.
SMOKE_TEST_COMMANDS = [
    'set -- $(aws sts assume-role --role-arn "$ROLE_ARN" --role-session-name distill-smoke-test '
    "--query 'Credentials.[AccessKeyId,SecretAccessKey,SessionToken]' --output text)",
    'export AWS_ACCESS_KEY_ID="$1" AWS_SECRET_ACCESS_KEY="$2" AWS_SESSION_TOKEN="$3"',
    'answer=$(aws bedrock-runtime converse --region "$MODEL_REGION" --model-id "$MODEL_ID" '
    '--messages \'[{"role":"user","content":[{"text":"Reply with the single word OK."}]}]\' '
    "--inference-config maxTokens=16 --query 'output.message.content[0].text' --output text)",
    'test -n "$answer" && echo "The served model answered: $answer"',
]

# Before a stage deploys: `distill preflight` reads the stage's account through its CDK bootstrap lookup role (read
# only, and trusted by the pipeline account once the target is bootstrapped with --trust), so a deploy that would
# fail, or a job that would fail hours later, stops the pipeline first. It needs boto3 only, at the pinned version.
PREFLIGHT_COMMANDS = [
    "python3 -m pip install --quiet $(grep -E '^(boto3|botocore)==' requirements.txt)",
    'set -- $(aws sts assume-role --role-arn "$ROLE_ARN" --role-session-name distill-preflight '
    "--query 'Credentials.[AccessKeyId,SecretAccessKey,SessionToken]' --output text)",
    'export AWS_ACCESS_KEY_ID="$1" AWS_SECRET_ACCESS_KEY="$2" AWS_SESSION_TOKEN="$3"',
    'PYTHONPATH=. python3 -m distill.cli preflight --stage "$STAGE"',
]


class DeliveryPipelineStack(Stack):
    """CDK Pipelines from a CodeStar/CodeConnections source: the synth step runs `make test` (which synthesizes),
    then each stage deploys in order, with a manual approval before the stages that need one (production) and a
    post-deploy Converse call to the served model. Artifacts cross accounts with a customer-managed key."""

    def __init__(
        self,
        scope: Construct,
        id: str,
        *,
        pipeline: PipelineConfig,
        stages: Mapping[str, StageConfig],
        **kwargs,
    ) -> None:
        super().__init__(scope, id, **kwargs)
        source = pipelines.CodePipelineSource.connection(
            pipeline.repository, pipeline.branch, connection_arn=pipeline.connection_arn
        )
        self.pipeline = pipelines.CodePipeline(
            self,
            "Pipeline",
            pipeline_name="bedrock-distillation",
            cross_account_keys=True,
            synth=pipelines.ShellStep(
                "Synth", input=source, commands=["make test"], primary_output_directory="cdk.out"
            ),
            enable_key_rotation=True,
            code_build_defaults=pipelines.CodeBuildOptions(
                build_environment=codebuild.BuildEnvironment(build_image=codebuild.LinuxBuildImage.STANDARD_7_0)
            ),
        )
        self.stages: dict[str, DistillationStage] = {}
        for name in pipeline.stages:
            stage = DistillationStage(self, stages[name], smoke_test_account=pipeline.account)
            pre: list[pipelines.Step] = [self._preflight(source, stages[name])]
            if name in pipeline.approval_before:
                # The approver sees a passed preflight: the approval waits for it.
                approval = pipelines.ManualApprovalStep(f"Approve-{name}", comment=f"Promote to {name}?")
                approval.add_step_dependency(pre[0])
                pre.append(approval)
            self.pipeline.add_stage(stage, pre=pre, post=self._smoke_test(stage))
            self.stages[name] = stage
        # Build the underlying CodePipeline now, so its generated policies exist to be reviewed below.
        self.pipeline.build_pipeline()
        self._allow_connection_use(pipeline.connection_arn)
        self._acknowledge_generated()
        # cfn-lint's E3703 asks for Fn::Sub where CDK Pipelines writes the deploy actions' role ARNs as Fn::Join;
        # CloudFormation accepts both, and the template is generated, so the rule is silenced on this resource only.
        self.pipeline.pipeline.node.default_child.add_metadata(  # type: ignore[union-attr]
            "cfn-lint", {"config": {"ignore_checks": ["E3703"]}}
        )

    def _allow_connection_use(self, connection_arn: str) -> None:
        """Let the source action use the connection under the service prefix of its ARN.

        CDK grants codestar-connections:UseConnection whatever the ARN. Since the rename to AWS CodeConnections,
        connections are created with codeconnections ARNs, and "when specifying a resource in the IAM policy, the
        service prefix needs to match that of the resource" (Developer Tools console user guide, "Connections
        rename - Summary of changes", https://docs.aws.amazon.com/dtconsole/latest/userguide/rename.html, read
        2026-12-02): a codeconnections ARN gets codeconnections:UseConnection as well.
        """
        prefix = connection_arn.split(":")[2]
        if prefix == "codestar-connections":
            return
        # The role CodePipeline makes for the source action lives in the scope of the pipeline's Source stage.
        source_stage = self.pipeline.pipeline.node.find_child("Source")
        roles = [construct for construct in source_stage.node.find_all() if isinstance(construct, iam.Role)]
        assert roles, "the source action's role"
        for role in roles:
            role.add_to_principal_policy(
                iam.PolicyStatement(actions=[f"{prefix}:UseConnection"], resources=[connection_arn])
            )

    def _acknowledge_generated(self) -> None:
        artifacts = self.pipeline.pipeline.artifact_bucket
        acknowledge(
            artifacts,
            "AwsSolutions-S1",
            "CDK Pipelines does not expose access logging for its artifact bucket; access to it is recorded by "
            "CloudTrail. It holds the checkout and the synthesized cloud assembly, a `file` dataset included (see "
            "the README's Sensitive data), encrypted with the pipeline's key.",
        )
        for construct in self.pipeline.node.find_all():
            if isinstance(construct, iam.Policy):
                acknowledge_all(construct, _generated_wildcard_reasons(construct))

    def _preflight(self, source: pipelines.IFileSetProducer, config: StageConfig) -> pipelines.Step:
        lookup_role = (
            DefaultStackSynthesizer.DEFAULT_LOOKUP_ROLE_ARN.replace("${AWS::Partition}", self.partition)
            .replace("${AWS::AccountId}", str(config.account))
            .replace("${AWS::Region}", config.region)
            .replace("${Qualifier}", DefaultStackSynthesizer.DEFAULT_QUALIFIER)
        )
        return pipelines.CodeBuildStep(
            f"Preflight-{config.name}",
            input=source,
            env={"STAGE": config.name, "ROLE_ARN": lookup_role},
            role_policy_statements=[iam.PolicyStatement(actions=["sts:AssumeRole"], resources=[lookup_role])],
            commands=PREFLIGHT_COMMANDS,
        )

    def _smoke_test(self, stage: DistillationStage) -> list[pipelines.Step] | None:
        """A post-deploy Converse call to each model the stage serves, from one runner role per stage that may
        assume each model's smoke-test role."""
        config = stage.config
        served = [
            (name, stacks.serving)
            for name, stacks in stage.models.items()
            if stacks.serving.model_id_output is not None and stacks.serving.smoke_test_role_output is not None
        ]
        if not served:
            return None
        runner = iam.Role(
            self.pipeline,
            f"SmokeTestRunner-{config.name}",
            role_name=smoke_test_caller_role_name(config.name),
            assumed_by=iam.ServicePrincipal("codebuild.amazonaws.com"),
            description=f"Runs the post-deploy smoke tests of the {config.name} stage",
        )
        return [
            pipelines.CodeBuildStep(
                f"SmokeTest-{config.name}-{name}",
                env={"MODEL_REGION": config.region},
                env_from_cfn_outputs={
                    "MODEL_ID": serving.model_id_output,
                    "ROLE_ARN": serving.smoke_test_role_output,
                },
                role=runner,
                role_policy_statements=[
                    iam.PolicyStatement(
                        actions=["sts:AssumeRole"],
                        resources=[
                            f"arn:{self.partition}:iam::{config.account}:role/{smoke_test_role_name(config.name, name)}"
                        ],
                    )
                ],
                commands=SMOKE_TEST_COMMANDS,
            )
            for name, serving in served
        ]


def _generated_wildcard_reasons(policy: iam.Policy) -> dict[str, str]:
    """The IAM5 finding ids of one generated policy's wildcards, each with the reason from GENERATED_WILDCARDS."""
    reasons = {}
    for statement in Stack.of(policy).resolve(policy.document)["Statement"]:
        for finding in _wildcard_findings(statement):
            reason = next((why for pattern, why in GENERATED_WILDCARDS if re.fullmatch(pattern, finding)), None)
            if reason is not None:
                reasons[f"AwsSolutions-IAM5[{finding}]"] = reason
    return reasons


def _wildcard_findings(statement: dict) -> list[str]:
    actions = statement.get("Action", [])
    resources = statement.get("Resource", [])
    found = [f"Action::{action}" for action in _as_list(actions) if "*" in action]
    for resource in _as_list(resources):
        if "*" in json.dumps(resource):
            found.append(f"Resource::{render_resolved(resource)}")
    return found


def _as_list(value: object) -> list:
    return value if isinstance(value, list) else [value]
