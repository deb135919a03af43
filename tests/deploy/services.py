"""Stateful fakes of the AWS services the handlers call, as their documentation describes them.

Bedrock is the one that matters: customization jobs that run for hours and end Completed, Failed or Stopped, the
custom models they produce, Provisioned Throughputs that take time to become InService (and can move to another
model of the same base model), on-demand deployments, model copies, the invocation logging configuration, tags and
idempotency tokens, the two-jobs-at-once quota and a model-unit quota. S3, SSM, EventBridge, CloudWatch and the
CloudFormation read API are small. Where AWS documents a behaviour, the comment names the page; where it does not
(an error code, say), the fake takes the reading that is hardest on the handlers and says so.
"""

from __future__ import annotations

import datetime
import hashlib
import io
import itertools
import json
import string
import urllib.parse
from dataclasses import dataclass, field
from typing import Any

from botocore.response import StreamingBody

from tests.deploy.aws import Authorization, Call, FakeError, Service

# Bedrock user guide, "Quotas for Amazon Bedrock" (read 2026-11-30): at most 2 model customization jobs run at once
# per account by default; the simulated accounts keep that default unless a scenario says otherwise.
DEFAULT_RUNNING_JOBS_QUOTA = 2


def iso(epoch: float) -> datetime.datetime:
    return datetime.datetime.fromtimestamp(epoch, tz=datetime.UTC)


class Ids:
    """Deterministic ids in Bedrock's 12-character lowercase form."""

    def __init__(self) -> None:
        self._counter = itertools.count(1)

    def __call__(self, length: int = 12) -> str:
        digest = hashlib.sha256(str(next(self._counter)).encode()).digest()
        alphabet = string.ascii_lowercase + string.digits
        return "".join(alphabet[b % len(alphabet)] for b in digest[:length])


# -- S3 ------------------------------------------------------------------------------------------------------------
class S3(Service):
    name = "s3"
    iam_prefix = "s3"

    def __init__(self, world) -> None:
        super().__init__(world)
        self.buckets: dict[str, dict[str, bytes]] = {}
        # Buckets whose policy denies every s3:PutObject: aws-cdk-lib's auto-delete-objects handler adds that
        # statement before it empties a bucket being deleted.
        self.writes_denied: set[str] = set()
        # An account's invocation logging that delivered into such a bucket: every log from then on is lost.
        self.lost_log_deliveries: list[str] = []

    def create_bucket(self, name: str) -> None:
        self.buckets.setdefault(name, {})

    def put(self, bucket: str, key: str, body: bytes) -> None:
        self._bucket(bucket)[key] = body

    def _bucket(self, name: str) -> dict[str, bytes]:
        if name not in self.buckets:
            raise FakeError("NoSuchBucket", f"The specified bucket {name} does not exist")
        return self.buckets[name]

    def _object(self, bucket: str, key: str) -> bytes:
        objects = self._bucket(bucket)
        if key not in objects:
            raise FakeError("NoSuchKey", f"The specified key {key} does not exist.")
        return objects[key]

    @staticmethod
    def _arn(bucket: str, key: str | None = None) -> str:
        return f"arn:aws:s3:::{bucket}" + (f"/{key}" if key is not None else "")

    def put_object(self, call: Call) -> dict[str, Any]:
        if call.params["Bucket"] in self.writes_denied:
            raise FakeError("AccessDenied", "Access Denied (an explicit deny in the bucket policy)")
        body = call.params.get("Body", b"")
        if hasattr(body, "read"):  # botocore wraps a bytes Body in a file object
            body = body.read()
        self.put(call.params["Bucket"], call.params["Key"], body if isinstance(body, bytes) else body.encode())
        return {"ETag": '"etag"'}

    def authorize_put_object(self, call: Call) -> Authorization:
        return Authorization().need("s3:PutObject", self._arn(call.params["Bucket"], call.params["Key"]))

    def get_object(self, call: Call) -> dict[str, Any]:
        body = self._object(call.params["Bucket"], call.params["Key"])
        requested = call.params.get("Range")
        if requested:
            # Only the form the handlers send, bytes=<first>-<last>; a last byte past the end returns up to the end
            # (S3 API reference, GetObject, "Range", and RFC 9110 section 14.1.2, read 2026-12-02).
            first, _, last = requested.removeprefix("bytes=").partition("-")
            body = body[int(first) : int(last) + 1]
        return {"Body": StreamingBody(io.BytesIO(body), len(body)), "ContentLength": len(body)}

    def authorize_get_object(self, call: Call) -> Authorization:
        return Authorization().need("s3:GetObject", self._arn(call.params["Bucket"], call.params["Key"]))

    def head_object(self, call: Call) -> dict[str, Any]:
        # A HEAD response has no body, so S3's error reaches botocore as its status code alone. For a key that does
        # not exist S3 answers 404 only to a caller that may s3:ListBucket, 403 otherwise (S3 API reference,
        # HeadObject, "Permissions", read 2026-12-01).
        if call.params["Key"] not in self._bucket(call.params["Bucket"]):
            listing = Authorization().need(
                "s3:ListBucket", self._arn(call.params["Bucket"]), **{"s3:prefix": call.params["Key"]}
            )
            if self.world.iam.check(call, listing) is not None:
                raise FakeError("403", "Forbidden", 403)
            raise FakeError("404", "Not Found", 404)
        return {"ContentLength": len(self._object(call.params["Bucket"], call.params["Key"]))}

    def authorize_head_object(self, call: Call) -> Authorization:
        return self.authorize_get_object(call)

    def delete_object(self, call: Call) -> dict[str, Any]:
        self._bucket(call.params["Bucket"]).pop(call.params["Key"], None)
        return {}

    def authorize_delete_object(self, call: Call) -> Authorization:
        return Authorization().need("s3:DeleteObject", self._arn(call.params["Bucket"], call.params["Key"]))

    @staticmethod
    def _copy_source(call: Call) -> dict[str, str]:
        # botocore turns a {"Bucket", "Key"} CopySource into "bucket/key" (URL-quoted) before the request is built.
        source = call.params["CopySource"]
        if isinstance(source, str):
            bucket, _, key = urllib.parse.unquote(source).partition("/")
            return {"Bucket": bucket, "Key": key}
        return source

    def copy_object(self, call: Call) -> dict[str, Any]:
        source = self._copy_source(call)
        body = self._object(source["Bucket"], source["Key"])
        self.put(call.params["Bucket"], call.params["Key"], body)
        return {"CopyObjectResult": {"ETag": '"etag"'}}

    def authorize_copy_object(self, call: Call) -> Authorization:
        source = self._copy_source(call)
        return (
            Authorization()
            .need("s3:GetObject", self._arn(source["Bucket"], source["Key"]))
            .need("s3:PutObject", self._arn(call.params["Bucket"], call.params["Key"]))
        )

    def list_objects_v2(self, call: Call) -> dict[str, Any]:
        prefix = call.params.get("Prefix", "")
        keys = sorted(k for k in self._bucket(call.params["Bucket"]) if k.startswith(prefix))
        return {"Contents": [{"Key": k, "Size": len(self.buckets[call.params["Bucket"]][k])} for k in keys]}

    def authorize_list_objects_v2(self, call: Call) -> Authorization:
        return Authorization().need("s3:ListBucket", self._arn(call.params["Bucket"]))


