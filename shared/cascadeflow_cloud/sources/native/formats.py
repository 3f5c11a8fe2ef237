"""The one protocol every native export format follows, and the registry of formats.

A format recognises its export from the header (``matches``) and maps a table of raw export
rows onto ``lake.tables.COST_SCHEMA`` (``to_costs``), classifying each line with its cloud's
``names.classify``: rows it cannot read go to ``Parsed.rejected`` with a reason (one bad row
costs only itself), lines of services ``keep`` leaves out are counted in ``Parsed.ignored``.
Formats do no I/O; they are imported only when used.

>>> Keep().ai_only, Keep.everything().ai_only
(True, False)
>>> Keep(services=("Amazon Simple Storage Service",)).keeps_service("amazon simple storage service")
True
>>> sorted(FORMATS) == sorted(set(FORMATS))
True
"""

from __future__ import annotations

import importlib
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Protocol

from cascadeflow_cloud.errors import CascadeFlowError

if TYPE_CHECKING:
    import pyarrow as pa

    from cascadeflow_cloud.sources.base import Parsed


class UnknownFormat(CascadeFlowError):
    """No registered format recognises a file's columns."""


@dataclass(frozen=True)
class Keep:
    """Which lines of an export to keep: by default the AI-service lines only (each format
    knows its cloud's AI services); ``services`` adds more by name (case-insensitive);
    ``everything()`` keeps every line."""

    ai_only: bool = True
    services: tuple[str, ...] = ()

    @classmethod
    def everything(cls) -> Keep:
        return cls(ai_only=False)

    def keeps_service(self, name: str | None) -> bool:
        """Whether a line of a non-AI service ``name`` is kept anyway."""
        if not self.ai_only:
            return True
        wanted = {s.casefold() for s in self.services}
        return name is not None and name.casefold() in wanted


class NativeFormat(Protocol):
    """One export kind (``name`` is its registry key)."""

    name: str

    def matches(self, columns: Sequence[str]) -> bool:
        """Whether a header with these column names is this format (case-insensitive)."""
        ...

    def to_costs(self, table: pa.Table, *, keep: Keep) -> Parsed:
        """The kept lines of ``table`` as cost rows (``Parsed.table`` in ``COST_SCHEMA``)."""
        ...


#: name -> "module:attribute" of its ``NativeFormat`` (imported when used). Order matters for
#: ``detect``: the first format that matches wins, so list specific formats before general ones.
FORMATS: dict[str, str] = {}


def native_format(name: str) -> NativeFormat:
    """The registered format ``name`` (imported now)."""
    if name not in FORMATS:
        known = ", ".join(FORMATS) or "none registered"
        raise UnknownFormat(f"unknown export format {name!r}; known: {known}")
    module, _, attribute = FORMATS[name].partition(":")
    found: NativeFormat = getattr(importlib.import_module(module), attribute)
    return found


def detect(columns: Sequence[str]) -> NativeFormat:
    """The first registered format whose ``matches`` accepts ``columns``.

    >>> detect(["a", "b"])
    Traceback (most recent call last):
    ...
    cascadeflow_cloud.sources.native.formats.UnknownFormat: no known export format has ...
    """
    for name in FORMATS:
        candidate = native_format(name)
        if candidate.matches(columns):
            return candidate
    shown = ", ".join(list(columns)[:8]) + (" …" if len(columns) > 8 else "")
    raise UnknownFormat(f"no known export format has columns {shown}; known formats: "
                        f"{', '.join(FORMATS) or 'none registered'} (pass --format to choose)")
