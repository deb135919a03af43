"""A stage's Region: read from the pinned botocore without boto3, and a wrong one reported once, with a suggestion."""

from __future__ import annotations

import subprocess
import sys

import boto3
import pytest

from distill.config.reader import ConfigError
from distill.config.stages import bedrock_regions, load_stages
from tests.conftest import ROOT

LLAMA = {
    "teacher": "meta.llama3-1-70b-instruct-v1:0",
    "student": "meta.llama3-1-8b-instruct-v1:0:128k",
    "trainingData": {"s3Uri": "s3://example-datasets/train.jsonl"},
}
NOVA = {
    "teacher": "amazon.nova-pro-v1:0",
    "student": "amazon.nova-lite-v1:0:300k",
    "trainingData": {"s3Uri": "s3://example-datasets/train.jsonl"},
}


def one_model(distillation: dict, serving: dict | None = None) -> dict:
    """The ``models`` key of a stage whose one model, ``chat``, has these settings."""
    return {"models": {"chat": {"distillation": distillation, **({"serving": serving} if serving else {})}}}


def problems(stage: dict) -> list[str]:
    with pytest.raises(ConfigError) as raised:
        load_stages({"dev": stage})
    return raised.value.problems


def allowed() -> str:
    return "it must be a Region where Amazon Bedrock is available: " + ", ".join(bedrock_regions())


def test_the_regions_are_those_a_boto3_session_lists():
    assert bedrock_regions() == tuple(boto3.session.Session().get_available_regions("bedrock"))
    assert "us-west-2" in bedrock_regions()


def test_reading_the_configuration_imports_no_boto3():
    code = (
        "import sys\n"
        "from distill.config.stages import load_stages\n"
        "load_stages({'dev': {'region': 'us-west-2'}})\n"
        "print(sorted(name for name in ('boto3', 'aws_cdk') if name in sys.modules))\n"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=ROOT)
    assert result.stdout.strip() == "[]"


def test_a_region_typo_is_one_message_with_the_region_meant():
    """Before, the pair check also ran in an empty Region and added a second message, with no suggestion."""
    assert problems({"region": "us-west2", **one_model(LLAMA, {"mode": "provisioned"})}) == [
        f'context.stages.dev.region is "us-west2" (did you mean "us-west-2"?); {allowed()}'
    ]


def test_the_pair_is_checked_against_the_suggested_region_and_says_so():
    """With the Region fixed the stage would still be wrong: Nova Pro distils in us-east-1 only; say so now, and
    that the Region in the message is the suggestion, not one the stage names."""
    assert problems({"region": "us-west2", **one_model(NOVA)}) == [
        f'context.stages.dev.region is "us-west2" (did you mean "us-west-2"?); {allowed()}',
        'context.stages.dev.models.chat.distillation: teacher "amazon.nova-pro-v1:0" is not available for distillation '
        "in "
        "us-west-2; its Regions are: us-east-1 (catalog read 2026-12-01; set allowUnlistedPair to true to use a "
        'pair AWS added since) (checked against us-west-2, the Region suggested for "us-west2", until '
        "context.stages.dev.region is fixed)",
    ]


def test_serving_is_not_judged_on_a_guessed_region():
    """us-east-7 suggests us-east-2, where on-demand Nova is not offered; the stage meant us-east-1, where it is:
    no advice to switch to provisioned may rest on the guess."""
    stage = {
        "region": "us-east-7",
        **one_model({**NOVA, "allowUnlistedPair": True}, {"mode": "onDemand"}),
    }
    assert problems(stage) == [f'context.stages.dev.region is "us-east-7" (did you mean "us-east-2"?); {allowed()}']


@pytest.mark.parametrize("stage", [one_model(LLAMA), {"region": "moon", **one_model(LLAMA)}])
def test_a_missing_or_unknown_region_is_one_message(stage):
    written = f'is "{stage["region"]}"' if "region" in stage else "is missing"
    assert problems(stage) == [f"context.stages.dev.region {written}; {allowed()}"]
