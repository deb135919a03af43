"""Every `distill` command shown in a README.md code block runs against the shipped cdk.json and data, as shown.

The examples are read from the README itself, so a new one is tested without a test being written for it. A command
passes when it runs to an exit code of 0 or 1 (1 is a verdict: an invalid dataset is a fair example), and in a
``console`` block every output line shown (``...`` stands for lines left out) must be in what it prints. Commands
that need AWS credentials are skipped with the reason.
"""

from __future__ import annotations

import re
import shlex
import shutil
from dataclasses import dataclass, field

import pytest

from distill.cli import main
from tests.conftest import ROOT

README = ROOT / "README.md"
FENCE = re.compile(r"^```(\w*)\n(.*?)^```", re.MULTILINE | re.DOTALL)
COMMAND = re.compile(r"^(?:\.venv/bin/)?distill\s")
NEEDS_AWS = {
    "status": "reads the stage's job from AWS (needs credentials)",
    "evaluate": "calls the stage's models through Bedrock (needs credentials)",
    "preflight": "reads the stage's account (needs credentials)",
}
# Options that make an otherwise offline command call AWS (None: whichever the command).
NEEDS_AWS_OPTIONS = {
    (None, "--refresh-prices"): "reads the AWS Price List API (needs credentials)",
    ("report", "--stage"): "reads the model's job from AWS and its metrics from S3 (needs credentials)",
}


# A `cp SOURCE TARGET` line before a command in the same block prepares its input (a copy of cdk.json, say).
COPY = re.compile(r"^cp (\S+) (\S+)(\s+#.*)?$")


@dataclass
class Example:
    command: str
    shown: list[str] = field(default_factory=list)
    copies: list[tuple[str, str]] = field(default_factory=list)

    @property
    def arguments(self) -> list[str]:
        return shlex.split(self.command, comments=True)[1:]

    def needs_aws(self) -> str | None:
        arguments = self.arguments
        if arguments[0] in NEEDS_AWS:
            return NEEDS_AWS[arguments[0]]
        for (command, option), reason in NEEDS_AWS_OPTIONS.items():
            if command in (None, arguments[0]) and option in arguments:
                return reason
        if any(argument.startswith("s3://") for argument in arguments):
            return "reads an s3:// object (needs credentials)"
        return None


def readme_examples() -> list[Example]:
    examples: list[Example] = []
    for language, block in FENCE.findall(README.read_text()):
        console = language == "console"
        current = None
        copies: list[tuple[str, str]] = []
        for line in block.replace("\\\n", " ").splitlines():
            # In a console block a command follows the prompt and every other line is its output.
            command = line.removeprefix("$ ") if console and line.startswith("$ ") else None if console else line
            if command is not None and (copy := COPY.match(command)):
                copies.append((copy[1], copy[2]))
            if command is not None:
                current = Example(command, copies=list(copies)) if COMMAND.match(command) else None
                if current is not None:
                    examples.append(current)
            elif current is not None and line.strip() and line.strip() != "...":
                current.shown.append(line)
    return examples


EXAMPLES = readme_examples()


def test_the_readme_shows_examples_of_the_offline_commands():
    commands = {example.arguments[0] for example in EXAMPLES if not example.needs_aws()}
    assert {"config", "validate", "convert", "report", "preview-logs", "cost"} <= commands


def test_only_what_calls_aws_is_skipped():
    assert Example("distill preflight --stage dev").needs_aws() == "reads the stage's account (needs credentials)"
    assert Example("distill cost --stage dev --refresh-prices  # today's prices").needs_aws() == (
        "reads the AWS Price List API (needs credentials)"
    )
    assert Example("distill cost --stage dev --format json").needs_aws() is None
    assert Example("distill report --stage dev --model support-assistant").needs_aws() == (
        "reads the model's job from AWS and its metrics from S3 (needs credentials)"
    )
    assert Example("distill validate --stage dev --model support-assistant train.jsonl").needs_aws() is None


@pytest.fixture
def project_copy(tmp_path, monkeypatch):
    """A folder that sees the project's cdk.json, datasets and fixtures, where an example may write its outputs."""
    for name in ("cdk.json", "datasets", "tests"):
        (tmp_path / name).symlink_to(ROOT / name)
    monkeypatch.chdir(tmp_path)
    return tmp_path


@pytest.mark.parametrize("example", EXAMPLES, ids=[example.command for example in EXAMPLES])
def test_a_readme_example_runs_as_shown(example, project_copy, capsys):
    reason = example.needs_aws()
    if reason:
        pytest.skip(f"{example.command}: {reason}")
    for source, target in example.copies:
        shutil.copy(source, target)
    assert main(example.arguments) in (0, 1)
    captured = capsys.readouterr()
    printed = (captured.out + captured.err).splitlines()
    missing = [line for line in example.shown if line not in printed]
    assert not missing, f"shown in README.md but not printed: {missing}"
