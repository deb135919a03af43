"""Invocation log reading (plain, gzipped, directories, bad lines) and `distill preview-logs` end to end.

Log files are generated per test from the real record in the shared reference data (a Bedrock user guide example),
varying only modelId, requestMetadata and the response, so the shape under test is the one Bedrock writes.
"""

from __future__ import annotations

import copy
import gzip
import json
from pathlib import Path

import pytest

from distill.cli import main
from distill.config.catalog import parse_model
from distill.data_checks.invocation_logs import (
    JobUse,
    LogReadError,
    LogRecord,
    SkippedLine,
    drop_reason,
    log_files,
    read_log_file,
    same_identifier,
    same_model,
)
from distill.data_checks.log_filters import parse_filter
from tests.conftest import FIXTURES, REFERENCE_DATA

REFERENCE_RECORD_FILE = REFERENCE_DATA / "docs-invocation-log-record.jsonl"
TEACHER = "meta.llama3-1-405b-instruct-v1:0"
STUDENT = "meta.llama3-1-8b-instruct-v1:0:128k"
OTHER_MODEL = "meta.llama3-1-70b-instruct-v1:0"
SUPPORT = {"project": "CustomerService"}
SUPPORT_FILTER = '{"equals": {"project": "CustomerService"}}'


def reference_record() -> dict:
    return json.loads(REFERENCE_RECORD_FILE.read_text())


def record(model_id: str = TEACHER, metadata: dict | None = None, *, response: bool = True) -> dict:
    """The reference record with another model, request metadata and, optionally, no response (a failed call)."""
    data = copy.deepcopy(reference_record())
    data["modelId"] = model_id
    data["requestMetadata"] = dict(SUPPORT if metadata is None else metadata)
    if not response:
        del data["output"]
        data["errorCode"] = "ThrottlingException"
    return data


def write_lines(path: Path, lines: list[str], *, compress: bool = False) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    content = "".join(f"{line}\n" for line in lines).encode()
    path.write_bytes(gzip.compress(content) if compress else content)
    return path


def write_records(path: Path, records: list[dict], *, compress: bool = False) -> Path:
    return write_lines(path, [json.dumps(item) for item in records], compress=compress)


def read_all(path: Path) -> list[LogRecord | SkippedLine]:
    return list(read_log_file(path))


# --- reading ---------------------------------------------------------------------------------------------------


def test_reference_record_is_read_and_selected_by_its_request_metadata():
    (line,) = read_all(REFERENCE_RECORD_FILE)
    assert isinstance(line, LogRecord)
    assert (line.where, line.model_id, line.has_response) == (f"{REFERENCE_RECORD_FILE}:1", TEACHER, True)
    chosen = parse_filter(
        {
            "andAll": [
                {"equals": {"project": "CustomerService"}},
                {"equals": {"intent": "ComplaintResolution"}},
                {"equals": {"priority": "High"}},
            ]
        },
        "filter",
    )
    assert chosen.matches(line.request_metadata)
    assert not parse_filter({"notEquals": {"priority": "High"}}, "filter").matches(line.request_metadata)


def test_plain_and_gzipped_files_give_the_same_records(tmp_path):
    records = [record(metadata={"n": str(index)}) for index in range(3)]
    plain = read_all(write_records(tmp_path / "plain.jsonl", records))
    zipped = read_all(write_records(tmp_path / "zipped.json.gz", records, compress=True))
    assert [line.data for line in plain] == [line.data for line in zipped] == records
    assert [line.line for line in zipped] == [1, 2, 3]


def test_gzip_is_recognised_by_its_bytes_not_its_name(tmp_path):
    zipped_as_jsonl = write_records(tmp_path / "logs.jsonl", [record()], compress=True)
    plain_as_gz = write_records(tmp_path / "logs.gz", [record()])
    assert [line.data for line in read_all(zipped_as_jsonl)] == [record()]
    assert [line.data for line in read_all(plain_as_gz)] == [record()]


