"""The model catalog: which teacher distils into which students, where, how each is invoked, and each model's lifecycle.

The table is data (distill/data/model_catalog.json): every entry names the Bedrock user guide page it was read from
and the date, so a reviewer can compare it with AWS. Bedrock adds pairs over time: a stage may allow a pair the
catalog does not know yet (``allowUnlistedPair``) and then gets a warning instead of an error. A model past its end
of life is refused whatever the stage says, because Bedrock no longer serves it.

Model identifiers come in every form the API takes (model id, inference profile id, foundation-model ARN,
inference-profile ARN, application inference profile ARN); ``parse_model`` reduces each to one ``ModelReference``
so that every check, the IAM policy and the commands see the same model.
"""

from __future__ import annotations

import difflib
import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from functools import cache
from importlib import resources
from typing import Any, Literal

# Cross-Region inference profile ids put a geography in front of the model id: "us.amazon.nova-premier-v1:0".
_PROFILE_PREFIX = re.compile(r"^(us|eu|apac|us-gov|global)\.")
# Customizable base models carry a context-length suffix: "amazon.nova-lite-v1:0:300k".
_CONTEXT_SUFFIX = re.compile(r":\d+k$")
# The ARN forms a teacher or student may take (TeacherModelIdentifier and BaseModelIdentifier in the botocore model).
_MODEL_ARN = re.compile(
    r"arn:aws(-[a-z-]+)?:bedrock:(?P<region>[a-z0-9-]*):(?P<account>\d{12})?:"
    r"(?P<kind>foundation-model|inference-profile|application-inference-profile)/(?P<resource>.+)"
)
_ARN_KINDS = {
    "foundation-model": "model",
    "inference-profile": "profile",
    "application-inference-profile": "applicationProfile",
}
_MODEL_ID = re.compile(r"[a-z0-9-]{1,63}\.[a-z0-9-]{1,63}([.]?[a-z0-9-]{1,63})(:[a-z0-9-]{1,63}){0,2}")

LIFECYCLE_ACTIVE = "ACTIVE"
LIFECYCLE_LEGACY = "LEGACY"


class CatalogError(ValueError):
    """A teacher, student or Region the catalog does not allow; the message lists what is allowed."""


@dataclass(frozen=True)
class Source:
    """The user guide page a catalog entry was read from, and when."""

    page: str
    read: str

    def __str__(self) -> str:
        return f"{self.page}, read {self.read}"


@dataclass(frozen=True)
class Lifecycle:
    """A model's lifecycle as its model card gives it; ``status`` is None where the card could not be read."""

    status: str | None
    source: Source
    legacy_since: date | None = None
    end_of_life: date | None = None
    unconfirmed: str | None = None


@dataclass(frozen=True)
class Teacher:
    model_id: str
    regions: tuple[str, ...]
    students: tuple[str, ...]
    # "modelOnly", "profileOnly" or "modelOrProfile": how the distillation page says the teacher may be invoked.
    invocation: str
    source: Source

    @property
    def profile_only(self) -> bool:
        return self.invocation == "profileOnly"


@dataclass(frozen=True)
class InferenceProfile:
    """A system inference profile: the model it serves and, per source Region, every Region it routes to."""

    profile_id: str
    model_id: str
    routes: Mapping[str, tuple[str, ...]]
    source: Source


@dataclass(frozen=True)
class ProvisionedThroughputRules:
    """What model units an account has before asking AWS support, and the Service Quotas that count them."""

    units_without_request: int
    no_commitment_quota: str
    per_model_quota_prefix: str
    source: Source
    quota_page: Source


@dataclass(frozen=True)
class Provider:
    """A model provider ("amazon", "meta", ...) and whether its distillation records may hold several turns."""

    name: str
    multi_turn: bool


@dataclass(frozen=True)
class Catalog:
    read: date
    providers: Mapping[str, Provider]
    teachers: Mapping[str, Teacher]
    not_offered: Mapping[str, str]
    not_offered_source: Source
    names: Mapping[str, str]
    lifecycles: Mapping[str, Lifecycle]
    profiles: Mapping[str, InferenceProfile]
    profiles_source: Source
    shareable: Mapping[str, tuple[str, ...]]
    sharing_source: Source
    on_demand_models: tuple[str, ...]
    on_demand_regions: tuple[str, ...]
    on_demand_source: Source
    provisioned: ProvisionedThroughputRules


def _source(entry: Mapping[str, Any]) -> Source:
    return Source(page=entry["source"]["page"], read=entry["source"]["read"])


