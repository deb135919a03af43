"""The dataset validator and `distill validate`: every rule passing and failing, the real reference files, memory."""

from __future__ import annotations

import json
import tracemalloc
from pathlib import Path

import pytest

from distill.cli import main
from distill.dataset import (
    MAX_FILE_BYTES,
    MAX_KEPT_PROBLEMS,
    Problem,
    multi_turn_allowed_for,
    validate_file,
    validate_record,
)

REFERENCE_DATA = Path(__file__).resolve().parents[1] / "fixtures" / "reference-data"
FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "datasets"

COUNT_MESSAGE = "(file): holds {} records; a distillation dataset needs 100 to 15,000"
PROMPT_COMPLETION = (
    '(record): this is the prompt/completion format ({"prompt", "completion"}), not bedrock-conversation-2024; '
    "`distill convert` converts it"
)
MULTI_TURN = (
    "messages: holds {} messages ({} user turns), but the chosen models take a single turn (one user message, "
    "optionally followed by one assistant message); only Amazon Nova models take multi-turn records"
)
CONTENT_ITEM_ONLY_TEXT = (
    'unknown field; a content item holds only "text" (distillation records are text only: no images, documents or '
    "tool use)"
)


def turn(role: str, text: str = "Hello") -> dict:
    return {"role": role, "content": [{"text": text}]}


def record(**fields) -> dict:
    """A valid record with a system prompt and one user/assistant exchange, with ``fields`` replaced (None drops)."""
    base = {
        "schemaVersion": "bedrock-conversation-2024",
        "system": [{"text": "Answer briefly."}],
        "messages": [turn("user", "Why is the sky blue?"), turn("assistant", "Rayleigh scattering.")],
    }
    base.update(fields)
    return {key: value for key, value in base.items() if value is not None}


def write_lines(path: Path, lines: list[bytes]) -> Path:
    path.write_bytes(b"".join(line + b"\n" for line in lines))
    return path


def problems_on_line_100(tmp_path: Path, line: object, *, multi_turn_allowed: bool = True) -> list[str]:
    """The problems, as printed, of a file of 99 valid records followed by ``line`` (a record, or raw bytes)."""
    raw = line if isinstance(line, bytes) else json.dumps(line).encode()
    path = write_lines(tmp_path / "data.jsonl", [json.dumps(record()).encode()] * 99 + [raw])
    return [str(problem) for problem in validate_file(path, multi_turn_allowed=multi_turn_allowed).problems]


# --- every rule: a record that passes and one that fails with its exact message ------------------------------------

PASSING = {
    "prompt with response and system": record(),
    "prompt only": record(messages=[turn("user")]),
    "no system": record(system=None),
    "multi-turn ending with user": record(messages=[turn("user"), turn("assistant"), turn("user")]),
    "multi-turn ending with assistant": record(messages=[turn("user"), turn("assistant")] * 2),
    "non-ASCII text": record(messages=[turn("user", "Où est la gare ? 東京駅")]),
}

