"""cdk-nag runs on every stage at synth, with each stage's own packs, and a finding stops the synth."""

from __future__ import annotations

import pytest
from aws_cdk import App, Stack
from aws_cdk import aws_s3 as s3

from distill.app import build_app


def test_every_stage_synthesizes_with_zero_unacknowledged_findings(stages):
    assert {"sandbox", "compliant", "nologging"} <= set(stages)


def synth_with_extra_bucket(packs_of_stage_with_bucket: list[str]) -> None:
    app = App(
        context={
            "stages": {
                "checked": {"region": "us-west-2", "compliancePacks": packs_of_stage_with_bucket},
                "other": {"region": "us-west-2", "compliancePacks": ["HIPAA.Security", "NIST.800.53.R5"]},
            }
        }
    )
    stages = build_app(app)
    # A bucket without versioning, logging or TLS enforcement: AwsSolutions and both packs object to it.
    s3.Bucket(Stack(stages["checked"], "Extra"), "Unchecked")
    app.synth()


def test_a_finding_fails_the_synth():
    with pytest.raises(RuntimeError, match="AwsSolutions-S1"):
        synth_with_extra_bucket([])


def test_a_stage_is_judged_only_by_its_own_packs():
    with pytest.raises(RuntimeError) as raised:
        synth_with_extra_bucket([])
    assert "checked/Extra/Unchecked" in str(raised.value)
    assert "HIPAA.Security" not in str(raised.value)
    with pytest.raises(RuntimeError) as raised:
        synth_with_extra_bucket(["HIPAA.Security"])
    assert "HIPAA.Security" in str(raised.value)
