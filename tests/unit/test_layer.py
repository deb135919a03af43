"""The boto3 layer keeps botocore's data only for the services the handlers call: every client they create is kept."""

from __future__ import annotations

import re

from distill.constructs.handler_function import LAMBDA_ROOT, LAYER_SERVICES, boto3_layer_directory

CLIENT = re.compile(r"""(?:client|LazyClient)\(\s*["']([a-z0-9-]+)["']""")


def test_every_service_a_handler_calls_is_kept_in_the_layer():
    used = {name for path in LAMBDA_ROOT.rglob("*.py") for name in CLIENT.findall(path.read_text())}
    assert used, "the pattern finds the handlers' clients"
    assert used <= set(LAYER_SERVICES)


def test_the_built_layer_carries_the_kept_services_and_nothing_else():
    data = boto3_layer_directory()[0] / "python" / "botocore" / "data"
    assert {entry.name for entry in data.iterdir() if entry.is_dir()} == set(LAYER_SERVICES)
    assert (data / "endpoints.json").is_file()
