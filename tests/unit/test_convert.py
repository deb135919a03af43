"""Converting prompt/completion records to bedrock-conversation-2024, and `distill convert`."""

from __future__ import annotations

import io
import json
import sys
from pathlib import Path

import pytest

from distill.cli import main
from distill.data_checks.conversion import (
    AlreadyConverted,
    ConversionError,
    ConversionFailed,
    OutputError,
    convert_file,
    convert_record,
)
from distill.data_checks.dataset import validate_file

REFERENCE_DATA = Path(__file__).resolve().parents[1] / "fixtures" / "reference-data"
PROMPT_COMPLETION = REFERENCE_DATA / "uber10k-prompt-completion.jsonl"
CONVERSATION = REFERENCE_DATA / "uber10k-conversation.jsonl"


def reference_system_prompt() -> str:
    """The system prompt the public sample notebook put in every record of the converted uber10k file."""
    with open(CONVERSATION, "rb") as lines:
        return json.loads(next(lines))["system"][0]["text"]


def test_a_prompt_and_completion_become_a_user_and_an_assistant_turn():
    assert convert_record({"prompt": "Why?", "completion": "Because."}) == {
        "schemaVersion": "bedrock-conversation-2024",
        "messages": [
            {"role": "user", "content": [{"text": "Why?"}]},
            {"role": "assistant", "content": [{"text": "Because."}]},
        ],
    }


def test_a_system_prompt_is_added_and_a_record_without_completion_is_prompt_only():
    assert convert_record({"prompt": "Why?"}, system="Be brief.") == {
        "schemaVersion": "bedrock-conversation-2024",
        "system": [{"text": "Be brief."}],
        "messages": [{"role": "user", "content": [{"text": "Why?"}]}],
    }


@pytest.mark.parametrize(
    ("record", "system", "expected"),
    [
        (["Why?"], None, '(record): must be a JSON object {"prompt": ..., "completion": ...}'),
        ({"completion": "Because."}, None, "prompt: missing; must be a non-empty string"),
        (
            {"prompt": "Why?", "label": "x"},
            None,
            "label: unknown field; a prompt/completion record holds only prompt and completion",
        ),
        ({"prompt": ""}, None, "prompt: must be a non-empty string, found an empty string"),
        ({"prompt": "Why?", "completion": None}, None, "completion: must be a non-empty string, found null"),
        ({"prompt": "Why?"}, "", "system: must be a non-empty string, found an empty string"),
        (
            {"schemaVersion": "bedrock-conversation-2024", "messages": []},
            None,
            "(record): this record is already in the bedrock-conversation-2024 format (it has schemaVersion or "
            "messages); it needs no conversion",
        ),
    ],
)
def test_a_record_that_cannot_be_converted_names_the_input_field(record, system, expected):
    with pytest.raises(ConversionError) as error:
        convert_record(record, system=system)
    assert str(error.value) == expected


def test_the_uber10k_file_converts_to_the_published_conversation_file_and_validates(tmp_path):
    output = tmp_path / "converted.jsonl"
    assert convert_file(PROMPT_COMPLETION, output, system=reference_system_prompt()).records == 200
    assert output.read_bytes() == CONVERSATION.read_bytes()
    assert validate_file(output, multi_turn_allowed=False).ok


def test_every_bad_line_is_reported_in_one_run_and_nothing_is_written(tmp_path):
    source = tmp_path / "in.jsonl"
    source.write_text(
        '{"prompt": "a", "completion": "b"}\n{"prompt": "a", "completion": ""}\n{"prompt": "c"}\n{"question": "d"}\n'
    )
    output = tmp_path / "out.jsonl"
    with pytest.raises(ConversionFailed) as failed:
        convert_file(source, output)
    assert failed.value.problems == [
        f"{source}:2: completion: must be a non-empty string, found an empty string",
        f"{source}:4: question: unknown field; a prompt/completion record holds only prompt and completion",
    ]
    assert failed.value.count == 2
    assert list(tmp_path.iterdir()) == [source]