FAILING = {
    "not an object": ([record()], "(record): must be a JSON object, found a list"),
    "prompt/completion": ({"prompt": "Why?", "completion": "Because."}, PROMPT_COMPLETION),
    "schemaVersion missing": (
        record(schemaVersion=None),
        'schemaVersion: missing; must be "bedrock-conversation-2024"',
    ),
    "schemaVersion as the user guide misspells it": (
        record(schemaVersion="bedrock-conversion-2024"),
        'schemaVersion: must be exactly "bedrock-conversation-2024", found "bedrock-conversion-2024"',
    ),
    "schemaVersion not a string": (
        record(schemaVersion=2024),
        'schemaVersion: must be exactly "bedrock-conversation-2024", found a number',
    ),
    "unknown top-level field": (
        {**record(), "metadata": {"id": 1}},
        "metadata: unknown field; a record holds only schemaVersion, system and messages",
    ),
    "unknown top-level field that needs quoting": (
        {**record(), "user id": 1},
        '["user id"]: unknown field; a record holds only schemaVersion, system and messages',
    ),
    "system a string": (
        record(system="Answer briefly."),
        'system: must be a list of one {"text": ...} item, found a string',
    ),
    "system two items": (
        record(system=[{"text": "a"}, {"text": "b"}]),
        'system: must hold exactly one {"text": ...} item, found 2',
    ),
    "system empty list": (record(system=[]), 'system: must hold exactly one {"text": ...} item, found 0'),
    "system item a string": (record(system=["Answer."]), 'system[0]: must be an object {"text": ...}, found a string'),
    "system text empty": (
        record(system=[{"text": ""}]),
        "system[0].text: must be a non-empty string, found an empty string",
    ),
    "system item extra field": (
        record(system=[{"text": "Answer.", "cachePoint": {"type": "default"}}]),
        f"system[0].cachePoint: {CONTENT_ITEM_ONLY_TEXT}",
    ),
    "messages missing": (
        record(messages=None),
        "messages: missing; must be a list of user/assistant turns that starts with a user turn",
    ),
    "messages empty": (
        record(messages=[]),
        "messages: must hold at least one message (a user turn), found an empty list",
    ),
    "messages an object": (
        record(messages=turn("user")),
        "messages: must be a list of user/assistant turns, found an object",
    ),
    "message a string": (
        record(messages=["Hello"]),
        'messages[0]: must be an object {"role": ..., "content": [...]}, found a string',
    ),
    "message extra field": (
        record(messages=[{**turn("user"), "name": "alice"}]),
        "messages[0].name: unknown field; a message holds only role and content",
    ),
    "role missing": (record(messages=[{"content": [{"text": "Hi"}]}]), 'messages[0].role: missing; must be "user"'),
    "first turn assistant": (
        record(messages=[turn("assistant")]),
        'messages[0].role: must be "user" (turns alternate user, assistant, starting with user), found "assistant"',
    ),
    "turns not alternating": (
        record(messages=[turn("user"), turn("user")]),
        'messages[1].role: must be "assistant" (turns alternate user, assistant, starting with user), found "user"',
    ),
    "system role in messages": (
        record(messages=[turn("system")]),
        'messages[0].role: must be "user" (turns alternate user, assistant, starting with user), found "system"',
    ),
    "content missing": (
        record(messages=[{"role": "user"}]),
        'messages[0].content: missing; must be a list of one {"text": ...} item',
    ),
    "content a string": (
        record(messages=[{"role": "user", "content": "Hi"}]),
        'messages[0].content: must be a list of one {"text": ...} item, found a string',
    ),
    "content two items": (
        record(messages=[{"role": "user", "content": [{"text": "a"}, {"text": "b"}]}]),
        'messages[0].content: must hold exactly one {"text": ...} item, found 2',
    ),
    "text a number": (
        record(messages=[turn("user"), {"role": "assistant", "content": [{"text": 42}]}]),
        "messages[1].content[0].text: must be a non-empty string, found a number",
    ),
    "text empty": (
        record(messages=[turn("user"), turn("assistant", "")]),
        "messages[1].content[0].text: must be a non-empty string, found an empty string",
    ),
}


@pytest.mark.parametrize("valid", PASSING.values(), ids=PASSING.keys())
def test_a_valid_record_has_no_problem(tmp_path, valid):
    assert validate_record(valid, multi_turn_allowed=True) == []
    assert problems_on_line_100(tmp_path, valid) == []


@pytest.mark.parametrize(("invalid", "expected"), FAILING.values(), ids=FAILING.keys())
def test_an_invalid_record_gets_its_exact_message(tmp_path, invalid, expected):
    assert problems_on_line_100(tmp_path, invalid) == [f"{tmp_path / 'data.jsonl'}:100: {expected}"]


def test_an_image_block_names_both_the_missing_text_and_the_image():
    path = FIXTURES / "converse-image.jsonl"
    assert [str(p) for p in validate_file(path, multi_turn_allowed=True).problems] == [
        f"{path}:1: messages[0].content[0].text: must be a non-empty string, missing",
        f"{path}:1: messages[0].content[0].image: {CONTENT_ITEM_ONLY_TEXT}",
        f"{path}: (file): holds 1 record; a distillation dataset needs 100 to 15,000",
    ]


def test_the_user_guide_misspelling_is_named_with_the_right_value():
    path = FIXTURES / "misspelled-schema-version.jsonl"
    assert str(validate_file(path, multi_turn_allowed=False).problems[0]) == (
        f'{path}:1: schemaVersion: must be exactly "bedrock-conversation-2024", found "bedrock-conversion-2024"'
    )


def test_a_long_wrong_value_is_shortened_in_the_message():
    (finding,) = validate_record(record(schemaVersion="x" * 100), multi_turn_allowed=True)
    assert finding.message == f'must be exactly "bedrock-conversation-2024", found "{"x" * 60}..."'


def test_a_problem_prints_as_file_line_field_message():
    assert str(Problem("d.jsonl", 7, "messages[1].content[0].text", "wrong")) == (
        "d.jsonl:7: messages[1].content[0].text: wrong"
    )
    assert str(Problem("d.jsonl", None, "(file)", "wrong")) == "d.jsonl: (file): wrong"


