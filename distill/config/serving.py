"""A model's serving settings: how the distilled model is served (Provisioned Throughput, on demand or not at all).

The settings are checked against what Bedrock serves, at synth: on-demand deployment for the student and Region, no
new Provisioned Throughput for a Legacy student, the Service Quotas support must raise (for each throughput, and for
all the stage's throughputs together), and a commitment against the stage's budget (each, and all together).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from distill.config import catalog
from distill.config.reader import Reader
from distill.operations import pricing

SERVING_MODES = ("provisioned", "onDemand", "none")
COMMITMENTS = ("none", "OneMonth", "SixMonths")
# The fallback status check runs at most this often; CloudFormation waits for the model for up to 12 hours.
MIN_POLL_MINUTES = 5
DEFAULT_POLL_MINUTES = 10
# Hours without an invocation before the idle alarm of a Provisioned Throughput fires. CloudWatch evaluates an
# hourly alarm over at most 7 days: Period x EvaluationPeriods <= 604,800 s (CloudWatch API reference,
# PutMetricAlarm, https://docs.aws.amazon.com/AmazonCloudWatch/latest/APIReference/API_PutMetricAlarm.html, read
# 2026-12-01).
DEFAULT_IDLE_HOURS = 24
MAX_IDLE_HOURS = 7 * 24


@dataclass(frozen=True)
class ServingConfig:
    """How the distilled model is served once the job has produced it."""

    mode: str = "provisioned"
    # Provisioned Throughput only: None for on-demand serving or none, which have no model units.
    model_units: int | None = 1
    commitment: str = "none"
    poll_minutes: int = DEFAULT_POLL_MINUTES
    # After serving, send a few prompts through Converse; an error fails the deploy.
    smoke_test: bool = True
    # A Provisioned Throughput without invocations for this many hours raises the stage's idle alarm.
    idle_hours: int = DEFAULT_IDLE_HOURS
    # Provisioned Throughput only: the Service Quotas its model units are drawn from, each of which AWS support
    # must have raised to at least ``model_units`` before the purchase.
    model_unit_quotas: tuple[str, ...] = ()

    def model_unit_request(self) -> str:
        """What to ask AWS support for before this throughput can be bought (the purchase page's rule)."""
        rules = catalog.catalog().provisioned
        term = "" if self.commitment == "none" else f" with a {self.commitment} commitment"
        return (
            f"a Provisioned Throughput of {self.model_units} model unit{'s' * (self.model_units != 1)}{term} needs "
            "AWS support to raise "
            + " and ".join(f'"{quota}"' for quota in self.model_unit_quotas)
            + f" to at least {self.model_units} (an account has {rules.units_without_request} before asking; "
            f"{rules.source}; quotas: {rules.quota_page})"
        )


@dataclass(frozen=True)
class ModelUnitNeed:
    """The model units the stage's Provisioned Throughputs draw from one Service Quota together: ``units`` in all,
    ``by_model`` each model's share (model name -> model units), in cdk.json's order."""

    quota: str
    units: int
    by_model: Mapping[str, int]

    def request(self) -> str:
        """What to ask AWS support for before all these throughputs can be bought (the purchase page's rule: the
        model units requested are distributed between the account's Provisioned Throughputs)."""
        rules = catalog.catalog().provisioned
        shares = ", ".join(f"{name} {units}" for name, units in self.by_model.items())
        return (
            f"the stage's Provisioned Throughputs draw {self.units} model unit{'s' * (self.units != 1)} from "
            f'"{self.quota}" together ({shares}); AWS support must raise it to at least {self.units} (an account has '
            f"{rules.units_without_request} before asking; {rules.source}; quotas: {rules.quota_page})"
        )


def model_unit_needs(servings: Mapping[str, ServingConfig]) -> tuple[ModelUnitNeed, ...]:
    """Per Service Quota, the model units all the given throughputs (model name -> serving) draw from it together.

    Each Provisioned Throughput draws its model units from every quota of ``model_unit_quotas``: the account's
    no-commitment quota across custom models (no-commitment throughputs only) and the per-model quota of its base
    model. Model units are requested for the account "to be distributed between the Provisioned Throughputs"
    (Bedrock user guide, prov-thru-purchase.html, read 2026-12-01), so throughputs that draw from one quota are
    summed; AWS does not say whether the per-model quota counts each throughput alone, and the sum is the reading
    under which a check that passes cannot fail a purchase. Serving that is not provisioned needs none.
    """
    shares: dict[str, dict[str, int]] = {}
    for name, serving in servings.items():
        if serving.mode != "provisioned" or serving.model_units is None:
            continue
        for quota in serving.model_unit_quotas:
            shares.setdefault(quota, {})[name] = serving.model_units
    return tuple(
        ModelUnitNeed(quota=quota, units=sum(by_model.values()), by_model=by_model)
        for quota, by_model in shares.items()
    )


def parse_serving(reader: Reader, *, student: str, region: str | None) -> ServingConfig:
    """The serving settings; with ``region`` None (the stage's Region is wrong or missing, and reported), the checks
    that depend on the Region wait for it, rather than advise on a guess."""
    mode = reader.choice("mode", "provisioned", SERVING_MODES)
    commitment = reader.choice("commitment", "none", COMMITMENTS)
    acknowledged = reader.boolean("acknowledgeCommitment", False)
    if commitment != "none" and not acknowledged:
        reader.problem(
            f'{reader.where("commitment")} is "{commitment}": a commitment is billed for its whole term and '
            f"cannot be cancelled, and the Provisioned Throughput is then retained when the stack is deleted; set "
            f"{reader.where('acknowledgeCommitment')} to true to confirm"
        )
    if mode == "onDemand" and student and region and not catalog.supports_on_demand(student, region):
        reader.problem(
            f'{reader.where("mode")} is "onDemand", but on-demand custom model deployment is not offered for '
            f'"{student}" in {region}; it is offered for '
            + ", ".join(catalog.catalog().on_demand_models)
            + " in "
            + ", ".join(catalog.catalog().on_demand_regions)
            + f' ({catalog.catalog().on_demand_source}); use "provisioned"'
        )
    if mode != "provisioned":
        for key in ("commitment", "modelUnits"):
            if reader.has(key):
                reader.problem(f'{reader.where(key)} applies to Provisioned Throughput only, not to "{mode}"')
    units = reader.integer("modelUnits", 1, minimum=1, maximum=1000) or 1
    quotas: tuple[str, ...] = ()
    if mode == "provisioned" and student:
        quotas = catalog.model_unit_quotas(student, commitment)
        found = catalog.lifecycle(student)
        if found is not None and found.status == catalog.LIFECYCLE_LEGACY:
            reader.problem(
                f'{reader.where("mode")} is "provisioned", but "{student}" is Legacy and Bedrock creates no new '
                f"Provisioned Throughput for a Legacy model ({found.source}); "
                + (
                    'use "onDemand"'
                    if region and catalog.supports_on_demand(student, region)
                    else "choose an ACTIVE student, or serve the model elsewhere"
                )
            )
    parsed = ServingConfig(
        mode=mode,
        model_units=units if mode == "provisioned" else None,
        commitment=commitment,
        poll_minutes=reader.integer("pollMinutes", DEFAULT_POLL_MINUTES, minimum=MIN_POLL_MINUTES, maximum=60)
        or DEFAULT_POLL_MINUTES,
        smoke_test=reader.boolean("smokeTest", True),
        idle_hours=reader.integer("idleHours", DEFAULT_IDLE_HOURS, minimum=1, maximum=MAX_IDLE_HOURS)
        or DEFAULT_IDLE_HOURS,
        model_unit_quotas=quotas,
    )
    reader.reject_unknown()
    return parsed


def check_commitment_budget(
    reader: Reader,
    serving: ServingConfig,
    *,
    student: str,
    region: str | None,
    monthly_usd: float,
    budget_key: str,
) -> None:
    """Refuse a commitment whose full term costs more than the stage's budget (``budget_key``, ``monthly_usd``)
    allows over the term, unless ``acknowledgeCommitment`` is set; the message shows the term's cost. A term whose
    price is not in the table cannot be compared and passes this check (the acknowledgment is still required for any
    commitment), and so does a stage whose Region is unknown (``region`` None), until the Region is fixed."""
    if reader.raw("acknowledgeCommitment") is True:
        return
    term = _term_cost(serving, student=student, region=region)
    if term is None:
        return
    cost, hourly = term
    months = pricing.TERM_MONTHS[serving.commitment]
    if cost <= monthly_usd * months:
        return
    units = serving.model_units
    reader.problem(
        f'{reader.where("commitment")} is "{serving.commitment}": its term costs ${cost:,.2f} ({units} model '
        f"unit{'s' if units > 1 else ''} x ${hourly.usd:,.2f} per model unit-hour x "
        f"{pricing.TERM_HOURS[serving.commitment]:,} hours, price of {hourly.date}), more than the "
        f"${monthly_usd * months:,.2f} that {budget_key} (${monthly_usd:,.2f}) allows over {months} month"
        f"{'s' if months > 1 else ''}; set {reader.where('acknowledgeCommitment')} to true to accept the cost, or "
        f"raise {budget_key}"
    )


@dataclass(frozen=True)
class CommittedServing:
    """What the stage's commitment check reads of one model: its serving, student, and whether it acknowledges."""

    serving: ServingConfig
    student: str
    acknowledged: bool


def check_stage_commitments(
    where: str,
    models: Mapping[str, CommittedServing],
    *,
    region: str | None,
    monthly_usd: float,
    budget_key: str,
    problems: list[str],
) -> None:
    """The rule of ``check_commitment_budget`` for all the stage's committed terms together (model name at
    ``where``.<name> -> its serving): refused when their terms cost more than the budget allows over the longest
    term and a model that commits does not acknowledge it. Terms without a price, and a stage whose Region is
    unknown, pass, as for one term; one committed model is ``check_commitment_budget``'s alone."""
    terms = {
        name: (term, model)
        for name, model in models.items()
        if (term := _term_cost(model.serving, student=model.student, region=region)) is not None
    }
    if len(terms) < 2 or all(model.acknowledged for _, model in terms.values()):
        return
    total = sum(cost for (cost, _), _ in terms.values())
    months = max(pricing.TERM_MONTHS[model.serving.commitment] for _, model in terms.values())
    if total <= monthly_usd * months:
        return
    each = ", ".join(f"{name} ${cost:,.2f} ({model.serving.commitment})" for name, ((cost, _), model) in terms.items())
    unacknowledged = [name for name, (_, model) in terms.items() if not model.acknowledged]
    problems.append(
        f"{where}: the committed Provisioned Throughputs' terms cost ${total:,.2f} together ({each}), more than the "
        f"${monthly_usd * months:,.2f} that {budget_key} (${monthly_usd:,.2f}) allows over {months} month"
        f"{'s' if months > 1 else ''}; set acknowledgeCommitment to true in "
        + ", ".join(f"{where}.{name}.serving" for name in unacknowledged)
        + f" to accept the cost, or raise {budget_key}"
    )


def _term_cost(serving: ServingConfig, *, student: str, region: str | None) -> tuple[float, pricing.Price] | None:
    """A committed throughput's whole term in USD and its hourly price; None without a commitment, a Region or a
    price in the table."""
    if serving.mode != "provisioned" or serving.commitment == "none" or region is None:
        return None
    hourly = pricing.packaged().throughput(region, student, serving.commitment)
    cost = pricing.term_cost(hourly, serving.model_units, serving.commitment)
    return None if cost is None else (cost, hourly)