# -- SSM -----------------------------------------------------------------------------------------------------------
class Ssm(Service):
    name = "ssm"
    iam_prefix = "ssm"

    def __init__(self, world) -> None:
        super().__init__(world)
        self.parameters: dict[tuple[str, str], dict[str, Any]] = {}  # (region, name) -> parameter

    def set(self, region: str, name: str, value: str) -> None:
        previous = self.parameters.get((region, name))
        self.parameters[(region, name)] = {
            "Value": value,
            "Version": (previous["Version"] + 1) if previous else 1,
            "LastModifiedDate": iso(self.world.clock.now),
        }

    def value(self, region: str, name: str) -> str | None:
        parameter = self.parameters.get((region, name))
        return parameter["Value"] if parameter else None

    def _arn(self, call: Call) -> str:
        return f"arn:aws:ssm:{call.region}:{call.account}:parameter/{call.params['Name'].lstrip('/')}"

    def get_parameter(self, call: Call) -> dict[str, Any]:
        parameter = self.parameters.get((call.region, call.params["Name"]))
        if parameter is None:
            raise FakeError("ParameterNotFound", f"Parameter {call.params['Name']} not found.")
        return {
            "Parameter": {
                "Name": call.params["Name"],
                "Type": "String",
                "Value": parameter["Value"],
                "Version": parameter["Version"],
                "LastModifiedDate": parameter["LastModifiedDate"],
                "ARN": self._arn(call),
                "DataType": "text",
            }
        }

    def authorize_get_parameter(self, call: Call) -> Authorization:
        return Authorization().need("ssm:GetParameter", self._arn(call))

    def put_parameter(self, call: Call) -> dict[str, Any]:
        key = (call.region, call.params["Name"])
        if key in self.parameters and not call.params.get("Overwrite"):
            raise FakeError("ParameterAlreadyExists", "The parameter already exists.")
        self.set(call.region, call.params["Name"], call.params["Value"])
        return {"Version": self.parameters[key]["Version"], "Tier": "Standard"}

    def authorize_put_parameter(self, call: Call) -> Authorization:
        return Authorization().need("ssm:PutParameter", self._arn(call))

    def delete_parameter(self, call: Call) -> dict[str, Any]:
        if self.parameters.pop((call.region, call.params["Name"]), None) is None:
            raise FakeError("ParameterNotFound", f"Parameter {call.params['Name']} not found.")
        return {}

    def authorize_delete_parameter(self, call: Call) -> Authorization:
        return Authorization().need("ssm:DeleteParameter", self._arn(call))


# -- EventBridge, CloudWatch, CloudFormation's read API -----------------------------------------------------------
class Events(Service):
    """The rules themselves live in the engine's EventBridge (they come from templates); this is their API."""

    name = "events"
    iam_prefix = "events"

    def _rule(self, call: Call):
        rule = self.world.eventbridge.rules.get((call.region, call.params["Name"]))
        if rule is None:
            raise FakeError("ResourceNotFoundException", f"Rule {call.params['Name']} does not exist.")
        return rule

    def _arn(self, call: Call) -> str:
        return f"arn:aws:events:{call.region}:{call.account}:rule/{call.params['Name']}"

    def disable_rule(self, call: Call) -> dict[str, Any]:
        self._rule(call).enabled = False
        return {}

    def authorize_disable_rule(self, call: Call) -> Authorization:
        return Authorization().need("events:DisableRule", self._arn(call))

    def enable_rule(self, call: Call) -> dict[str, Any]:
        self._rule(call).enabled = True
        return {}

    def authorize_enable_rule(self, call: Call) -> Authorization:
        return Authorization().need("events:EnableRule", self._arn(call))


class CloudWatch(Service):
    name = "cloudwatch"
    iam_prefix = "cloudwatch"

    def __init__(self, world) -> None:
        super().__init__(world)
        self.data: list[dict[str, Any]] = []

    def put_metric_data(self, call: Call) -> dict[str, Any]:
        self.data += [{"Namespace": call.params["Namespace"], **datum} for datum in call.params["MetricData"]]
        return {}

    def authorize_put_metric_data(self, call: Call) -> Authorization:
        return Authorization().need(
            "cloudwatch:PutMetricData", "*", **{"cloudwatch:namespace": call.params["Namespace"]}
        )


class CloudFormation(Service):
    name = "cloudformation"
    iam_prefix = "cloudformation"

    def describe_stack_resource(self, call: Call) -> dict[str, Any]:
        stack = self.world.engine.stack_by_name_or_id(call.params["StackName"])
        if stack is None:
            raise FakeError("ValidationError", f"Stack with id {call.params['StackName']} does not exist")
        resource = stack.resources.get(call.params["LogicalResourceId"])
        if resource is None:
            raise FakeError("ValidationError", f"Resource {call.params['LogicalResourceId']} does not exist")
        return {
            "StackResourceDetail": {
                "StackName": stack.name,
                "StackId": stack.stack_id,
                "LogicalResourceId": resource.logical_id,
                "PhysicalResourceId": resource.physical_id or "",
                "ResourceType": resource.type,
                "LastUpdatedTimestamp": iso(resource.updated_at),
                "ResourceStatus": resource.status,
            }
        }

    def describe_stacks(self, call: Call) -> dict[str, Any]:
        stack = self.world.engine.stack_by_name_or_id(call.params["StackName"])
        if stack is None:
            raise FakeError("ValidationError", f"Stack with id {call.params['StackName']} does not exist")
        return {
            "Stacks": [
                {
                    "StackName": stack.name,
                    "StackId": stack.stack_id,
                    "CreationTime": iso(self.world.clock.now),
                    "StackStatus": stack.status,
                }
            ]
        }

    def _stack_arn(self, call: Call) -> str:
        """A stack named by name or id is authorized on its ARN; one that does not exist on the ARN its name would
        have (arn:...:stack/<name>/<id>, the id unknown): AWS documents nothing for that case, so the policy must
        allow the name with any id."""
        stack = self.world.engine.stack_by_name_or_id(call.params["StackName"])
        if stack is not None:
            return stack.stack_id
        name = call.params["StackName"]
        return (
            name if name.startswith("arn:") else f"arn:aws:cloudformation:{call.region}:{call.account}:stack/{name}/*"
        )

    def authorize_describe_stacks(self, call: Call) -> Authorization:
        return Authorization().need("cloudformation:DescribeStacks", self._stack_arn(call))

    def authorize_describe_stack_resource(self, call: Call) -> Authorization:
        return Authorization().need("cloudformation:DescribeStackResource", self._stack_arn(call))


# -- Bedrock -------------------------------------------------------------------------------------------------------
@dataclass
class Job:
    arn: str
    name: str
    request: dict[str, Any]
    account: str
    region: str
    created: float
    status: str = "InProgress"
    ended: float | None = None
    failure_message: str | None = None
    model_arn: str | None = None
    created_by: str | None = None
    fate: str = "Completed"


@dataclass
class Model:
    arn: str
    name: str
    base_model_arn: str
    account: str
    region: str
    created: float
    job_arn: str | None = None
    kms_key: str | None = None
    created_by: str | None = None