def test_blank_lines_are_ignored_and_bad_lines_are_reported_by_line(tmp_path):
    path = write_lines(
        tmp_path / "mixed.jsonl",
        [
            json.dumps(record()),
            "",
            '{"schemaType": "ModelInvocationLog", ',
            "[1, 2]",
            json.dumps({"schemaType": "bedrock-conversation-2024"}),
            json.dumps(record()),
        ],
    )
    path.write_bytes(path.read_bytes() + b'{"modelId": "\xff"}\n')
    lines = read_all(path)
    assert [(type(line).__name__, line.line) for line in lines] == [
        ("LogRecord", 1),
        ("SkippedLine", 3),
        ("SkippedLine", 4),
        ("SkippedLine", 5),
        ("LogRecord", 6),
        ("SkippedLine", 7),
    ]
    assert [line.problem for line in lines if isinstance(line, SkippedLine)] == [
        "not JSON: Expecting property name enclosed in double quotes at column 38",
        "not an invocation log record: an array, not an object",
        'not an invocation log record: schemaType is "bedrock-conversation-2024"; expected "ModelInvocationLog"',
        "not UTF-8 text: invalid start byte at byte 14",
    ]


def test_record_accessors_tolerate_missing_fields(tmp_path):
    bare = {"schemaType": "ModelInvocationLog"}
    (line,) = read_all(write_records(tmp_path / "bare.jsonl", [bare]))
    assert (line.model_id, dict(line.request_metadata), line.has_response) == (None, {}, False)
    (failed,) = read_all(write_records(tmp_path / "failed.jsonl", [record(response=False)]))
    assert failed.has_response is False


def test_directories_are_walked_in_order_and_only_log_files_are_read(tmp_path):
    logs = tmp_path / "AWSLogs"
    write_records(logs / "111111111111/BedrockModelInvocationLogs/us-east-1/2024/09/11/17/b.json.gz", [], compress=True)
    write_records(logs / "111111111111/BedrockModelInvocationLogs/us-east-1/2024/09/11/17/a.json.gz", [], compress=True)
    write_records(logs / "111111111111/BedrockModelInvocationLogs/us-east-1/2024/09/10/23/z.jsonl", [])
    write_records(logs / "111111111111/notes.json", [])
    write_lines(logs / "amazon-bedrock-logs-permission-check", ["x"])
    write_lines(logs / "README.txt", ["x"])
    single = write_lines(tmp_path / "picked.txt", [json.dumps(record())])
    assert [path.relative_to(tmp_path).as_posix() for path in log_files([logs, single])] == [
        "AWSLogs/111111111111/notes.json",
        "AWSLogs/111111111111/BedrockModelInvocationLogs/us-east-1/2024/09/10/23/z.jsonl",
        "AWSLogs/111111111111/BedrockModelInvocationLogs/us-east-1/2024/09/11/17/a.json.gz",
        "AWSLogs/111111111111/BedrockModelInvocationLogs/us-east-1/2024/09/11/17/b.json.gz",
        "picked.txt",
    ]


def test_missing_paths_fail_before_anything_is_read(tmp_path):
    present = write_records(tmp_path / "present.jsonl", [record()])
    with pytest.raises(LogReadError) as raised:
        log_files([present, tmp_path / "typo", tmp_path / "other"])
    assert str(raised.value) == f"no such file or directory: {tmp_path / 'typo'}, {tmp_path / 'other'}"


def test_corrupt_gzip_is_an_unreadable_file(tmp_path):
    path = tmp_path / "cut.json.gz"
    path.write_bytes(gzip.compress(json.dumps(record()).encode() * 50)[:60])
    with pytest.raises(LogReadError, match=rf"^{path}: cannot read: "):
        read_all(path)


