"""Structural: every billed method of the installed SDKs is recorded or declared unbilled with
a reason (issue 18, item 1). A new SDK release that adds a billed method fails here until it
is wrapped or listed in the provider module's UNBILLED table."""

from __future__ import annotations

import functools
import inspect
import pathlib
import re

import pytest

from cascadeflow_cloud.sdk import azure_openai, genai, wrap
from cascadeflow_cloud.sdk import bedrock as bedrock_wrapper

#: the first string literal of every ``_post(`` call in the openai package (its request path)
_POST = re.compile(r'_post\(\s*(?:path_template\(\s*)?f?"([^"]+)"')


def _posted_paths() -> set[str]:
    import openai

    root = pathlib.Path(openai.__file__).parent
    return {m.group(1).partition("?")[0] for f in root.rglob("*.py")
            for m in _POST.finditer(f.read_text(encoding="utf-8"))}


def test_every_openai_post_path_is_recorded_or_declared_unbilled():
    paths = _posted_paths()
    assert {"/chat/completions", "/responses", "/embeddings"} <= paths  # the scan works
    undeclared = sorted(p for p in paths
                        if p not in azure_openai.BILLED and azure_openai.unbilled_reason(p)
                        is None)
    assert undeclared == [], "wrap these in azure_openai.BILLED or list them in UNBILLED"
    stale = sorted(set(azure_openai.BILLED) - paths)
    assert stale == []  # every recorded path still exists in the installed SDK


def test_every_openai_resource_of_the_client_is_accounted(queue):
    import openai

    for kind in (openai.AzureOpenAI, openai.AsyncAzureOpenAI):
        raw = kind(azure_endpoint="http://127.0.0.1:9", api_key="x", api_version="2024-10-21")
        client = wrap(raw, sink=queue)
        resources = [name for name, value in vars(type(raw)).items()
                     if not name.startswith("_") and not name.startswith("with_")
                     and isinstance(value, property | functools.cached_property)]
        for name in resources:
            value = getattr(client, name)
            if not type(value).__module__.startswith("openai.resources"):
                continue
            recorded = any(path.lstrip("/").startswith(name) for path in azure_openai.BILLED)
            assert recorded or azure_openai.unbilled_reason("/" + name), name
        # every resource of the wrapped client sends its requests through the recorded post
        for resource in (client.chat.completions, client.responses, client.images,
                         client.audio.transcriptions, client.beta.responses):
            assert resource._post.__name__ == "recorded_post"


def _public_methods(kind: type) -> set[str]:
    return {name for name, value in vars(kind).items()
            if not name.startswith("_") and inspect.isfunction(value)}


@pytest.mark.parametrize("kind", ["Models", "AsyncModels"])
def test_every_genai_models_method_is_recorded_or_declared_unbilled(kind, vertex, queue):
    from google.genai import models

    methods = _public_methods(getattr(models, kind))
    undeclared = sorted(methods - set(genai.BILLED) - set(genai.UNBILLED))
    assert undeclared == [], "add them to genai.BILLED or genai.UNBILLED"
    assert hasattr(getattr(models, kind), "_generate_content")  # the per-request hop hook
    client = wrap(vertex, sink=queue)
    ours = client.models if kind == "Models" else client.aio.models
    for name in genai.BILLED:
        if name in methods:
            assert name in vars(ours), f"{kind}.{name} is not wrapped"


def test_genai_chats_go_through_the_recorded_models(vertex, queue):
    from google.genai import chats

    client = wrap(vertex, sink=queue)
    calls = {m.group(1) for m in re.finditer(r"self\._modules\.(\w+)\(",
                                             inspect.getsource(chats))}
    assert calls and calls <= set(genai.BILLED)  # every Chat request is a recorded method
    assert client.chats.create(model="m")._modules is client.models
    assert client.aio.chats.create(model="m")._modules is client.aio.models


def test_every_bedrock_runtime_operation_is_recorded_or_declared_unbilled(bedrock, queue):
    from botocore import xform_name

    operations = set(bedrock.meta.service_model.operation_names)
    undeclared = sorted(operations - set(bedrock_wrapper.BILLED) - set(bedrock_wrapper.UNBILLED))
    assert undeclared == [], "add them to bedrock.BILLED or bedrock.UNBILLED"
    assert set(bedrock_wrapper.BILLED) <= operations
    client = wrap(bedrock, sink=queue)
    for operation in bedrock_wrapper.BILLED:
        method = getattr(client, xform_name(operation))
        assert method.__wrapped__ == getattr(bedrock, xform_name(operation)), operation