@dataclass
class Throughput:
    arn: str
    name: str
    account: str
    region: str
    model_units: int
    model_arn: str
    desired_model_arn: str
    foundation_model_arn: str
    created: float
    commitment: str | None = None
    commitment_expires: float | None = None
    status: str = "Creating"
    failure_message: str | None = None
    modified: float = 0.0
    created_by: str | None = None
    fate: str = "InService"


@dataclass
class Deployment:
    arn: str
    name: str
    account: str
    region: str
    model_arn: str
    created: float
    description: str | None = None
    status: str = "Creating"
    failure_message: str | None = None
    created_by: str | None = None
    # A move to another model: Bedrock reports it in updateDetails and keeps serving modelArn until it completes.
    update: dict[str, str] | None = None


@dataclass
class CopyJob:
    arn: str
    account: str
    region: str
    source_model_arn: str
    target_model_arn: str
    target_model_name: str
    kms_key: str | None
    tags: list[dict[str, str]]
    created: float
    status: str = "InProgress"
    failure_message: str | None = None
    created_by: str | None = None


@dataclass
class Timing:
    """How long Bedrock takes, and how things end; scenarios change these."""

    job_seconds: float = 3 * 3600
    job_outcome: str = "Completed"  # or "Failed"
    # One-shot fates for the next jobs (and throughputs) Bedrock accepts, before the defaults apply again.
    next_job_outcomes: list[str] = field(default_factory=list)
    next_throughput_outcomes: list[str] = field(default_factory=list)
    job_failure_message: str = "Internal error while processing the training data"
    stop_seconds: float = 120
    throughput_seconds: float = 20 * 60
    throughput_update_seconds: float = 10 * 60
    throughput_outcome: str = "InService"  # or "Failed"
    deployment_seconds: float = 15 * 60
    copy_seconds: float = 30 * 60


@dataclass
class Quotas:
    running_jobs: int = DEFAULT_RUNNING_JOBS_QUOTA
    # Model units for Provisioned Throughputs of custom models, per account and Region (None: unlimited). AWS grants
    # them on request (user guide, prov-thru-purchase.html, read 2026-11-30).
    model_units: int | None = None


# A commitment term in seconds (a month as 31 days: the fake has no calendar).
COMMITMENT_SECONDS = {"OneMonth": 31 * 86400, "SixMonths": 183 * 86400}


@dataclass
class BillingEntry:
    kind: str
    arn: str
    start: float
    end: float | None = None
    detail: dict[str, Any] = field(default_factory=dict)