def _date(text: str | None) -> date | None:
    return date.fromisoformat(text) if text else None


@cache
def catalog() -> Catalog:
    raw = json.loads(resources.files("distill").joinpath("data/model_catalog.json").read_text())
    teachers = {
        entry["id"]: Teacher(
            model_id=entry["id"],
            regions=tuple(entry["regions"]),
            students=tuple(entry["students"]),
            invocation=entry["invocation"],
            source=_source(entry),
        )
        for entry in raw["teachers"]
    }
    models = raw["models"]
    profiles = raw["inferenceProfiles"]
    throughput = raw["provisionedThroughput"]
    return Catalog(
        read=date.fromisoformat(raw["read"]),
        providers={
            key: Provider(name=entry["name"], multi_turn=entry["multiTurn"]) for key, entry in raw["providers"].items()
        },
        teachers=teachers,
        not_offered=raw["notOffered"]["models"],
        not_offered_source=_source(raw["notOffered"]),
        names={model_id: entry["name"] for model_id, entry in models.items()},
        lifecycles={
            model_id: Lifecycle(
                status=entry["lifecycle"],
                source=_source(entry),
                legacy_since=_date(entry.get("legacySince")),
                end_of_life=_date(entry.get("endOfLife")),
                unconfirmed=entry.get("unconfirmed"),
            )
            for model_id, entry in models.items()
        },
        profiles={
            profile_id: InferenceProfile(
                profile_id=profile_id,
                model_id=entry["model"],
                routes={source: tuple(targets) for source, targets in entry["routes"].items()},
                source=_source(entry),
            )
            for profile_id, entry in profiles["profiles"].items()
        },
        profiles_source=_source(profiles),
        shareable={model: tuple(regions) for model, regions in raw["sharing"]["models"].items()},
        sharing_source=_source(raw["sharing"]),
        on_demand_models=tuple(raw["onDemandDeployment"]["models"]),
        on_demand_regions=tuple(raw["onDemandDeployment"]["regions"]),
        on_demand_source=_source(raw["onDemandDeployment"]),
        provisioned=ProvisionedThroughputRules(
            units_without_request=throughput["modelUnitsWithoutRequest"],
            no_commitment_quota=throughput["noCommitmentQuota"],
            per_model_quota_prefix=throughput["perModelQuotaPrefix"],
            source=_source(throughput),
            quota_page=Source(**throughput["quotaPage"]),
        ),
    )


def today() -> date:
    """The date lifecycle checks use: the clock's, but never earlier than the day the catalog was read, so an end
    of life the catalog already saw as past stays past on a machine whose clock is behind."""
    return max(date.today(), catalog().read)


def base_model_id(model_id: str) -> str:
    """The foundation model id behind an inference profile id, a customizable variant or an ARN of either."""
    if model_id.startswith("arn:"):
        model_id = model_id.rsplit("/", 1)[-1]
    return _CONTEXT_SUFFIX.sub("", _PROFILE_PREFIX.sub("", model_id))


def provider_of(model_id: str) -> str:
    """The provider key ("amazon", "meta", "anthropic", ...) of a model, profile or variant id."""
    return base_model_id(model_id).split(".", 1)[0]


def allows_multi_turn(model_id: str) -> bool:
    """Whether distillation records for this model's provider may hold more than one user/assistant turn.

    Unknown providers are treated like the strictest known ones (single turn), so a dataset that passes locally
    does not fail in a Bedrock job an hour later.
    """
    provider = catalog().providers.get(provider_of(model_id))
    return provider is not None and provider.multi_turn


def model_name(model_id: str) -> str:
    """The model's name in the catalog ("Amazon Nova Lite"), or its id when the catalog does not name it."""
    return catalog().names.get(base_model_id(model_id), base_model_id(model_id))


# --- identifiers ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ModelReference:
    """A model as a stage or a command names it, in any form the Bedrock API takes.

    ``identifier`` is what the job and Converse receive: the model id (with its context suffix, for a student) or
    the system inference profile id. An ARN becomes the id it ends with, so an ARN and its id are the same model.
    ``model_id`` is the foundation model behind it; None for an application inference profile, whose model is not
    in its ARN. ``arn_region`` is the Region an ARN names, if any.
    """

    given: str
    kind: Literal["model", "profile", "applicationProfile"]
    identifier: str
    model_id: str | None
    arn_region: str | None = None

    @property
    def is_profile(self) -> bool:
        return self.kind == "profile"


