"""Names shared by the stacks and the `distill` command, kept free of CDK imports so the command starts fast."""

from __future__ import annotations

METRICS_NAMESPACE = "BedrockDistillation"
# The cdk-nag packs a stage may add on top of AwsSolutions, which always runs (cdk-nag's pack names).
COMPLIANCE_PACKS = ("HIPAA.Security", "NIST.800.53.R5")
# Every resource of a stage carries this tag with the stage's name: the budget filters on it and the handlers' IAM
# conditions (aws:ResourceTag, aws:RequestTag) limit them to the stage's own Bedrock resources with it.
STAGE_TAG = "distillation-stage"
# For the config's tag maps: (the key they may not hold, why).
STAGE_TAG_RESERVED = (
    STAGE_TAG,
    "the stack gives every resource this tag with the stage's name, and the handlers' permissions depend on it",
)


def stack_name(stage: str, part: str) -> str:
    """``part`` is foundation, training or serving."""
    return f"{stage}-distillation-{part}"


def job_arn_parameter(stage: str) -> str:
    """Where the job's ARN is published for the serving stack and the `distill` command (an SSM parameter, not a
    stack export: an export cannot change while imported, and a new job is a new ARN)."""
    return f"/bedrock-distillation/{stage}/job-arn"
