"""Billing sources: where billed LLM cost comes from (one package per cloud).

``SOURCE_MODULES`` is the registry: a provider id → its package, imported only when used (so
``import cascadeflow_cloud.sources`` stays light). Every package offers the same two entry
points (``SourcePackage``): ``open_source(settings, client)`` — the live ``CostSource``
from its config section (``config.sources.<id>``, defaults when absent) — and
``pulls_from_files(paths, scope)`` — saved files of one snapshot, read by the same parsers.
The jobs, the CLI kinds and the IAM parity test iterate the registry; adding a source is one
package and one line here (``docs/architecture.md``).

>>> sorted(SOURCE_MODULES)
['aws_bedrock', 'azure_openai', 'gcp_vertex']
"""

from __future__ import annotations

import importlib
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

if TYPE_CHECKING:
    from cascadeflow_cloud.sources.base import CostSource, Pull

SOURCE_MODULES: dict[str, str] = {
    "aws_bedrock": "cascadeflow_cloud.sources.aws_bedrock",
    "azure_openai": "cascadeflow_cloud.sources.azure_openai",
    "gcp_vertex": "cascadeflow_cloud.sources.gcp_vertex",
}

class SourcePackage(Protocol):
    """What every registered source package offers."""

    def open_source(self, settings: Any | None, client: Any | None = None) -> CostSource: ...

    def pulls_from_files(self, paths: Sequence[Path], scope: str | None = None) -> list[Pull]:
        ...


def source_package(name: str) -> SourcePackage:
    """The registered package of source ``name`` (imported now).

    >>> source_package("gcp_vertex").__name__
    'cascadeflow_cloud.sources.gcp_vertex'
    >>> source_package("aws")
    Traceback (most recent call last):
    ...
    ValueError: unknown source 'aws'; choose aws_bedrock, azure_openai or gcp_vertex
    """
    if name not in SOURCE_MODULES:
        raise ValueError(f"unknown source {name!r}; choose "
                         f"{', '.join(sorted(SOURCE_MODULES)[:-1])} or "
                         f"{sorted(SOURCE_MODULES)[-1]}")
    package: SourcePackage = importlib.import_module(SOURCE_MODULES[name])
    return package


#: The CLI kind for each source (``ingest aws-bedrock …``).
CLI_KINDS: dict[str, str] = {name.replace("_", "-"): name for name in SOURCE_MODULES}
