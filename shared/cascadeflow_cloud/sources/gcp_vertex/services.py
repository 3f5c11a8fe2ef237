"""Which billing-export services the GCP source reads (pure; pyarrow only when masking).

Gemini, Imagen, Veo, embeddings and most Model Garden "Model as a Service" SKUs bill under the
``Vertex AI`` service. Claude on Vertex bills under its own service per model, named like the
model ("Claude Sonnet 4.6"; grafana/cloudcost-exporter ``pkg/google/client/billing.go`` lists
them as the billing account's services whose display name starts with "Claude "), and other
partner models may do the same. A ``ServiceSelection`` is therefore exact service names plus
name prefixes; the query selects both, and the parser keeps exactly the rows it selects.

>>> s = ServiceSelection.default()
>>> s.matches("Vertex AI"), s.matches("Claude Sonnet 4.6"), s.matches("Compute Engine")
(True, True, False)
>>> s.expected("Claude Sonnet 4.6"), s.expected("Vertex AI")
(False, True)
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any, NamedTuple

from cascadeflow_cloud.config import GcpVertexSource

#: The Vertex AI service's id in the Cloud Billing Catalog and the export.
VERTEX_SERVICE_ID = "C7E2-9256-1C43"


class ServiceSelection(NamedTuple):
    """Exact service descriptions (``names``) and service-description ``prefixes`` to read."""

    names: tuple[str, ...]
    prefixes: tuple[str, ...] = ()

    @classmethod
    def default(cls) -> ServiceSelection:
        """Vertex AI and the partner-model services (``GcpVertexSource``'s defaults)."""
        return cls.of()

    @classmethod
    def of(cls, settings: GcpVertexSource | None = None,
           service: str | None = None) -> ServiceSelection:
        """The selection a config section asks for (its ``services`` and
        ``service_prefixes``; the older single ``service`` is read as one more name), plus
        ``service`` when given.

        >>> ServiceSelection.of(service="Vertex AI").names
        ('Vertex AI',)
        """
        if settings is None:
            settings = GcpVertexSource()
        names, prefixes = list(settings.services), list(settings.service_prefixes)
        if settings.service:
            names.append(settings.service)
        if service:
            names.append(service)
        return cls(tuple(dict.fromkeys(names)), tuple(dict.fromkeys(p for p in prefixes if p)))

    def matches(self, service: str | None) -> bool:
        """Whether rows of ``service`` are read."""
        return service is not None and (service in self.names
                                        or service.startswith(self.prefixes))

    def expected(self, service: str | None) -> bool:
        """Whether ``service`` is one the selection names (not found through a prefix)."""
        return service in self.names

    def mask(self, services: Any) -> Any:
        """A boolean Arrow array: which of ``services`` (a string array) are read."""
        import pyarrow as pa
        import pyarrow.compute as pc

        keep = pc.is_in(services, pa.array(list(self.names), pa.string()))
        for prefix in self.prefixes:
            keep = pc.or_kleene(keep, pc.starts_with(services, prefix))
        return pc.fill_null(keep, False)


def described(names: Iterable[str]) -> str:
    """Service names quoted and joined, for log lines and summaries.

    >>> described(["Vertex AI", "Claude Sonnet 4.6"])
    '"Vertex AI", "Claude Sonnet 4.6"'
    """
    return ", ".join(f'"{name}"' for name in names)
