"""Python Lambda functions for the custom-resource handlers in lambda/, with a pinned boto3 and no Docker.

The handlers call Bedrock APIs newer than the boto3 bundled in the Lambda runtime, so each function carries a
layer with the boto3 pinned in lambda/requirements.txt. The layer is built once per pin with pip (no Docker) into
the user's cache directory (``LAYER_CACHE``), keyed by the requirements' hash, so a synth after the first one does
no packaging work at all, in any app that uses the constructs.

The handler code is the repository's top-level ``lambda/`` folder. A wheel carries it inside the package as
``distill/_lambda`` (pyproject.toml maps it there at build time), so the constructs find it relative to the installed
package; in a checkout (an editable install, or the repository on the path) it is ``lambda/`` beside the package.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import platformdirs
from aws_cdk import AssetHashType, Duration, RemovalPolicy, Stack
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_logs as logs
from constructs import Construct

from distill.constructs.data_key import allow_log_encryption
from distill.constructs.dead_letters import AsyncInvocation, DeadLetterQueue
from distill.constructs.nag import acknowledge, acknowledge_compliance, logical_id


def _lambda_root() -> Path:
    """The handler code: as the wheel carries it (``distill/_lambda``), else the checkout's ``lambda/``."""
    package = Path(__file__).resolve().parents[1]
    packaged = package / "_lambda"
    return packaged if packaged.is_dir() else package.parent / "lambda"


LAMBDA_ROOT = _lambda_root()
LAYER_REQUIREMENTS = LAMBDA_ROOT / "requirements.txt"
# Per user, shared by every app and checkout on the machine: the layer depends only on its recipe (layer_digest).
# DISTILL_LAYER_CACHE overrides it (a CI cache, a read-only home).
LAYER_CACHE = Path(
    os.environ.get("DISTILL_LAYER_CACHE") or platformdirs.user_cache_path("bedrock-distillation-cdk") / "lambda-layers"
)

RUNTIME = lambda_.Runtime.PYTHON_3_14
ARCHITECTURE = lambda_.Architecture.ARM_64
# The AWS services the handlers call. The layer keeps botocore's data for these only: a client's creation lists the
# service directories botocore ships (over 400), and the layer shrinks from about 37 MB to a fraction of that. A
# test checks that every client the handlers create is in this list.
LAYER_SERVICES = ("bedrock", "bedrock-runtime", "cloudformation", "cloudwatch", "events", "s3", "ssm")
# Files that appear beside handler code when tests import it; they must not change the asset hash.
ASSET_EXCLUDES = ["__pycache__", "*.pyc", "tests"]


def layer_install_arguments(target: Path, requirements: Path) -> list[str]:
    """The ``pip install`` arguments that build the layer from ``requirements`` into ``target``.

    ``--require-hashes`` makes pip refuse any wheel whose sha256 is not the one lambda/requirements.txt gives for it,
    and any requirement without one (pip documentation, "Secure installs", hash-checking mode, read 2026-12-02).
    """
    return [
        "install",
        "--quiet",
        "--disable-pip-version-check",
        "--require-hashes",
        "--no-deps",
        "--no-compile",
        "--only-binary=:all:",
        "--implementation",
        "cp",
        "--python-version",
        RUNTIME.name.removeprefix("python"),
        "--platform",
        "manylinux2014_aarch64",
        "--target",
        str(target),
        "-r",
        str(requirements),
    ]


def layer_digest(requirements: bytes) -> str:
    """The layer's cache key and asset hash (sha256, hex) for the text of ``requirements``."""
    arguments = layer_install_arguments(Path("python"), Path("requirements.txt"))
    recipe = [RUNTIME.name, ARCHITECTURE.name, *LAYER_SERVICES, *arguments]
    return hashlib.sha256(requirements + "\n".join(recipe).encode()).hexdigest()


def boto3_layer_directory() -> tuple[Path, str]:
    """Build (once) and return the layer directory and its content hash.

    The hash covers the requirements (pins and their wheels' hashes), the runtime, the services kept and the pip
    arguments (with the checkout's own paths left out), so a change to any of them builds a new layer.
    """
    digest = layer_digest(LAYER_REQUIREMENTS.read_bytes())
    target = LAYER_CACHE / f"boto3-{digest[:16]}"
    if not target.is_dir():
        LAYER_CACHE.mkdir(parents=True, exist_ok=True)
        _remove_abandoned_builds()
        staging = Path(tempfile.mkdtemp(prefix="building-", dir=LAYER_CACHE))
        # mkdtemp makes the folder private; the layer is read by whoever synthesizes with this cache.
        staging.chmod(0o755)
        built = subprocess.run(
            [sys.executable, "-m", "pip", *layer_install_arguments(staging / "python", LAYER_REQUIREMENTS)],
            capture_output=True,
            text=True,
        )
        if built.returncode != 0:
            shutil.rmtree(staging, ignore_errors=True)
            raise RuntimeError(f"Building the boto3 layer from {LAYER_REQUIREMENTS} failed:\n{built.stderr}")
        _keep_only_layer_services(staging / "python" / "botocore" / "data")
        try:
            os.rename(staging, target)
        except OSError:
            shutil.rmtree(staging, ignore_errors=True)
            if not target.is_dir():  # not another process finishing the same build first
                raise
    return target, digest


