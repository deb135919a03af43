"""`distill config`: the same validation as synth, without starting the CDK, and the settings printed as JSON."""

from __future__ import annotations

import copy
import json

from distill.cli import main
from tests.conftest import ROOT


def write_cdk_json(tmp_path, stages) -> str:
    path = tmp_path / "cdk.json"
    path.write_text(json.dumps({"app": "python app.py", "context": {"stages": stages}}))
    return str(path)


def test_prints_the_resolved_stage_in_camel_case(tmp_path, capsys):
    assert main(["config", "--cdk-json", write_cdk_json(tmp_path, {"dev": {"region": "us-west-2"}})]) == 0
    printed = json.loads(capsys.readouterr().out)
    assert printed["dev"]["removalPolicy"] == "retain"
    assert printed["dev"]["invocationLogging"] == {
        "enabled": False,
        "takeOver": False,
        "keyPrefix": "invocation-logs",
        "retentionDays": 90,
        "allowDestroyingLogs": False,
    }


def test_the_shipped_cdk_json_prints_with_its_local_dataset_path(capsys):
    """The dataset's path once made the JSON dump crash ("'PosixPath' object is not iterable")."""
    assert main(["config", "--cdk-json", str(ROOT / "cdk.json")]) == 0
    printed = json.loads(capsys.readouterr().out)
    assert list(printed) == ["sandbox", "dev", "prod"]
    assert list(printed["dev"]["models"]) == ["support-assistant", "ticket-classifier"]
    training_data = printed["dev"]["models"]["support-assistant"]["distillation"]["trainingData"]
    assert training_data["file"] == str(ROOT / "datasets" / "sample-sec-filings.jsonl")
    assert printed["dev"]["concurrentJobs"] == 2
    assert printed["prod"]["compliancePacks"] == ["HIPAA.Security", "NIST.800.53.R5"]
    assert printed["prod"]["tags"]["cost-center"] == "ml-platform"


def test_a_filter_prints_in_its_api_shape_and_paths_are_relative_to_the_cdk_json(tmp_path, capsys):
    (tmp_path / "data").mkdir()
    (tmp_path / "data" / "train.jsonl").write_bytes((ROOT / "datasets" / "sample-sec-filings.jsonl").read_bytes())
    stages = {
        "logs": {
            "region": "us-east-1",
            "models": {
                "claims": {
                    "distillation": {
                        "teacher": "amazon.nova-pro-v1:0",
                        "student": "amazon.nova-lite-v1:0:300k",
                        "trainingData": {
                            "invocationLogs": {"filters": {"andAll": [{"equals": {"project": "claims"}}]}}
                        },
                    }
                }
            },
        },
        "file": {
            "region": "us-west-2",
            "models": {
                "claims": {
                    "distillation": {
                        "teacher": "meta.llama3-1-70b-instruct-v1:0",
                        "student": "meta.llama3-1-8b-instruct-v1:0:128k",
                        "trainingData": {"file": "data/train.jsonl"},
                    }
                }
            },
        },
    }
    assert main(["config", "--cdk-json", write_cdk_json(tmp_path, stages)]) == 0
    printed = json.loads(capsys.readouterr().out)
    logs, file = printed["logs"]["models"]["claims"], printed["file"]["models"]["claims"]
    assert logs["distillation"]["trainingData"]["filters"] == {"andAll": [{"equals": {"project": "claims"}}]}
    assert file["distillation"]["trainingData"]["file"] == str(tmp_path / "data" / "train.jsonl")


def test_bad_configuration_exits_1_with_the_messages(tmp_path, capsys):
    path = write_cdk_json(tmp_path, {"dev": {"region": "us-west-2", "removalPolicy": "keep"}})
    assert main(["config", "--cdk-json", path]) == 1
    assert capsys.readouterr().err == (
        'Invalid configuration:\n  - context.stages.dev.removalPolicy is "keep"; it must be one of "retain", '
        '"destroy"\n'
    )


