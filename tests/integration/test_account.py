"""Opt-in checks against a real account: what only AWS can show. Skipped without credentials.

Run with credentials for the stage's account: `DISTILL_STAGE=dev .venv/bin/pytest tests/integration -m integration`.
They only read: nothing is created or billed.
"""

from __future__ import annotations

import os

import boto3
import pytest
from botocore.exceptions import NoCredentialsError

from distill.config import catalog
from distill.config.stages import load_stages
from tests.conftest import project_context

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def stage():
    name = os.environ.get("DISTILL_STAGE", "sandbox")
    return load_stages(project_context()["stages"])[name]


@pytest.fixture(scope="module")
def bedrock(stage):
    client = boto3.client("bedrock", region_name=stage.region)
    try:
        boto3.client("sts", region_name=stage.region).get_caller_identity()
    except NoCredentialsError:
        pytest.skip("no AWS credentials: integration checks run only against a real account")
    return client


def test_the_stages_account_is_the_one_configured(stage, bedrock):
    if stage.account is None:
        pytest.skip("the stage is environment-agnostic")
    identity = boto3.client("sts", region_name=stage.region).get_caller_identity()
    assert identity["Account"] == stage.account


def test_bedrock_offers_each_models_teacher_and_students_base_model_in_the_region(stage, bedrock):
    if not stage.distilling_models:
        pytest.skip("the stage does not distil")
    offered = {model["modelId"] for model in bedrock.list_foundation_models()["modelSummaries"]}
    for model in stage.distilling_models:
        assert catalog.base_model_id(model.distillation.teacher) in offered, model.name
        assert catalog.base_model_id(model.distillation.student) in offered, model.name


def test_the_invocation_logging_configuration_can_be_read(stage, bedrock):
    configuration = bedrock.get_model_invocation_logging_configuration().get("loggingConfig")
    assert configuration is None or isinstance(configuration, dict)
