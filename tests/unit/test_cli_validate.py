"""`distill validate`: output, exit codes, the multi-turn rule from a stage or the models, gzip and standard input."""

from __future__ import annotations

import gzip
import io
import json
import sys

import pytest

from distill.cli import main
from tests.conftest import FIXTURES, REFERENCE_DATA, ROOT

DATASETS = FIXTURES / "datasets"
CDK_JSON = str(ROOT / "cdk.json")
VALID = REFERENCE_DATA / "uber10k-conversation.jsonl"
MULTI_TURN_FILE = DATASETS / "nova-multi-turn.jsonl"

PROMPT_COMPLETION = (
    '(record): this is the prompt/completion format ({"prompt", "completion"}), not bedrock-conversation-2024; '
    "`distill convert` converts it"
)
MULTI_TURN = (
    "messages: holds {} messages ({} user turns), but records must be single turn here (one user message, "
    "optionally followed by one assistant message); only Amazon Nova models take multi-turn records"
)
DEFAULT_RULE = (
    "multi-turn records not allowed: no --stage, --teacher or --student given, so the single-turn rule of Anthropic "
    "and Meta models applies (Amazon Nova models take multi-turn records: give --stage or --teacher)"
)
META_STAGE_RULE = (
    "multi-turn records not allowed for model claims of stage meta (teacher meta.llama3-1-70b-instruct-v1:0, student "
    "meta.llama3-1-8b-instruct-v1:0:128k)"
)
# The shipped dev stage distils Amazon Nova Pro into Nova Lite for its support assistant.
SHIPPED_DEV_RULE = (
    "multi-turn records allowed for model support-assistant of stage dev (teacher amazon.nova-pro-v1:0, student "
    "amazon.nova-lite-v1:0:300k)"
)
COUNT_2 = "(file): holds 2 records; a distillation dataset needs 100 to 15,000"


def nova_cdk_json(tmp_path) -> str:
    nova = {
        "teacher": "amazon.nova-pro-v1:0",
        "student": "amazon.nova-lite-v1:0:300k",
        "trainingData": {"s3Uri": "s3://example-datasets/train.jsonl"},
    }
    stages = {
        "nova": {"region": "us-east-1", "models": {"support": {"distillation": nova}}},
        "logs-only": {"region": "us-east-1"},
        "nova-pair": {
            "region": "us-east-1",
            "models": {
                "support": {"distillation": nova},
                "tickets": {"distillation": {**nova, "student": "amazon.nova-micro-v1:0:128k"}},
            },
        },
    }
    return write_cdk_json(tmp_path, stages)


def meta_cdk_json(tmp_path) -> str:
    stages = {
        "meta": {
            "region": "us-west-2",
            "models": {
                "claims": {
                    "distillation": {
                        "teacher": "meta.llama3-1-70b-instruct-v1:0",
                        "student": "meta.llama3-1-8b-instruct-v1:0:128k",
                        "trainingData": {"s3Uri": "s3://example-datasets/train.jsonl"},
                    }
                }
            },
        },
    }
    return write_cdk_json(tmp_path, stages)


def write_cdk_json(tmp_path, stages: dict) -> str:
    path = tmp_path / "cdk.json"
    path.write_text(json.dumps({"app": "python3 app.py", "context": {"stages": stages}}))
    return str(path)


def test_a_valid_file_exits_0_with_its_summary_and_the_rule_applied(capsys):
    assert main(["validate", str(VALID)]) == 0
    assert capsys.readouterr().out.splitlines() == [
        f"{VALID}: 200 records: 200 with response, 0 prompt-only, 0 multi-turn; largest 9,716 bytes on line 71; "
        f"{DEFAULT_RULE}",
        f"{VALID}: valid",
    ]


def test_without_a_stage_or_models_a_multi_turn_record_is_refused(capsys):
    assert main(["validate", str(MULTI_TURN_FILE)]) == 1
    out = capsys.readouterr().out.splitlines()
    assert out[:2] == [
        f"{MULTI_TURN_FILE}:1: {MULTI_TURN.format(3, 2)}",
        f"{MULTI_TURN_FILE}:2: {MULTI_TURN.format(4, 2)}",
    ]
    assert out[-2].endswith(DEFAULT_RULE)


