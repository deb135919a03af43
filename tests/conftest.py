"""Shared fixtures: the app synthesized once per test session, and the project's cdk.json context."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import pytest
from aws_cdk import App, Stack
from aws_cdk.assertions import Template

from distill.app import build_app

ROOT = Path(__file__).resolve().parents[1]
REFERENCE_DATA = Path(__file__).resolve().parent / "fixtures" / "reference-data"
FIXTURES = Path(__file__).resolve().parent / "fixtures"

HAIKU_MODEL_ARN = (
    "arn:aws:bedrock:us-west-2:444444444444:custom-model/anthropic.claude-3-haiku-20240307-v1:0:200k/abcdefghij12"
)
PIPELINE = {
    "enabled": True,
    "account": "333333333333",
    "region": "us-west-2",
    "connectionArn": "arn:aws:codeconnections:us-west-2:333333333333:connection/0a1b2c3d-4e5f-6a7b-8c9d-0e1f2a3b4c5d",
    "repository": "example-org/bedrock-distillation",
    "branch": "main",
    "stages": ["dev", "prod"],
    "approvalBefore": ["prod"],
}

# Stages that exist only in tests, beside the ones in cdk.json, to cover the settings the default does not use.
TEST_STAGES: dict[str, Any] = {
    "compliant": {
        "account": "111111111111",
        "region": "us-east-1",
        "removalPolicy": "retain",
        "compliancePacks": ["HIPAA.Security", "NIST.800.53.R5"],
        "invocationLogging": {"takeOver": True, "keyPrefix": "bedrock/logs"},
        "tags": {"owner": "platform"},
        "distillation": {
            "teacher": "us.amazon.nova-premier-v1:0",
            "student": "amazon.nova-lite-v1:0:300k",
            "trainingData": {
                "invocationLogs": {
                    "usePromptResponse": True,
                    "filters": {"andAll": [{"equals": {"project": "claims"}}, {"notEquals": {"priority": "low"}}]},
                }
            },
        },
        "serving": {"mode": "onDemand"},
    },
    "committed": {
        "account": "222222222222",
        "region": "us-west-2",
        "distillation": {
            "teacher": "meta.llama3-3-70b-instruct-v1:0",
            "student": "meta.llama3-1-70b-instruct-v1:0:128k",
            "allowUnlistedPair": True,
            "maxResponseLength": 2048,
            "retainModel": False,
            "trainingData": {"s3Uri": "s3://example-datasets/claims/train.jsonl"},
            "vpc": {"subnetIds": ["subnet-0123456789abcdef0"], "securityGroupIds": ["sg-0123456789abcdef0"]},
            "jobTags": {"use-case": "claims"},
        },
        "serving": {"modelUnits": 2, "commitment": "OneMonth", "acknowledgeCommitment": True, "pollMinutes": 5},
    },
    "nologging": {"region": "us-west-2", "invocationLogging": {"enabled": False}},
    # A model family Bedrock can share: one stage distils and shares, the other copies and serves.
    "haiku-dev": {
        "account": "444444444444",
        "region": "us-west-2",
        "distillation": {
            "teacher": "anthropic.claude-3-5-sonnet-20241022-v2:0",
            "student": "anthropic.claude-3-haiku-20240307-v1:0:200k",
            "trainingData": {"s3Uri": "s3://example-datasets/support/train.jsonl"},
            "shareWith": ["555555555555"],
        },
        "serving": {"mode": "none"},
    },
    "haiku-prod": {
        "account": "555555555555",
        "region": "us-west-2",
        "production": True,
        "budget": {"monthlyUsd": 20000},
        "modelSource": {"copyFromStage": "haiku-dev", "modelArn": HAIKU_MODEL_ARN},
        "serving": {"modelUnits": 1},
    },
}


def project_context() -> dict[str, Any]:
    return json.loads((ROOT / "cdk.json").read_text())["context"]


@pytest.fixture(scope="session")
def context() -> dict[str, Any]:
    return project_context()


@pytest.fixture(scope="session")
def stages() -> dict[str, Any]:
    """Every configured stage plus the test stages, synthesized once with cdk-nag validation."""
    context = copy.deepcopy(project_context())
    context["stages"].update(copy.deepcopy(TEST_STAGES))
    app = App(context=context, analytics_reporting=False)
    built = build_app(app)
    app.synth()
    return built


@pytest.fixture(scope="session")
def pipeline_app() -> App:
    """The project's stages with the delivery pipeline switched on, synthesized once with cdk-nag."""
    context = copy.deepcopy(project_context())
    context["pipeline"] = copy.deepcopy(PIPELINE)
    app = App(context=context, analytics_reporting=False)
    build_app(app)
    app.synth()
    return app


@pytest.fixture(scope="session")
def templates(stages) -> dict[str, dict[str, Template]]:
    """stage name -> stack id -> assertions Template."""
    return {
        name: {child.node.id: Template.from_stack(child) for child in stage.node.children if isinstance(child, Stack)}
        for name, stage in stages.items()
    }