class Bedrock(Service):
    name = "bedrock"
    iam_prefix = "bedrock"

    def __init__(self, world) -> None:
        super().__init__(world)
        self.ids = Ids()
        self.jobs: dict[str, Job] = {}
        self.models: dict[str, Model] = {}
        self.throughputs: dict[str, Throughput] = {}
        self.deployments: dict[str, Deployment] = {}
        self.copies: dict[str, CopyJob] = {}
        self.logging: dict[tuple[str, str], dict[str, Any]] = {}
        self.tags: dict[str, dict[str, str]] = {}
        self.tokens: dict[tuple[str, str], tuple[str, str]] = {}  # (operation, token) -> (request digest, arn)
        self.timing = Timing()
        self.quotas = Quotas()
        self.billing: list[BillingEntry] = []
        # Models another account shares with this one (AWS RAM): ARN -> base model ARN.
        self.shared_models: dict[str, str] = {}

    # -- helpers -----------------------------------------------------------------------------------------------
    def _now(self) -> float:
        return self.world.clock.now

    def _arn(self, call: Call, kind: str, rest: str) -> str:
        return f"arn:aws:bedrock:{call.region}:{call.account}:{kind}/{rest}"

    @staticmethod
    def _foundation_arn(region: str, identifier: str) -> str:
        if identifier.startswith("arn:"):
            return identifier
        return f"arn:aws:bedrock:{region}::foundation-model/{identifier}"

    def _idempotent(self, call: Call, create) -> str:
        """Bedrock's clientRequestToken: a repeat of a request with the same token returns the first one's answer
        (CreateModelCustomizationJob API reference, "clientRequestToken", read 2026-11-30)."""
        token = call.params.get("clientRequestToken")
        digest = hashlib.sha256(json.dumps(call.params, sort_keys=True, default=str).encode()).hexdigest()
        if token:
            previous = self.tokens.get((call.operation, token))
            if previous is not None:
                if previous[0] != digest:
                    # Not documented: the fake refuses a reused token with other parameters, the strict reading.
                    raise FakeError("ValidationException", "The client request token was used with other parameters.")
                return previous[1]
        arn = create()
        if token:
            self.tokens[(call.operation, token)] = (digest, arn)
        return arn

    def _tag(self, arn: str, tags: list[dict[str, str]] | None) -> None:
        self.tags.setdefault(arn, {}).update({t["key"]: t["value"] for t in tags or []})

    def _bill(self, kind: str, arn: str, **detail) -> None:
        self.billing.append(BillingEntry(kind, arn, self._now(), detail=detail))

    def _unbill(self, arn: str) -> None:
        for entry in self.billing:
            if entry.arn == arn and entry.end is None:
                entry.end = self._now()

    def _find_job(self, call: Call, identifier: str) -> Job:
        for job in self.jobs.values():
            if job.region == call.region and job.account == call.account and identifier in (job.arn, job.name):
                return job
        raise FakeError("ResourceNotFoundException", f"Job {identifier} not found.")

    def _find_model(self, call: Call, identifier: str) -> Model:
        for model in self.models.values():
            if model.region == call.region and model.account == call.account and identifier in (model.arn, model.name):
                return model
        raise FakeError("ResourceNotFoundException", f"Model {identifier} not found.")

    def _find_throughput(self, call: Call, identifier: str) -> Throughput:
        for throughput in self.throughputs.values():
            if throughput.region == call.region and identifier in (throughput.arn, throughput.name):
                return throughput
        raise FakeError("ResourceNotFoundException", f"Provisioned model {identifier} not found.")

    def _find_deployment(self, call: Call, identifier: str) -> Deployment:
        for deployment in self.deployments.values():
            if deployment.region == call.region and identifier in (deployment.arn, deployment.name):
                return deployment
        raise FakeError("ResourceNotFoundException", f"Custom model deployment {identifier} not found.")

    def _resource_tags(self, arn: str) -> dict[str, str]:
        return {f"aws:ResourceTag/{k}": v for k, v in self.tags.get(arn, {}).items()}

    @staticmethod
    def _request_tags(tags: list[dict[str, str]] | None) -> dict[str, Any]:
        context: dict[str, Any] = {f"aws:RequestTag/{t['key']}": t["value"] for t in tags or []}
        if tags:
            context["aws:TagKeys"] = [t["key"] for t in tags]
        return context

    def _model_resource(self, call: Call, identifier: str) -> str:
        """The ARN IAM authorizes a custom model as, given by name or ARN (a shared model of another account too)."""
        try:
            return self._find_model(call, identifier).arn
        except FakeError:
            return identifier if identifier.startswith("arn:") else self._arn(call, "custom-model", identifier)

    def _deployment_resource(self, call: Call, identifier: str) -> str:
        try:
            return self._find_deployment(call, identifier).arn
        except FakeError:
            return (
                identifier if identifier.startswith("arn:") else self._arn(call, "custom-model-deployment", identifier)
            )

    def _on_resource(self, authorization: Authorization, action: str, arn: str, **context: Any) -> Authorization:
        """``action`` on an existing resource, with its tags as aws:ResourceTag/<key>, as IAM passes them for every
        Bedrock resource type that lists the key (Service Authorization Reference for Amazon Bedrock, read
        2026-12-02; IAM user guide, "Controlling access to AWS resources using tags",
        https://docs.aws.amazon.com/IAM/latest/UserGuide/access_tags.html, read 2026-12-02)."""
        return authorization.need(action, arn, **self._resource_tags(arn), **context)

    def _create(
        self,
        authorization: Authorization,
        action: str,
        resources: list[str],
        tags: list[dict[str, str]] | None,
        new: str,
    ) -> Authorization:
        """A create as IAM evaluates it: ``action`` on each resource the Service Authorization Reference lists for it
        (read 2026-12-02), each with its own tags (aws:ResourceTag) and the request's (aws:RequestTag/<key>,
        aws:TagKeys: IAM user guide, access_tags.html, read 2026-12-02). That reference's operations table maps some
        Bedrock creates that take tags to bedrock:TagResource too, without saying so of these: the fake takes the
        stricter reading and also asks TagResource on the new resource ``new``, which has no tags yet."""
        request = self._request_tags(tags)
        for arn in resources:
            self._on_resource(authorization, action, arn, **request)
        if tags:
            authorization.need("bedrock:TagResource", new, **request)
        return authorization

    def served_by(self, model_arn: str) -> list[str]:
        """The throughputs and deployments that serve (or are moving to) a model."""
        return [t.arn for t in self.throughputs.values() if model_arn in (t.model_arn, t.desired_model_arn)] + [
            d.arn for d in self.deployments.values() if model_arn in (d.model_arn, (d.update or {}).get("modelArn"))
        ]

    # -- events --------------------------------------------------------------------------------------------------
    def _job_event(self, job: Job) -> None:
        # The documented sample event carries the job ARN in a short form, without the base model
        # (user guide, monitoring-eventbridge-how-it-works.html, read 2026-11-30).
        short_arn = f"arn:aws:bedrock:{job.region}:{job.account}:model-customization-job/{job.arn.rsplit('/', 1)[1]}"
        detail = {
            "version": "0.0",
            "jobName": job.name,
            "jobArn": short_arn,
            "outputModelName": job.request["customModelName"],
            "outputModelArn": job.model_arn or "",
            "roleArn": job.request["roleArn"],
            "jobStatus": job.status,
            "creationTime": iso(job.created).isoformat(),
            "lastModifiedTime": iso(self._now()).isoformat(),
            "baseModelArn": self._foundation_arn(job.region, job.request["baseModelIdentifier"]),
            "hyperParameters": {},
            "trainingDataConfig": job.request["trainingDataConfig"],
            "validationDataConfig": {"validators": []},
            "outputDataConfig": job.request["outputDataConfig"],
        }
        if job.failure_message:
            detail["failureMessage"] = job.failure_message
        self.world.eventbridge.put_event(
            job.account,
            job.region,
            {
                "version": "0",
                "source": "aws.bedrock",
                "detail-type": "Model Customization Job State Change",
                "resources": [short_arn],
                "detail": detail,
            },
        )

    # -- customization jobs --------------------------------------------------------------------------------------
    def create_model_customization_job(self, call: Call) -> dict[str, Any]:
        def create() -> str:
            p = call.params
            if any(j.name == p["jobName"] and j.region == call.region for j in self.jobs.values()):
                # Not documented which error Bedrock gives for a taken name; ConflictException is in the model.
                raise FakeError("ConflictException", f"A model customization job named {p['jobName']} exists.")
            if not self.world.iam.role_exists(p["roleArn"]):
                raise FakeError("ValidationException", f"The role {p['roleArn']} does not exist or cannot be assumed.")
            if p.get("vpcConfig"):
                self._check_service_role_vpc_access(call, p["roleArn"])
            running = [
                j
                for j in self.jobs.values()
                if j.status in ("InProgress", "Stopping") and (j.account, j.region) == (call.account, call.region)
            ]
            if len(running) >= self.quotas.running_jobs:
                raise FakeError(
                    "ServiceQuotaExceededException",
                    f"You have reached the maximum of {self.quotas.running_jobs} model customization jobs in progress.",
                )
            base = p["baseModelIdentifier"].rsplit("/", 1)[-1]
            job = Job(
                arn=self._arn(call, "model-customization-job", f"{base}/{self.ids()}"),
                name=p["jobName"],
                request=p,
                account=call.account,
                region=call.region,
                created=self._now(),
                created_by=call.caller,
                fate=self.timing.next_job_outcomes.pop(0) if self.timing.next_job_outcomes else self.timing.job_outcome,
            )
            self.jobs[job.arn] = job
            self._tag(job.arn, p.get("jobTags"))
            self._bill("job", job.arn, name=job.name)
            self.world.clock.call_later(self.timing.job_seconds, lambda: self._finish_job(job), service=True)
            self._job_event(job)
            return job.arn

        return {"jobArn": self._idempotent(call, create)}

    def _check_service_role_vpc_access(self, call: Call, role_arn: str) -> None:
        """Bedrock makes the job's network interfaces in the VPC as the service role (user guide,
        vpc-model-customization.html, read 2026-12-01): the role must be allowed to, or the job is refused."""
        role = role_arn.rsplit("/", 1)[-1]
        as_service = Call("ec2", "CreateNetworkInterface", {}, call.region, call.account, None)
        self.world.iam.function_roles["bedrock-service"] = role
        as_service.caller = "bedrock-service"
        subnet = call.params["vpcConfig"]["subnetIds"][0]
        needs = (
            Authorization()
            .need("ec2:DescribeSubnets", "*")
            .need("ec2:CreateNetworkInterface", f"arn:aws:ec2:{call.region}:{call.account}:subnet/{subnet}")
            .need(
                "ec2:CreateNetworkInterface",
                f"arn:aws:ec2:{call.region}:{call.account}:network-interface/*",
                **{"aws:RequestTag/BedrockManaged": "true"},
            )
        )
        denial = self.world.iam.check(as_service, needs)
        if denial is not None:
            raise FakeError("ValidationException", f"The service role cannot use the VPC: {denial}")

    def authorize_create_model_customization_job(self, call: Call) -> Authorization:
        """On the custom model it makes and the foundation model it customizes (the required resource types the
        Service Authorization Reference lists, read 2026-12-02). Which of jobTags and customModelTags IAM sees as the
        request's tags is not documented: the policy must allow the create with either."""
        p = call.params
        base = p["baseModelIdentifier"].rsplit("/", 1)[-1]
        model = self._arn(call, "custom-model", f"{base}/{p['customModelName']}")
        foundation = self._foundation_arn(call.region, p["baseModelIdentifier"])
        job = self._arn(call, "model-customization-job", f"{base}/{p['jobName']}")
        authorization = Authorization()
        for tags, new in ((p.get("jobTags"), job), (p.get("customModelTags"), model)):
            self._create(authorization, "bedrock:CreateModelCustomizationJob", [model, foundation], tags, new)
        return authorization.need("iam:PassRole", p["roleArn"], **{"iam:PassedToService": "bedrock.amazonaws.com"})

    def _finish_job(self, job: Job) -> None:
        if job.status != "InProgress":
            return
        job.ended = self._now()
        self._unbill(job.arn)
        if job.fate == "Failed":
            job.status = "Failed"
            job.failure_message = self.timing.job_failure_message
        else:
            job.status = "Completed"
            base = job.request["baseModelIdentifier"]
            model = Model(
                arn=f"arn:aws:bedrock:{job.region}:{job.account}:custom-model/{base.rsplit('/', 1)[-1]}/{self.ids()}",
                name=job.request["customModelName"],
                base_model_arn=self._foundation_arn(job.region, base),
                account=job.account,
                region=job.region,
                created=self._now(),
                job_arn=job.arn,
                kms_key=job.request.get("customModelKmsKeyId"),
                created_by=job.created_by,
            )
            self.models[model.arn] = model
            self._tag(model.arn, job.request.get("customModelTags"))
            self._bill("model", model.arn, name=model.name)
            job.model_arn = model.arn
            self._write_metrics(job)
        self._job_event(job)

    def _write_metrics(self, job: Job) -> None:
        """Bedrock writes step-wise training metrics under the output location (user guide,
        model-customization-analyze.html, read 2026-11-30)."""
        output = job.request["outputDataConfig"]["s3Uri"].removeprefix("s3://")
        bucket, _, prefix = output.partition("/")
        if bucket not in self.world.s3.buckets:
            return
        if prefix and not prefix.endswith("/"):
            prefix += "/"
        folder = f"{prefix}model-customization-job-{job.arn.rsplit('/', 1)[1]}"
        key = f"{folder}/training_artifacts/step_wise_training_metrics.csv"
        rows = ["step_number,epoch_number,training_loss"] + [f"{s},{(s - 1) // 5},{2.0 / s:.4f}" for s in range(1, 11)]
        self.world.s3.put(bucket, key, ("\n".join(rows) + "\n").encode())

    def _job_answer(self, job: Job) -> dict[str, Any]:
        p = job.request
        answer: dict[str, Any] = {
            "jobArn": job.arn,
            "jobName": job.name,
            "outputModelName": p["customModelName"],
            "roleArn": p["roleArn"],
            "status": job.status,
            "creationTime": iso(job.created),
            "lastModifiedTime": iso(job.ended or job.created),
            "baseModelArn": self._foundation_arn(job.region, p["baseModelIdentifier"]),
            "trainingDataConfig": p["trainingDataConfig"],
            "validationDataConfig": {"validators": []},
            "outputDataConfig": p["outputDataConfig"],
            "customizationType": p.get("customizationType", "FINE_TUNING"),
        }
        if p.get("clientRequestToken"):
            answer["clientRequestToken"] = p["clientRequestToken"]
        if job.ended:
            answer["endTime"] = iso(job.ended)
        if job.model_arn:
            answer["outputModelArn"] = job.model_arn
        if job.failure_message:
            answer["failureMessage"] = job.failure_message
        if p.get("customizationConfig"):
            answer["customizationConfig"] = p["customizationConfig"]
        if p.get("vpcConfig"):
            answer["vpcConfig"] = p["vpcConfig"]
        return answer

    def get_model_customization_job(self, call: Call) -> dict[str, Any]:
        return self._job_answer(self._find_job(call, call.params["jobIdentifier"]))

    def _job_resource(self, call: Call, identifier: str) -> str:
        try:
            return self._find_job(call, identifier).arn
        except FakeError:
            return (
                identifier if identifier.startswith("arn:") else self._arn(call, "model-customization-job", identifier)
            )

    def authorize_get_model_customization_job(self, call: Call) -> Authorization:
        arn = self._job_resource(call, call.params["jobIdentifier"])
        return Authorization().need("bedrock:GetModelCustomizationJob", arn, **self._resource_tags(arn))

    def stop_model_customization_job(self, call: Call) -> dict[str, Any]:
        job = self._find_job(call, call.params["jobIdentifier"])
        if job.status != "InProgress":
            raise FakeError("ValidationException", f"Job {job.name} is {job.status}; only a job in progress can stop.")
        job.status = "Stopping"
        self._job_event(job)

        def stopped() -> None:
            job.status = "Stopped"
            job.ended = self._now()
            self._unbill(job.arn)
            self._job_event(job)

        self.world.clock.call_later(self.timing.stop_seconds, stopped, service=True)
        return {}

    def authorize_stop_model_customization_job(self, call: Call) -> Authorization:
        arn = self._job_resource(call, call.params["jobIdentifier"])
        return Authorization().need("bedrock:StopModelCustomizationJob", arn, **self._resource_tags(arn))

    def list_model_customization_jobs(self, call: Call) -> dict[str, Any]:
        p = call.params
        jobs = [
            j
            for j in self.jobs.values()
            if (j.account, j.region) == (call.account, call.region)
            and p.get("nameContains", "") in j.name
            and p.get("statusEquals", j.status) == j.status
        ]
        return {
            "modelCustomizationJobSummaries": [
                {
                    "jobArn": j.arn,
                    "baseModelArn": self._foundation_arn(j.region, j.request["baseModelIdentifier"]),
                    "jobName": j.name,
                    "status": j.status,
                    "creationTime": iso(j.created),
                    **({"customModelArn": j.model_arn} if j.model_arn else {}),
                }
                for j in jobs
            ]
        }

    # -- custom models -------------------------------------------------------------------------------------------
    def get_custom_model(self, call: Call) -> dict[str, Any]:
        model = self._find_model(call, call.params["modelIdentifier"])
        answer = {
            "modelArn": model.arn,
            "modelName": model.name,
            "creationTime": iso(model.created),
            "baseModelArn": model.base_model_arn,
            "modelStatus": "Active",
        }
        if model.job_arn:
            answer["jobArn"] = model.job_arn
        return answer

    def list_custom_models(self, call: Call) -> dict[str, Any]:
        contains = call.params.get("nameContains", "")
        found = [
            m
            for m in self.models.values()
            if (m.account, m.region) == (call.account, call.region) and contains in m.name
        ]
        return {
            "modelSummaries": [
                {
                    "modelArn": m.arn,
                    "modelName": m.name,
                    "creationTime": iso(m.created),
                    "baseModelArn": m.base_model_arn,
                    "baseModelName": m.base_model_arn.rsplit("/", 1)[-1],
                }
                for m in sorted(found, key=lambda m: m.created)
            ]
        }

    def authorize_get_custom_model(self, call: Call) -> Authorization:
        arn = self._model_resource(call, call.params["modelIdentifier"])
        return self._on_resource(Authorization(), "bedrock:GetCustomModel", arn)

    def delete_custom_model(self, call: Call) -> dict[str, Any]:
        model = self._find_model(call, call.params["modelIdentifier"])
        if self.served_by(model.arn):
            # A custom model cannot be deleted while a Provisioned Throughput serves it (user guide,
            # prov-thru-delete.html, read 2026-11-30); the error code is not documented: ConflictException here.
            raise FakeError("ConflictException", f"The model {model.arn} is in use by a Provisioned Throughput.")
        del self.models[model.arn]
        self._unbill(model.arn)
        return {}

    def authorize_delete_custom_model(self, call: Call) -> Authorization:
        arn = self._model_resource(call, call.params["modelIdentifier"])
        return self._on_resource(Authorization(), "bedrock:DeleteCustomModel", arn)

    # -- tags ----------------------------------------------------------------------------------------------------
    def tag_resource(self, call: Call) -> dict[str, Any]:
        self._tag(call.params["resourceARN"], call.params["tags"])
        return {}

    def authorize_tag_resource(self, call: Call) -> Authorization:
        arn = call.params["resourceARN"]
        return Authorization().need(
            "bedrock:TagResource", arn, **self._resource_tags(arn), **self._request_tags(call.params["tags"])
        )

    def untag_resource(self, call: Call) -> dict[str, Any]:
        for key in call.params["tagKeys"]:
            self.tags.get(call.params["resourceARN"], {}).pop(key, None)
        return {}

    def authorize_untag_resource(self, call: Call) -> Authorization:
        arn = call.params["resourceARN"]
        return Authorization().need(
            "bedrock:UntagResource", arn, **self._resource_tags(arn), **{"aws:TagKeys": call.params["tagKeys"]}
        )

    def list_tags_for_resource(self, call: Call) -> dict[str, Any]:
        tags = self.tags.get(call.params["resourceARN"], {})
        return {"tags": [{"key": k, "value": v} for k, v in tags.items()]}

    def authorize_list_tags_for_resource(self, call: Call) -> Authorization:
        return self._on_resource(Authorization(), "bedrock:ListTagsForResource", call.params["resourceARN"])

    # -- Provisioned Throughput ----------------------------------------------------------------------------------
    def _base_of(self, call: Call, model_id: str) -> str:
        if model_id in self.shared_models:
            return self.shared_models[model_id]
        if ":custom-model/" in model_id or not model_id.startswith("arn:"):
            return self._find_model(call, model_id).base_model_arn
        return model_id

    def create_provisioned_model_throughput(self, call: Call) -> dict[str, Any]:
        def create() -> str:
            p = call.params
            if any(t.name == p["provisionedModelName"] and t.region == call.region for t in self.throughputs.values()):
                raise FakeError("ValidationException", f"A provisioned model named {p['provisionedModelName']} exists.")
            model = self._find_model(call, p["modelId"])
            in_use = sum(t.model_units for t in self.throughputs.values() if t.region == call.region)
            quota = self.quotas.model_units
            if quota is not None and in_use + p["modelUnits"] > quota:
                raise FakeError(
                    "ServiceQuotaExceededException",
                    f"{in_use} model units are in use; the account's quota is {quota}.",
                )
            throughput = Throughput(
                arn=self._arn(call, "provisioned-model", self.ids()),
                name=p["provisionedModelName"],
                account=call.account,
                region=call.region,
                model_units=p["modelUnits"],
                model_arn=model.arn,
                desired_model_arn=model.arn,
                foundation_model_arn=model.base_model_arn,
                created=self._now(),
                modified=self._now(),
                commitment=p.get("commitmentDuration"),
                created_by=call.caller,
                fate=self.timing.next_throughput_outcomes.pop(0)
                if self.timing.next_throughput_outcomes
                else self.timing.throughput_outcome,
            )
            if throughput.commitment:
                throughput.commitment_expires = self._now() + COMMITMENT_SECONDS[throughput.commitment]
            self.throughputs[throughput.arn] = throughput
            self._tag(throughput.arn, p.get("tags"))
            self._bill("throughput", throughput.arn, units=throughput.model_units, commitment=throughput.commitment)
            self.world.clock.call_later(
                self.timing.throughput_seconds, lambda: self._throughput_ready(throughput), service=True
            )
            return throughput.arn

        return {"provisionedModelArn": self._idempotent(call, create)}

    def authorize_create_provisioned_model_throughput(self, call: Call) -> Authorization:
        p = call.params
        return self._create(
            Authorization(),
            "bedrock:CreateProvisionedModelThroughput",
            [self._model_resource(call, p["modelId"])],
            p.get("tags"),
            self._arn(call, "provisioned-model", p["provisionedModelName"]),
        )

    def _throughput_ready(self, throughput: Throughput) -> None:
        if throughput.arn not in self.throughputs or throughput.status not in ("Creating", "Updating"):
            return
        if throughput.fate == "Failed":
            throughput.status = "Failed"
            throughput.failure_message = "Insufficient capacity for the requested model units"
        else:
            throughput.status = "InService"
            throughput.model_arn = throughput.desired_model_arn
        throughput.modified = self._now()

    def _throughput_answer(self, t: Throughput) -> dict[str, Any]:
        answer = {
            "modelUnits": t.model_units,
            "desiredModelUnits": t.model_units,
            "provisionedModelName": t.name,
            "provisionedModelArn": t.arn,
            "modelArn": t.model_arn,
            "desiredModelArn": t.desired_model_arn,
            "foundationModelArn": t.foundation_model_arn,
            "status": t.status,
            "creationTime": iso(t.created),
            "lastModifiedTime": iso(t.modified),
        }
        if t.failure_message:
            answer["failureMessage"] = t.failure_message
        if t.commitment:
            answer["commitmentDuration"] = t.commitment
            answer["commitmentExpirationTime"] = iso(t.commitment_expires)
        return answer

    def get_provisioned_model_throughput(self, call: Call) -> dict[str, Any]:
        return self._throughput_answer(self._find_throughput(call, call.params["provisionedModelId"]))

    def _throughput_resource(self, call: Call, identifier: str) -> str:
        try:
            return self._find_throughput(call, identifier).arn
        except FakeError:
            return identifier if identifier.startswith("arn:") else self._arn(call, "provisioned-model", identifier)

    def authorize_get_provisioned_model_throughput(self, call: Call) -> Authorization:
        arn = self._throughput_resource(call, call.params["provisionedModelId"])
        return Authorization().need("bedrock:GetProvisionedModelThroughput", arn, **self._resource_tags(arn))

    def update_provisioned_model_throughput(self, call: Call) -> dict[str, Any]:
        throughput = self._find_throughput(call, call.params["provisionedModelId"])
        if throughput.status not in ("InService",):
            raise FakeError(
                "ValidationException", f"The provisioned model is {throughput.status}; it cannot change now."
            )
        if call.params.get("desiredProvisionedModelName"):
            throughput.name = call.params["desiredProvisionedModelName"]
        desired = call.params.get("desiredModelId")
        if desired and desired != throughput.model_arn:
            model = self._find_model(call, desired)
            # A throughput moves only to a custom model of the same base model (user guide, prov-thru-edit.html,
            # read 2026-11-30).
            if model.base_model_arn != throughput.foundation_model_arn:
                raise FakeError("ValidationException", "The new model must be customized from the same base model.")
            throughput.desired_model_arn = model.arn
            throughput.status = "Updating"
            throughput.modified = self._now()
            self.world.clock.call_later(
                self.timing.throughput_update_seconds, lambda: self._throughput_ready(throughput), service=True
            )
        return {}

    def authorize_update_provisioned_model_throughput(self, call: Call) -> Authorization:
        arn = self._throughput_resource(call, call.params["provisionedModelId"])
        authorization = Authorization().need(
            "bedrock:UpdateProvisionedModelThroughput", arn, **self._resource_tags(arn)
        )
        if call.params.get("desiredModelId"):
            model = self._model_resource(call, call.params["desiredModelId"])
            self._on_resource(authorization, "bedrock:UpdateProvisionedModelThroughput", model)
        return authorization

    def delete_provisioned_model_throughput(self, call: Call) -> dict[str, Any]:
        throughput = self._find_throughput(call, call.params["provisionedModelId"])
        if throughput.commitment and self._now() < throughput.commitment_expires:
            # A throughput with a commitment cannot be deleted before its term ends (user guide,
            # prov-thru-delete.html, read 2026-11-30); the error code is not documented.
            raise FakeError("ValidationException", "A Provisioned Throughput with a commitment cannot be deleted yet.")
        del self.throughputs[throughput.arn]
        self._unbill(throughput.arn)
        return {}

    def authorize_delete_provisioned_model_throughput(self, call: Call) -> Authorization:
        arn = self._throughput_resource(call, call.params["provisionedModelId"])
        return Authorization().need("bedrock:DeleteProvisionedModelThroughput", arn, **self._resource_tags(arn))

    def list_provisioned_model_throughputs(self, call: Call) -> dict[str, Any]:
        p = call.params
        found = [
            t
            for t in self.throughputs.values()
            if t.region == call.region
            and p.get("nameContains", "") in t.name
            and p.get("modelArnEquals", t.model_arn) == t.model_arn
            and p.get("statusEquals", t.status) == t.status
        ]
        summaries = []
        for t in found:
            summary = {k: v for k, v in self._throughput_answer(t).items() if k != "failureMessage"}
            summaries.append(summary)
        return {"provisionedModelSummaries": summaries}

    # -- on-demand deployments -----------------------------------------------------------------------------------
    def create_custom_model_deployment(self, call: Call) -> dict[str, Any]:
        def create() -> str:
            p = call.params
            if any(d.name == p["modelDeploymentName"] for d in self.deployments.values()):
                raise FakeError("ValidationException", f"A deployment named {p['modelDeploymentName']} exists.")
            model = self._find_model(call, p["modelArn"])
            deployment = Deployment(
                arn=self._arn(call, "custom-model-deployment", self.ids()),
                name=p["modelDeploymentName"],
                account=call.account,
                region=call.region,
                model_arn=model.arn,
                created=self._now(),
                description=p.get("description"),
                created_by=call.caller,
            )
            self.deployments[deployment.arn] = deployment
            self._tag(deployment.arn, p.get("tags"))
            self._bill("deployment", deployment.arn)
            self.world.clock.call_later(
                self.timing.deployment_seconds, lambda: self._deployment_ready(deployment), service=True
            )
            return deployment.arn

        return {"customModelDeploymentArn": self._idempotent(call, create)}

    def authorize_create_custom_model_deployment(self, call: Call) -> Authorization:
        p = call.params
        return self._create(
            Authorization(),
            "bedrock:CreateCustomModelDeployment",
            [self._model_resource(call, p["modelArn"])],
            p.get("tags"),
            self._arn(call, "custom-model-deployment", p["modelDeploymentName"]),
        )

    def _deployment_ready(self, deployment: Deployment) -> None:
        if deployment.arn in self.deployments and deployment.status == "Creating":
            deployment.status = "Active"

    def _deployment_answer(self, d: Deployment) -> dict[str, Any]:
        answer = {
            "customModelDeploymentArn": d.arn,
            "modelDeploymentName": d.name,
            "modelArn": d.model_arn,
            "createdAt": iso(d.created),
            "status": d.status,
        }
        if d.description:
            answer["description"] = d.description
        if d.update:
            answer["updateDetails"] = dict(d.update)
        return answer

    def get_custom_model_deployment(self, call: Call) -> dict[str, Any]:
        return self._deployment_answer(self._find_deployment(call, call.params["customModelDeploymentIdentifier"]))

    def authorize_get_custom_model_deployment(self, call: Call) -> Authorization:
        arn = self._deployment_resource(call, call.params["customModelDeploymentIdentifier"])
        return self._on_resource(Authorization(), "bedrock:GetCustomModelDeployment", arn)

    def update_custom_model_deployment(self, call: Call) -> dict[str, Any]:
        """A deployment moves to another model in the background and reports the move in updateDetails
        (API reference, CustomModelDeploymentUpdateDetails, read 2026-12-01)."""
        deployment = self._find_deployment(call, call.params["customModelDeploymentIdentifier"])
        if deployment.status != "Active" or (deployment.update or {}).get("updateStatus") == "Updating":
            raise FakeError("ValidationException", "The deployment is being created or updated; try again later.")
        deployment.update = {
            "modelArn": self._find_model(call, call.params["modelArn"]).arn,
            "updateStatus": "Updating",
        }

        def moved() -> None:
            if deployment.arn in self.deployments and deployment.update:
                deployment.model_arn = deployment.update["modelArn"]
                deployment.update = {**deployment.update, "updateStatus": "UpdateCompleted"}

        self.world.clock.call_later(self.timing.deployment_seconds, moved, service=True)
        return {"customModelDeploymentArn": deployment.arn}

    def authorize_update_custom_model_deployment(self, call: Call) -> Authorization:
        arn = self._deployment_resource(call, call.params["customModelDeploymentIdentifier"])
        authorization = self._on_resource(Authorization(), "bedrock:UpdateCustomModelDeployment", arn)
        model = self._model_resource(call, call.params["modelArn"])
        return self._on_resource(authorization, "bedrock:UpdateCustomModelDeployment", model)

    def delete_custom_model_deployment(self, call: Call) -> dict[str, Any]:
        deployment = self._find_deployment(call, call.params["customModelDeploymentIdentifier"])
        del self.deployments[deployment.arn]
        self._unbill(deployment.arn)
        return {}

    def authorize_delete_custom_model_deployment(self, call: Call) -> Authorization:
        arn = self._deployment_resource(call, call.params["customModelDeploymentIdentifier"])
        return self._on_resource(Authorization(), "bedrock:DeleteCustomModelDeployment", arn)

    def list_custom_model_deployments(self, call: Call) -> dict[str, Any]:
        p = call.params
        found = [
            d
            for d in self.deployments.values()
            if d.region == call.region
            and p.get("nameContains", "") in d.name
            and p.get("modelArnEquals", d.model_arn) == d.model_arn
        ]
        return {
            "modelDeploymentSummaries": [
                {
                    "customModelDeploymentArn": d.arn,
                    "customModelDeploymentName": d.name,
                    "modelArn": d.model_arn,
                    "createdAt": iso(d.created),
                    "status": d.status,
                }
                for d in found
            ]
        }

    # -- model copies --------------------------------------------------------------------------------------------
    def create_model_copy_job(self, call: Call) -> dict[str, Any]:
        def create() -> str:
            p = call.params
            if p["sourceModelArn"] not in self.shared_models:
                raise FakeError("ResourceNotFoundException", f"The source model {p['sourceModelArn']} is not shared.")
            copy_job = CopyJob(
                arn=self._arn(call, "model-copy-job", self.ids()),
                account=call.account,
                region=call.region,
                source_model_arn=p["sourceModelArn"],
                target_model_arn="",
                target_model_name=p["targetModelName"],
                kms_key=p.get("modelKmsKeyId"),
                tags=p.get("targetModelTags", []),
                created=self._now(),
                created_by=call.caller,
            )
            base = self.shared_models[p["sourceModelArn"]]
            copy_job.target_model_arn = self._arn(call, "custom-model", f"{base.rsplit('/', 1)[-1]}/{self.ids()}")
            self.copies[copy_job.arn] = copy_job

            def done() -> None:
                copy_job.status = "Completed"
                model = Model(
                    arn=copy_job.target_model_arn,
                    name=copy_job.target_model_name,
                    base_model_arn=base,
                    account=call.account,
                    region=call.region,
                    created=self._now(),
                    kms_key=copy_job.kms_key,
                    created_by=copy_job.created_by,
                )
                self.models[model.arn] = model
                self._tag(model.arn, copy_job.tags)
                self._bill("model", model.arn, name=model.name)

            self.world.clock.call_later(self.timing.copy_seconds, done, service=True)
            return copy_job.arn

        return {"jobArn": self._idempotent(call, create)}

    def authorize_create_model_copy_job(self, call: Call) -> Authorization:
        """On the source model (custom-model, the one resource type the Service Authorization Reference lists for
        it, read 2026-12-02), with the copied model's tags (targetModelTags) as the request's."""
        p = call.params
        return self._create(
            Authorization(),
            "bedrock:CreateModelCopyJob",
            [p["sourceModelArn"]],
            p.get("targetModelTags"),
            self._arn(call, "custom-model", p["targetModelName"]),
        )

    def _copy_answer(self, c: CopyJob) -> dict[str, Any]:
        answer = {
            "jobArn": c.arn,
            "status": c.status,
            "creationTime": iso(c.created),
            "targetModelArn": c.target_model_arn,
            "targetModelName": c.target_model_name,
            "sourceAccountId": c.source_model_arn.split(":")[4],
            "sourceModelArn": c.source_model_arn,
            # The tags the copy gives its model (botocore's ModelCopyJobSummary and GetModelCopyJob targetModelTags).
            "targetModelTags": c.tags,
        }
        if c.failure_message:
            answer["failureMessage"] = c.failure_message
        return answer

    def get_model_copy_job(self, call: Call) -> dict[str, Any]:
        copy_job = self.copies.get(call.params["jobArn"])
        if copy_job is None:
            raise FakeError("ResourceNotFoundException", f"Copy job {call.params['jobArn']} not found.")
        return self._copy_answer(copy_job)

    def authorize_get_model_copy_job(self, call: Call) -> Authorization:
        return Authorization().need("bedrock:GetModelCopyJob", call.params["jobArn"])

    def list_model_copy_jobs(self, call: Call) -> dict[str, Any]:
        p = call.params
        found = [
            c
            for c in self.copies.values()
            if c.region == call.region and p.get("targetModelNameContains", "") in c.target_model_name
        ]
        return {"modelCopyJobSummaries": [self._copy_answer(c) for c in found]}

    # -- invocation logging --------------------------------------------------------------------------------------
    def get_model_invocation_logging_configuration(self, call: Call) -> dict[str, Any]:
        configuration = self.logging.get((call.account, call.region))
        return {"loggingConfig": configuration} if configuration else {}

    def put_model_invocation_logging_configuration(self, call: Call) -> dict[str, Any]:
        configuration = call.params["loggingConfig"]
        bucket = (configuration.get("s3Config") or {}).get("bucketName")
        if bucket and (bucket not in self.world.s3.buckets or bucket in self.world.s3.writes_denied):
            # Bedrock checks that it can write to the destination when the configuration is put (user guide,
            # model-invocation-logging.html, read 2026-11-30).
            raise FakeError("ValidationException", f"Failed to validate permissions for the S3 bucket {bucket}.")
        self.logging[(call.account, call.region)] = configuration
        return {}

    def authorize_put_model_invocation_logging_configuration(self, call: Call) -> Authorization:
        authorization = Authorization().need("bedrock:PutModelInvocationLoggingConfiguration", "*")
        role = (call.params["loggingConfig"].get("cloudWatchConfig") or {}).get("roleArn")
        if role:
            # Delivery to CloudWatch Logs passes the configuration's role to Bedrock.
            authorization.need("iam:PassRole", role, **{"iam:PassedToService": "bedrock.amazonaws.com"})
        return authorization

    def delete_model_invocation_logging_configuration(self, call: Call) -> dict[str, Any]:
        self.logging.pop((call.account, call.region), None)
        return {}