@pytest.mark.parametrize(
    ("model_id", "identical"),
    [
        (TEACHER, True),
        (f"arn:aws:bedrock:us-east-1::foundation-model/{TEACHER}", True),
        (f"us.{TEACHER}", False),
        (f"arn:aws:bedrock:us-east-1:111111111111:inference-profile/us.{TEACHER}", False),
    ],
)
def test_a_records_model_is_the_teacher_by_identifier_or_by_model(model_id, identical):
    teacher = parse_model(TEACHER)
    assert same_identifier(model_id, teacher) is identical
    assert same_model(model_id, teacher)


def test_other_models_and_unreadable_ids_are_not_the_teacher():
    teacher = parse_model(TEACHER)
    for model_id in (OTHER_MODEL, "not a model", None):
        assert not same_identifier(model_id, teacher) and not same_model(model_id, teacher)


# --- what the job can use -------------------------------------------------------------------------------------


def converse_record(
    content: list | None = None,
    *,
    turns: int = 1,
    stop_reason: str = "end_turn",
    model_id: str = TEACHER,
    response: bool = True,
) -> dict:
    """A Converse invocation log record (the shape the case 09-guardrail-logs records have)."""
    messages = []
    for turn in range(turns):
        messages.append({"role": "user", "content": content or [{"text": f"Question {turn}"}]})
        if turn < turns - 1:
            messages.append({"role": "assistant", "content": [{"text": f"Answer {turn}"}]})
    data = {
        "schemaType": "ModelInvocationLog",
        "schemaVersion": "1.0",
        "operation": "Converse",
        "modelId": model_id,
        "input": {"inputContentType": "application/json", "inputBodyJson": {"messages": messages}},
        "requestMetadata": dict(SUPPORT),
        "output": {
            "outputContentType": "application/json",
            "outputBodyJson": {
                "output": {"message": {"role": "assistant", "content": [{"text": "An answer."}]}},
                "stopReason": stop_reason,
            },
        },
    }
    if not response:
        del data["output"]
        data["errorCode"] = "ThrottlingException"
    return data


IMAGE = [{"text": "What is in this picture?"}, {"image": {"format": "png", "source": {"bytes": "iVBORw0KGgo="}}}]
PAIRS = JobUse(teacher=parse_model(TEACHER), multi_turn_allowed=False)
PROMPTS = JobUse(multi_turn_allowed=False)


def reason(record: dict, use: JobUse) -> str | None:
    (line,) = read_all_from(record)
    return drop_reason(line, use)


def read_all_from(record: dict) -> list[LogRecord]:
    return [LogRecord(Path("x.jsonl"), 1, record)]


@pytest.mark.parametrize(
    ("record", "pairs", "prompts"),
    [
        (converse_record(), None, None),
        (converse_record(model_id=OTHER_MODEL), "otherModel", None),
        (converse_record(response=False), "noResponse", "noResponse"),
        (converse_record(stop_reason="guardrail_intervened"), "guardrail", None),
        (converse_record(IMAGE), "notText", "notText"),
        (converse_record(turns=2), "multiTurn", "multiTurn"),
        (reference_record(), None, None),
    ],
)
def test_each_record_is_usable_or_dropped_for_its_first_reason(record, pairs, prompts):
    assert (reason(record, PAIRS), reason(record, PROMPTS)) == (pairs, prompts)


def test_multi_turn_records_are_usable_where_the_provider_allows_them():
    assert reason(converse_record(turns=3), JobUse(multi_turn_allowed=True)) is None


def test_tool_content_in_the_answer_is_not_text():
    record = converse_record()
    record["output"]["outputBodyJson"]["output"]["message"]["content"] = [
        {"toolUse": {"toolUseId": "t1", "name": "lookup", "input": {}}}
    ]
    assert reason(record, PROMPTS) == "notText"


def test_an_invoke_model_guardrail_intervention_is_a_refusal():
    record = copy.deepcopy(reference_record())
    record["output"]["outputBodyJson"]["amazon-bedrock-guardrailAction"] = "INTERVENED"
    assert reason(record, PAIRS) == "guardrail"


