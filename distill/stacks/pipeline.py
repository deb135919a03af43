"""The optional delivery pipeline: one reviewed commit, deployed stage by stage, approved before production."""

from __future__ import annotations

from collections.abc import Mapping

from aws_cdk import Stack, pipelines
from aws_cdk import aws_codebuild as codebuild
from aws_cdk import aws_iam as iam
from constructs import Construct

from distill.config import StageConfig
from distill.promotion import PipelineConfig
from distill.stacks.stage import DistillationStage

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
            code_build_defaults=pipelines.CodeBuildOptions(
                build_environment=codebuild.BuildEnvironment(build_image=codebuild.LinuxBuildImage.STANDARD_7_0)
            ),
        )
        self.stages: dict[str, DistillationStage] = {}
        for name in pipeline.stages:
            stage = DistillationStage(self, stages[name], smoke_test_account=pipeline.account)
            pre = [pipelines.ManualApprovalStep(f"Approve-{name}", comment=f"Promote to {name}?")]
            self.pipeline.add_stage(
                stage,
                pre=pre if name in pipeline.approval_before else None,
                post=self._smoke_test(stage),
            )
            self.stages[name] = stage

    def _smoke_test(self, stage: DistillationStage) -> list[pipelines.Step] | None:
        serving = stage.serving
        if serving is None or serving.model_id_output is None or serving.smoke_test_role_output is None:
            return None
        config = stage.config
        role_arn = f"arn:{self.partition}:iam::{config.account}:role/{config.name}-distillation-smoke-test"
        return [
            pipelines.CodeBuildStep(
                f"SmokeTest-{config.name}",
                env={"MODEL_REGION": config.region},
                env_from_cfn_outputs={
                    "MODEL_ID": serving.model_id_output,
                    "ROLE_ARN": serving.smoke_test_role_output,
                },
                role_policy_statements=[iam.PolicyStatement(actions=["sts:AssumeRole"], resources=[role_arn])],
                commands=SMOKE_TEST_COMMANDS,
            )
        ]
