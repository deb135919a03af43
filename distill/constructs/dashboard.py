"""A CloudWatch dashboard per stage: the loss curve, the job's state changes, and the served model's traffic."""

from __future__ import annotations

from aws_cdk import Duration
from aws_cdk import aws_cloudwatch as cloudwatch
from constructs import Construct

from distill.constructs.model_serving import ServedModel
from distill.constructs.names import METRICS_NAMESPACE

PERIOD = Duration.minutes(5)


def _search(stage_name: str, metric: str, dimensions: str, label: str) -> cloudwatch.MathExpression:
    """Every series of ``metric`` for this stage, whatever the job: job names are only known at deploy time."""
    return cloudwatch.MathExpression(
        expression=(
            f'SEARCH(\'{{{METRICS_NAMESPACE},{dimensions}}} MetricName="{metric}" Stage="{stage_name}"\', '
            f"'Average', {int(PERIOD.to_seconds())})"
        ),
        label=label,
        period=PERIOD,
    )


class DistillationDashboard(Construct):
    """``<stage>-distillation``: training loss and final loss per job, job state changes by state, and, when a
    model is served, its invocations, latency and errors from the AWS/Bedrock namespace."""

    def __init__(self, scope: Construct, id: str, *, stage_name: str, served: ServedModel | None = None) -> None:
        super().__init__(scope, id)
        self.dashboard = cloudwatch.Dashboard(self, "Dashboard", dashboard_name=f"{stage_name}-distillation")
        self.dashboard.add_widgets(
            cloudwatch.GraphWidget(
                title="Training loss by job (steps spread over the training time)",
                left=[_search(stage_name, "TrainingLoss", "JobName,Stage", "")],
                left_y_axis=cloudwatch.YAxisProps(label="training loss", show_units=False),
                width=12,
            ),
            cloudwatch.SingleValueWidget(
                title="Final training loss",
                metrics=[_search(stage_name, "FinalTrainingLoss", "JobName,Stage", "")],
                width=6,
            ),
            cloudwatch.GraphWidget(
                title="Job state changes",
                left=[_search(stage_name, "JobStateChanges", "Stage,State", "")],
                stacked=True,
                width=6,
            ),
        )
        if served is not None:
            self._serving_widgets(served)

    def _serving_widgets(self, served: ServedModel) -> None:
        self.dashboard.add_widgets(
            cloudwatch.GraphWidget(title="Invocations", left=[served.metric_invocations(period=PERIOD)], width=8),
            cloudwatch.GraphWidget(
                title="Invocation latency (ms)",
                left=[
                    served.metric_invocation_latency(period=PERIOD),
                    served.metric_invocation_latency(period=PERIOD, statistic="p90"),
                ],
                width=8,
            ),
            cloudwatch.GraphWidget(
                title="Errors and throttles",
                left=[
                    served.metric_client_errors(period=PERIOD),
                    served.metric_server_errors(period=PERIOD),
                    served.metric_throttles(period=PERIOD),
                ],
                width=8,
            ),
        )
