"""The dataset validator: every rule passing and failing, lines that hold no record, the reference files, memory."""

from __future__ import annotations

import gzip
import io
import json
import tracemalloc
from pathlib import Path

import pytest

from distill.data_checks.dataset import (
    MAX_FILE_BYTES,
    MAX_KEPT_PROBLEMS,
    Problem,
    _plain_turns,
    multi_turn_allowed_for,
    validate_file,
    validate_record,
    validate_stream,
)

REFERENCE_DATA = Path(__file__).resolve().parents[1] / "fixtures" / "reference-data"
FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "datasets"

COUNT_MESSAGE = "(file): holds {} records; a distillation dataset needs 100 to 15,000"
PROMPT_COMPLETION = (
    '(record): this is the prompt/completion format ({"prompt", "completion"}), not bedrock-conversation-2024; '
    "`distill convert` converts it"
)
MULTI_TURN = (
    "messages: holds {} messages ({} user turns), but records must be single turn here (one user message, "
    "optionally followed by one assistant message); only Amazon Nova models take multi-turn records"
)
SYSTEM_TURN = (
    'role: "system" is not a role inside messages; move this text into the record\'s own "system" field '
    '("system": [{"text": ...}], beside "messages")'
)
WHITESPACE = (
    "text: holds only whitespace; write the text (the Bedrock user guide does not say whether whitespace-only text "
    "is accepted, so it is refused like empty text)"
)
BLANK_LINE = (
    'blank line; every line of a dataset must be one JSON record (Bedrock user guide, "Prepare your training '
    'datasets for distillation"): delete it'
)
BOM = (
    "(record): starts with a byte order mark (BOM, the bytes EF BB BF); save the file as UTF-8 without a BOM (the "
    "Bedrock user guide does not say a BOM is accepted, and JSON writers must not add one, RFC 8259 section 8.1)"
)
IMAGE = 'images are not supported: distillation takes text only; replace it with one {"text": ...} item'

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
        'system: must hold exactly one {"text": ...} item, found 2; join the texts into one',
    ),
    "system empty list": (record(system=[]), 'system: must hold exactly one {"text": ...} item, found 0'),
    "system item a string": (record(system=["Answer."]), 'system[0]: must be an object {"text": ...}, found a string'),
    "system text empty": (
        record(system=[{"text": ""}]),
        "system[0].text: must be a non-empty string, found an empty string",
    ),
    "system text only whitespace": (record(system=[{"text": "  \n"}]), f"system[0].{WHITESPACE}"),
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
    "one misplaced turn is one problem": (
        record(messages=[turn("user"), turn("assistant"), turn("assistant"), turn("user")]),
        'messages[2].role: must be "user" (turns alternate user, assistant, starting with user), found "assistant"',
    ),
    "role not a known one": (
        record(messages=[turn("human")]),
        'messages[0].role: must be "user" (turns alternate user, assistant, starting with user), found "human"',
    ),
    "system turn inside messages": (
        record(system=None, messages=[turn("system", "Answer briefly."), turn("user"), turn("assistant")]),
        f"messages[0].{SYSTEM_TURN}",
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
        'messages[0].content: must hold exactly one {"text": ...} item, found 2; join the texts into one',
    ),
    "content empty list": (
        record(messages=[{"role": "user", "content": []}]),
        'messages[0].content: must hold exactly one {"text": ...} item, found 0',
    ),
    "text and an image": (
        record(messages=[{"role": "user", "content": [{"text": "Describe it."}, {"image": {"format": "png"}}]}]),
        "messages[0].content[1]: images are not supported: distillation takes text only; remove it",
    ),
    "a document instead of text": (
        record(messages=[{"role": "user", "content": [{"document": {"name": "10-K"}}]}]),
        "messages[0].content[0]: documents are not supported: distillation takes text only; replace it with one "
        '{"text": ...} item',
    ),
    "tool use in the answer": (
        record(messages=[turn("user"), {"role": "assistant", "content": [{"text": "Looking."}, {"toolUse": {}}]}]),
        "messages[1].content[1]: tool use is not supported: distillation takes text only; remove it",
    ),
    "text a number": (
        record(messages=[turn("user"), {"role": "assistant", "content": [{"text": 42}]}]),
        "messages[1].content[0].text: must be a non-empty string, found a number",
    ),
    "text empty": (
        record(messages=[turn("user"), turn("assistant", "")]),
        "messages[1].content[0].text: must be a non-empty string, found an empty string",
    ),
    "text only whitespace": (record(messages=[turn("user", " \t\n ")]), f"messages[0].content[0].{WHITESPACE}"),
}