def test_a_meta_stage_refuses_multi_turn_records(tmp_path, capsys):
    assert main(["validate", str(MULTI_TURN_FILE), "--stage", "meta", "--cdk-json", meta_cdk_json(tmp_path)]) == 1
    assert capsys.readouterr().out.splitlines() == [
        f"{MULTI_TURN_FILE}:1: {MULTI_TURN.format(3, 2)}",
        f"{MULTI_TURN_FILE}:2: {MULTI_TURN.format(4, 2)}",
        f"{MULTI_TURN_FILE}: {COUNT_2}",
        f"{MULTI_TURN_FILE}: 2 records: 0 with response, 0 prompt-only, 0 multi-turn; largest 364 bytes on line 1; "
        f"{META_STAGE_RULE}",
        f"{MULTI_TURN_FILE}: invalid: 3 problems",
    ]


def test_a_nova_stage_allows_them(tmp_path, capsys):
    assert main(["validate", str(MULTI_TURN_FILE), "--stage", "nova", "--cdk-json", nova_cdk_json(tmp_path)]) == 1
    assert capsys.readouterr().out.splitlines() == [
        f"{MULTI_TURN_FILE}: {COUNT_2}",
        f"{MULTI_TURN_FILE}: 2 records: 1 with response, 1 prompt-only, 2 multi-turn; largest 364 bytes on line 1; "
        "multi-turn records allowed for model support of stage nova (teacher amazon.nova-pro-v1:0, student "
        "amazon.nova-lite-v1:0:300k)",
        f"{MULTI_TURN_FILE}: invalid: 1 problem",
    ]


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        (
            ["--stage", "qa"],
            'distill validate: {cdk_json} has no stage "qa"; stages: nova, logs-only, nova-pair',
        ),
        (
            ["--stage", "logs-only"],
            "distill validate: stage logs-only has no models (context.stages.logs-only.models): it deploys its "
            "foundation only, so it has no job or served model; or give --teacher and --student instead of --stage",
        ),
        (
            ["--stage", "nova-pair"],
            "distill validate: stage nova-pair has 2 models; name one with --model: support, tickets; or give "
            "--teacher and --student instead of --stage",
        ),
        (
            ["--stage", "nova-pair", "--model", "summaries"],
            'distill validate: stage nova-pair has no model "summaries"; its models: support, tickets; or give '
            "--teacher and --student instead of --stage",
        ),
        (
            ["--model", "support"],
            "distill validate: --model names a model of a stage; give --stage with it",
        ),
        (
            ["--stage", "nova", "--teacher", "amazon.nova-pro-v1:0"],
            "distill validate: --stage takes the teacher and student from cdk.json; give either --stage or "
            "--teacher/--student",
        ),
    ],
)
def test_a_stage_that_cannot_give_models_exits_2(tmp_path, capsys, arguments, message):
    cdk_json = nova_cdk_json(tmp_path)
    assert main(["validate", str(VALID), "--cdk-json", cdk_json, *arguments]) == 2
    assert capsys.readouterr().err == message.format(cdk_json=cdk_json) + "\n"


def test_a_cdk_json_that_does_not_load_names_its_problems(tmp_path, capsys):
    path = tmp_path / "cdk.json"
    path.write_text(json.dumps({"context": {"stages": {"dev": {"region": "us-west2"}}}}))
    assert main(["validate", str(VALID), "--stage", "dev", "--cdk-json", str(path)]) == 2
    err = capsys.readouterr().err
    assert err.startswith(
        f"distill validate: cannot take the models of stage dev from {path}: Invalid configuration:\n"
    )
    assert '  - context.stages.dev.region is "us-west2" (did you mean "us-west-2"?)' in err


