"""Importing the package (and the light modules handlers use) pulls in no heavy library."""

from __future__ import annotations

import json
import subprocess
import sys

HEAVY = ("boto3", "botocore", "pandas", "pyarrow", "statsmodels", "numpy", "azure", "google")


def _modules_after(code: str) -> set[str]:
    out = subprocess.run(
        [sys.executable, "-c", code + "\nimport sys, json; print(json.dumps(sorted(sys.modules)))"],
        check=True, capture_output=True, text=True,
    ).stdout
    return set(json.loads(out.splitlines()[-1]))


def test_import_package_is_light() -> None:
    loaded = _modules_after("import cascadeflow_cloud")
    assert not [m for m in loaded if m.split(".")[0] in HEAVY]


def test_light_modules_stay_light() -> None:
    loaded = _modules_after(
        "import cascadeflow_cloud.schema, cascadeflow_cloud.config, cascadeflow_cloud.secrets, "
        "cascadeflow_cloud.lake, cascadeflow_cloud.lake.eventlog, cascadeflow_cloud.privacy"
    )
    heavy = sorted(m for m in loaded if m.split(".")[0] in HEAVY)
    assert heavy == []
