"""The README's example of the constructs in another CDK app synthesizes, cdk-nag clean."""

from __future__ import annotations

import re

from tests.conftest import ROOT

SECTION = "## The constructs in your own CDK app"


def readme_example() -> str:
    text = (ROOT / "README.md").read_text()
    section = text[text.index(SECTION) :]
    return re.search(r"```python\n(.*?)```", section, re.S).group(1)


def test_the_readme_library_example_synthesizes_cdk_nag_clean():
    # cdk-nag's AwsSolutions pack, which the example adds, makes the synth raise on any finding.
    scope: dict = {}
    exec(compile(readme_example(), "README.md", "exec"), scope)
    assembly = scope["app"].synth()
    assert {artifact.stack_name for artifact in assembly.stacks} == {"SupportData", "SupportTraining", "SupportServing"}
    training = assembly.get_stack_by_name("SupportTraining").template
    (job,) = [r for r in training["Resources"].values() if r["Type"] == "Custom::BedrockDistillationJob"]
    assert job["Properties"]["TeacherModelIdentifier"] == "amazon.nova-pro-v1:0"