def parse_model(text: str) -> ModelReference:
    """Read a model id, inference profile id or ARN; raise ``CatalogError`` for text that is none of them."""
    match = _MODEL_ARN.fullmatch(text)
    if match is not None:
        kind = _ARN_KINDS[match["kind"]]
        resource = match["resource"]
        if kind == "applicationProfile":
            return ModelReference(text, "applicationProfile", text, None, match["region"] or None)
        if not _MODEL_ID.fullmatch(resource) or (kind == "profile") != bool(_PROFILE_PREFIX.match(resource)):
            expected = "an inference profile id like us.amazon.nova-pro-v1:0" if kind == "profile" else "a model id"
            raise CatalogError(f'"{text}" is not a {match["kind"]} ARN Bedrock accepts: it must end with {expected}')
        model_id = base_model_id(resource) if kind == "profile" else resource
        return ModelReference(text, kind, resource, model_id, match["region"] or None)
    if text.startswith("arn:"):
        raise CatalogError(
            f'"{text}" is not a model ARN Bedrock accepts; use arn:aws:bedrock:<region>::foundation-model/<model id> '
            "or arn:aws:bedrock:<region>:<account>:inference-profile/<profile id>"
        )
    if not _MODEL_ID.fullmatch(text):
        raise CatalogError(f'"{text}" is not a Bedrock model id (like "amazon.nova-pro-v1:0") or inference profile id')
    if _PROFILE_PREFIX.match(text):
        return ModelReference(text, "profile", text, base_model_id(text))
    return ModelReference(text, "model", text, text)


# --- lifecycle -----------------------------------------------------------------------------------------------


def lifecycle(model_id: str) -> Lifecycle | None:
    return catalog().lifecycles.get(base_model_id(model_id))


def past_end_of_life(model_id: str, on: date) -> bool:
    found = lifecycle(model_id)
    return found is not None and found.end_of_life is not None and found.end_of_life <= on


def active_teachers(on: date) -> list[Teacher]:
    """Catalog teachers whose model is ACTIVE on that day, for messages that say what to choose instead."""
    return [
        teacher
        for teacher in catalog().teachers.values()
        if (found := lifecycle(teacher.model_id)) is not None
        and found.status == LIFECYCLE_ACTIVE
        and not past_end_of_life(teacher.model_id, on)
    ]


def _active_students(teacher: Teacher | None, on: date) -> list[str]:
    students = teacher.students if teacher else ()
    return [
        student
        for student in students
        if (found := lifecycle(student)) is not None
        and found.status == LIFECYCLE_ACTIVE
        and not past_end_of_life(student, on)
    ]


def _alternatives(role: str, teacher: Teacher | None, on: date) -> str:
    if role == "student" and (students := _active_students(teacher, on)):
        return f"choose an ACTIVE student of {teacher.model_id}: " + ", ".join(students)
    teachers = active_teachers(on)
    if not teachers:
        return "no teacher in the catalog is ACTIVE; see the distillation page for current pairs"
    return "choose an ACTIVE teacher: " + "; ".join(
        f"{t.model_id} in {', '.join(t.regions)} (students: {', '.join(_active_students(t, on)) or 'none ACTIVE'})"
        for t in teachers
    )


def _dates(found: Lifecycle) -> str:
    parts = []
    if found.legacy_since:
        parts.append(f"Legacy since {found.legacy_since.isoformat()}")
    parts.append(f"end of life {found.end_of_life.isoformat() if found.end_of_life else 'not announced'}")
    return ", ".join(parts)


def end_of_life_problem(role: str, model_id: str, teacher: Teacher | None, on: date) -> str | None:
    """The refusal for a model past its end of life, naming the date, the page and what to choose instead."""
    if not past_end_of_life(model_id, on):
        return None
    found = lifecycle(model_id)
    assert found is not None and found.end_of_life is not None
    note = f"; {found.unconfirmed}" if found.unconfirmed else ""
    return (
        f'{role} "{model_id}" ({model_name(model_id)}) reached its end of life on {found.end_of_life.isoformat()} '
        f"({found.source}{note}): Bedrock no longer serves it, and allowUnlistedPair cannot change that; "
        + _alternatives(role, teacher, on)
    )