class BedrockRuntime(Service):
    name = "bedrock-runtime"
    iam_prefix = "bedrock"

    def converse(self, call: Call) -> dict[str, Any]:
        bedrock: Bedrock = self.world.bedrock
        model_id = call.params["modelId"]
        throughput = bedrock.throughputs.get(model_id)
        deployment = bedrock.deployments.get(model_id)
        # A throughput moving to another model still serves the one it is moving off: "you might receive output from
        # the old model until the update is fully deployed" (user guide, prov-thru-edit.html, read 2026-12-01).
        serving = (throughput and throughput.status in ("InService", "Updating")) or (
            deployment and deployment.status == "Active"
        )
        if not serving:
            raise FakeError("ValidationException", f"The model {model_id} is not ready to serve.")
        return {
            "output": {"message": {"role": "assistant", "content": [{"text": "OK"}]}},
            "stopReason": "end_turn",
            "usage": {"inputTokens": 10, "outputTokens": 1, "totalTokens": 11},
            "metrics": {"latencyMs": 120},
        }

    def authorize_converse(self, call: Call) -> Authorization:
        # Converse is authorized as bedrock:InvokeModel on the model (Service Authorization Reference for Bedrock).
        return Authorization().need("bedrock:InvokeModel", call.params["modelId"])


class Faults:
    """Errors a scenario injects: each rule matches calls by service and operation and says what happens."""

    def __init__(self) -> None:
        self._rules: list[dict[str, Any]] = []

    def add(self, service: str, operation: str, outcome, *, times: int | None = 1, when=None) -> None:
        """``outcome`` is a FakeError, "lose-response" (Bedrock acts, the answer is lost), or "unreachable";
        ``times`` None means every matching call; ``when(call)`` narrows the match."""
        self._rules.append(
            {"service": service, "operation": operation, "outcome": outcome, "times": times, "when": when}
        )

    def clear(self) -> None:
        self._rules.clear()

    def take(self, call: Call):
        for rule in self._rules:
            if rule["service"] != call.service or rule["operation"] not in (call.operation, "*"):
                continue
            if rule["when"] is not None and not rule["when"](call):
                continue
            if rule["times"] is not None:
                if rule["times"] == 0:
                    continue
                rule["times"] -= 1
            return rule["outcome"]
        return None