def test_messages_api_text_blocks_are_text():
    record = converse_record([{"type": "text", "text": "Hello"}])
    record["output"]["outputBodyJson"] = {"content": [{"type": "text", "text": "Hi"}], "stop_reason": "end_turn"}
    assert reason(record, PAIRS) is None
    record["input"]["inputBodyJson"]["messages"][0]["content"].append({"type": "image", "source": {}})
    assert reason(record, PAIRS) == "notText"


# --- distill preview-logs --------------------------------------------------------------------------------------


def preview(capsys, *args: str) -> tuple[int, str, str]:
    code = main(["preview-logs", *args])
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def preview_json(capsys, *args: str) -> tuple[int, dict]:
    code, out, _ = preview(capsys, *args, "--format", "json")
    return code, json.loads(out)


@pytest.fixture
def logs(tmp_path) -> Path:
    """A log directory: 100 usable teacher pairs split over a gzipped and a plain file (half logged under the model
    id, half under its foundation-model ARN), plus records that must not count (the teacher through a profile id,
    another model, another project, a failed call) and one bad line."""
    root = tmp_path / "AWSLogs"
    teacher_forms = [TEACHER, f"arn:aws:bedrock:us-east-1::foundation-model/{TEACHER}"]
    pairs = [record(teacher_forms[index % 2], {**SUPPORT, "n": str(index)}) for index in range(100)]
    write_records(root / "2024/09/11/17/a.json.gz", pairs[:60], compress=True)
    noise = [
        record(f"us.{TEACHER}"),
        record(OTHER_MODEL),
        record(metadata={"project": "Sales"}),
        record(response=False),
    ]
    write_lines(root / "2024/09/11/18/b.jsonl", [*map(json.dumps, pairs[60:] + noise), "not json"])
    return root


def test_preview_meets_the_minimum_with_teacher_pairs(capsys, logs):
    code, report = preview_json(capsys, str(logs), "--filter", SUPPORT_FILTER, "--teacher", TEACHER)
    assert code == 0
    assert report == {
        "files": 2,
        "records": 104,
        "selected": 103,
        "requestMetadataSeen": None,
        "teacher": TEACHER,
        "multiTurnAllowed": False,
        "multiTurnUnjudged": 0,
        "usable": 100,
        "dropped": {"otherModel": 2, "noResponse": 1},
        "guardrailRefusals": 0,
        "sameModelOtherIdentifier": 1,
        "minimum": 100,
        "minimumMet": True,
        "skippedLines": 1,
        "firstSkippedLines": [
            {"where": f"{logs}/2024/09/11/18/b.jsonl:45", "problem": "not JSON: Expecting value at column 1"}
        ],
    }


def test_preview_misses_the_minimum_when_a_pair_is_filtered_out(capsys, logs):
    narrower = '{"andAll": [{"equals": {"project": "CustomerService"}}, {"notEquals": {"n": "0"}}]}'
    code, out, err = preview(capsys, str(logs), "--filter", narrower, "--teacher", TEACHER)
    assert (code, err) == (1, "")
    assert out.splitlines() == [
        "files read: 2",
        "records read: 104",
        "selected by the filter: 102",
        f"usable by the job: 99 prompt-response pairs from teacher {TEACHER}",
        "dropped: 3",
        "  2 from another model (usePromptResponse trains only on pairs from exactly the teacher)",
        "  1 no response (a failed or throttled call)",
        f"from {TEACHER} under another identifier than {TEACHER}: 1 (not counted: Bedrock does not document "
        "whether a profile id and a model id match exactly)",
        f"minimum of 100 usable prompt-response pairs from teacher {TEACHER}: not met, 1 more needed (99)",
        "skipped lines: 1",
        f"  {logs}/2024/09/11/18/b.jsonl:45: not JSON: Expecting value at column 1",
    ]