@pytest.mark.parametrize(("invalid", "expected"), FAILING.values(), ids=FAILING.keys())
def test_the_fast_path_for_plain_records_never_passes_one_with_a_problem(invalid, expected):
    assert not (isinstance(invalid, dict) and _plain_turns(invalid, True))


def test_the_fast_path_takes_the_plain_records_and_leaves_multi_turn_to_the_rule():
    assert _plain_turns(record(), False) == 2
    assert _plain_turns(record(system=None, messages=[turn("user")]), False) == 1
    three_turns = record(messages=[turn("user"), turn("assistant"), turn("user")])
    assert (_plain_turns(three_turns, True), _plain_turns(three_turns, False)) == (3, 0)


@pytest.mark.parametrize("valid", PASSING.values(), ids=PASSING.keys())
def test_a_valid_record_has_no_problem(tmp_path, valid):
    assert validate_record(valid, multi_turn_allowed=True) == []
    assert problems_on_line_100(tmp_path, valid) == []


@pytest.mark.parametrize(("invalid", "expected"), FAILING.values(), ids=FAILING.keys())
def test_an_invalid_record_gets_its_exact_message(tmp_path, invalid, expected):
    assert problems_on_line_100(tmp_path, invalid) == [f"{tmp_path / 'data.jsonl'}:100: {expected}"]


def test_an_image_block_says_images_are_not_supported():
    path = FIXTURES / "converse-image.jsonl"
    assert [str(p) for p in validate_file(path, multi_turn_allowed=True).problems] == [
        f"{path}:1: messages[0].content[0]: {IMAGE}",
        f"{path}: (file): holds 1 record; a distillation dataset needs 100 to 15,000",
    ]


def test_a_system_turn_inside_messages_is_one_problem_that_says_where_it_goes():
    """Before, a system turn first gave a role error on every turn after it, and never named the system field."""
    moved = record(messages=[turn("system", "Be brief."), turn("user"), turn("assistant")])
    assert validate_record(moved, multi_turn_allowed=False) == [
        ("messages[0].role", SYSTEM_TURN.removeprefix("role: "))
    ]
    alone = record(messages=[turn("system", "Be brief.")])
    assert [field for field, _ in validate_record(alone, multi_turn_allowed=False)] == ["messages[0].role", "messages"]
    assert validate_record(alone, multi_turn_allowed=False)[1].message == (
        "holds no user turn; a record needs a user message to start with"
    )


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


def test_a_blank_line_between_records_is_an_error_and_not_a_record(tmp_path):
    lines = [json.dumps(record()).encode()] * 50 + [b"   \r"] + [json.dumps(record()).encode()] * 50
    path = write_lines(tmp_path / "data.jsonl", lines)
    report = validate_file(path, multi_turn_allowed=True)
    assert [str(p) for p in report.problems] == [f"{path}:51: (record): {BLANK_LINE}"]
    assert report.summary.records == 100


def test_a_blank_line_at_the_end_says_one_final_newline_is_enough():
    path = FIXTURES / "trailing-blank.jsonl"
    report = validate_file(path, multi_turn_allowed=False)
    assert [str(p) for p in report.problems] == [
        f"{path}:121: (record): blank line at the end of the file; every line of a dataset must be one JSON record "
        '(Bedrock user guide, "Prepare your training datasets for distillation"): delete it, a single newline after '
        "the last record is enough"
    ]
    assert report.summary.records == 120


def test_a_byte_order_mark_is_named_as_such_and_the_record_behind_it_is_still_checked(tmp_path):
    path = FIXTURES / "bom.jsonl"
    report = validate_file(path, multi_turn_allowed=False)
    assert [str(p) for p in report.problems] == [f"{path}:1: {BOM}"]
    assert (report.summary.records, report.summary.prompt_only) == (120, 120)
    broken = tmp_path / "bom-broken.jsonl"
    broken.write_bytes(b"\xef\xbb\xbf" + json.dumps(record(schemaVersion=None)).encode() + b"\n")
    assert [str(p) for p in validate_file(broken, multi_turn_allowed=False).problems][:2] == [
        f"{broken}:1: {BOM}",
        f'{broken}:1: schemaVersion: missing; must be "bedrock-conversation-2024"',
    ]


def test_crlf_line_ends_from_windows_pass():
    report = validate_file(FIXTURES / "crlf.jsonl", multi_turn_allowed=False)
    assert (report.ok, report.summary.records) == (True, 120)


