"""Shared fixtures: the app synthesized once per test session, and the project's cdk.json context."""

from __future__ import annotations

import copy
import dataclasses
import json
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any
from unittest import mock

import pytest
from aws_cdk import App, Stack
from aws_cdk.assertions import Template

from distill.app import build_app
from distill.config import catalog

ROOT = Path(__file__).resolve().parents[1]
REFERENCE_DATA = Path(__file__).resolve().parent / "fixtures" / "reference-data"
FIXTURES = Path(__file__).resolve().parent / "fixtures"

SHARED_MODEL_ARN = "arn:aws:bedrock:us-east-1:444444444444:custom-model/amazon.nova-lite-v1:0:300k/abcdefghij12"
# Bedrock can share no model that distillation offers as a student today (the sharing table's only student, Claude 3
# Haiku, is past its end of life: see the catalog). The share-and-copy path is still built and tested, on a stand-in
# sharing entry for Nova Lite that only these tests add; `stand_in_sharing` says so wherever it is used.
STAND_IN_SHARING = {"amazon.nova-lite-v1:0": ("us-east-1", "us-west-2")}
PIPELINE = {
    "enabled": True,
    "account": "333333333333",
    "region": "us-east-1",
    "connectionArn": "arn:aws:codeconnections:us-east-1:333333333333:connection/0a1b2c3d-4e5f-6a7b-8c9d-0e1f2a3b4c5d",
    "repository": "example-org/bedrock-distillation",
    "branch": "main",
    "stages": ["dev", "prod"],
    "approvalBefore": ["prod"],
}

# Stages that exist only in tests, beside the ones in cdk.json, to cover the settings the default does not use.
TEST_STAGES: dict[str, Any] = {
    # A teacher behind a cross-Region inference profile, invocation logs with a filter, on-demand serving, takeOver.
    "compliant": {
        "account": "111111111111",
        "region": "us-east-1",
        "removalPolicy": "retain",
        "compliancePacks": ["HIPAA.Security", "NIST.800.53.R5"],
        "invocationLogging": {"takeOver": True, "keyPrefix": "bedrock/logs"},
        "tags": {"owner": "platform"},
        "models": {
            "claims-assistant": {
                "distillation": {
                    "teacher": "us.amazon.nova-pro-v1:0",
                    "student": "amazon.nova-lite-v1:0:300k",
                    "trainingData": {
                        "invocationLogs": {
                            "usePromptResponse": True,
                            "filters": {
                                "andAll": [{"equals": {"project": "claims"}}, {"notEquals": {"priority": "low"}}]
                            },
                        }
                    },
                },
                "serving": {"mode": "onDemand"},
            }
        },
    },
    # A pair the catalog does not list (the escape hatch), a profile whose Regions the stage lists itself, a model
    # without a lifecycle in the catalog, VPC, a committed throughput.
    "committed": {
        "account": "222222222222",
        "region": "us-west-2",
        "models": {
            "claims-llama": {
                "distillation": {
                    "teacher": "us.meta.llama3-1-70b-instruct-v1:0",
                    "teacherRegions": ["us-east-1", "us-east-2", "us-west-2"],
                    "student": "meta.llama3-2-11b-instruct-v1:0:128k",
                    "allowUnlistedPair": True,
                    "maxResponseLength": 2048,
                    "retainModel": False,
                    "trainingData": {"s3Uri": "s3://example-datasets/claims/train.jsonl"},
                    "vpc": {
                        "subnetIds": ["subnet-0123456789abcdef0"],
                        "securityGroupIds": ["sg-0123456789abcdef0"],
                    },
                    "jobTags": {"use-case": "claims"},
                },
                "serving": {
                    "modelUnits": 2,
                    "commitment": "OneMonth",
                    "acknowledgeCommitment": True,
                    "pollMinutes": 5,
                },
            }
        },
    },
    "nologging": {"region": "us-west-2", "invocationLogging": {"enabled": False}},
    # A foundation-only stage that turns on invocation logging to collect the records a later distillation trains on.
    "collecting": {"region": "us-west-2", "invocationLogging": {"enabled": True, "retentionDays": 180}},
    # A sandbox that trains from its own invocation logs and may be destroyed with them: the logging resource is
    # deleted before the logs bucket is emptied, and the key is scheduled for deletion, as no custom model outlives
    # the stack.
    "scratch": {
        "region": "us-east-1",
        "removalPolicy": "destroy",
        "invocationLogging": {"allowDestroyingLogs": True, "retentionDays": 30},
        "models": {
            "scratch-micro": {
                "distillation": {
                    "teacher": "amazon.nova-pro-v1:0",
                    "student": "amazon.nova-micro-v1:0:128k",
                    "retainModel": False,
                    "trainingData": {"invocationLogs": {"filters": {"equals": {"project": "scratch"}}}},
                },
                "serving": {"mode": "none"},
            }
        },
    },
    # One stage distils and shares, the other copies that model and serves it (on the stand-in sharing entry above).
    "shared-dev": {
        "account": "444444444444",
        "region": "us-east-1",
        "models": {
            "support-assistant": {
                "distillation": {
                    "teacher": "amazon.nova-pro-v1:0",
                    "student": "amazon.nova-lite-v1:0:300k",
                    "trainingData": {"s3Uri": "s3://example-datasets/support/train.jsonl"},
                    "shareWith": ["555555555555"],
                },
                "serving": {"mode": "none"},
            }
        },
    },
    "shared-prod": {
        "account": "555555555555",
        "region": "us-east-1",
        "production": True,
        "budget": {"monthlyUsd": 20000},
        "models": {
            "support-assistant": {
                "modelSource": {
                    "copyFromStage": "shared-dev",
                    "model": "support-assistant",
                    "modelArn": SHARED_MODEL_ARN,
                },
                "serving": {"modelUnits": 1},
            }
        },
    },
    # Two models of one student, each on its own no-commitment Provisioned Throughput: the stage's model units are
    # counted together against the quotas both draw from.
    "pair": {
        "account": "666666666666",
        "region": "us-east-1",
        "models": {
            "summarizer": {
                "distillation": {
                    "teacher": "amazon.nova-pro-v1:0",
                    "student": "amazon.nova-lite-v1:0:300k",
                    "trainingData": {"s3Uri": "s3://example-datasets/summaries/train.jsonl"},
                },
                "serving": {"modelUnits": 2},
            },
            "classifier": {
                "distillation": {
                    "teacher": "amazon.nova-pro-v1:0",
                    "student": "amazon.nova-lite-v1:0:300k",
                    "trainingData": {"s3Uri": "s3://example-datasets/tickets/train.jsonl"},
                },
                "serving": {"modelUnits": 1},
            },
        },
    },
    # Three models that distil, two job slots (the default concurrentJobs): the third job waits for a slot.
    "fleet": {
        "account": "777777777777",
        "region": "us-east-1",
        "models": {
            name: {
                "distillation": {
                    "teacher": "amazon.nova-pro-v1:0",
                    "student": student,
                    "trainingData": {"s3Uri": f"s3://example-datasets/{name}/train.jsonl"},
                },
                "serving": {"mode": "onDemand"},
            }
            for name, student in (
                ("support-assistant", "amazon.nova-lite-v1:0:300k"),
                ("ticket-classifier", "amazon.nova-micro-v1:0:128k"),
                ("summarizer", "amazon.nova-lite-v1:0:300k"),
            )
        },
    },
}