# A build folder older than this was left by a process that was killed: no build takes that long.
ABANDONED_BUILD_SECONDS = 3600


def _remove_abandoned_builds() -> None:
    """Delete the ``building-*`` folders of builds that never finished (a synth killed mid-way); they are never used,
    as only a finished build is renamed to its digest's name."""
    for folder in LAYER_CACHE.glob("building-*"):
        try:
            if time.time() - folder.stat().st_mtime > ABANDONED_BUILD_SECONDS:
                shutil.rmtree(folder, ignore_errors=True)
        except OSError:  # another process removed or renamed it meanwhile
            continue


def _keep_only_layer_services(data: Path) -> None:
    for entry in data.iterdir():
        if entry.is_dir() and entry.name not in LAYER_SERVICES:
            shutil.rmtree(entry)


def _layer_of_stack(scope: Construct, id: str, code: lambda_.Code, description: str) -> lambda_.ILayerVersion:
    """One layer per stack under ``id``, shared by all the stack's handler functions."""
    stack = Stack.of(scope)
    existing = stack.node.try_find_child(id)
    if isinstance(existing, lambda_.LayerVersion):
        return existing
    return lambda_.LayerVersion(
        stack,
        id,
        code=code,
        compatible_runtimes=[RUNTIME],
        compatible_architectures=[ARCHITECTURE],
        description=description,
    )


def boto3_layer(scope: Construct) -> lambda_.ILayerVersion:
    """The boto3 pinned in lambda/requirements.txt, built once per pin (see ``boto3_layer_directory``)."""
    directory, digest = boto3_layer_directory()
    return _layer_of_stack(
        scope,
        "Boto3Layer",
        lambda_.Code.from_asset(str(directory), asset_hash=digest, asset_hash_type=AssetHashType.CUSTOM),
        "boto3 pinned for the Bedrock APIs the handlers call",
    )


def shared_code_layer(scope: Construct) -> lambda_.ILayerVersion:
    """lambda/shared/python: what several handlers share (request tokens, names, lifecycles)."""
    return _layer_of_stack(
        scope,
        "SharedCodeLayer",
        lambda_.Code.from_asset(str(LAMBDA_ROOT / "shared"), exclude=ASSET_EXCLUDES),
        "Code shared by the distillation custom resource handlers",
    )


def encrypted_log_group(scope: Construct, id: str, key: kms.IKey, removal_policy: RemovalPolicy) -> logs.LogGroup:
    """A log group encrypted with the stage's key and kept for a year (the compliance packs ask for both); the key
    lets CloudWatch Logs use it (``allow_log_encryption``)."""
    allow_log_encryption(key)
    return logs.LogGroup(
        scope, id, encryption_key=key, retention=logs.RetentionDays.ONE_YEAR, removal_policy=removal_policy
    )