def lifecycle_warning(role: str, model_id: str, teacher: Teacher | None, on: date) -> str | None:
    """A warning for a Legacy model, or one whose lifecycle the catalog could not confirm; None for ACTIVE."""
    found = lifecycle(model_id)
    if found is None:
        return (
            f'{role} "{model_id}" has no lifecycle in the catalog; check its model card, or run `distill preflight`, '
            "which reads it from Bedrock"
        )
    if found.status is None:
        return f'{role} "{model_id}": {found.unconfirmed} ({found.source})'
    if found.status != LIFECYCLE_LEGACY:
        return None
    consequence = (
        "Bedrock takes no new customization jobs or Provisioned Throughput for a Legacy model"
        if role == "student"
        else "new customers cannot use a Legacy model, and existing ones lose access after 15 days without use"
    )
    note = f"; {found.unconfirmed}" if found.unconfirmed else ""
    return (
        f'{role} "{model_id}" ({model_name(model_id)}) is Legacy ({_dates(found)}; {found.source}{note}): '
        f"{consequence}; {_alternatives(role, teacher, on)}"
    )


# --- pairs ---------------------------------------------------------------------------------------------------


def teacher(model_id: str) -> Teacher | None:
    return catalog().teachers.get(base_model_id(model_id))


@dataclass(frozen=True)
class PairCheck:
    """A pair the catalog allows, or allows with a warning (an unlisted pair the stage opted into)."""

    teacher: Teacher | None
    warning: str | None = None
    # Warnings about the models themselves: Legacy, or a lifecycle the catalog could not confirm.
    model_warnings: tuple[str, ...] = ()


def check_pair(
    teacher_ref: ModelReference,
    student_ref: ModelReference,
    region: str,
    *,
    allow_unlisted: bool = False,
    on: date | None = None,
) -> PairCheck:
    """Check a teacher/student pair in a Region against the catalog; raise ``CatalogError`` naming the fix.

    Different providers and a model past its end of life are refused whatever ``allow_unlisted`` says; an unknown
    teacher, an unlisted student, another Region or an invocation form the page does not list are refused unless
    ``allow_unlisted`` is set, which turns them into a warning.
    """
    on = on or today()
    table = catalog()
    teacher_id = teacher_ref.model_id or teacher_ref.identifier
    student_id = student_ref.identifier
    found = teacher(teacher_id)
    if provider_of(teacher_id) != provider_of(student_id):
        raise CatalogError(
            f'teacher "{teacher_ref.identifier}" and student "{student_id}" come from different providers; Bedrock '
            "distils only within one provider"
        )
    not_offered = table.not_offered.get(base_model_id(teacher_id)) if found is None else None
    for role, model_id in (("teacher", teacher_id), ("student", student_id)):
        if problem := end_of_life_problem(role, model_id, found, on):
            # A model past its end of life is the lesser news when its provider is not offered at all.
            if not_offered:
                source = table.not_offered_source
                problem = (
                    f'teacher "{teacher_id}" is not a distillation teacher ({not_offered}; {source}); and {problem}'
                )
            raise CatalogError(problem)
    problem = None
    if found is None:
        # A typo or a missing version suffix ("amazon.nova-pro-v1"), not another model of the same family.
        close = difflib.get_close_matches(teacher_id, list(table.teachers), n=1, cutoff=0.85)
        problem = f'teacher "{teacher_id}" is not a distillation teacher in the catalog' + (
            f" ({not_offered}; {table.not_offered_source})"
            if not_offered
            else f' (did you mean "{close[0]}"?)'
            if close
            else ""
        )
        problem += "; teachers: " + ", ".join(table.teachers)
    elif student_id not in found.students:
        reason = table.not_offered.get(base_model_id(student_id))
        suffixed = [s for s in found.students if base_model_id(s) == student_id]
        problem = f'student "{student_id}" is not offered for teacher "{found.model_id}"' + (
            f" ({reason}; {table.not_offered_source})" if reason else ""
        )
        problem += (
            (f' (did you mean "{suffixed[0]}"?)' if suffixed else "")
            + "; its students are: "
            + ", ".join(found.students)
        )
    elif region not in found.regions:
        problem = (
            f'teacher "{found.model_id}" is not available for distillation in {region}; its Regions are: '
            + ", ".join(found.regions)
        )
    elif found.invocation == "modelOnly" and teacher_ref.is_profile:
        problem = (
            f'teacher "{teacher_ref.identifier}" is an inference profile, but the distillation page offers '
            f'{found.model_id} by its model id only; use "{found.model_id}"'
        )
    warnings = tuple(
        warning
        for role, model_id in (("teacher", teacher_id), ("student", student_id))
        if (warning := lifecycle_warning(role, model_id, found, on))
    )
    if problem is None:
        return PairCheck(found, model_warnings=warnings)
    if not allow_unlisted:
        raise CatalogError(
            f"{problem} (catalog read {table.read.isoformat()}; set allowUnlistedPair to true to use a pair AWS added "
            "since)"
        )
    return PairCheck(found, warning=f"{problem}; allowed by allowUnlistedPair", model_warnings=warnings)


