"""The Makefile's STAGE check: a stage cdk.json does not hold is refused with the stages it holds, before the CDK."""

from __future__ import annotations

import os
import shutil
import subprocess

import pytest

from tests.conftest import ROOT

pytestmark = pytest.mark.skipif(shutil.which("make") is None, reason="needs make")
# Run as from a shell, not as a sub-make of `make test` (which would pass its flags and print directories).
ENVIRONMENT = {name: value for name, value in os.environ.items() if not name.startswith("MAKE") and name != "MFLAGS"}


def check_stage(*arguments: str) -> subprocess.CompletedProcess:
    # check-stage has no prerequisites: it reads cdk.json with the standard library and installs nothing.
    return subprocess.run(
        ["make", "--no-print-directory", "-s", "check-stage", *arguments],
        cwd=ROOT,
        env=ENVIRONMENT,
        capture_output=True,
        text=True,
        check=False,
    )


def test_an_unknown_stage_is_refused_with_the_stages_in_cdk_json():
    result = check_stage("STAGE=nosuch")
    assert result.returncode != 0
    assert result.stderr.splitlines()[0] == "STAGE=nosuch is not a stage in cdk.json; stages: sandbox, dev, prod"


@pytest.mark.parametrize("arguments", [("STAGE=dev",), ()])
def test_a_known_stage_or_none_passes(arguments):
    result = check_stage(*arguments)
    assert (result.returncode, result.stdout, result.stderr) == (0, "", "")


@pytest.mark.parametrize("target", ["synth", "diff", "deploy", "destroy"])
def test_each_target_that_takes_a_stage_checks_it_first(target):
    # make -n prints the recipes without running any of them.
    planned = subprocess.run(
        ["make", "--no-print-directory", "-n", target, "STAGE=nosuch"],
        cwd=ROOT,
        env=ENVIRONMENT,
        capture_output=True,
        text=True,
        check=True,
    ).stdout.splitlines()
    assert "is not a stage in cdk.json" in planned[0]
