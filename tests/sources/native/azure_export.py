"""An Azure Cost Management export as it lands in its container, for the blob tests: the runs
laid out as Cost Management writes them, ``<root>/<export>/<YYYYMMDD-YYYYMMDD>/<run id>/``
with the parts and the run's ``manifest.json`` (``blobs[].blobName`` relative to the
container, ``runInfo``, ``exportConfig``); the parts are the EA ActualCost fixture
(``fixtures/azure/README.md``). ``paths`` lists what a stand-in server was asked.

>>> json.loads(manifest("run-a", "2025-09-03T01:00:00Z", ["x.csv"]))["blobs"]
[{'blobName': 'x.csv'}]
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Callable
from datetime import date
from decimal import Decimal
from pathlib import Path

from cascadeflow_cloud.lake.store import LocalStore
from cascadeflow_cloud.lake.tables import Lake
from cascadeflow_cloud.sources.native.azure_blob import AzureBlobStore
from tests.sources.native.blob_server import FakeBlobService
from tests.support.http import LocalServer

EA_AI = Path(__file__).parent / "fixtures" / "azure" / "ea-actualcost-ai.csv"
RUNS = "cost/ai-cost/20250901-20250930/"
URL = "azblob://devstoreaccount1/exports/cost/ai-cost/"
#: ``open_container(url=URL, retries=0, page_size=2)`` (the fixture): the stand-in opened.
Open = Callable[..., tuple[AzureBlobStore, str]]
EXPORT_ID = ("/subscriptions/5f2c9a1e-7b3d-4e8a-9c6f-0a1b2c3d4e5f/providers/"
             "Microsoft.CostManagement/exports/ai-cost")


def split_parts(text: str, cut: int) -> tuple[bytes, bytes]:
    """The fixture as two CSV parts (each with the header and the byte-order mark)."""
    header, *lines = text.splitlines(keepends=True)
    return ("".join([header, *lines[:cut]]).encode(),
            "".join([header, *lines[cut:]]).encode())


def manifest(run: str, when: str, blobs: list[str]) -> bytes:
    """A run's ``manifest.json`` as Cost Management writes it (the fields the reader uses)."""
    return json.dumps({
        "manifestVersion": "2024-04-01", "dataFormat": "Csv", "blobCount": len(blobs),
        "exportConfig": {"exportName": "ai-cost", "resourceId": EXPORT_ID,
                         "dataVersion": "2021-10-01", "containerName": "exports",
                         "type": "ActualCost", "timeFrame": "MonthToDate"},
        "runInfo": {"executionType": "Scheduled", "submittedTime": when, "runId": run,
                    "startDate": "2025-09-01T00:00:00", "endDate": "2025-09-30T00:00:00"},
        "blobs": [{"blobName": name} for name in blobs]}).encode()


def export_run(svc: FakeBlobService, run: str, when: str, parts: list[bytes],
               also_listed: tuple[str, ...] = ()) -> None:
    """Upload a run: its parts, then its manifest (which also lists ``also_listed``)."""
    names = [f"{RUNS}{run}/part_0_{i + 1:04d}.csv" for i in range(len(parts))]
    for name, data in zip(names, parts, strict=True):
        svc.upload(name, data)
    svc.upload(f"{RUNS}{run}/manifest.json",
               manifest(run, when, names + [f"{RUNS}{run}/{n}" for n in also_listed]))


def as_folder(svc: FakeBlobService, root: Path) -> Path:
    """The container's blobs downloaded under ``root``; the export's folder."""
    for name, data in svc.blobs.items():
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_bytes(data)
    return root / "cost" / "ai-cost"


def lake_days(lake: LocalStore) -> dict[date, Decimal]:
    out: dict[date, Decimal] = {}
    for row in Lake(lake).read_costs().to_pylist():
        day = row["ChargePeriodStart"].date()
        out[day] = out.get(day, Decimal(0)) + row["BilledCost"]
    return out


def lake_rows(lake: LocalStore) -> list[dict[str, object]]:
    return sorted(({k: v for k, v in row.items() if k != "x_IngestedAt"}
                   for row in Lake(lake).read_costs().to_pylist()), key=repr)


def expected_days(text: str) -> dict[date, Decimal]:
    """Σ CostInBillingCurrency per day of the fixture's AI lines (all but Virtual Network)."""
    out: dict[date, Decimal] = {}
    for row in csv.DictReader(io.StringIO(text.lstrip("\ufeff"))):
        if row["MeterCategory"] != "Virtual Network":
            month, day, year = (int(p) for p in row["Date"].split("/"))
            out[date(year, month, day)] = out.get(date(year, month, day), Decimal(0)) \
                + Decimal(row["CostInBillingCurrency"])
    return out


def paths(server: LocalServer) -> list[str]:
    return [r.path for r in server.requests]