def test_the_teacher_and_student_decide_multi_turn(capsys):
    nova = ["--teacher", "amazon.nova-pro-v1:0", "--student", "amazon.nova-lite-v1:0"]
    assert main(["validate", str(MULTI_TURN_FILE), *nova]) == 1
    assert (
        capsys.readouterr()
        .out.splitlines()[-2]
        .endswith("multi-turn records allowed for amazon.nova-pro-v1:0, amazon.nova-lite-v1:0")
    )
    assert main(["validate", str(MULTI_TURN_FILE), "--teacher", "meta.llama3-1-70b-instruct-v1:0"]) == 1
    meta = capsys.readouterr().out.splitlines()
    assert meta[:2] == [
        f"{MULTI_TURN_FILE}:1: {MULTI_TURN.format(3, 2)}",
        f"{MULTI_TURN_FILE}:2: {MULTI_TURN.format(4, 2)}",
    ]
    assert meta[-2].endswith("multi-turn records not allowed: single turn only for meta.llama3-1-70b-instruct-v1:0")


def test_an_unknown_teacher_exits_2_with_the_closest_catalog_ids(capsys):
    assert main(["validate", str(VALID), "--teacher", "meta.llama3-1-70b-instruct"]) == 2
    assert capsys.readouterr().err == (
        'distill validate: --teacher "meta.llama3-1-70b-instruct" is not a distillation teacher in the model catalog '
        "(checked 2026-12-01); closest: meta.llama3-1-70b-instruct-v1:0, meta.llama3-3-70b-instruct-v1:0, "
        "meta.llama3-1-405b-instruct-v1:0\n"
    )


def test_an_unknown_student_exits_2_with_the_closest_catalog_ids(capsys):
    assert main(["validate", str(VALID), "--student", "amazon.nova-lite"]) == 2
    assert capsys.readouterr().err == (
        'distill validate: --student "amazon.nova-lite" is not a distillation student in the model catalog (checked '
        "2026-12-01); closest: amazon.nova-lite-v1:0:300k, amazon.nova-micro-v1:0:128k, amazon.nova-pro-v1:0:300k\n"
    )


def test_an_id_like_nothing_in_the_catalog_lists_the_teachers(capsys):
    assert main(["validate", str(VALID), "--teacher", "example.unknown"]) == 2
    assert capsys.readouterr().err.endswith(
        "known: amazon.nova-pro-v1:0, amazon.nova-premier-v1:0, meta.llama3-1-405b-instruct-v1:0, "
        "meta.llama3-1-70b-instruct-v1:0, meta.llama3-3-70b-instruct-v1:0\n"
    )


def test_an_invalid_file_exits_1_and_caps_the_printed_problems(capsys):
    path = REFERENCE_DATA / "uber10k-prompt-completion.jsonl"
    assert main(["validate", str(path)]) == 1
    out = capsys.readouterr().out.splitlines()
    assert out[0] == f"{path}:1: {PROMPT_COMPLETION}"
    assert out[100] == f"... 100 more problems in {path} (the first 100 are shown)"
    assert out[-1] == f"{path}: invalid: 200 problems"


def test_one_record_is_one_record(tmp_path, capsys):
    path = tmp_path / "one.jsonl"
    path.write_bytes(VALID.read_bytes().splitlines(keepends=True)[0])
    assert main(["validate", str(path)]) == 1
    out = capsys.readouterr().out.splitlines()
    assert out[0] == f"{path}: (file): holds 1 record; a distillation dataset needs 100 to 15,000"
    assert out[1].startswith(f"{path}: 1 record: 1 with response, 0 prompt-only, 0 multi-turn;")
    assert out[2] == f"{path}: invalid: 1 problem"


def test_a_missing_file_exits_2_and_the_others_are_still_checked(tmp_path, capsys):
    missing = tmp_path / "missing.jsonl"
    assert main(["validate", str(VALID), str(missing)]) == 2
    captured = capsys.readouterr()
    assert captured.err == f"distill validate: cannot read {missing}: No such file or directory\n"
    assert captured.out.endswith("uber10k-conversation.jsonl: valid\n")