# --- multi-turn -------------------------------------------------------------------------------------------------


def test_multi_turn_passes_when_allowed_and_fails_when_not(tmp_path):
    three_turns = record(messages=[turn("user"), turn("assistant"), turn("user")])
    assert problems_on_line_100(tmp_path, three_turns, multi_turn_allowed=True) == []
    assert problems_on_line_100(tmp_path, three_turns, multi_turn_allowed=False) == [
        f"{tmp_path / 'data.jsonl'}:100: {MULTI_TURN.format(3, 2)}"
    ]


def test_a_single_turn_passes_when_multi_turn_is_not_allowed(tmp_path):
    assert problems_on_line_100(tmp_path, record(), multi_turn_allowed=False) == []


@pytest.mark.parametrize(
    ("models", "allowed"),
    [
        ((), True),
        ((None, None), True),
        (("amazon.nova-premier-v1:0", "amazon.nova-lite-v1:0:300k"), True),
        (("us.amazon.nova-premier-v1:0",), True),
        (("amazon.nova-pro-v1:0", "anthropic.claude-3-haiku-20240307-v1:0"), False),
        (("meta.llama3-1-405b-instruct-v1:0",), False),
        (("example.unknown-model-v1:0",), False),
    ],
)
def test_multi_turn_is_allowed_only_if_every_given_model_allows_it(models, allowed):
    assert multi_turn_allowed_for(*models) is allowed


# --- lines that hold no record ----------------------------------------------------------------------------------


def test_a_blank_line_is_an_error(tmp_path):
    assert problems_on_line_100(tmp_path, b"   ") == [
        f"{tmp_path / 'data.jsonl'}:100: (record): blank line; Bedrock counts every line as a record, so a dataset "
        "may not hold blank lines"
    ]


def test_a_final_newline_is_not_a_blank_line_and_crlf_endings_pass(tmp_path):
    path = tmp_path / "crlf.jsonl"
    path.write_bytes(b"".join(json.dumps(record()).encode() + b"\r\n" for _ in range(100)))
    report = validate_file(path, multi_turn_allowed=True)
    assert report.ok
    assert report.summary.records == 100


def test_bytes_that_are_not_utf8_are_reported_with_file_and_line():
    path = FIXTURES / "latin-1.jsonl"
    column = path.read_bytes().index(b"\xe9") + 1
    assert str(validate_file(path, multi_turn_allowed=True).problems[0]) == (
        f"{path}:1: (record): not UTF-8: byte 0xe9 at byte {column} of the line; save the file as UTF-8"
    )


def test_valid_utf8_passes_where_latin1_fails(tmp_path):
    utf8 = json.dumps(record(messages=[turn("user", "café au lait")]), ensure_ascii=False).encode()
    assert problems_on_line_100(tmp_path, utf8) == []


def test_invalid_json_in_the_middle_of_a_line_names_the_column(tmp_path):
    assert problems_on_line_100(tmp_path, b'{"schemaVersion" "bedrock-conversation-2024"}') == [
        f"{tmp_path / 'data.jsonl'}:100: (record): not valid JSON: Expecting ':' delimiter at column 18"
    ]


def test_a_record_cut_at_the_end_of_the_line_says_records_go_on_one_line(tmp_path):
    assert problems_on_line_100(tmp_path, b'{"schemaVersion": "bedrock-conversation-2024",') == [
        f"{tmp_path / 'data.jsonl'}:100: (record): not valid JSON: the line ends inside a record (Expecting property "
        "name enclosed in double quotes); JSON Lines needs each record whole on one line, not pretty-printed over "
        "several"
    ]


# --- the whole file ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize("count", [100, 15_000])
def test_100_to_15000_records_pass(tmp_path, count):
    path = write_lines(tmp_path / "data.jsonl", [json.dumps(record()).encode()] * count)
    assert validate_file(path, multi_turn_allowed=True).ok


@pytest.mark.parametrize("count", [0, 99, 15_001])
def test_fewer_than_100_or_more_than_15000_records_fail_once_at_the_end(tmp_path, count):
    path = write_lines(tmp_path / "data.jsonl", [json.dumps(record()).encode()] * count)
    assert [str(p) for p in validate_file(path, multi_turn_allowed=True).problems] == [
        f"{path}: {COUNT_MESSAGE.format(f'{count:,}')}"
    ]