# --- where a teacher runs ------------------------------------------------------------------------------------


def profile_for(model_id: str, region: str) -> str | None:
    """The system inference profile that serves this model when called from ``region``, if the catalog has one."""
    for profile in catalog().profiles.values():
        if profile.model_id == base_model_id(model_id) and region in profile.routes:
            return profile.profile_id
    return None


def teacher_regions(teacher_ref: ModelReference, region: str, listed: tuple[str, ...] = ()) -> tuple[str, ...]:
    """Every Region whose foundation model the service role must be allowed to invoke for this teacher.

    A model id runs in the stage's Region. A cross-Region inference profile routes each request to one of several
    Regions, and the distillation prerequisites page asks for permission "to invoke the inference profile in an
    AWS Region, in addition to the model in each Region in the inference profile". Those Regions come from the
    catalog and from ``listed`` (the stage's teacherRegions, which must cover the catalog's); a profile whose
    Regions neither gives is refused, never narrowed to one Region. Raises ``CatalogError`` with the fix.
    """
    table = catalog()
    if teacher_ref.kind == "applicationProfile":
        raise CatalogError(
            f'teacher "{teacher_ref.given}" is an application inference profile; only system inference profiles are '
            f"supported for model distillation ({table.profiles_source}); name the system profile or the model it "
            "copies"
        )
    if teacher_ref.arn_region and teacher_ref.arn_region != region:
        raise CatalogError(
            f'teacher "{teacher_ref.given}" is an ARN in {teacher_ref.arn_region}, but the stage is in {region}; a '
            f'distillation job calls its teacher from its own Region: use "{teacher_ref.identifier}"'
        )
    found = teacher(teacher_ref.identifier)
    if not teacher_ref.is_profile:
        if found is not None and found.profile_only:
            profile_id = profile_for(found.model_id, region) or f"<geography>.{found.model_id}"
            raise CatalogError(
                f'teacher "{teacher_ref.given}" is offered for distillation only through an inference profile '
                f'({found.source}); use "{profile_id}"'
            )
        if listed:
            raise CatalogError(
                f"teacherRegions applies to a teacher given as a cross-Region inference profile; "
                f'"{teacher_ref.given}" runs in {region} only: remove teacherRegions'
            )
        return (region,)
    profile = table.profiles.get(teacher_ref.identifier)
    known = profile.routes.get(region, ()) if profile else ()
    if not known and not listed:
        raise CatalogError(
            f'teacher "{teacher_ref.identifier}" is a cross-Region inference profile whose Regions the catalog does '
            f"not know when called from {region}; the service role needs the model in every Region it routes to, so "
            "list them in teacherRegions (GetInferenceProfile shows them: `aws bedrock get-inference-profile "
            f"--inference-profile-identifier {teacher_ref.identifier} --region {region}`)"
        )
    missing = [target for target in known if target not in listed]
    if listed and missing:
        raise CatalogError(
            f'teacherRegions leaves out {", ".join(missing)}, where "{teacher_ref.identifier}" routes from {region} '
            f"({profile.source}); list every Region: {', '.join(known)}"
        )
    return tuple(dict.fromkeys((*known, *listed)))


def shareable_regions(student_id: str) -> tuple[str, ...]:
    """Regions where a custom model of this student can be shared through AWS RAM and copied; empty if none."""
    return catalog().shareable.get(base_model_id(student_id), ())


def supports_on_demand(student_id: str, region: str) -> bool:
    """Whether a custom model of this student can be served by an on-demand custom model deployment."""
    table = catalog()
    return base_model_id(student_id) in table.on_demand_models and region in table.on_demand_regions


def model_unit_quotas(student_id: str, commitment: str) -> tuple[str, ...]:
    """The Service Quotas a Provisioned Throughput of a custom model of this student draws model units from.

    Every throughput counts against the per-model quota; one without commitment also against the account's
    no-commitment quota across custom models (the Bedrock pages that prepare custom models for evaluation ask to
    check both).
    """
    rules = catalog().provisioned
    per_model = rules.per_model_quota_prefix + model_name(student_id)
    return (per_model,) if commitment != "none" else (rules.no_commitment_quota, per_model)


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
