"""The CDK construct library for Amazon Bedrock Model Distillation: one concern per construct; the app's stacks
compose them, and any CDK app can.

    from distill.constructs import DistillationJob, ProvisionedThroughput, InvocationLogging

The names load on first use (PEP 562), so that importing a CDK-free module of the package, such as
``distill.constructs.names``, does not load the CDK.
"""

from __future__ import annotations

import importlib
from typing import Any

# Each public construct and type, by the module that holds it.
_PUBLIC = {
    "DataKey": "data_key",
    "DistillationStorage": "storage",
    "ServiceRole": "service_role",
    "InvocationLogging": "invocation_logging",
    "TrainingData": "training_data",
    "TrainingDataSource": "training_data",
    "DistillationJob": "distillation_job",
    "Teacher": "distillation_job",
    "JobVpc": "distillation_job",
    "DistilledModelWait": "model_wait",
    "DistilledModel": "model_wait",
    "ProvisionedThroughput": "model_serving",
    "OnDemandDeployment": "model_serving",
    "Commitment": "model_serving",
    "ModelCopy": "model_copy",
    "SmokeTest": "smoke_test",
    "DistillationDashboard": "dashboard",
    "StageNotifications": "notifications",
    "ThroughputIdleAlarm": "idle_alarm",
    "StageBudget": "budget",
    "TrainingMetricsPublisher": "training_metrics_publisher",
}

__all__ = sorted(_PUBLIC)


def __getattr__(name: str) -> Any:
    if name not in _PUBLIC:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(importlib.import_module(f"{__name__}.{_PUBLIC[name]}"), name)


def __dir__() -> list[str]:
    return __all__
