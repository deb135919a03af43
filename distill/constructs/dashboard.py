"""A CloudWatch dashboard per stage: the stage's job state changes, then a row per model (its job's training loss,
its served model's traffic)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from aws_cdk import Duration
from aws_cdk import aws_cloudwatch as cloudwatch
from constructs import Construct

from distill.constructs.distillation_job import DistillationJob
from distill.constructs.model_serving import ServedModel
from distill.constructs.names import METRICS_NAMESPACE

PERIOD = Duration.minutes(5)


@dataclass(frozen=True)
class DashboardRow:
    """One model of the stage: its ``job`` (None for a copied model) and what serves it (None when nothing does)."""

    name: str
    job: DistillationJob | None = None
    served: ServedModel | None = None


class DistillationDashboard(Construct):
    """``<stage>-distillation``: the stage's job state changes by state, then for each row its job's training loss
    by step and final loss (published by ``TrainingMetricsPublisher``) and its served model's invocations, latency
    and errors from the AWS/Bedrock namespace. The job's metrics name it exactly (JobName is known at synth), so a
    row follows the model's current job."""

    def __init__(self, scope: Construct, id: str, *, stage_name: str, rows: Sequence[DashboardRow] = ()) -> None:
        super().__init__(scope, id)
        self.dashboard = cloudwatch.Dashboard(self, "Dashboard", dashboard_name=f"{stage_name}-distillation")
        self.dashboard.add_widgets(
            cloudwatch.GraphWidget(
                title="Job state changes",
                left=[
                    cloudwatch.MathExpression(
                        expression=(
                            f'SEARCH(\'{{{METRICS_NAMESPACE},Stage,State}} MetricName="JobStateChanges" '
                            f"Stage=\"{stage_name}\"', 'Sum', {int(PERIOD.to_seconds())})"
                        ),
                        label="",
                        period=PERIOD,
                    )
                ],
                stacked=True,
                width=24,
            )
        )
        for row in rows:
            self._row(row)

    def _row(self, row: DashboardRow) -> None:
        widgets: list[cloudwatch.IWidget] = [cloudwatch.TextWidget(markdown=f"## {row.name}", width=24, height=1)]
        if row.job is not None:
            widgets += [
                cloudwatch.GraphWidget(
                    title=f"{row.name}: training loss (steps spread over the training time)",
                    left=[row.job.metric_training_loss(period=PERIOD)],
                    left_y_axis=cloudwatch.YAxisProps(label="training loss", show_units=False),
                    width=8,
                ),
                cloudwatch.SingleValueWidget(
                    title=f"{row.name}: final training loss",
                    metrics=[row.job.metric_final_training_loss(period=PERIOD)],
                    width=4,
                ),
            ]
        if row.served is not None:
            served = row.served
            widgets += [
                cloudwatch.GraphWidget(
                    title=f"{row.name}: invocations", left=[served.metric_invocations(period=PERIOD)], width=4
                ),
                cloudwatch.GraphWidget(
                    title=f"{row.name}: invocation latency (ms)",
                    left=[
                        served.metric_invocation_latency(period=PERIOD),
                        served.metric_invocation_latency(period=PERIOD, statistic="p90"),
                    ],
                    width=4,
                ),
                cloudwatch.GraphWidget(
                    title=f"{row.name}: errors and throttles",
                    left=[
                        served.metric_client_errors(period=PERIOD),
                        served.metric_server_errors(period=PERIOD),
                        served.metric_throttles(period=PERIOD),
                    ],
                    width=4,
                ),
            ]
        self.dashboard.add_widgets(*widgets)
