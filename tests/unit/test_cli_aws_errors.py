"""The commands that call AWS say what to do when the call fails: sign in, reach the endpoint, or get the permission."""

from __future__ import annotations

import json

import pytest
from botocore.exceptions import ClientError, EndpointConnectionError, NoCredentialsError, ReadTimeoutError

from distill.cli import main
from distill.operations.aws_errors import CHECK_NETWORK, MAY_CALL, SIGN_IN, fix_for
from tests.conftest import REFERENCE_DATA

SIGN_IN_LINE = "sign in to the stage's account (aws sso login, or a profile in AWS_PROFILE)"
STAGES = {
    "sandbox": {
        "region": "us-west-2",
        "models": {
            "support": {
                "distillation": {
                    "teacher": "meta.llama3-1-405b-instruct-v1:0",
                    "student": "meta.llama3-1-8b-instruct-v1:0:128k",
                    "trainingData": {"s3Uri": "s3://example-datasets/support/train.jsonl"},
                }
            }
        },
    }
}


def refused(code: str) -> ClientError:
    return ClientError({"Error": {"Code": code, "Message": "refused"}}, "GetParameter")


@pytest.mark.parametrize(
    ("error", "fix"),
    [
        (NoCredentialsError(), SIGN_IN),
        (refused("ExpiredTokenException"), SIGN_IN),
        (refused("UnrecognizedClientException"), SIGN_IN),
        (refused("AccessDeniedException"), MAY_CALL),
        (EndpointConnectionError(endpoint_url="https://bedrock.us-west-2.amazonaws.com/"), None),
        (ReadTimeoutError(endpoint_url="https://bedrock.us-west-2.amazonaws.com/"), None),
    ],
)
def test_each_error_gets_its_fix(error, fix):
    assert fix_for(error) == (fix or f"the AWS endpoint could not be reached: {CHECK_NETWORK}")


def test_the_fix_lines_read_as_shown():
    assert SIGN_IN == SIGN_IN_LINE
    assert CHECK_NETWORK == (
        "check the network connection and any proxy (HTTPS_PROXY, NO_PROXY, AWS_CA_BUNDLE), then run the command again"
    )


@pytest.fixture
def no_credentials(monkeypatch, tmp_path):
    """An environment where boto3 finds no credentials at all (no variables, files, SSO or instance metadata)."""
    for name in (
        "AWS_ACCESS_KEY_ID",
        "AWS_SECRET_ACCESS_KEY",
        "AWS_SESSION_TOKEN",
        "AWS_PROFILE",
        "AWS_DEFAULT_PROFILE",
    ):
        monkeypatch.delenv(name, raising=False)
    for name in (
        "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI",
        "AWS_CONTAINER_CREDENTIALS_FULL_URI",
        "AWS_WEB_IDENTITY_TOKEN_FILE",
    ):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "no-credentials"))
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "no-config"))
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")
    cdk_json = tmp_path / "cdk.json"
    cdk_json.write_text(json.dumps({"context": {"stages": STAGES}}))
    return str(cdk_json)


def test_status_without_credentials_says_to_sign_in(no_credentials, capsys):
    assert main(["status", "--stage", "sandbox", "--cdk-json", no_credentials]) == 2
    assert capsys.readouterr().err == (
        f"distill status: cannot read the stage from AWS: Unable to locate credentials; fix: {SIGN_IN_LINE}\n"
    )


def test_evaluate_without_credentials_says_to_sign_in(no_credentials, capsys):
    prompts = str(REFERENCE_DATA / "validation-readme-examples.jsonl")
    assert (
        main(["evaluate", "--stage", "sandbox", "--cdk-json", no_credentials, "--prompts", prompts, "--count", "2"])
        == 2
    )
    assert capsys.readouterr().err == (
        f"distill evaluate: cannot read the stage from AWS: Unable to locate credentials; fix: {SIGN_IN_LINE}\n"
    )