def test_preview_without_teacher_counts_pairs_from_every_model(capsys, logs):
    code, report = preview_json(capsys, str(logs / "2024/09/11/18"), "--filter", SUPPORT_FILTER)
    assert code == 1
    assert (report["records"], report["selected"], report["usable"], report["dropped"]) == (
        44,
        43,
        42,
        {"noResponse": 1},
    )
    assert (report["teacher"], report["multiTurnAllowed"], report["sameModelOtherIdentifier"]) == (None, None, None)
    code, report = preview_json(capsys, str(logs), "--filter", SUPPORT_FILTER)
    assert (code, report["selected"], report["usable"], report["minimumMet"]) == (0, 103, 102, True)


def test_preview_counts_only_what_the_job_can_use_and_says_why_the_rest_is_dropped(capsys, tmp_path):
    # 120 selected records, 40 of them usable: the minimum is judged on those 40.
    records = (
        [converse_record() for _ in range(40)]
        + [converse_record(IMAGE) for _ in range(20)]
        + [converse_record(turns=2) for _ in range(20)]
        + [converse_record(response=False) for _ in range(20)]
        + [converse_record(stop_reason="guardrail_intervened") for _ in range(20)]
    )
    path = write_records(tmp_path / "held-out.json.gz", records, compress=True)
    code, out, _ = preview(capsys, str(path), "--filter", SUPPORT_FILTER, "--teacher", TEACHER)
    assert code == 1
    assert out.splitlines() == [
        "files read: 1",
        "records read: 120",
        "selected by the filter: 120",
        f"usable by the job: 40 prompt-response pairs from teacher {TEACHER}",
        "dropped: 80",
        "  20 no response (a failed or throttled call)",
        "  20 a guardrail intervened (the logged answer is a refusal, which the student would learn)",
        "  20 not text only (image, document, video, audio or tool content)",
        "  20 more than one user turn (the provider allows one)",
        "guardrail refusals among the selected records: 20 (dropped: with usePromptResponse the student would learn "
        "to refuse)",
        f"minimum of 100 usable prompt-response pairs from teacher {TEACHER}: not met, 60 more needed (40)",
    ]


CASE_09 = FIXTURES / "cases" / "09-guardrail-logs"


def test_guardrail_refusals_are_flagged_and_not_counted_as_pairs(capsys):
    code, report = preview_json(
        capsys, str(CASE_09 / "logs"), "--filter", str(CASE_09 / "filter.json"), "--teacher", TEACHER
    )
    assert code == 1
    assert (report["records"], report["selected"], report["usable"]) == (110, 110, 70)
    assert (report["dropped"], report["guardrailRefusals"], report["minimumMet"]) == ({"guardrail": 40}, 40, False)


def test_guardrail_refusals_are_flagged_but_their_prompts_count_without_use_prompt_response(capsys):
    code, out, _ = preview(
        capsys, str(CASE_09 / "logs"), "--filter", str(CASE_09 / "filter.json"), "--student", STUDENT
    )
    assert code == 0
    assert out.splitlines()[3:] == [
        "usable by the job: 110 prompt-response pairs",
        "guardrail refusals among the selected records: 40 (counted: without usePromptResponse the teacher answers "
        "these prompts again)",
        "minimum of 100 usable prompt-response pairs: met (110)",
    ]


def test_turns_are_not_judged_without_a_model(capsys, tmp_path):
    path = write_records(tmp_path / "turns.jsonl", [converse_record(turns=2)])
    code, out, _ = preview(capsys, str(path), "--filter", SUPPORT_FILTER)
    assert code == 1
    assert (
        "multi-turn records counted as usable: 1 (no --teacher or --student given; Meta and Anthropic allow one user "
        "turn)" in out.splitlines()
    )
    code, report = preview_json(capsys, str(path), "--filter", SUPPORT_FILTER, "--student", STUDENT)
    assert (report["usable"], report["dropped"]) == (0, {"multiTurn": 1})