def test_the_reported_lines_are_capped_but_all_counted(tmp_path):
    source = tmp_path / "in.jsonl"
    source.write_text('{"prompt": ""}\n' * 150)
    with pytest.raises(ConversionFailed) as failed:
        convert_file(source, tmp_path / "out.jsonl")
    assert (len(failed.value.problems), failed.value.count) == (100, 150)


def test_blank_lines_are_skipped_and_a_byte_order_mark_dropped(tmp_path):
    source = tmp_path / "in.jsonl"
    source.write_bytes(b'\xef\xbb\xbf{"prompt": "a"}\r\n\r\n{"prompt": "b", "completion": "c"}\n\n')
    converted = convert_file(source, tmp_path / "out.jsonl")
    assert (converted.records, converted.blank_lines) == (2, 2)
    assert (tmp_path / "out.jsonl").read_text().splitlines() == [
        '{"schemaVersion": "bedrock-conversation-2024", "messages": [{"role": "user", "content": [{"text": "a"}]}]}',
        '{"schemaVersion": "bedrock-conversation-2024", "messages": [{"role": "user", "content": [{"text": "b"}]}, '
        '{"role": "assistant", "content": [{"text": "c"}]}]}',
    ]


def test_a_file_already_in_the_conversation_format_needs_no_conversion(tmp_path):
    with pytest.raises(AlreadyConverted) as already:
        convert_file(CONVERSATION, tmp_path / "out.jsonl")
    assert str(already.value) == (
        f"{CONVERSATION}:1 is already a bedrock-conversation-2024 record, so the file needs no conversion; check it "
        f"with `distill validate {CONVERSATION}`"
    )
    assert list(tmp_path.iterdir()) == []


def test_a_folder_as_output_gets_a_name_of_its_own_after_the_input(tmp_path):
    """Before, the converted file took the input's very name, and passed for the prompt/completion file."""
    converted = convert_file(PROMPT_COMPLETION, tmp_path)
    assert converted.target == tmp_path / "uber10k-prompt-completion-conversation.jsonl"
    assert validate_file(converted.target, multi_turn_allowed=False).ok


def test_the_input_itself_is_never_the_output(tmp_path):
    source = tmp_path / "in.jsonl"
    source.write_bytes(PROMPT_COMPLETION.read_bytes())
    with pytest.raises(OutputError) as error:
        convert_file(source, source, overwrite=True)
    assert str(error.value) == f"{source} is the input file itself; give another OUTPUT"
    assert source.read_bytes() == PROMPT_COMPLETION.read_bytes()


def test_a_line_that_is_not_utf8_is_named(tmp_path):
    source = tmp_path / "in.jsonl"
    source.write_bytes(b'{"prompt": "caf\xe9"}\n')
    with pytest.raises(ConversionFailed) as failed:
        convert_file(source, tmp_path / "out.jsonl")
    assert failed.value.problems == [
        f"{source}:1: (record): not UTF-8: byte 0xe9 at byte 16 of the line; save the file as UTF-8"
    ]


def test_an_existing_output_is_kept_unless_overwrite(tmp_path):
    output = tmp_path / "out.jsonl"
    output.write_text("keep me\n")
    with pytest.raises(FileExistsError):
        convert_file(PROMPT_COMPLETION, output)
    assert output.read_text() == "keep me\n"
    assert convert_file(PROMPT_COMPLETION, output, overwrite=True).records == 200
    assert validate_file(output, multi_turn_allowed=False).ok


# --- distill convert --------------------------------------------------------------------------------------------


def test_convert_round_trip_through_the_cli(tmp_path, capsys):
    output = tmp_path / "converted.jsonl"
    assert main(["convert", str(PROMPT_COMPLETION), str(output), "--system", "You analyse SEC filings."]) == 0
    assert capsys.readouterr().out == (
        f"distill convert: wrote 200 records to {output}; check them with `distill validate {output}`\n"
    )
    assert main(["validate", str(output), "--teacher", "meta.llama3-1-70b-instruct-v1:0"]) == 0
    first = json.loads(output.read_bytes().splitlines()[0])
    assert first["system"] == [{"text": "You analyse SEC filings."}]