def test_a_final_newline_is_not_a_blank_line_and_a_missing_one_is_fine(tmp_path):
    path = tmp_path / "crlf.jsonl"
    path.write_bytes(b"".join(json.dumps(record()).encode() + b"\r\n" for _ in range(100)))
    report = validate_file(path, multi_turn_allowed=True)
    assert report.ok
    assert report.summary.records == 100
    path.write_bytes(path.read_bytes().rstrip())
    assert validate_file(path, multi_turn_allowed=True).ok


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


def test_two_records_on_one_line_are_named_as_such(tmp_path):
    line = json.dumps(record()).encode()
    assert problems_on_line_100(tmp_path, line + line) == [
        f"{tmp_path / 'data.jsonl'}:100: (record): holds more than one JSON value: a second one starts at column "
        f"{len(line) + 1}; put each record on a line of its own"
    ]


def test_a_record_cut_at_the_end_of_the_file_looks_cut_short(tmp_path):
    assert problems_on_line_100(tmp_path, b'{"schemaVersion": "bedrock-conversation-2024",') == [
        f"{tmp_path / 'data.jsonl'}:100: (record): not valid JSON: the file ends inside this record (Expecting "
        "property name enclosed in double quotes), so it looks cut short; copy or export the file again, or delete "
        "its incomplete last line"
    ]


def test_a_file_cut_inside_a_string_without_a_final_newline_looks_cut_short(tmp_path):
    path = tmp_path / "data.jsonl"
    path.write_bytes(json.dumps(record()).encode()[:40])
    (problem, _count) = validate_file(path, multi_turn_allowed=True).problems
    assert str(problem) == (
        f"{path}:1: (record): not valid JSON: the file ends inside this record (Unterminated string starting at), so "
        "it looks cut short; copy or export the file again, or delete its incomplete last line"
    )


def test_a_record_cut_at_the_end_of_a_line_inside_the_file_says_records_go_on_one_line(tmp_path):
    good = json.dumps(record()).encode()
    path = write_lines(tmp_path / "data.jsonl", [good] * 99 + [b'{"schemaVersion": "bedrock-conversation-2024",', good])
    assert str(validate_file(path, multi_turn_allowed=True).problems[0]) == (
        f"{path}:100: (record): not valid JSON: the line ends inside a record (Expecting property name enclosed in "
        "double quotes); JSON Lines needs each record whole on one line, not pretty-printed over several"
    )


def test_a_record_cut_short_in_the_middle_does_not_swallow_the_records_after_it(tmp_path):
    good = json.dumps(record()).encode()
    path = write_lines(tmp_path / "data.jsonl", [good] * 50 + [good[:40]] + [good] * 50)
    report = validate_file(path, multi_turn_allowed=True)
    assert [p.line for p in report.problems] == [51]
    assert report.summary.records == 101


def test_a_valid_pretty_printed_record_is_one_problem_and_its_content_is_still_checked(tmp_path):
    pretty = json.dumps(record(schemaVersion="bedrock-conversion-2024"), indent=2).encode()
    path = write_lines(tmp_path / "data.jsonl", [json.dumps(record()).encode()] * 99 + [pretty])
    last = 99 + pretty.count(b"\n") + 1
    assert [str(p) for p in validate_file(path, multi_turn_allowed=True).problems] == [
        f"{path}:100: (record): one record is written over lines 100 to {last}; JSON Lines needs each record whole on "
        "one line: write it without line breaks (json.dumps with no indent)",
        f'{path}:100: schemaVersion: must be exactly "bedrock-conversation-2024", found "bedrock-conversion-2024"',
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
        f"{path}: (file): is 2,147,483,649 bytes; this check allows a training file of at most 2,147,483,648 bytes "
        "(2 GiB), a cap of its own since the Bedrock user guide gives none for distillation: split the file or "
        "sample fewer records"
    ]
    assert report.summary.records == 0


def test_the_summary_counts_turns_and_the_largest_record(tmp_path):
    big = record(messages=[turn("user", "x" * 500)])
    lines = [record()] * 60 + [record(messages=[turn("user")])] * 39 + [big] + [record(messages=[turn("user")] * 2)]
    path = write_lines(tmp_path / "data.jsonl", [json.dumps(line).encode() for line in lines])
    summary = validate_file(path, multi_turn_allowed=True).summary
    assert (summary.records, summary.with_response, summary.prompt_only, summary.multi_turn) == (101, 60, 40, 0)
    assert summary.bytes == path.stat().st_size
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