def test_a_file_over_the_size_limit_fails_without_being_read(tmp_path):
    path = tmp_path / "huge.jsonl"
    with open(path, "wb") as sparse:
        sparse.truncate(MAX_FILE_BYTES + 1)
    report = validate_file(path, multi_turn_allowed=True)
    assert [str(p) for p in report.problems] == [
        f"{path}: (file): is 2,147,483,649 bytes; a training file may be at most 2,147,483,648 bytes (2 GiB, "
        "MAX_FILE_BYTES): split it or sample fewer records"
    ]
    assert report.summary.records == 0


def test_the_summary_counts_turns_and_the_largest_record(tmp_path):
    big = record(messages=[turn("user", "x" * 500)])
    lines = [record()] * 60 + [record(messages=[turn("user")])] * 39 + [big] + [record(messages=[turn("user")] * 2)]
    path = write_lines(tmp_path / "data.jsonl", [json.dumps(line).encode() for line in lines])
    summary = validate_file(path, multi_turn_allowed=True).summary
    assert (summary.records, summary.with_response, summary.prompt_only, summary.multi_turn) == (101, 60, 40, 0)
    assert summary.largest_record_line == 100
    assert summary.largest_record_bytes == len(json.dumps(big).encode())


def test_multi_turn_records_are_counted(tmp_path):
    summary = validate_file(FIXTURES / "nova-multi-turn.jsonl", multi_turn_allowed=True).summary
    assert (summary.records, summary.multi_turn, summary.prompt_only, summary.with_response) == (2, 2, 1, 1)


def test_problems_are_capped_but_all_counted_and_the_count_problem_is_kept(tmp_path):
    path = write_lines(tmp_path / "data.jsonl", [b"[]"] * 250)
    report = validate_file(path, multi_turn_allowed=True)
    assert report.problem_count == 250
    assert len(report.problems) == MAX_KEPT_PROBLEMS
    assert report.omitted == 150
    assert not report.ok

    too_many = validate_file(write_lines(tmp_path / "many.jsonl", [b"[]"] * 15_001), multi_turn_allowed=True)
    assert too_many.problem_count == 15_002
    assert len(too_many.problems) == MAX_KEPT_PROBLEMS + 1
    assert str(too_many.problems[-1]) == f"{tmp_path / 'many.jsonl'}: {COUNT_MESSAGE.format('15,001')}"


def test_a_missing_file_raises_oserror(tmp_path):
    with pytest.raises(FileNotFoundError):
        validate_file(tmp_path / "missing.jsonl", multi_turn_allowed=True)


def test_the_validator_keeps_no_records_in_memory(tmp_path):
    """About 5 MB of records validated with a peak of Python allocations a small fraction of that: nothing is kept."""
    line = json.dumps(record(messages=[turn("user", "q" * 1000), turn("assistant", "a" * 1000)])).encode()
    path = write_lines(tmp_path / "data.jsonl", [line] * 2500)
    assert path.stat().st_size > 5_000_000
    tracemalloc.start()
    try:
        report = validate_file(path, multi_turn_allowed=True)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert report.ok
    assert peak < 200_000


# --- the reference data: real public examples -------------------------------------------------------------------


def test_the_converted_uber10k_dataset_passes():
    report = validate_file(REFERENCE_DATA / "uber10k-conversation.jsonl", multi_turn_allowed=False)
    assert report.problems == []
    assert (report.summary.records, report.summary.with_response) == (200, 200)


@pytest.mark.parametrize("name", ["validation-readme-examples.jsonl", "docs-prepare-dataset-examples.jsonl"])
def test_the_published_examples_pass_and_fail_only_the_record_count(name):
    path = REFERENCE_DATA / name
    for line in path.read_bytes().splitlines():
        assert validate_record(json.loads(line), multi_turn_allowed=False) == []
    report = validate_file(path, multi_turn_allowed=False)
    assert [str(p) for p in report.problems] == [f"{path}: {COUNT_MESSAGE.format(2)}"]
    assert (report.summary.prompt_only, report.summary.with_response) == (1, 1)


def test_the_prompt_completion_dataset_fails_with_the_conversion_hint():
    path = REFERENCE_DATA / "uber10k-prompt-completion.jsonl"
    report = validate_file(path, multi_turn_allowed=False)
    assert str(report.problems[0]) == f"{path}:1: {PROMPT_COMPLETION}"
    assert report.problem_count == 200