def test_preview_reads_the_filter_from_a_file_and_single_files(capsys, tmp_path, logs):
    filter_file = tmp_path / "filter.json"
    filter_file.write_text(json.dumps({"orAll": [{"equals": {"project": "Sales"}}]}))
    code, report = preview_json(
        capsys, str(logs / "2024/09/11/17/a.json.gz"), str(logs / "2024/09/11/18/b.jsonl"), "--filter", str(filter_file)
    )
    assert (code, report["files"], report["records"], report["selected"]) == (1, 2, 104, 1)


def test_preview_of_the_reference_record(capsys):
    code, report = preview_json(
        capsys,
        str(REFERENCE_RECORD_FILE),
        "--filter",
        '{"equals": {"intent": "ComplaintResolution"}}',
        "--teacher",
        TEACHER,
    )
    assert (code, report["records"], report["selected"], report["usable"]) == (1, 1, 1, 1)


def test_preview_lists_only_the_first_skipped_lines(capsys, tmp_path):
    path = write_lines(tmp_path / "bad.jsonl", ["{"] * 7)
    code, out, _ = preview(capsys, str(path), "--filter", SUPPORT_FILTER)
    assert code == 1
    assert out.splitlines()[5:] == ["skipped lines: 7 (first 5 below)"] + [
        f"  {path}:{number}: not JSON: Expecting property name enclosed in double quotes at column 2"
        for number in range(1, 6)
    ]


def test_preview_refuses_an_invalid_filter(capsys, logs):
    code, out, err = preview(capsys, str(logs), "--filter", '{"andAll": []}')
    assert (code, out) == (2, "")
    assert err.splitlines() == [
        "distill preview-logs: Invalid request-metadata filter:",
        "  - filter.andAll has 0 items; it must hold 1 to 16",
    ]


def test_preview_names_the_filter_file_in_messages(capsys, tmp_path, logs):
    filter_file = tmp_path / "filter.json"
    filter_file.write_text('{"equals": {"project": 7}}')
    code, _, err = preview(capsys, str(logs), "--filter", str(filter_file))
    assert code == 2
    assert err.splitlines()[1] == f"  - {filter_file}.equals.project is 7; values must be strings"


@pytest.mark.parametrize(
    ("filter_argument", "message"),
    [
        (
            "{not json",
            "filter is not JSON: Expecting property name enclosed in double quotes: line 1 column 2 (char 1)",
        ),
        (
            "missing.json",
            "cannot read the filter file missing.json: [Errno 2] No such file or directory: 'missing.json'",
        ),
    ],
)
def test_preview_refuses_an_unreadable_filter(capsys, logs, monkeypatch, tmp_path, filter_argument, message):
    monkeypatch.chdir(tmp_path)
    assert preview(capsys, str(logs), "--filter", filter_argument) == (2, "", f"distill preview-logs: {message}\n")


def test_preview_refuses_a_missing_path(capsys, tmp_path):
    missing = tmp_path / "nowhere"
    code, out, err = preview(capsys, str(missing), "--filter", SUPPORT_FILTER)
    assert (code, out, err) == (2, "", f"distill preview-logs: no such file or directory: {missing}\n")


def test_preview_refuses_an_unreadable_file(capsys, tmp_path):
    path = tmp_path / "cut.json.gz"
    path.write_bytes(gzip.compress(json.dumps(record()).encode() * 50)[:60])
    code, out, err = preview(capsys, str(path), "--filter", SUPPORT_FILTER)
    assert (code, out) == (2, "")
    assert err.startswith(f"distill preview-logs: {path}: cannot read: ")


@pytest.mark.parametrize(
    "args", [["--filter", SUPPORT_FILTER], ["some/dir"], ["some/dir", "--filter", "{}", "--format", "xml"]]
)
def test_preview_usage_errors_exit_2(capsys, args):
    with pytest.raises(SystemExit) as raised:
        main(["preview-logs", *args])
    assert raised.value.code == 2