@contextmanager
def stand_in_sharing() -> Iterator[None]:
    """The catalog with the stand-in sharing entry (see ``STAND_IN_SHARING``), for as long as the block runs."""
    real = catalog.catalog()
    patched = dataclasses.replace(real, shareable={**real.shareable, **STAND_IN_SHARING})
    with mock.patch.object(catalog, "catalog", lambda: patched):
        yield


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
    with stand_in_sharing():
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


class StageTemplates(dict):
    """A stage's templates by stack id (``Foundation``, ``<model>-training``, ``<model>-serving``, ``Dashboard``).

    For a stage with one model, ``["Training"]`` and ``["Serving"]`` also name that model's stacks (they are not
    keys: iterating gives each stack once)."""

    def __init__(self, templates: dict[str, Template], models: tuple[str, ...]) -> None:
        super().__init__(templates)
        self.models = models

    def _alias(self, part: str) -> str | None:
        if part in ("Training", "Serving") and len(self.models) == 1:
            return f"{self.models[0]}-{part.lower()}"
        return None

    def __getitem__(self, key: str) -> Template:
        alias = self._alias(key)
        return super().__getitem__(alias if alias is not None and alias in self else key)

    def __contains__(self, key: object) -> bool:
        alias = self._alias(key) if isinstance(key, str) else None
        return super().__contains__(alias if alias is not None else key)

    def parts(self, part: str) -> dict[str, Template]:
        """Every model's ``part`` stack (training or serving), by model name."""
        return {model: self[f"{model}-{part}"] for model in self.models if f"{model}-{part}" in self}


@pytest.fixture(scope="session")
def templates(stages) -> dict[str, StageTemplates]:
    """stage name -> stack id -> assertions Template (``StageTemplates``)."""
    return {
        name: StageTemplates(
            {child.node.id: Template.from_stack(child) for child in stage.node.children if isinstance(child, Stack)},
            tuple(stage.models),
        )
        for name, stage in stages.items()
    }
