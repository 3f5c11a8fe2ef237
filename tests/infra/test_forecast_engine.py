"""The default deployment needs no Docker build (issue "Deploy for real" 6): the forecast
function deploys from the lake zip with the default engine; ``forecast_engine = "statsmodels"``
selects the opt-in container image. The Terraform locals that choose are rendered by the
Terraform CLI itself (``terraform console``: these locals need no provider)."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path
from types import ModuleType

import pytest

from tests.infra import hcl

#: The locals of envs/example that decide how the forecast function is deployed.
ENGINE_LOCALS = ("forecast_artifact", "forecast_image_build", "configured_engine")
ENGINE_VARIABLES = ("forecast_engine", "forecast_image_uri", "config_file")


def test_forecast_defaults_to_the_lake_zip_and_the_image_is_opt_in(package: ModuleType) -> None:
    default = package.artifact_for("forecast_budgets")
    opt_in = package.artifact_for("forecast_budgets", opt_in=True)
    assert (default.name, default.image, default.selected_by) == ("lake", False, None)
    assert (opt_in.name, opt_in.image) == ("forecast", True)
    assert opt_in.selected_by == 'forecast_engine = "statsmodels"'
    # the default engine's stack is the lake's: no statsmodels / scipy in the zip
    names = {package._project_name(r) for r in package.requirements(default)}
    assert {"pandas", "pyarrow"} <= names and not {"statsmodels", "scipy"} & names
    # functions without an opt-in artifact answer their one artifact either way
    assert package.artifact_for("notify", opt_in=True).name == "core"


def _variable_block(name: str) -> str:
    """The text of one ``variable`` block of envs/example/variables.tf."""
    text = (hcl.ENV / "variables.tf").read_text()
    start = text.index(f'variable "{name}" {{')
    end = text.index("\n}\n", start) + 3
    return text[start:end]


def _render(tmp: Path, config: str, **tfvars: str | None) -> dict[str, object]:
    """The engine locals as Terraform evaluates them, for these variables and config file."""
    locals_ = hcl.locals_of(hcl.ENV)
    body = []
    for name in ENGINE_LOCALS:
        expr = locals_[name]
        assert isinstance(expr, str) and expr.startswith("${") and expr.endswith("}"), name
        body.append(f"  {name} = {expr[2:-1]}")
    (tmp / "main.tf").write_text("\n".join(_variable_block(v) for v in ENGINE_VARIABLES)
                                 + "\nlocals {\n" + "\n".join(body) + "\n}\n")
    (tmp / "cascadeflow.yaml").write_text(config)
    args = [f"-var={k}={v}" for k, v in tfvars.items() if v is not None]
    query = "jsonencode({" + ", ".join(f"{n} = local.{n}" for n in ENGINE_LOCALS) + "})\n"
    proc = subprocess.run(["terraform", "console", *args], input=query, cwd=tmp, text=True,
                          capture_output=True, timeout=60, check=False,
                          env={"PATH": "/usr/local/bin:/usr/bin:/bin", "HOME": str(tmp),
                               "TF_CLI_CONFIG_FILE": "/dev/null", "CHECKPOINT_DISABLE": "1"})
    assert proc.returncode == 0, proc.stderr
    return dict(json.loads(json.loads(proc.stdout.strip())))


@pytest.mark.skipif(shutil.which("terraform") is None,
                    reason="the Terraform CLI is not installed: the choice is not rendered")
def test_terraform_deploys_forecast_from_the_zip_unless_statsmodels_is_chosen(
        package: ModuleType, tmp_path: Path) -> None:
    fast = _render(tmp_path, "budgets: []\n")
    assert fast == {"forecast_artifact": package.artifact_for("forecast_budgets").name,
                    "forecast_image_build": False, "configured_engine": "fast"}
    statsmodels = _render(tmp_path, "forecast: {engine: statsmodels}\n",
                          forecast_engine="statsmodels")
    assert statsmodels == {
        "forecast_artifact": package.artifact_for("forecast_budgets", opt_in=True).name,
        "forecast_image_build": True, "configured_engine": "statsmodels"}
    prebuilt = _render(tmp_path, "forecast: {engine: statsmodels}\n",
                       forecast_engine="statsmodels",
                       forecast_image_uri="123456789012.dkr.ecr.us-east-1.amazonaws.com/f:1")
    assert prebuilt["forecast_image_build"] is False
    # a configuration asking for statsmodels while the deployment ships the zip is refused by
    # the layer's precondition (configured_engine != forecast_engine)
    assert _render(tmp_path, "forecast: {engine: statsmodels}\n")["configured_engine"] \
        == "statsmodels"


def test_the_engine_mismatch_is_a_plan_error_and_image_resources_follow_the_choice() -> None:
    layer = hcl.resources(hcl.ENV, "aws_lambda_layer_version")["config"]
    precondition = hcl.one(hcl.one(layer["lifecycle"])["precondition"])
    assert precondition["condition"] == "${local.configured_engine == var.forecast_engine}"
    assert "forecast_engine" in precondition["error_message"]
    image = hcl.resources(hcl.ENV, "terraform_data")["forecast_image"]
    assert image["count"] == "${local.forecast_image_build ? 1 : 0}"
    artifacts = hcl.modules_of(hcl.ENV)["artifacts"]
    assert artifacts["create_image_repository"] == "${local.forecast_image_build}"
    functions = hcl.locals_of(hcl.ENV)["functions"]
    assert functions["forecast_budgets"]["artifact"] == "${local.forecast_artifact}"
