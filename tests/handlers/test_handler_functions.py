"""The synthesized functions that run our handlers: a timeout that holds the handler's worst-case calls, the
environment each handler reads, and the call budget that those timeouts are measured against."""

from __future__ import annotations

import re
from pathlib import Path

import aws_clients
import pytest
from botocore.awsrequest import AWSResponse
from botocore.retries.standard import ExponentialBackoff, RetryContext

from tests.handlers.conftest import LAMBDA_ROOT, SHARED_LAYER

HANDLER_FOLDERS = sorted(path.parent.name for path in LAMBDA_ROOT.glob("*/index.py"))
ENVIRONMENT_READ = re.compile(r"""os\.environ\[["']([A-Z_]+)["']\]""")


class AlwaysThrottled:
    """Backoff's throttling detector: throttling answers get the largest base (1 s instead of 50 ms)."""

    @staticmethod
    def is_throttling_error_from_context(_context) -> bool:
        return True


def backoff_maximum(attempts: int, http_response=None) -> float:
    """The longest that standard mode waits between ``attempts`` attempts: botocore's own backoff with its jitter at
    its largest (botocore/retries/standard.py, the layer's pinned botocore)."""
    backoff = ExponentialBackoff(random=lambda: 1.0, throttling_detector=AlwaysThrottled())
    return sum(
        backoff.delay_amount(RetryContext(attempt_number=attempt, http_response=http_response))
        for attempt in range(1, attempts)
    )


def test_the_call_budget_is_the_longest_a_call_may_take_under_the_client_config():
    """Every attempt may use its whole connect and read timeouts, and every wait between attempts its backoff at
    its largest, stretched by an x-amz-retry-after header (here asking a minute) up to the 5 s the pinned botocore
    allows."""
    config = aws_clients.CLIENT_CONFIG
    attempts = config.retries["total_max_attempts"]
    assert config.retries["mode"] == "standard"
    asks_a_minute = AWSResponse("https://bedrock.us-west-2.amazonaws.com", 429, {"x-amz-retry-after": "60000"}, None)
    allowed = attempts * (config.connect_timeout + config.read_timeout) + backoff_maximum(attempts, asks_a_minute)
    budget = aws_clients.CALL_BUDGET_SECONDS
    assert budget == allowed


def test_the_call_budget_is_102_seconds():
    """4 attempts of 5 s to connect and 15 s to read, and waits of at most 1 + 5, 2 + 5 and 4 + 5 s between them."""
    assert aws_clients.CALL_BUDGET_SECONDS == 4 * (5 + 15) + (1 + 5) + (2 + 5) + (4 + 5) == 102


def handler_folder(code_directory: Path) -> str | None:
    """Which lambda/<folder> a function's staged code is, by its index.py; None for code that is not ours."""
    staged = code_directory / "index.py"
    if not staged.is_file():
        return None
    return next(
        (
            folder
            for folder in HANDLER_FOLDERS
            if (LAMBDA_ROOT / folder / "index.py").read_bytes() == staged.read_bytes()
        ),
        None,
    )


@pytest.fixture(scope="module")
def functions(stages, templates) -> list[dict]:
    """Every Lambda function of the synthesized templates, with the handler folder its code comes from (or None)."""
    found = []
    for stage_name, stage in stages.items():
        # The stage was synthesized with the app; its assembly and the staged assets are in the app's output.
        assets = Path(stage.synth().directory).parent
        for stack_id, template in templates[stage_name].items():
            for logical_id, resource in template.to_json()["Resources"].items():
                if resource["Type"] != "AWS::Lambda::Function":
                    continue
                properties = resource["Properties"]
                digest = properties["Code"]["S3Key"].removesuffix(".zip")
                found.append(
                    {
                        "where": f"{stage_name}/{stack_id} {logical_id}",
                        "folder": handler_folder(assets / f"asset.{digest}"),
                        "runtime": properties["Runtime"],
                        "timeout": properties.get("Timeout", 3),
                        "environment": set(properties.get("Environment", {}).get("Variables", {})),
                    }
                )
    return found


def test_every_handler_runs_in_some_function_and_every_other_function_is_the_cdks_nodejs(functions):
    assert {function["folder"] for function in functions} - {None} == set(HANDLER_FOLDERS)
    others = {function["runtime"] for function in functions if function["folder"] is None}
    assert others and all(runtime.startswith("nodejs") for runtime in others), others


def test_every_handlers_worst_case_call_budget_fits_its_functions_timeout(functions):
    """A handler keeps two calls' budget for itself before its timeout (its retries stop there), so the timeout
    must hold at least that, or Lambda ends a handler in the middle of a call."""
    floor = 2 * aws_clients.CALL_BUDGET_SECONDS
    short = [
        f"{function['where']} (lambda/{function['folder']}): Timeout {function['timeout']} s, less than 2 x "
        f"{aws_clients.CALL_BUDGET_SECONDS} s"
        for function in functions
        if function["folder"] and function["timeout"] < floor
    ]
    assert not short, "\n".join(short)


def environment_read(folder: str) -> set[str]:
    """The variables a handler reads from its environment, with those of the shared modules it imports."""
    source = (LAMBDA_ROOT / folder / "index.py").read_text()
    read = set(ENVIRONMENT_READ.findall(source))
    for shared in SHARED_LAYER.glob("*.py"):
        if re.search(rf"^import {shared.stem}$", source, re.MULTILINE):
            read |= set(ENVIRONMENT_READ.findall(shared.read_text()))
    return read


def test_every_function_is_given_the_environment_its_handler_reads(functions):
    assert environment_read("distilled_model_wait") == {
        "JOB_NAME",
        "WAIT_HANDLE_URL",
        "POLL_RULE_NAME",
        "STACK_ID",
        "WAIT_CONDITION",
    }
    missing = [
        f"{function['where']} (lambda/{function['folder']}) lacks {', '.join(sorted(needed - function['environment']))}"
        for function in functions
        if function["folder"]
        for needed in [environment_read(function["folder"])]
        if needed - function["environment"]
    ]
    assert not missing, "\n".join(missing)
