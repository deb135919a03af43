"""The `distill` command line: what starting it imports, --version, and output that stops being read."""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
from importlib import import_module
from importlib.metadata import version

import pytest

from distill.cli import main, summary
from distill.commands import COMMANDS
from tests.conftest import REFERENCE_DATA, ROOT

# What the offline commands must not pay for at start: AWS's SDK, the CDK (and its Node runtime), the chart library.
HEAVY = ("boto3", "aws_cdk", "jsii", "matplotlib")
IMPORTED = (
    "import json, sys\n"
    "from distill.cli import main\n"
    "try:\n"
    "    main(sys.argv[1:])\n"
    "except SystemExit:\n"
    "    pass\n"
    "print(json.dumps(sorted(name for name in {heavy} if name in sys.modules)), file=sys.stderr)\n"
)


def heavy_imports(*arguments: str) -> list[str]:
    result = subprocess.run(
        [sys.executable, "-c", IMPORTED.format(heavy=HEAVY), *arguments],
        capture_output=True,
        text=True,
        cwd=ROOT,
    )
    return json.loads(result.stderr.splitlines()[-1])


@pytest.mark.parametrize(
    "arguments",
    [
        ["--help"],
        ["validate", str(REFERENCE_DATA / "uber10k-conversation.jsonl")],
        ["validate", "--stage", "dev", str(REFERENCE_DATA / "uber10k-conversation.jsonl")],
        ["config", "--stage", "dev"],
        ["convert", "--help"],
    ],
    ids=["help", "validate", "validate-stage", "config", "convert-help"],
)
def test_starting_a_command_imports_neither_boto3_nor_the_cdk(arguments):
    assert heavy_imports(*arguments) == []


def commands_and_botocore_imported(arguments: list[str]) -> list[str]:
    code = (
        "import sys\n"
        "from distill.cli import main\n"
        "try:\n"
        f"    main({arguments!r})\n"
        "except SystemExit:\n"
        "    pass\n"
        "print(sorted(name for name in sys.modules if name.startswith(('botocore', 'distill.commands.'))))\n"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=ROOT)
    return result.stdout.splitlines()[-1]


def test_validate_imports_no_other_command_and_not_even_botocore():
    valid = str(REFERENCE_DATA / "uber10k-conversation.jsonl")
    assert commands_and_botocore_imported(["validate", valid]) == "['distill.commands.validate']"


def test_listing_the_commands_imports_none_of_them():
    assert commands_and_botocore_imported(["--help"]) == "[]"


@pytest.mark.parametrize("name", list(COMMANDS))
def test_the_listed_summary_is_the_help_the_command_gives_itself(name):
    """``distill --help`` reads each summary from the module's source; it must match what the module registers."""
    parser = argparse.ArgumentParser()
    subparsers = parser.add_subparsers()
    import_module(COMMANDS[name]).add_parser(subparsers)
    (action,) = subparsers._choices_actions
    assert (action.dest, action.help) == (name, summary(COMMANDS[name]))


def test_version_prints_the_installed_version(capsys):
    with pytest.raises(SystemExit) as exit_:
        main(["--version"])
    assert exit_.value.code == 0
    assert capsys.readouterr().out == f"distill {version('bedrock-distillation-cdk')}\n"


def test_every_command_is_listed_in_help(capsys):
    with pytest.raises(SystemExit):
        main(["--help"])
    out = capsys.readouterr().out
    for command in ("config", "validate", "convert", "preview-logs", "status", "report", "evaluate"):
        assert f"    {command}" in out


def test_a_misspelt_command_lists_the_commands(capsys):
    with pytest.raises(SystemExit) as exit_:
        main(["validat", "data.jsonl"])
    assert exit_.value.code == 2
    assert "invalid choice: 'validat' (choose from 'config', 'validate', 'convert'," in capsys.readouterr().err


def test_output_that_stops_being_read_ends_the_command_quietly():
    """`distill validate big.jsonl | head -1`: no BrokenPipeError traceback, and the shell's SIGPIPE exit code."""
    # Ten copies of 100 problems: more than a pipe holds, so the command is still writing when the reader leaves.
    invalid = [str(REFERENCE_DATA / "uber10k-prompt-completion.jsonl")] * 10
    process = subprocess.Popen(
        [sys.executable, "-m", "distill.cli", "validate", *invalid],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        cwd=ROOT,
    )
    assert process.stdout is not None and process.stderr is not None
    process.stdout.readline()
    process.stdout.close()
    assert process.wait(timeout=60) == 141
    assert process.stderr.read() == b""
