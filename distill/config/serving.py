"""A stage's serving settings: how the distilled model is served (Provisioned Throughput, on demand or not at all).

The settings are checked against what Bedrock serves, at synth: on-demand deployment for the student and Region, no
new Provisioned Throughput for a Legacy student, the Service Quotas support must raise, and a commitment against
the stage's budget.
"""

from __future__ import annotations

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
    reader: Reader, serving: ServingConfig, *, student: str, region: str | None, monthly_usd: float
) -> None:
    """Refuse a commitment whose full term costs more than the stage's budget allows over the term, unless
    ``acknowledgeCommitment`` is set; the message shows the term's cost. A term whose price is not in the table
    cannot be compared and passes this check (the acknowledgment is still required for any commitment), and so does
    a stage whose Region is unknown (``region`` None), until the Region is fixed."""
    if serving.mode != "provisioned" or serving.commitment == "none" or reader.raw("acknowledgeCommitment") is True:
        return
    if region is None:
        return
    hourly = pricing.packaged().throughput(region, student, serving.commitment)
    cost = pricing.term_cost(hourly, serving.model_units, serving.commitment)
    months = pricing.TERM_MONTHS[serving.commitment]
    if cost is None or cost <= monthly_usd * months:
        return
    units = serving.model_units
    budget_key = reader.path.rsplit(".", 1)[0] + ".budget.monthlyUsd"
    reader.problem(
        f'{reader.where("commitment")} is "{serving.commitment}": its term costs ${cost:,.2f} ({units} model '
        f"unit{'s' if units > 1 else ''} x ${hourly.usd:,.2f} per model unit-hour x "
        f"{pricing.TERM_HOURS[serving.commitment]:,} hours, price of {hourly.date}), more than the "
        f"${monthly_usd * months:,.2f} that {budget_key} (${monthly_usd:,.2f}) allows over {months} month"
        f"{'s' if months > 1 else ''}; set {reader.where('acknowledgeCommitment')} to true to accept the cost, or "
        f"raise {budget_key}"
    )
