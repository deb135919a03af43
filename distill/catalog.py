"""The model catalog: which teacher distils into which students, where, and what each provider's data allows.

The table is data (distill/data/model_catalog.json) with its source and the date it was checked, so a reviewer
can compare it with the AWS user guide. Bedrock adds pairs over time: a stage may allow a pair the catalog does
not know yet (``allowUnlistedPair``), and then gets a warning instead of an error.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from functools import cache
from importlib import resources

# Cross-Region inference profile ids put a geography in front of the model id: "us.amazon.nova-premier-v1:0".
_PROFILE_PREFIX = re.compile(r"^(us|eu|apac|us-gov|global)\.")
# Customizable base models carry a context-length suffix: "amazon.nova-lite-v1:0:300k".
_CONTEXT_SUFFIX = re.compile(r":\d+k$")


class CatalogError(ValueError):
    """A teacher, student or Region the catalog does not allow; the message lists what is allowed."""


@dataclass(frozen=True)
class Teacher:
    model_id: str
    name: str
    regions: tuple[str, ...]
    students: tuple[str, ...]
    inference_profile: str | None = None
    profile_regions: tuple[str, ...] = ()


@dataclass(frozen=True)
class Catalog:
    source: str
    checked: str
    providers: dict[str, dict]
    teachers: dict[str, Teacher]
    shareable: dict[str, tuple[str, ...]]
    on_demand_models: tuple[str, ...]
    on_demand_regions: tuple[str, ...]


@cache
def catalog() -> Catalog:
    raw = json.loads(resources.files("distill").joinpath("data/model_catalog.json").read_text())
    teachers = {
        entry["id"]: Teacher(
            model_id=entry["id"],
            name=entry["name"],
            regions=tuple(entry["regions"]),
            students=tuple(entry["students"]),
            inference_profile=entry.get("inferenceProfile"),
            profile_regions=tuple(entry.get("profileRegions", ())),
        )
        for entry in raw["teachers"]
    }
    return Catalog(
        source=raw["source"],
        checked=raw["checked"],
        providers=raw["providers"],
        teachers=teachers,
        shareable={model: tuple(regions) for model, regions in raw["sharing"]["models"].items()},
        on_demand_models=tuple(raw["onDemandDeployment"]["models"]),
        on_demand_regions=tuple(raw["onDemandDeployment"]["regions"]),
    )


def base_model_id(model_id: str) -> str:
    """The foundation model id behind an inference profile id or a customizable variant."""
    return _CONTEXT_SUFFIX.sub("", _PROFILE_PREFIX.sub("", model_id))


def provider_of(model_id: str) -> str:
    """The provider key ("amazon", "meta", "anthropic", ...) of a model, profile or variant id."""
    return base_model_id(model_id).split(".", 1)[0]


def allows_multi_turn(model_id: str) -> bool:
    """Whether distillation records for this model's provider may hold more than one user/assistant turn.

    Unknown providers are treated like the strictest known ones (single turn), so a dataset that passes locally
    does not fail in a Bedrock job an hour later.
    """
    return bool(catalog().providers.get(provider_of(model_id), {}).get("multiTurn", False))


def teacher(model_id: str) -> Teacher | None:
    return catalog().teachers.get(base_model_id(model_id))


@dataclass(frozen=True)
class PairCheck:
    """A pair the catalog allows, or allows with a warning (an unlisted pair the stage opted into)."""

    teacher: Teacher | None
    warning: str | None = None


def check_pair(teacher_id: str, student_id: str, region: str, *, allow_unlisted: bool = False) -> PairCheck:
    """Check a teacher/student pair in a Region against the catalog; raise ``CatalogError`` naming the fix."""
    table = catalog()
    found = teacher(teacher_id)
    if provider_of(teacher_id) != provider_of(student_id):
        raise CatalogError(
            f'teacher "{teacher_id}" and student "{student_id}" come from different providers; Bedrock distils '
            "only within one provider"
        )
    problem = None
    if found is None:
        problem = f'teacher "{teacher_id}" is not a distillation teacher in the catalog; teachers: ' + ", ".join(
            table.teachers
        )
    elif student_id not in found.students:
        problem = (
            f'student "{student_id}" is not offered for teacher "{found.model_id}"; its students are: '
            + ", ".join(found.students)
        )
    elif region not in found.regions:
        problem = (
            f'teacher "{found.model_id}" is not available for distillation in {region}; its Regions are: '
            + ", ".join(found.regions)
        )
    if problem is None:
        return PairCheck(found)
    if not allow_unlisted:
        raise CatalogError(
            f"{problem} (catalog checked {table.checked}; set allowUnlistedPair to true to use a pair AWS added since)"
        )
    return PairCheck(found, warning=f"{problem}; allowed by allowUnlistedPair")


def teacher_invoke_targets(teacher_id: str, region: str) -> tuple[list[str], list[str]]:
    """What the service role must be able to invoke for a teacher: (inference-profile ids, foundation-model
    Regions). A profile routes requests to the same model in several Regions, and each needs permission."""
    found = teacher(teacher_id)
    if _PROFILE_PREFIX.match(teacher_id):
        regions = list(found.profile_regions) if found and found.profile_regions else [region]
        return [teacher_id], regions
    return [], [region]


def shareable_regions(student_id: str) -> tuple[str, ...]:
    """Regions where a custom model of this student can be shared through AWS RAM and copied; empty if none."""
    return catalog().shareable.get(base_model_id(student_id), ())


def supports_on_demand(student_id: str, region: str) -> bool:
    """Whether a custom model of this student can be served by an on-demand custom model deployment."""
    table = catalog()
    return base_model_id(student_id) in table.on_demand_models and region in table.on_demand_regions


_CUSTOM_MODEL_ARN = re.compile(
    r"arn:aws(-[a-z-]+)?:bedrock:(?P<region>[a-z0-9-]+):(?P<account>\d{12}):custom-model/"
    r"(?P<base>[a-z0-9-]{1,63}\.[a-z0-9-]{1,63}(:[a-z0-9-]{1,63}){0,2})/[a-z0-9]{12}"
)


@dataclass(frozen=True)
class CustomModelArn:
    """The parts of a custom model ARN; Bedrock puts the base model's id inside it."""

    region: str
    account: str
    base_model: str


def parse_custom_model_arn(arn: str) -> CustomModelArn | None:
    match = _CUSTOM_MODEL_ARN.fullmatch(arn)
    if match is None:
        return None
    return CustomModelArn(region=match["region"], account=match["account"], base_model=match["base"])
