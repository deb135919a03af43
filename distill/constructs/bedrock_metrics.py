"""The AWS/Bedrock runtime metrics of a served model, by its ModelId: one home for the dashboard, the idle alarm
and the served models' ``metric_*`` methods.

Bedrock's runtime endpoint publishes Invocations, InvocationLatency (ms), InvocationClientErrors,
InvocationServerErrors, InvocationThrottles, InputTokenCount and OutputTokenCount under the AWS/Bedrock namespace
with a ModelId dimension, and only for periods with invocations (Bedrock user guide, monitoring-runtime-metrics.html,
https://docs.aws.amazon.com/bedrock/latest/userguide/monitoring-runtime-metrics.html, read 2026-12-02).
"""

from __future__ import annotations

from typing import Any

from aws_cdk import Duration
from aws_cdk import aws_cloudwatch as cloudwatch

NAMESPACE = "AWS/Bedrock"
DEFAULT_PERIOD = Duration.minutes(5)


def model_metric(model_id: str, metric_name: str, **props: Any) -> cloudwatch.Metric:
    """``metric_name`` of ``model_id`` (the modelId inference uses: a Provisioned Throughput's or deployment's ARN);
    ``props`` as for ``cloudwatch.Metric`` (statistic, default Sum; period, default 5 minutes)."""
    return cloudwatch.Metric(
        namespace=NAMESPACE,
        metric_name=metric_name,
        dimensions_map={"ModelId": model_id},
        **{"statistic": "Sum", "period": DEFAULT_PERIOD, **props},
    )
