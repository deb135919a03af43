"""The package as a wheel: built from a copy of its sources and installed alone, it carries the handler code and
the declared dependencies, and an app outside the repository synthesizes the library's constructs from it."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tomllib
import zipfile
from email.message import Message
from email.parser import HeaderParser
from pathlib import Path

import pytest
from packaging.requirements import Requirement

from tests.conftest import ROOT

PYPROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text())
VENV_BIN = Path(sys.executable).parent
# What a wheel is built from: the pyproject.toml and the folders its packages come from.
SOURCES = ("pyproject.toml", "distill", "lambda")
# The handler folders of lambda/ that the app below uses: the job's, the logging's, the throughput's and its wait's,
# and the code they share (a layer).
HANDLERS_USED = {"distillation_job", "invocation_logging", "provisioned_throughput", "served_model_wait", "shared"}

APP = """
import json
import sys

from aws_cdk import App, Environment, Stack, Validations
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_s3 as s3
from cdk_nag import AwsSolutionsChecks

import distill
from distill.constructs import DistillationJob, InvocationLogging, ProvisionedThroughput, Teacher, TrainingDataSource

app = App(outdir=sys.argv[1])
stack = Stack(app, "Bare", env=Environment(account="111111111111", region="us-east-1"))
key = kms.Key.from_key_arn(stack, "Key", "arn:aws:kms:us-east-1:111111111111:key/1234abcd-12ab-34cd-56ef-1234567890ab")
logging = InvocationLogging(
    stack, "Logging", stage_name="dev", bucket=s3.Bucket.from_bucket_name(stack, "Logs", "example-logs"), key=key,
    key_prefix="bedrock",
)
job = DistillationJob(
    stack,
    "Job",
    stage_name="dev",
    teacher=Teacher.model("amazon.nova-pro-v1:0"),
    student="amazon.nova-lite-v1:0:300k",
    training_data=TrainingDataSource.from_invocation_logs(logging),
    output_bucket=s3.Bucket.from_bucket_name(stack, "Output", "example-output"),
    service_role=iam.Role.from_role_arn(stack, "Role", "arn:aws:iam::111111111111:role/bedrock-distillation"),
    key=key,
)
ProvisionedThroughput(
    stack,
    "Throughput",
    stage_name="dev",
    model_arn="arn:aws:bedrock:us-east-1:111111111111:custom-model/amazon.nova-lite-v1:0:300k/abcdefghij12",
    model_key=job.job_name,
    base_model="amazon.nova-lite-v1:0:300k",
    key=key,
)
Validations.of(app).add_plugins(AwsSolutionsChecks(app))
app.synth()
print(json.dumps({"distill": distill.__file__}))
"""


def run(*arguments: str, **options) -> subprocess.CompletedProcess:
    return subprocess.run(arguments, capture_output=True, text=True, **options)


@pytest.fixture(scope="module")
def wheel(tmp_path_factory) -> Path:
    """The wheel, built from a copy of the sources (a build writes build/ and an egg-info beside them)."""
    work = tmp_path_factory.mktemp("wheel")
    source = work / "source"
    source.mkdir()
    for name in SOURCES:
        if (ROOT / name).is_dir():
            shutil.copytree(ROOT / name, source / name, ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
        else:
            shutil.copy2(ROOT / name, source / name)
    built = run(
        sys.executable, "-m", "pip", "wheel", "--quiet", "--disable-pip-version-check", "--no-deps",
        "--no-build-isolation", str(source), "-w", str(work / "dist"),
    )  # fmt: skip
    assert built.returncode == 0, built.stderr
    (path,) = (work / "dist").glob("*.whl")
    return path


@pytest.fixture(scope="module")
def record(wheel) -> list[str]:
    """The paths the wheel's RECORD lists."""
    with zipfile.ZipFile(wheel) as archive:
        (name,) = [n for n in archive.namelist() if n.endswith(".dist-info/RECORD")]
        return [line.split(",", 1)[0] for line in archive.read(name).decode().splitlines() if line]


@pytest.fixture(scope="module")
def metadata(wheel) -> Message:
    """The wheel's METADATA (core metadata, in the email header format)."""
    with zipfile.ZipFile(wheel) as archive:
        (name,) = [n for n in archive.namelist() if n.endswith(".dist-info/METADATA")]
        return HeaderParser().parsestr(archive.read(name).decode())


