"""Dashboard stack: the stage's one CloudWatch dashboard, a row per model, after every model's serving stack."""

from __future__ import annotations

from collections.abc import Mapping

from aws_cdk import Stack
from constructs import Construct

from distill.constructs.dashboard import DashboardRow, DistillationDashboard
from distill.stacks.serving import ServingStack


class DashboardStack(Stack):
    """Apart from the models' stacks, so that deploying, updating or destroying one model touches no other model's
    stack: the dashboard reads each served model's id from its serving stack."""

    def __init__(
        self, scope: Construct, id: str, *, stage_name: str, models: Mapping[str, ServingStack], **kwargs
    ) -> None:
        super().__init__(scope, id, **kwargs)
        rows = [DashboardRow(name=name, job=serving.job, served=serving.served) for name, serving in models.items()]
        DistillationDashboard(self, "Dashboard", stage_name=stage_name, rows=rows)
        for serving in models.values():
            self.add_stack_dependency(serving)
