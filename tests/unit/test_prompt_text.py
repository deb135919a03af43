"""No training prompt in any template or snapshot: a template is readable by anyone with GetTemplate, sits in the
CDK's bootstrap bucket and the pipeline's artifacts, and our snapshots are committed; only the stage's buckets,
under its key, hold the dataset."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from distill.config.stages import StageConfig

SNAPSHOTS = Path(__file__).resolve().parents[1] / "snapshots"
# A fragment this long is the dataset's own words, not a word or phrase a template could hold by chance.
FRAGMENT = 40
RECORDS = 20


def dataset_fragments(path: Path) -> set[str]:
    """Fragments of every text (system, user and assistant turns) of the first records of a dataset, as JSON would
    escape them in a template."""
    fragments = set()
    for line in path.read_text(encoding="utf-8").splitlines()[:RECORDS]:
        record = json.loads(line)
        texts = [block["text"] for block in record.get("system", [])]
        texts += [block.get("text", "") for message in record["messages"] for block in message["content"]]
        for text in texts:
            escaped = json.dumps(text)[1:-1]
            fragments.update(escaped[start : start + FRAGMENT] for start in range(0, len(escaped) - FRAGMENT, FRAGMENT))
    return fragments


def local_datasets(stages) -> dict[str, set[Path]]:
    """stage name -> the local dataset files its models train from, for the stages that have any."""
    found = {}
    for name, stage in stages.items():
        config: StageConfig = stage.config
        files = {
            model.distillation.training_data.file
            for model in config.models.values()
            if model.distillation is not None and model.distillation.training_data.file is not None
        }
        if files:
            found[name] = files
    return found


def test_the_stages_with_a_local_dataset_are_checked(stages):
    assert {"dev", "prod", "sandbox"} <= set(local_datasets(stages))


def test_no_template_of_any_stage_holds_text_of_its_dataset(stages, templates):
    for name, paths in local_datasets(stages).items():
        for path in paths:
            fragments = dataset_fragments(path)
            assert fragments, f"{path} gave no text to look for"
            for stack_id, template in templates[name].items():
                text = json.dumps(template.to_json())
                leaked = sorted(fragment for fragment in fragments if fragment in text)
                assert leaked == [], f"{name}/{stack_id} holds text of {path.name}: {leaked[:2]}"


@pytest.mark.parametrize("snapshot", sorted(SNAPSHOTS.glob("*.json")), ids=lambda p: p.name)
def test_no_snapshot_holds_text_of_a_shipped_dataset(snapshot, stages):
    text = snapshot.read_text(encoding="utf-8")
    for path in set().union(*local_datasets(stages).values()):
        leaked = sorted(fragment for fragment in dataset_fragments(path) if fragment in text)
        assert leaked == [], f"{snapshot.name} holds text of {path.name}: {leaked[:2]}"