@pytest.fixture(scope="module")
def synthesized(wheel, tmp_path_factory) -> tuple[subprocess.CompletedProcess, Path, Path]:
    """The wheel installed alone into a scratch folder, and the app above synthesized from it, in a process whose
    path holds only that folder and whose working directory is outside the repository. Node comes from the venv;
    the layer cache (DISTILL_LAYER_CACHE or the user cache) is the test session's, so no layer is built again."""
    work = tmp_path_factory.mktemp("installed")
    scratch = work / "site"
    installed = run(
        sys.executable, "-m", "pip", "install", "--quiet", "--disable-pip-version-check", "--no-deps",
        "--target", str(scratch), str(wheel),
    )  # fmt: skip
    assert installed.returncode == 0, installed.stderr
    (work / "app.py").write_text(APP)
    environment = {**os.environ, "PYTHONPATH": str(scratch), "PATH": f"{VENV_BIN}{os.pathsep}{os.environ['PATH']}"}
    result = run(sys.executable, str(work / "app.py"), str(work / "cdk.out"), cwd=work, env=environment)
    return result, scratch, work / "cdk.out"


def files_under(folder: Path) -> dict[str, bytes]:
    return {
        str(path.relative_to(folder)): path.read_bytes()
        for path in sorted(folder.rglob("*"))
        if path.is_file() and "__pycache__" not in path.parts and path.suffix != ".pyc"
    }


def contents(files: dict[str, bytes]) -> list[tuple[str, bytes]]:
    return sorted(files.items())


def test_the_app_synthesizes_from_the_installed_wheel_alone(synthesized):
    result, scratch, _ = synthesized
    assert result.returncode == 0, result.stderr
    loaded = Path(json.loads(result.stdout.splitlines()[-1])["distill"])
    assert loaded.is_relative_to(scratch), f"distill was imported from {loaded}, not from the installed wheel"
    assert not loaded.is_relative_to(ROOT)


def test_the_synthesized_handler_assets_are_the_repositorys_lambda_files(synthesized):
    result, _, outdir = synthesized
    assert result.returncode == 0, result.stderr
    handler_assets = [
        files_under(folder)
        for folder in outdir.glob("asset.*")
        # The Python code assets; the boto3 layer and aws-cdk-lib's provider framework are not the repository's.
        if folder.is_dir()
        and any(name.endswith(".py") for name in files_under(folder))
        and not (folder / "python" / "boto3").exists()
    ]
    repository = [files_under(ROOT / "lambda" / name) for name in HANDLERS_USED]
    # Each asset is one folder of lambda/, file for file and byte for byte, and each folder used is an asset.
    assert sorted(handler_assets, key=contents) == sorted(repository, key=contents)


def test_the_record_lists_the_handler_code_its_requirements_and_the_packaged_data(record):
    handlers = {f"distill/_lambda/{path.relative_to(ROOT / 'lambda')}" for path in (ROOT / "lambda").glob("*/index.py")}
    shared = {f"distill/_lambda/{p.relative_to(ROOT / 'lambda')}" for p in (ROOT / "lambda" / "shared").rglob("*.py")}
    data = {f"distill/data/{path.name}" for path in (ROOT / "distill" / "data").iterdir()}
    assert len(handlers) >= 10
    assert {"distill/_lambda/requirements.txt", *handlers, *shared, *data} <= set(record)
    # Nothing but the package and its metadata: no lambda/ or tests/ at the top level.
    (dist_info,) = {path.split("/")[0] for path in record if path.split("/")[0].endswith(".dist-info")}
    assert {path.split("/")[0] for path in record} == {"distill", dist_info}


def test_the_metadata_declares_the_dependency_ranges_of_pyproject(metadata):
    project = PYPROJECT["project"]
    expected = {Requirement(dependency) for dependency in project["dependencies"]} | {
        Requirement(f'{dependency}; extra == "{extra}"')
        for extra, dependencies in project["optional-dependencies"].items()
        for dependency in dependencies
    }
    assert {Requirement(value) for value in metadata.get_all("Requires-Dist")} == expected
    assert set(metadata.get_all("Provides-Extra")) == set(project["optional-dependencies"])
    assert metadata["Requires-Python"] == project["requires-python"]


def test_the_explicit_packages_are_every_package_under_distill_and_the_handler_code():
    packages = {
        ".".join(path.parent.relative_to(ROOT).parts)
        for path in (ROOT / "distill").rglob("__init__.py")
        if "__pycache__" not in path.parts
    }
    setuptools = PYPROJECT["tool"]["setuptools"]
    assert sorted(setuptools["packages"]) == sorted(packages | {"distill._lambda"})
    assert setuptools["package-dir"] == {"distill._lambda": "lambda"}
