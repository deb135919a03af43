"""The --model option of the commands that read a stage: which of the stage's models a command works on."""

from __future__ import annotations

import argparse
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from distill.config.stages import ModelConfig, StageConfig


class ModelChoiceError(Exception):
    """A --model that names no model of the stage, or none where the command needs one; exits 2."""

    exit_code = 2


def add_model_option(parser: argparse.ArgumentParser, *, without: str) -> None:
    """``--model NAME``; ``without`` says what the command does on a stage of several models when none is named."""
    parser.add_argument(
        "--model",
        metavar="NAME",
        help="the stage's model (context.stages.<stage>.models.<name>); a stage with one model needs none; "
        f"without it on a stage of several: {without}",
    )


def chosen_model(stage: StageConfig, name: str | None) -> ModelConfig:
    """The model ``name`` of the stage, or its only model when ``name`` is None; raises ``ModelChoiceError``, whose
    message lists the stage's models."""
    if name is not None:
        return _named(stage, name)
    if not stage.models:
        raise ModelChoiceError(_no_models(stage))
    if len(stage.models) > 1:
        raise ModelChoiceError(
            f"stage {stage.name} has {len(stage.models)} models; name one with --model: {_listed(stage)}"
        )
    return next(iter(stage.models.values()))


def chosen_models(stage: StageConfig, name: str | None) -> tuple[ModelConfig, ...]:
    """The model ``name`` of the stage alone, or every model of the stage (in cdk.json's order, none for a
    foundation-only stage) when ``name`` is None; raises ``ModelChoiceError``."""
    return tuple(stage.models.values()) if name is None else (_named(stage, name),)


def chosen_distilled_model(stage: StageConfig, name: str | None) -> ModelConfig:
    """As ``chosen_model``, for a command that needs the model's own customization job (its teacher, its job)."""
    model = chosen_model(stage, name)
    if model.distillation is None:
        raise ModelChoiceError(copied_model_note(stage, model))
    return model


def copied_model_note(stage: StageConfig, model: ModelConfig) -> str:
    """What to say of a model the stage copies rather than distils: it has no job here, and where its job is."""
    source = model.model_source
    assert source is not None  # a model holds a distillation or a modelSource
    return (
        f"model {model.name} of stage {stage.name} is a copy of model {source.model} of stage "
        f"{source.copy_from_stage} (modelSource) and runs no customization job in this stage; its job is that "
        f"stage's: --stage {source.copy_from_stage} --model {source.model}"
    )


def _named(stage: StageConfig, name: str) -> ModelConfig:
    if name in stage.models:
        return stage.models[name]
    if not stage.models:
        raise ModelChoiceError(_no_models(stage))
    raise ModelChoiceError(f'stage {stage.name} has no model "{name}"; its models: {_listed(stage)}')


def _no_models(stage: StageConfig) -> str:
    return (
        f"stage {stage.name} has no models (context.stages.{stage.name}.models): it deploys its foundation only, so "
        "it has no job or served model"
    )


def _listed(stage: StageConfig) -> str:
    return ", ".join(stage.models)