def test_convert_exits_2_when_the_output_exists_and_overwrites_with_force(tmp_path, capsys):
    output = tmp_path / "out.jsonl"
    output.write_text("keep me\n")
    assert main(["convert", str(PROMPT_COMPLETION), str(output)]) == 2
    assert capsys.readouterr().err == f"distill convert: {output} exists; pass --force to overwrite it\n"
    assert main(["convert", str(PROMPT_COMPLETION), str(output), "--force"]) == 0


def test_convert_exits_2_naming_a_missing_input(tmp_path, capsys):
    missing = tmp_path / "missing.jsonl"
    assert main(["convert", str(missing), str(tmp_path / "out.jsonl")]) == 2
    assert capsys.readouterr().err == f"distill convert: {missing}: No such file or directory\n"
    assert not (tmp_path / "out.jsonl").exists()


def test_convert_exits_1_for_input_that_is_already_converted(tmp_path, capsys):
    output = tmp_path / "out.jsonl"
    assert main(["convert", str(CONVERSATION), str(output)]) == 1
    assert capsys.readouterr().err == (
        f"distill convert: {CONVERSATION}:1 is already a bedrock-conversation-2024 record, so the file needs no "
        f"conversion; check it with `distill validate {CONVERSATION}`; nothing written\n"
    )
    assert list(tmp_path.iterdir()) == []


def test_convert_lists_every_bad_line_then_exits_1(tmp_path, capsys):
    source = tmp_path / "in.jsonl"
    source.write_text('{"prompt": ""}\n{"prompt": "ok"}\n{"prompt": 3}\n')
    assert main(["convert", str(source), str(tmp_path / "out.jsonl")]) == 1
    assert capsys.readouterr().err.splitlines() == [
        f"{source}:1: prompt: must be a non-empty string, found an empty string",
        f"{source}:3: prompt: must be a non-empty string, found a number",
        "distill convert: 2 lines cannot be converted; nothing written",
    ]
    assert not (tmp_path / "out.jsonl").exists()


def test_convert_into_an_existing_folder(tmp_path, capsys):
    assert main(["convert", str(PROMPT_COMPLETION), str(tmp_path)]) == 0
    target = tmp_path / "uber10k-prompt-completion-conversation.jsonl"
    assert capsys.readouterr().out == (
        f"distill convert: wrote 200 records to {target}; check them with `distill validate {target}`\n"
    )


def test_convert_reads_standard_input(tmp_path, monkeypatch, capsys):
    monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BufferedReader(io.BytesIO(PROMPT_COMPLETION.read_bytes()))))
    assert main(["convert", "-", str(tmp_path / "out.jsonl")]) == 0
    assert validate_file(tmp_path / "out.jsonl", multi_turn_allowed=False).ok


def test_standard_input_into_a_folder_needs_a_file_name(tmp_path, capsys):
    assert main(["convert", "-", str(tmp_path)]) == 2
    assert capsys.readouterr().err == (
        f"distill convert: {tmp_path} is a folder; with - (standard input) as INPUT, name the output file\n"
    )


def test_convert_rejects_an_empty_system_prompt_as_a_usage_error(tmp_path, capsys):
    with pytest.raises(SystemExit) as exit_:
        main(["convert", str(PROMPT_COMPLETION), str(tmp_path / "out.jsonl"), "--system", ""])
    assert exit_.value.code == 2
    assert "argument --system: must hold text: Bedrock rejects an empty system prompt" in capsys.readouterr().err


def test_converting_into_the_inputs_own_folder_leaves_the_input_alone(tmp_path):
    source = tmp_path / "in.jsonl"
    source.write_bytes(PROMPT_COMPLETION.read_bytes())
    assert convert_file(source, tmp_path).target == tmp_path / "in-conversation.jsonl"
    assert source.read_bytes() == PROMPT_COMPLETION.read_bytes()