def test_a_region_typo_is_one_message_with_a_suggestion(tmp_path, capsys):
    stage = {
        "region": "us-west2",
        "models": {
            "claims": {
                "distillation": {
                    "teacher": "meta.llama3-1-70b-instruct-v1:0",
                    "student": "meta.llama3-1-8b-instruct-v1:0:128k",
                    "trainingData": {"s3Uri": "s3://example-datasets/train.jsonl"},
                }
            }
        },
    }
    assert main(["config", "--cdk-json", write_cdk_json(tmp_path, {"dev": stage})]) == 1
    err = capsys.readouterr().err.splitlines()
    assert len(err) == 2
    assert err[1].startswith('  - context.stages.dev.region is "us-west2" (did you mean "us-west-2"?); it must be')


def test_unknown_stage_and_unreadable_files_exit_2(tmp_path, capsys):
    path = write_cdk_json(tmp_path, {"dev": {"region": "us-west-2"}})
    assert main(["config", "--cdk-json", path, "--stage", "prod"]) == 2
    assert capsys.readouterr().err == f'distill config: {path} has no stage "prod"; stages: dev\n'
    assert main(["config", "--cdk-json", str(tmp_path / "missing.json")]) == 2
    assert (
        capsys.readouterr().err
        == f"distill config: cannot read {tmp_path / 'missing.json'}: No such file or directory\n"
    )
    (tmp_path / "broken.json").write_text("{")
    assert main(["config", "--cdk-json", str(tmp_path / "broken.json")]) == 2
    assert capsys.readouterr().err.startswith(f"distill config: {tmp_path / 'broken.json'} is not JSON: ")
    (tmp_path / "no-context.json").write_text('{"app": "python app.py"}')
    assert main(["config", "--cdk-json", str(tmp_path / "no-context.json")]) == 2
    assert capsys.readouterr().err == (
        f'distill config: {tmp_path / "no-context.json"} has no "context" object, where the stages are kept\n'
    )


def test_a_copy_of_cdk_json_elsewhere_reports_the_dataset_path_it_tried_for_the_asked_stage_only(tmp_path, capsys):
    """A copy of cdk.json in another folder reads relative dataset paths from that folder; `--stage` reports the
    problems of that stage alone, not those of the shipped stages the copy still holds."""
    stages = json.loads((ROOT / "cdk.json").read_text())["context"]["stages"]
    mytest = copy.deepcopy(stages["dev"])
    assistant = mytest["models"]["support-assistant"]
    assistant["distillation"]["trainingData"] = {"file": "x.jsonl"}
    path = tmp_path / "cdk.llama.json"
    path.write_text(json.dumps({"context": {"stages": {**stages, "mytest": mytest}}}))
    assert main(["config", "--cdk-json", str(path), "--stage", "mytest"]) == 1
    assert capsys.readouterr().err == (
        "Invalid configuration:\n  - context.stages.mytest.models.support-assistant.distillation.trainingData.file is "
        f'"x.jsonl", read as {tmp_path / "x.jsonl"} (a relative path is resolved against the folder of the cdk.json, '
        f"{tmp_path}); the file cannot be read: No such file or directory\n"
    )
    assistant["distillation"]["trainingData"] = {"s3Uri": "s3://example-datasets/train.jsonl"}
    path.write_text(json.dumps({"context": {"stages": {**stages, "mytest": mytest}}}))
    assert main(["config", "--cdk-json", str(path), "--stage", "mytest"]) == 0
    assert list(json.loads(capsys.readouterr().out)) == ["mytest"]


def test_on_demand_serving_prints_no_model_units(capsys):
    assert main(["config", "--cdk-json", str(ROOT / "cdk.json"), "--stage", "dev"]) == 0
    models = json.loads(capsys.readouterr().out)["dev"]["models"]
    for model in models.values():
        assert (model["serving"]["mode"], model["serving"]["modelUnits"]) == ("onDemand", None)