@pytest.mark.parametrize("inline", ["[]", '"equals"', ' [{"equals": {"a": "b"}}]'])
def test_inline_json_that_is_not_an_object_is_read_as_a_filter_not_a_file_name(capsys, logs, inline):
    code, out, err = preview(capsys, str(logs), "--filter", inline)
    assert (code, out) == (2, "")
    assert err.splitlines()[1].startswith(f"  - filter is {json.dumps(json.loads(inline))}; it must be an object")


def test_a_directory_without_log_files_says_where_they_are_expected(capsys, tmp_path):
    (tmp_path / "notes.txt").write_text("x")
    code, out, err = preview(capsys, str(tmp_path), "--filter", SUPPORT_FILTER)
    assert (code, out) == (2, "")
    assert err == (
        f"distill preview-logs: no log files in {tmp_path}: a directory is searched for .json, .jsonl, .gz files "
        "(Bedrock writes .json.gz files under AWSLogs/<account>/BedrockModelInvocationLogs/); copy them with "
        "`aws s3 sync s3://BUCKET/PREFIX/AWSLogs/ logs/` and give that directory\n"
    )


def test_a_teacher_that_is_no_model_identifier_is_refused(capsys, logs):
    code, out, err = preview(capsys, str(logs), "--filter", SUPPORT_FILTER, "--teacher", "Llama 405B")
    assert (code, out) == (2, "")
    assert err == (
        'distill preview-logs: --teacher: "Llama 405B" is not a Bedrock model id (like "amazon.nova-pro-v1:0") or '
        "inference profile id\n"
    )


def test_preview_refuses_a_teacher_the_catalog_does_not_know_with_the_closest_ids(capsys, logs):
    """The same check as `distill validate --teacher`: a typo would otherwise count every record as another model's."""
    code, out, err = preview(capsys, str(logs), "--filter", SUPPORT_FILTER, "--teacher", "meta.llama3-1-405b-instruct")
    assert (code, out) == (2, "")
    assert err == (
        'distill preview-logs: --teacher "meta.llama3-1-405b-instruct" is not a distillation teacher in the model '
        "catalog (checked 2026-12-01); closest: meta.llama3-1-405b-instruct-v1:0, meta.llama3-1-70b-instruct-v1:0, "
        "meta.llama3-3-70b-instruct-v1:0\n"
    )


def test_preview_takes_a_known_teacher_as_its_inference_profile(capsys, logs):
    code, report = preview_json(capsys, str(logs), "--filter", SUPPORT_FILTER, "--teacher", f"us.{TEACHER}")
    assert (code, report["teacher"]) == (1, f"us.{TEACHER}")


def test_a_filter_that_selects_nothing_shows_the_metadata_the_records_carry(capsys, tmp_path):
    records = [
        {**reference_record(), "requestMetadata": {"project": project, "team": "ml"}}
        for project in ("claims", "billing", "claims", "support", "search", "ads")
    ]
    path = write_lines(tmp_path / "logs.jsonl", [json.dumps(record) for record in records])
    code, out, _ = preview(capsys, str(path), "--filter", '{"equals": {"project": "Claims"}}')
    assert code == 1
    assert out.splitlines()[2:4] == [
        "selected by the filter: 0",
        '  the filter selects none of them; the records\' requestMetadata keys and values: "project": "claims", '
        '"billing", "support", ...; "team": "ml"',
    ]
    code, report = preview_json(capsys, str(path), "--filter", '{"equals": {"project": "Claims"}}')
    assert report["requestMetadataSeen"] == {"project": ["claims", "billing", "support"], "team": ["ml"]}


def test_a_filter_that_selects_nothing_among_records_without_metadata_says_where_it_comes_from(capsys, tmp_path):
    record = {key: value for key, value in reference_record().items() if key != "requestMetadata"}
    path = write_lines(tmp_path / "logs.jsonl", [json.dumps(record)])
    _, out, _ = preview(capsys, str(path), "--filter", SUPPORT_FILTER)
    assert out.splitlines()[3] == (
        "  no record read carries requestMetadata, which the filter selects on: the application sets it on each call "
        "(the requestMetadata field of Converse and ConverseStream)"
    )
