"""GCP Vertex AI billed cost from the BigQuery billing export (extra ``gcp``).

One run reads Vertex AI **and** the partner-model services (Claude, Llama, Mistral … on Vertex
bill under their own services): ``services`` says which. The modules:

* ``export``: the live pull (``GcpVertexCostSource``), one pull per billing account;
* ``bigquery``: the clients, the parameterised query and reading its result (Storage Read
  API or REST pages);
* ``readers``: NDJSON files, Arrow tables and record batches, parsed in groups;
* ``parse``: export rows → the lake's cost rows (credits netted, labels as tags);
* ``names``: a SKU description (with its service) → model, token type and charge dimensions;
* ``catalog_skus``: the Cloud Billing Catalog (SKU id → description and list price).

>>> from cascadeflow_cloud.sources.gcp_vertex import names
>>> names.classify("Vertex AI", "Gemini 2.5 Flash GA Text Input - Predictions").model
'gemini-2.5-flash'
"""

from __future__ import annotations

from cascadeflow_cloud.sources.gcp_vertex.export import (
    CLOUD_ROLES,
    COMPONENT,
    GcpVertexCostSource,
    account_from_table,
    pulls_by_account,
    pulls_from_files,
)
from cascadeflow_cloud.sources.gcp_vertex.parse import (
    _credit_sums,
    _plain_timestamps,
    _timestamps,
    parse_export,
)
from cascadeflow_cloud.sources.gcp_vertex.readers import (
    GROUP_ROWS,
    _schema,
    parse_batches,
    parse_ndjson,
    parse_table,
    read_ndjson,
)
from cascadeflow_cloud.sources.gcp_vertex.services import VERTEX_SERVICE_ID, ServiceSelection

#: The live source from its config section (the registry's entry point).
open_source = GcpVertexCostSource

__all__ = [
    "CLOUD_ROLES",
    "COMPONENT",
    "GROUP_ROWS",
    "VERTEX_SERVICE_ID",
    "GcpVertexCostSource",
    "ServiceSelection",
    "_credit_sums",
    "_plain_timestamps",
    "_schema",
    "_timestamps",
    "account_from_table",
    "open_source",
    "parse_batches",
    "parse_export",
    "parse_ndjson",
    "parse_table",
    "pulls_by_account",
    "pulls_from_files",
    "read_ndjson",
]
