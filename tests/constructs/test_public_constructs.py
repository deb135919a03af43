"""The library's public surface: every public construct has a bare-stack test in this folder, no construct module
reaches into the app (its configuration, stacks, operations or commands), and the bare-stack check does find what
the packs object to."""

from __future__ import annotations

import ast
import inspect
from pathlib import Path

import pytest
from aws_cdk import aws_s3 as s3
from constructs import Construct

import distill.constructs as library
from distill.constructs import _PUBLIC
from tests.conftest import ROOT

TESTS = Path(__file__).resolve().parent
CONSTRUCTS = ROOT / "distill" / "constructs"
# The app's own layers, which a construct library used by other apps may not depend on.
APP_PACKAGES = ("distill.config", "distill.stacks", "distill.operations", "distill.commands")


def public_constructs() -> dict[str, str]:
    """Each public construct's name in ``distill.constructs.__all__``, and the module that holds it."""
    return {
        name: _PUBLIC[name]
        for name in library.__all__
        if inspect.isclass(getattr(library, name)) and issubclass(getattr(library, name), Construct)
    }


def called_names(path: Path) -> set[str]:
    """The names a module calls, as ``Name(...)`` or ``module.Name(...)``."""
    calls = [node.func for node in ast.walk(ast.parse(path.read_text())) if isinstance(node, ast.Call)]
    return {f.id for f in calls if isinstance(f, ast.Name)} | {f.attr for f in calls if isinstance(f, ast.Attribute)}


def imported_modules(source: str, module: str) -> set[str]:
    """Every module ``source`` (the text of ``module``, a dotted name) imports, at any depth (function-level imports
    too), relative imports made absolute."""
    package = module.rsplit(".", 1)[0]
    found: set[str] = set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                parent = package.rsplit(".", node.level - 1)[0] if node.level > 1 else package
                base = f"{parent}.{base}" if base else parent
            found.add(base)
            found.update(f"{base}.{alias.name}" for alias in node.names)
    return found


def app_imports(source: str, module: str) -> list[str]:
    return sorted(
        name
        for name in imported_modules(source, module)
        if any(name == package or name.startswith(f"{package}.") for package in APP_PACKAGES)
    )


def test_the_library_names_its_constructs_and_types():
    assert set(library.__all__) == set(_PUBLIC)
    assert {"DistillationJob", "ProvisionedThroughput", "InvocationLogging"} <= set(public_constructs())
    # The types (a teacher, a data source, a VPC, a commitment) are not constructs and are built in their
    # constructs' tests.
    assert set(library.__all__) - set(public_constructs()) == {"Commitment", "JobVpc", "Teacher", "TrainingDataSource"}


@pytest.mark.parametrize("name", sorted(public_constructs()))
def test_every_public_construct_is_built_in_the_bare_stack_test_of_its_module(name):
    module = public_constructs()[name]
    test = TESTS / f"test_{module}.py"
    assert test.exists(), (
        f"{name} (distill/constructs/{module}.py) has no bare-stack test: add {test.relative_to(ROOT)}"
    )
    assert name in called_names(test), f"{test.relative_to(ROOT)} never builds {name}"
    assert "test_cdk_nag_reports_nothing" in test.read_text()


@pytest.mark.parametrize("path", sorted(CONSTRUCTS.glob("*.py")), ids=lambda path: path.name)
def test_no_construct_module_imports_the_apps_configuration_stacks_operations_or_commands(path):
    module = f"distill.constructs.{path.stem}" if path.stem != "__init__" else "distill.constructs.__init__"
    assert app_imports(path.read_text(), module) == []


@pytest.mark.parametrize(
    "source",
    [
        "from distill.config.stages import StageConfig\n",
        "import distill.stacks.foundation\n",
        "def price():\n    from distill.operations import pricing\n    return pricing\n",
        "from ..commands import status\n",
        "from .. import config\n",
    ],
)
def test_the_import_check_finds_an_app_import_at_any_depth_and_relative(source):
    assert app_imports(source, "distill.constructs.example") != []


def test_a_library_import_passes_the_import_check():
    source = "from distill.constructs.names import STAGE_TAG\nfrom . import nag\nimport aws_cdk\n"
    assert app_imports(source, "distill.constructs.example") == []


def test_the_bare_stack_check_reports_each_packs_findings(synth):
    # A bucket with neither versioning, access logs nor TLS enforcement: every pack objects to it.
    unchecked = synth(lambda stack: s3.Bucket(stack, "Unchecked"))
    assert "AwsSolutions-S1 Bare/Unchecked/Resource" in unchecked.findings
    assert "HIPAA.Security-S3BucketLoggingEnabled Bare/Unchecked/Resource" in unchecked.findings
    assert "NIST.800.53.R5-S3BucketVersioningEnabled Bare/Unchecked/Resource" in unchecked.findings
