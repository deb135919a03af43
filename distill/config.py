"""The app's configuration: the stages in cdk.json context, parsed once into frozen dataclasses.

app.py calls ``load_stages`` with the CDK context; everything below it receives typed, validated settings as
keyword arguments and never reads context or the environment itself.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import boto3

from distill.config_reader import ConfigError, Reader, show
from distill.job_config import DistillationConfig, ServingConfig, parse_distillation, parse_serving

# Relative paths in cdk.json (a local dataset, say) are relative to the project root, where cdk.json is.
PROJECT_ROOT = Path(__file__).resolve().parents[1]

# The CDK context key that holds the stages.
STAGES_KEY = "stages"

# cdk-nag packs a stage may add on top of AwsSolutions, which always runs.
COMPLIANCE_PACKS = ("HIPAA.Security", "NIST.800.53.R5")

REMOVAL_POLICIES = ("retain", "destroy")

# Bedrock's endpoint list, as shipped in the pinned botocore: offline, and it moves with the pin.
BEDROCK_REGIONS = tuple(boto3.session.Session().get_available_regions("bedrock"))

# Stage names prefix stack, job and model names; Bedrock's name patterns allow no doubled or trailing hyphen.
STAGE_NAME_PATTERN = r"(?=.{1,24}$)[A-Za-z](-?[A-Za-z0-9])*"


@dataclass(frozen=True)
class InvocationLoggingConfig:
    """The account and Region's model invocation logging, owned by the foundation stack."""

    enabled: bool = True
    # Replace a configuration this stack did not create; the old one is put back when the stack is deleted.
    take_over: bool = False
    # Where Bedrock writes the logs inside the invocation-logs bucket.
    key_prefix: str = "invocation-logs"


@dataclass(frozen=True)
class StageConfig:
    """One deployment environment (an account and a Region) and its settings."""

    name: str
    region: str
    account: str | None = None
    removal_policy: str = "retain"
    invocation_logging: InvocationLoggingConfig = field(default_factory=InvocationLoggingConfig)
    compliance_packs: tuple[str, ...] = ()
    tags: Mapping[str, str] = field(default_factory=dict)
    # Without these the stage deploys only its foundation (to collect invocation logs first, for example).
    distillation: DistillationConfig | None = None
    serving: ServingConfig | None = None

    @property
    def destroy_on_delete(self) -> bool:
        return self.removal_policy == "destroy"


def load_stages(stages: Any, base_dir: Path = PROJECT_ROOT) -> dict[str, StageConfig]:
    """Parse the ``stages`` context value; raise ``ConfigError`` listing every problem found."""
    if stages is None:
        raise ConfigError([f'cdk.json context has no "{STAGES_KEY}" entry; add at least one stage'])
    problems: list[str] = []
    root = Reader({STAGES_KEY: stages}, "context", problems)
    parsed = root.each(STAGES_KEY, lambda reader, name: _parse_stage(reader, name, base_dir))
    if not parsed and not problems:
        problems.append(f"context.{STAGES_KEY} is empty; add at least one stage")
    root.raise_if_problems()
    return parsed


def _parse_stage(reader: Reader, name: str, base_dir: Path) -> StageConfig:
    if not re.fullmatch(STAGE_NAME_PATTERN, name):
        reader.problem(
            f'{reader.path}: stage name "{name}" must start with a letter and hold at most 24 letters, digits '
            "and single hyphens, not ending with one (it prefixes stack, job and model names)"
        )
    region = reader.string(
        "region",
        required=True,
        pattern="|".join(map(re.escape, BEDROCK_REGIONS)),
        allowed="a Region where Amazon Bedrock is available: " + ", ".join(BEDROCK_REGIONS),
    )
    invocation_logging = _parse_invocation_logging(reader.child("invocationLogging"))
    distillation = None
    if reader.has("distillation"):
        distillation = parse_distillation(
            reader.child("distillation"),
            region=region or "",
            base_dir=base_dir,
            logs_enabled=invocation_logging.enabled,
        )
    serving = None
    if reader.has("serving"):
        if distillation is None:
            reader.problem(f"{reader.where('serving')} is set, but there is no distillation to serve")
        serving = parse_serving(
            reader.child("serving"), student=distillation.student if distillation else "", region=region or ""
        )
    elif distillation is not None:
        serving = ServingConfig()
    stage = StageConfig(
        name=name,
        region=region or "",
        account=reader.string("account", pattern=r"\d{12}", allowed="an AWS account id of 12 digits"),
        removal_policy=reader.choice("removalPolicy", "retain", REMOVAL_POLICIES),
        invocation_logging=invocation_logging,
        compliance_packs=_parse_compliance_packs(reader),
        tags=reader.string_map("tags", key_limit=128, value_limit=256, what="cost-allocation tags"),
        distillation=distillation,
        serving=serving,
    )
    reader.reject_unknown()
    return stage


def _parse_invocation_logging(reader: Reader) -> InvocationLoggingConfig:
    defaults = InvocationLoggingConfig()
    parsed = InvocationLoggingConfig(
        enabled=reader.boolean("enabled", defaults.enabled),
        take_over=reader.boolean("takeOver", defaults.take_over),
        key_prefix=reader.string(
            "keyPrefix",
            defaults.key_prefix,
            pattern=r"[A-Za-z0-9][A-Za-z0-9!_.*'()/-]{0,127}",
            allowed="an S3 key prefix of 1 to 128 characters (letters, digits, / and !_.*'()-), not starting with /",
        )
        or defaults.key_prefix,
    )
    reader.reject_unknown()
    return parsed


def _parse_compliance_packs(reader: Reader) -> tuple[str, ...]:
    packs = reader.raw("compliancePacks", [])
    if not isinstance(packs, list) or any(pack not in COMPLIANCE_PACKS for pack in packs):
        reader.problem(
            f"{reader.where('compliancePacks')} is {show(packs)}; it must be a list of cdk-nag packs from "
            + ", ".join(f'"{pack}"' for pack in COMPLIANCE_PACKS)
            + " (AwsSolutions always runs)"
        )
        return ()
    return tuple(dict.fromkeys(packs))
