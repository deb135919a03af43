"""The text of a stage's idle-throughput alarm: how long it has been idle, what it costs, how to stop it."""

from __future__ import annotations

from distill.constructs.names import model_prefix, model_stack_name
from distill.operations import pricing


def idle_alarm_name(prefix: str) -> str:
    """``prefix`` is the model's (``model_prefix``)."""
    return f"{prefix}-throughput-idle"


def idle_message(
    *, stage_name: str, model: str, idle_hours: int, model_units: int, hourly: pricing.Price, commitment: str
) -> str:
    """The notification text: which model's throughput, how long it has been idle, what it costs per day, and how
    to stop it."""
    if hourly.usd is None:
        cost = (
            f"an unknown amount per day ({model_units} model unit(s); distill/data/pricing.json has no "
            f"{hourly.item} price: run `distill cost --stage {stage_name} --model {model} --refresh-prices`)"
        )
    else:
        cost = (
            f"${hourly.usd * model_units * 24:,.2f} per day ({model_units} model unit(s) x ${hourly.usd:,.2f} per "
            f"model unit-hour, {'no' if commitment == 'none' else commitment} commitment, price of {hourly.date})"
        )
    serving = model_stack_name(stage_name, model, "serving")
    if commitment == "none":
        stop = (
            f"To stop the billing, destroy the serving stack: `aws cloudformation delete-stack --stack-name {serving}` "
            f"(or `.venv/bin/npx cdk destroy '{stage_name}/{model}-serving'` from a checkout); the custom model is "
            "kept."
        )
    else:
        stop = (
            f"The {commitment} term bills until it ends whatever is done; once it has ended, destroy the serving "
            f"stack (`aws cloudformation delete-stack --stack-name {serving}`) and delete the retained throughput."
        )
    return (
        f"Bedrock distillation ({model_prefix(stage_name, model)}): the Provisioned Throughput has served no "
        f"invocation for {idle_hours} hours while it bills {cost}. {stop}"
    )