class HandlerFunction(Construct):
    """A handler from lambda/<folder>, with its own role, an encrypted log group, the boto3 and shared-code layers.

    The role gets only what the handler calls (``add_to_role_policy``) plus writing to its own log group;
    no AWS managed policy. The environment is encrypted with ``key``: a watcher's holds the wait condition's
    pre-signed URL, and with a customer-managed key only principals that may decrypt with it can read the variables
    (Lambda developer guide, configuration-envvars-encryption.html,
    https://docs.aws.amazon.com/lambda/latest/dg/configuration-envvars-encryption.html, read 2026-12-02: Lambda
    creates a grant on the key with the permissions of whoever deploys the function, and decrypts at start). A
    handler that EventBridge invokes (``asynchronous``) gets a dead-letter queue with an alarm (``DeadLetterQueue``);
    the others are invoked synchronously by CloudFormation's provider framework.
    """

    def __init__(
        self,
        scope: Construct,
        id: str,
        *,
        folder: str,
        entry: str,
        description: str,
        key: kms.IKey,
        removal_policy: RemovalPolicy,
        timeout: Duration | None = None,
        environment: dict[str, str] | None = None,
        asynchronous: AsyncInvocation | None = None,
    ) -> None:
        super().__init__(scope, id)
        self.log_group = encrypted_log_group(self, "Logs", key, removal_policy)
        self.role = iam.Role(self, "Role", assumed_by=iam.ServicePrincipal("lambda.amazonaws.com"))
        # A customer-managed policy rather than an inline one: the compliance packs reject inline policies.
        self.policy = iam.ManagedPolicy(self, "Policy", roles=[self.role])
        allow_log_writing(self.policy, self.log_group)
        self.function = lambda_.Function(
            self,
            "Function",
            runtime=RUNTIME,
            architecture=ARCHITECTURE,
            handler=entry,
            code=lambda_.Code.from_asset(str(LAMBDA_ROOT / folder), exclude=ASSET_EXCLUDES),
            layers=[boto3_layer(self), shared_code_layer(self)],
            role=self.role,
            log_group=self.log_group,
            # The runtime writes each record as JSON, with the fields a handler adds to it (the CloudFormation
            # request's ids): Lambda developer guide, python-logging.html, "Using Lambda advanced logging controls
            # with Python", https://docs.aws.amazon.com/lambda/latest/dg/python-logging.html (read 2026-12-02).
            logging_format=lambda_.LoggingFormat.JSON,
            timeout=timeout or Duration.minutes(5),
            memory_size=256,
            description=description,
            environment=environment or {},
            environment_encryption=key,
        )
        # A function depends on its role, not on a managed policy attached to the role: without this, CloudFormation
        # may invoke the handler before its permissions exist.
        self.function.node.add_dependency(self.policy)
        self.dead_letters: DeadLetterQueue | None = None
        if asynchronous is None:
            acknowledge_handler_findings(self.function)
        else:
            self.dead_letters = DeadLetterQueue(
                self,
                "DeadLetters",
                function=self.function,
                policy=self.policy,
                key=key,
                invocation=asynchronous,
                removal_policy=removal_policy,
            )
            acknowledge_compliance(self.function, event_handler_rule_reasons(asynchronous.invoked_by))

    def add_to_role_policy(self, statement: iam.PolicyStatement) -> None:
        self.policy.add_statements(statement)


def allow_log_writing(policy: iam.ManagedPolicy, log_group: logs.LogGroup) -> None:
    """Let a function write to its own log group, instead of using the broad AWS managed execution policy."""
    policy.add_statements(
        iam.PolicyStatement(
            actions=["logs:CreateLogStream", "logs:PutLogEvents"],
            resources=[log_group.log_group_arn, f"{log_group.log_group_arn}:*"],
        )
    )
    acknowledge(
        policy,
        f"AwsSolutions-IAM5[Resource::<{logical_id(log_group)}.Arn>:*]",
        "Log streams inside the function's own log group are named by Lambda at run time.",
    )


# Why a handler sits outside a VPC, for every handler: what it calls.
OUTSIDE_VPC_REASON = (
    f"Calls only AWS service endpoints ({', '.join(LAYER_SERVICES)}) and a wait condition's pre-signed URL, and "
    "serves no workload traffic; the stage has no VPC of its own to place it in."
)
# Compliance-pack Lambda rules that do not fit a custom-resource handler, with the reason each does not apply.
HANDLER_RULE_REASONS = {
    "LambdaConcurrency": "Invoked only by CloudFormation through the custom resource provider, a few times per "
    "deployment; a reservation would take concurrency from the account's shared pool.",
    "LambdaDLQ": "Invoked synchronously by the provider framework, which reports failures to CloudFormation; a "
    "dead-letter queue only applies to asynchronous invocations.",
    "LambdaInsideVPC": OUTSIDE_VPC_REASON,
}


def event_handler_rule_reasons(invoked_by: str) -> dict[str, str]:
    """The compliance-pack rules that do not fit a handler EventBridge invokes (it has a dead-letter queue)."""
    return {
        "LambdaConcurrency": f"Invoked by {invoked_by}: a few invocations an hour at most; a reservation would "
        "take concurrency from the account's shared pool, and Lambda retries a throttled asynchronous event.",
        "LambdaInsideVPC": OUTSIDE_VPC_REASON,
    }


def acknowledge_handler_findings(function: lambda_.IFunction) -> None:
    """Acknowledge ``HANDLER_RULE_REASONS`` for both optional compliance packs."""
    acknowledge_compliance(function, HANDLER_RULE_REASONS)