def test_an_invocation_log_record_is_one_problem_that_points_to_preview_logs():
    """Before, each of the record's 13 top-level keys was its own "unknown field" line."""
    path = REFERENCE_DATA / "docs-invocation-log-record.jsonl"
    report = validate_file(path, multi_turn_allowed=False)
    assert [str(problem) for problem in report.problems] == [
        f'{path}:1: (record): this is a model invocation log record (schemaType "ModelInvocationLog"), not '
        "bedrock-conversation-2024; a job reads invocation logs through trainingData.invocationLogs, and `distill "
        "preview-logs` counts the records it would use",
        f"{path}: {COUNT_MESSAGE.format(1).replace('records', 'record')}",
    ]


def test_the_prompt_completion_dataset_fails_with_the_conversion_hint():
    path = REFERENCE_DATA / "uber10k-prompt-completion.jsonl"
    report = validate_file(path, multi_turn_allowed=False)
    assert str(report.problems[0]) == f"{path}:1: {PROMPT_COMPLETION}"
    assert report.problem_count == 200


def test_a_pretty_printed_record_is_one_problem_that_points_at_the_missing_comma():
    """The published record spans 26 lines and lacks the comma after ``"role": "assistant"`` on line 18; read line by
    line it made 27 problems, none of them about the comma."""
    path = REFERENCE_DATA / "invalid-missing-comma.json.txt"
    report = validate_file(path, multi_turn_allowed=False)
    assert [str(p) for p in report.problems] == [
        f"{path}:1: (record): one record is written over lines 1 to 26; JSON Lines needs each record whole on one "
        "line, and it is not valid JSON: a comma is missing after line 18, column 31",
        f"{path}: (file): holds 1 record; a distillation dataset needs 100 to 15,000",
    ]
    assert path.read_text().splitlines()[17][30] == '"'


# --- gzip and streams -------------------------------------------------------------------------------------------


def test_a_gzipped_dataset_is_read_decompressed_when_asked(tmp_path):
    plain = REFERENCE_DATA / "uber10k-conversation.jsonl"
    path = tmp_path / "data.jsonl.gz"
    path.write_bytes(gzip.compress(plain.read_bytes()))
    report = validate_file(path, multi_turn_allowed=False, decompress=True)
    assert (report.ok, report.summary.records, report.summary.gzip) == (True, 200, True)
    assert report.summary.bytes == plain.stat().st_size


def test_a_gzipped_dataset_is_one_problem_where_it_is_uploaded_as_it_is(tmp_path):
    """At synth the file is uploaded as it is, and a job reads JSON Lines text; 768 "not UTF-8" lines helped nobody."""
    path = tmp_path / "data.jsonl"
    path.write_bytes(gzip.compress((REFERENCE_DATA / "uber10k-conversation.jsonl").read_bytes()))
    assert [str(p) for p in validate_file(path, multi_turn_allowed=False).problems] == [
        f'{path}: (file): is gzip-compressed; a training file must be JSON Lines text (Bedrock user guide, "Prepare '
        f'your training datasets for distillation"): decompress it (gunzip -k {path}) and use the .jsonl file'
    ]


def test_damaged_gzip_data_is_reported_after_the_lines_read(tmp_path):
    path = tmp_path / "data.jsonl.gz"
    path.write_bytes(gzip.compress((REFERENCE_DATA / "uber10k-conversation.jsonl").read_bytes())[:5000])
    problems = validate_file(path, multi_turn_allowed=False, decompress=True).problems
    assert str(problems[0]).startswith(f"{path}: (file): the gzip data is damaged or cut off (")
    assert str(problems[0]).endswith("); compress the file again")


def test_a_stream_is_validated_like_a_file():
    data = (REFERENCE_DATA / "uber10k-conversation.jsonl").read_bytes()
    report = validate_stream(io.BufferedReader(io.BytesIO(data)), "<stdin>", multi_turn_allowed=False)
    assert (report.ok, report.path, report.summary.records) == (True, "<stdin>", 200)


def test_a_stream_over_the_size_limit_stops_at_the_limit(tmp_path, monkeypatch):
    monkeypatch.setattr("distill.data_checks.dataset.MAX_FILE_BYTES", 10_000)
    data = (REFERENCE_DATA / "uber10k-conversation.jsonl").read_bytes()
    report = validate_stream(io.BufferedReader(io.BytesIO(data)), "<stdin>", multi_turn_allowed=False)
    assert str(report.problems[0]).startswith("<stdin>: (file): holds more than 10,000 bytes; this check allows")
    assert report.summary.records < 200
