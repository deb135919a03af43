"""Loading handler modules from lambda/ the way the Lambda runtime does, with their clients stubbed."""

from __future__ import annotations

import copy
import importlib.util
import json
import sys
from pathlib import Path
from types import ModuleType

import pytest

LAMBDA_ROOT = Path(__file__).resolve().parents[2] / "lambda"
EVENTS = Path(__file__).resolve().parents[1] / "fixtures" / "events"
# The shared layer's modules sit on the Lambda runtime's path (/opt/python); tests put them on sys.path likewise.
SHARED_LAYER = LAMBDA_ROOT / "shared" / "python"
if str(SHARED_LAYER) not in sys.path:
    sys.path.insert(0, str(SHARED_LAYER))


@pytest.fixture(autouse=True)
def aws_environment(monkeypatch):
    """What the Lambda runtime provides; fake credentials so no test can reach a real account."""
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-west-2")
    monkeypatch.setenv("AWS_REGION", "us-west-2")
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.delenv("AWS_PROFILE", raising=False)


def load_handler(folder: str, module: str = "index") -> ModuleType:
    """Import lambda/<folder>/<module>.py fresh, under a unique name, as the runtime would at cold start."""
    path = LAMBDA_ROOT / folder / f"{module}.py"
    name = f"handler_{folder}_{module}"
    spec = importlib.util.spec_from_file_location(name, path)
    assert spec and spec.loader
    loaded = importlib.util.module_from_spec(spec)
    sys.modules[name] = loaded
    spec.loader.exec_module(loaded)
    return loaded


def event(name: str, **changes) -> dict:
    """A CloudFormation request fixture from tests/fixtures/events, with top-level keys replaced."""
    loaded = json.loads((EVENTS / f"{name}.json").read_text())
    return {**copy.deepcopy(loaded), **changes}


def customization_job(job_arn: str, status: str, name: str = "support-assistant-3aa7f4218eee", **extra) -> dict:
    """A GetModelCustomizationJob answer holding every member the service model requires (Stubber checks them)."""
    return {
        "jobArn": job_arn,
        "jobName": name,
        "outputModelName": name,
        "roleArn": "arn:aws:iam::123456789012:role/BedrockServiceRole",
        "creationTime": "2026-11-28T06:40:03Z",
        "baseModelArn": "arn:aws:bedrock:us-west-2::foundation-model/meta.llama3-1-8b-instruct-v1:0:128k",
        "trainingDataConfig": {"s3Uri": "s3://training/data.jsonl"},
        "validationDataConfig": {"validators": []},
        "outputDataConfig": {"s3Uri": "s3://output/distillation"},
        "status": status,
        **extra,
    }
