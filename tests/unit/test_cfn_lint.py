"""cfn-lint over every template of every test stage and of the delivery pipeline (`make lint` covers cdk.out)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from aws_cdk import App
from cfnlint.api import ManualArgs, lint

IGNORED = ["W3005"]  # as in .cfnlintrc.yaml, with the reason there


def templates_of(app: App) -> list[Path]:
    outdir = Path(app.outdir)
    return sorted([*outdir.glob("*.template.json"), *outdir.glob("assembly-*/*.template.json")])


def findings(path: Path) -> list[str]:
    matches = lint(path.read_text(), config=ManualArgs(ignore_checks=IGNORED, regions=[_region(path)]))
    return [f"{path.name}: {match}" for match in matches]


def _region(path: Path) -> str:
    manifest = json.loads((path.parent / "manifest.json").read_text())
    for artifact in manifest["artifacts"].values():
        if artifact.get("properties", {}).get("templateFile") == path.name:
            return artifact["environment"].rsplit("/", 1)[-1]
    raise AssertionError(f"{path} is not in its manifest")


@pytest.mark.parametrize("app_fixture", ["stages", "pipeline_app"])
def test_no_cfn_lint_finding_in_any_template(request, app_fixture):
    built = request.getfixturevalue(app_fixture)
    app = built if isinstance(built, App) else next(iter(built.values())).node.root
    paths = templates_of(app)
    assert len(paths) >= 9
    problems = [problem for path in paths for problem in findings(path)]
    assert problems == []
