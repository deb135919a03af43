"""`distill config`: the same validation as synth, without starting the CDK."""

from __future__ import annotations

import json

from distill.cli import main


def write_cdk_json(tmp_path, stages) -> str:
    path = tmp_path / "cdk.json"
    path.write_text(json.dumps({"app": "python app.py", "context": {"stages": stages}}))
    return str(path)


def test_prints_the_resolved_stage(tmp_path, capsys):
    assert main(["config", "--cdk-json", write_cdk_json(tmp_path, {"dev": {"region": "us-west-2"}})]) == 0
    printed = json.loads(capsys.readouterr().out)
    assert printed["dev"]["removal_policy"] == "retain"
    assert printed["dev"]["invocation_logging"] == {
        "enabled": True,
        "take_over": False,
        "key_prefix": "invocation-logs",
    }


def test_bad_configuration_exits_1_with_the_messages(tmp_path, capsys):
    path = write_cdk_json(tmp_path, {"dev": {"region": "us-west-2", "removalPolicy": "keep"}})
    assert main(["config", "--cdk-json", path]) == 1
    assert (
        'context.stages.dev.removalPolicy is "keep"; it must be one of "retain", "destroy"' in capsys.readouterr().err
    )


def test_unknown_stage_and_unreadable_file_exit_2(tmp_path, capsys):
    path = write_cdk_json(tmp_path, {"dev": {"region": "us-west-2"}})
    assert main(["config", "--cdk-json", path, "--stage", "prod"]) == 2
    assert "no stage 'prod'; stages: dev" in capsys.readouterr().err
    assert main(["config", "--cdk-json", str(tmp_path / "missing.json")]) == 2
