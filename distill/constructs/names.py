"""Names shared by the stacks and the `distill` command, kept free of CDK imports so the command starts fast."""

from __future__ import annotations

METRICS_NAMESPACE = "BedrockDistillation"
# The cdk-nag packs a stage may add on top of AwsSolutions, which always runs (cdk-nag's pack names).
COMPLIANCE_PACKS = ("HIPAA.Security", "NIST.800.53.R5")
# Every resource of a stage carries this tag with the stage's name: the budget filters on it and the handlers' IAM
# conditions (aws:ResourceTag, aws:RequestTag) limit them to the stage's own Bedrock resources with it.
STAGE_TAG = "distillation-stage"
# And the model of the stage it belongs to (context.stages.<stage>.models.<name>), on every resource of a model's
# stacks.
MODEL_TAG = "distillation-model"
# For the config's tag maps: (the key they may not hold, why).
STAGE_TAG_RESERVED = (
    STAGE_TAG,
    "the stack gives every resource this tag with the stage's name, and the handlers' permissions depend on it",
)
MODEL_TAG_RESERVED = (MODEL_TAG, "the stacks give every resource of a model this tag with the model's name")


def stack_name(stage: str, part: str) -> str:
    """A stack the whole stage shares: ``part`` is foundation or dashboard."""
    return f"{stage}-distillation-{part}"


def model_prefix(stage: str, model: str) -> str:
    """``<stage>-<model>``: the prefix of every name a model's resources get (jobs, custom models, serving
    resources, copies, rules); the configuration keeps it at most MAX_MODEL_PREFIX characters."""
    return f"{stage}-{model}"


# The longest name derived from the prefix is a serving resource's ``<prefix>-serving-<12 hex>`` and the customization
# job's ``<prefix>-distill-<12 hex>``: 61 characters, within Bedrock's 63 for job, custom model and throughput names.
MAX_MODEL_PREFIX = 40


# What a name prefix may hold: Bedrock's job, custom model and throughput name patterns allow letters, digits and
# single hyphens between them (Bedrock API reference, CreateModelCustomizationJob jobName:
# [a-zA-Z0-9](-*[a-zA-Z0-9\+\-\.])*, narrowed to what every derived name - stack, rule, role - also allows).
NAME_PREFIX_PATTERN = r"[A-Za-z](-?[A-Za-z0-9])*"


def check_name_prefix(prefix: str, what: str = "stage_name") -> str:
    """``prefix`` if it can begin every name a construct derives from it; raises ValueError saying what is allowed.
    (CDK-free, without ``re`` at import: the commands import this module.)"""
    import re

    if not isinstance(prefix, str) or not re.fullmatch(NAME_PREFIX_PATTERN, prefix) or len(prefix) > MAX_MODEL_PREFIX:
        raise ValueError(
            f"{what} is {prefix!r}; it must be 1 to {MAX_MODEL_PREFIX} letters, digits and single hyphens, starting "
            "with a letter and not ending with a hyphen, as it begins the names of the customization job, custom "
            "model and serving resources (Bedrock allows 63 characters with the suffixes the constructs add)"
        )
    return prefix


def model_stack_name(stage: str, model: str, part: str) -> str:
    """A stack of one model of the stage, ``<stage>-distillation-<model>-<part>`` (``part`` is training or
    serving), deployed alone with ``cdk deploy '<stage>/<model>-*'`` (the stack's id in the stage is
    ``<model>-<part>``). Every stack name of the app holds ``-distillation-``: the scoped bootstrap policy
    (docs/cdk-execution-policy.json) lets CloudFormation create only resources whose generated names do."""
    return f"{stage}-distillation-{model}-{part}"


def model_stack_names(stage: str, model: str) -> tuple[str, str]:
    """The model's training and serving stacks: while one of them rolls back, its handlers release no custom model."""
    return model_stack_name(stage, model, "training"), model_stack_name(stage, model, "serving")


def job_arn_parameter(stage: str, model: str) -> str:
    """Where the job's ARN is published for the serving stack and the `distill` command (an SSM parameter, not a
    stack export: an export cannot change while imported, and a new job is a new ARN)."""
    return f"/bedrock-distillation/{stage}/{model}/job-arn"