def test_a_pretty_printed_record_fails_on_its_first_line_as_cut_off_json():
    """JSON Lines reads each line alone: line 1 is ``{``, so the missing comma on line 18 is never reached."""
    path = REFERENCE_DATA / "invalid-missing-comma.json.txt"
    report = validate_file(path, multi_turn_allowed=False)
    assert str(report.problems[0]) == (
        f"{path}:1: (record): not valid JSON: the line ends inside a record (Expecting property name enclosed in "
        "double quotes); JSON Lines needs each record whole on one line, not pretty-printed over several"
    )
    assert str(report.problems[1]) == f"{path}:2: (record): not valid JSON: Extra data at column 20"
    assert str(report.problems[-1]) == f"{path}: {COUNT_MESSAGE.format(26)}"
    assert report.problem_count == 27


# --- distill validate -------------------------------------------------------------------------------------------


def test_validate_exits_0_for_a_valid_file_and_prints_its_summary(capsys):
    path = REFERENCE_DATA / "uber10k-conversation.jsonl"
    assert main(["validate", str(path)]) == 0
    assert capsys.readouterr().out.splitlines() == [
        f"{path}: 200 records: 200 with response, 0 prompt-only, 0 multi-turn; largest 9,716 bytes on line 71; "
        "multi-turn records allowed (no --teacher or --student given)",
        f"{path}: valid",
    ]


def test_validate_exits_1_and_caps_the_printed_problems(capsys):
    path = REFERENCE_DATA / "uber10k-prompt-completion.jsonl"
    assert main(["validate", str(path)]) == 1
    out = capsys.readouterr().out.splitlines()
    assert out[0] == f"{path}:1: {PROMPT_COMPLETION}"
    assert out[100] == f"... 100 more problems in {path} (the first 100 are shown)"
    assert out[-1] == f"{path}: invalid: 200 problems"


def test_validate_exits_2_naming_a_missing_file_and_still_checks_the_others(tmp_path, capsys):
    missing = tmp_path / "missing.jsonl"
    assert main(["validate", str(REFERENCE_DATA / "uber10k-conversation.jsonl"), str(missing)]) == 2
    captured = capsys.readouterr()
    assert captured.err == f"distill validate: cannot read {missing}: No such file or directory\n"
    assert captured.out.endswith("uber10k-conversation.jsonl: valid\n")


def test_validate_without_a_file_is_a_usage_error(capsys):
    with pytest.raises(SystemExit) as exit_:
        main(["validate"])
    assert exit_.value.code == 2


def test_validate_json_format(capsys):
    valid = REFERENCE_DATA / "uber10k-conversation.jsonl"
    short = REFERENCE_DATA / "validation-readme-examples.jsonl"
    assert main(["validate", str(valid), str(short), "--format", "json"]) == 1
    result = json.loads(capsys.readouterr().out)
    assert result["multiTurnAllowed"] is True
    assert result["files"][str(valid)]["ok"] is True
    assert result["files"][str(valid)]["problems"] == []
    assert result["files"][str(valid)]["summary"]["records"] == 200
    assert result["files"][str(short)] == {
        "ok": False,
        "problem_count": 1,
        "problems": [
            {
                "path": str(short),
                "line": None,
                "field": "(file)",
                "message": "holds 2 records; a distillation dataset needs 100 to 15,000",
            }
        ],
        "summary": {
            "records": 2,
            "prompt_only": 1,
            "with_response": 1,
            "multi_turn": 0,
            "largest_record_bytes": 442,
            "largest_record_line": 1,
            "multi_turn_allowed": True,
        },
    }


def test_validate_applies_the_teacher_and_student_to_multi_turn(capsys):
    path = FIXTURES / "nova-multi-turn.jsonl"
    main(["validate", str(path), "--teacher", "amazon.nova-premier-v1:0", "--student", "amazon.nova-lite-v1:0"])
    nova = capsys.readouterr().out.splitlines()
    assert nova == [
        f"{path}: {COUNT_MESSAGE.format(2)}",
        f"{path}: 2 records: 1 with response, 1 prompt-only, 2 multi-turn; largest 364 bytes on line 1; multi-turn "
        "records allowed for amazon.nova-premier-v1:0, amazon.nova-lite-v1:0",
        f"{path}: invalid: 1 problem",
    ]

    main(["validate", str(path), "--teacher", "anthropic.claude-3-5-sonnet-20241022-v2:0"])
    claude = capsys.readouterr().out.splitlines()
    assert claude[:2] == [f"{path}:1: {MULTI_TURN.format(3, 2)}", f"{path}:2: {MULTI_TURN.format(4, 2)}"]
    assert claude[-2].endswith(
        "multi-turn records not allowed: single turn only for anthropic.claude-3-5-sonnet-20241022-v2:0"
    )
