"""Promotion across accounts: a model that copies another stage's distilled model, and the optional pipeline.

By default every stage runs the reviewed distillation of each model itself, on the same data. Where Bedrock can share
a model family (the catalog says which), a model of a stage may instead take the exact model another stage produced
and evaluated: the source stage shares it through AWS RAM, and this stage copies it (CreateModelCopyJob) into its own
account.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from distill.config import catalog
from distill.config.reader import Reader, show

ACCOUNT_PATTERN = r"\d{12}"
CONNECTION_ARN_PATTERN = (
    r"arn:aws(-[a-z-]+)?:(codestar-connections|codeconnections):[a-z0-9-]+:\d{12}:connection/[0-9a-f-]{36}"
)


@dataclass(frozen=True)
class PromotionStage:
    """What the cross-stage checks read of each stage: where it deploys, whether it is a production stage, and the
    models it distils, each with the accounts it shares the distilled model with (AWS RAM), in cdk.json's order."""

    account: str | None
    region: str
    production: bool = False
    distilled: Mapping[str, tuple[str, ...]] = field(default_factory=dict)


@dataclass(frozen=True)
class ModelSource:
    """This model serves a copy of the model ``model`` that stage ``copy_from_stage`` distilled and shares with this
    stage's account; ``base_model`` is the student it was distilled into (read from ``model_arn``)."""

    copy_from_stage: str
    model: str
    model_arn: str
    base_model: str


def parse_share_with(reader: Reader) -> tuple[str, ...]:
    accounts = reader.raw("shareWith", [])
    if not isinstance(accounts, list) or not all(isinstance(a, str) and len(a) == 12 and a.isdigit() for a in accounts):
        reader.problem(f"{reader.where('shareWith')} is {show(accounts)}; it must be a list of 12-digit account ids")
        return ()
    return tuple(accounts)


def parse_model_source(reader: Reader) -> ModelSource | None:
    stage = reader.string("copyFromStage", required=True, allowed="the name of the stage whose model is copied")
    model = reader.string(
        "model", required=True, allowed="the name of the copied model in that stage (its context.stages.<stage>.models)"
    )
    arn = reader.string("modelArn", required=True, allowed="the ARN of that stage's custom model")
    reader.reject_unknown()
    if stage is None or model is None or arn is None:
        return None
    parsed = catalog.parse_custom_model_arn(arn)
    if parsed is None:
        reader.problem(
            f"{reader.where('modelArn')} is {show(arn)}; it must be a custom model ARN like "
            "arn:aws:bedrock:us-west-2:111122223333:custom-model/<base model id>/<12-character id>"
        )
        return None
    return ModelSource(copy_from_stage=stage, model=model, model_arn=arn, base_model=parsed.base_model)


def check_model_source(
    name: str, model: str, source: ModelSource, stages: Mapping[str, PromotionStage], problems: list[str]
) -> None:
    """Cross-stage checks of model ``model`` of stage ``name``, which copies ``source``: the source stage exists and
    distils the named model, shares it with this stage's account, in a family and Regions Bedrock can share.
    ``stages`` holds every stage, this one too; each problem found is appended to ``problems``."""
    stage = stages[name]
    where = f"context.stages.{name}.models.{model}.modelSource"
    origin = stages.get(source.copy_from_stage)
    if origin is None or not origin.distilled:
        problems.append(
            f'{where}.copyFromStage is "{source.copy_from_stage}"; it must name a stage that runs a distillation: '
            + (", ".join(n for n, s in stages.items() if s.distilled) or "none does")
        )
        return
    if source.model not in origin.distilled:
        problems.append(
            f'{where}.model is "{source.model}"; stage "{source.copy_from_stage}" distils no model of that name; its '
            "distilled models: " + ", ".join(origin.distilled)
        )
        return
    regions = catalog.shareable_regions(source.base_model)
    if not regions:
        shareable = ", ".join(catalog.catalog().shareable) or "none"
        problems.append(
            f"{where}.modelArn is a custom model of {source.base_model}, which Bedrock cannot share across "
            f"accounts; models that can be shared: {shareable}. Run the distillation in this stage instead "
            f"(give context.stages.{name}.models.{model} a distillation section)"
        )
        return
    arn = catalog.parse_custom_model_arn(source.model_arn)
    # parse_model_source refused any modelArn that is no custom model ARN.
    assert arn is not None
    if origin.account is None or arn.account != origin.account or arn.region != origin.region:
        problems.append(
            f"{where}.modelArn belongs to account {arn.account} in {arn.region}; stage "
            f'"{source.copy_from_stage}" is account {origin.account or "(not set)"} in {origin.region}'
        )
    if stage.account is None or stage.account not in origin.distilled[source.model]:
        problems.append(
            f'{where}: stage "{source.copy_from_stage}" does not share its model "{source.model}" with this stage\'s '
            f"account {stage.account or '(not set)'}; add it to "
            f"context.stages.{source.copy_from_stage}.models.{source.model}.distillation.shareWith"
        )
    for region in {origin.region, stage.region} - set(regions):
        problems.append(
            f"{where}: {source.base_model} models cannot be shared or copied in {region}; Regions: "
            + ", ".join(regions)
        )


@dataclass(frozen=True)
class PipelineConfig:
    """A CDK Pipeline that deploys the listed stages in order from a CodeStar/CodeConnections source."""

    account: str
    region: str
    connection_arn: str
    repository: str
    branch: str
    stages: tuple[str, ...]
    approval_before: tuple[str, ...]


def parse_pipeline(raw: object, stages: Mapping[str, PromotionStage], problems: list[str]) -> PipelineConfig | None:
    """The ``context.pipeline`` value ``raw``, or None when the pipeline is off; each problem found is appended to
    ``problems``."""
    reader = Reader(raw, "context.pipeline", problems)
    if not reader.boolean("enabled", False):
        reader.allow("account", "region", "connectionArn", "repository", "branch", "stages", "approvalBefore")
        reader.reject_unknown()
        return None
    names = reader.raw("stages", [])
    if not isinstance(names, list) or not names or any(n not in stages for n in names):
        reader.problem(
            f"context.pipeline.stages is {show(names)}; it must list, in deployment order, stages from: "
            + ", ".join(stages)
        )
        names = []
    for name in names:
        if stages[name].account is None:
            reader.problem(
                f'context.pipeline.stages: stage "{name}" has no account; a pipeline deploys to named accounts'
            )
    approval = reader.raw("approvalBefore", [n for n in names if stages[n].production])
    if not isinstance(approval, list) or any(n not in names for n in approval):
        reader.problem(
            f"context.pipeline.approvalBefore is {show(approval)}; it must list stages of context.pipeline.stages"
        )
        approval = []
    for name in names:
        if stages[name].production and name not in approval:
            reader.problem(f'context.pipeline.approvalBefore must include the production stage "{name}"')
    parsed = PipelineConfig(
        account=reader.string(
            "account", required=True, pattern=ACCOUNT_PATTERN, allowed="the 12-digit account of the pipeline"
        )
        or "",
        region=reader.string("region", required=True, allowed="the Region of the pipeline") or "",
        connection_arn=reader.string(
            "connectionArn",
            required=True,
            pattern=CONNECTION_ARN_PATTERN,
            allowed="a CodeStar/CodeConnections connection ARN",
        )
        or "",
        repository=reader.string("repository", required=True, pattern=r"[\w.-]+/[\w.-]+", allowed="owner/name") or "",
        branch=reader.string("branch", "main") or "main",
        stages=tuple(names),
        approval_before=tuple(approval),
    )
    reader.reject_unknown()
    return parsed