def test_a_folder_is_unreadable(tmp_path, capsys):
    assert main(["validate", str(tmp_path)]) == 2
    assert capsys.readouterr().err == f"distill validate: cannot read {tmp_path}: Is a directory\n"


def test_without_a_file_it_is_a_usage_error(capsys):
    with pytest.raises(SystemExit) as exit_:
        main(["validate"])
    assert exit_.value.code == 2


def test_json_output_has_camel_case_keys_and_the_unreadable_files(tmp_path, capsys):
    short = REFERENCE_DATA / "validation-readme-examples.jsonl"
    missing = tmp_path / "missing.jsonl"
    assert main(["validate", str(VALID), str(short), str(missing), "--format", "json"]) == 2
    result = json.loads(capsys.readouterr().out)
    assert list(result) == ["multiTurnAllowed", "multiTurnRule", "files"]
    assert (result["multiTurnAllowed"], result["multiTurnRule"]) == (False, DEFAULT_RULE)
    assert list(result["files"]) == [str(VALID), str(short), str(missing)]
    assert result["files"][str(VALID)]["ok"] is True
    assert result["files"][str(short)] == {
        "ok": False,
        "readable": True,
        "problemCount": 1,
        "omittedProblems": 0,
        "problems": [
            {"line": None, "field": "(file)", "message": "holds 2 records; a distillation dataset needs 100 to 15,000"}
        ],
        "summary": {
            "records": 2,
            "promptOnly": 1,
            "withResponse": 1,
            "multiTurn": 0,
            "largestRecordBytes": 442,
            "largestRecordLine": 1,
            "bytes": short.stat().st_size,
            "gzip": False,
        },
    }
    assert result["files"][str(missing)] == {"ok": False, "readable": False, "error": "No such file or directory"}


def test_a_model_of_a_stage_of_several_gives_its_own_rule(tmp_path, capsys):
    cdk_json = nova_cdk_json(tmp_path)
    assert main(["validate", str(VALID), "--stage", "nova-pair", "--model", "tickets", "--cdk-json", cdk_json]) == 0
    assert (
        capsys.readouterr()
        .out.splitlines()[0]
        .endswith(
            "multi-turn records allowed for model tickets of stage nova-pair (teacher amazon.nova-pro-v1:0, student "
            "amazon.nova-micro-v1:0:128k)"
        )
    )


def test_a_gzipped_valid_dataset_validates_and_says_to_upload_it_decompressed(tmp_path, capsys):
    path = tmp_path / "train.jsonl.gz"
    path.write_bytes(gzip.compress(VALID.read_bytes()))
    assert main(["validate", str(path), "--stage", "dev", "--model", "support-assistant", "--cdk-json", CDK_JSON]) == 0
    assert capsys.readouterr().out.splitlines() == [
        f"{path}: 200 records: 200 with response, 0 prompt-only, 0 multi-turn; largest 9,716 bytes on line 71; "
        f"{SHIPPED_DEV_RULE}",
        f"{path}: gzip-compressed, read decompressed ({VALID.stat().st_size:,} bytes); upload the decompressed file, "
        "Bedrock reads a training file as JSON Lines text",
        f"{path}: valid",
    ]


def stdin_of(monkeypatch, data: bytes) -> None:
    monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BufferedReader(io.BytesIO(data))))


def test_a_dash_reads_standard_input(monkeypatch, capsys):
    stdin_of(monkeypatch, VALID.read_bytes())
    assert main(["validate", "-"]) == 0
    assert capsys.readouterr().out.splitlines()[-1] == "<stdin>: valid"


def test_gzipped_standard_input_is_read_too(monkeypatch, capsys):
    stdin_of(monkeypatch, gzip.compress(VALID.read_bytes()))
    assert main(["validate", "-"]) == 0
    assert capsys.readouterr().out.splitlines()[-1] == "<stdin>: valid"


def test_standard_input_is_read_once(capsys):
    assert main(["validate", "-", "-"]) == 2
    assert capsys.readouterr().err == "distill validate: - (standard input) can be read once; give it once\n"
