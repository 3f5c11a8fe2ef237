"""``terraform validate`` on every root, where the machine has the providers (issue "Deploy for
real" 9). It needs the aws / azurerm / azuread / google provider schemas: from a local provider
mirror (a ``-plugin-dir`` tree ``registry.terraform.io/<namespace>/<type>/…``), since the
registry is not reachable from CI here. Without one the test skips and says where it looked —
the checks that need no schema are in test_provider_constraints.py and test_terraform.py."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path

import pytest

from tests.infra.hcl import ENV

ROOTS = [ENV, ENV / "azure-reader", ENV / "gcp-reader"]
#: Where Terraform looks for providers without a network (its implied local mirrors), and
#: ``CASCADEFLOW_TF_PLUGIN_DIR`` for a mirror elsewhere.
MIRRORS = [Path(p).expanduser() for p in (
    os.environ.get("CASCADEFLOW_TF_PLUGIN_DIR", ""), "~/.terraform.d/plugins",
    "~/.local/share/terraform/plugins", "/usr/local/share/terraform/plugins",
    "/usr/share/terraform/plugins") if p]


def _providers(root: Path) -> set[str]:
    text = " ".join(p.read_text() for p in root.glob("*.tf"))
    return {f"hashicorp/{name}" for name in ("aws", "azurerm", "azuread", "google", "archive",
                                               "null", "random")
            if f'"hashicorp/{name}"' in text}


def _mirror_for(providers: set[str]) -> Path | None:
    for mirror in MIRRORS:
        if all((mirror / "registry.terraform.io" / p).is_dir() for p in providers):
            return mirror
    return None


@pytest.mark.parametrize("root", ROOTS, ids=lambda r: r.name)
def test_terraform_validate_where_the_providers_are_mirrored(root: Path, tmp_path: Path) -> None:
    providers = _providers(root)
    assert providers, f"{root} declares no hashicorp provider: the parser above is wrong"
    if shutil.which("terraform") is None:
        pytest.skip("the Terraform CLI is not installed")
    mirror = _mirror_for(providers)
    if mirror is None:
        pytest.skip(f"no local mirror of {sorted(providers)} (looked in "
                    f"{', '.join(str(m) for m in MIRRORS)}; set CASCADEFLOW_TF_PLUGIN_DIR) and "
                    "registry.terraform.io is unreachable here: terraform validate needs the "
                    "providers' schemas")
    # in place (the roots call ../../modules by relative path); .terraform in tmp_path and
    # a lock file that was not there before removed again
    lock = root / ".terraform.lock.hcl"
    had_lock = lock.exists()
    env = {**os.environ, "TF_CLI_CONFIG_FILE": "/dev/null", "CHECKPOINT_DISABLE": "1",
           "TF_IN_AUTOMATION": "1", "TF_DATA_DIR": str(tmp_path / ".terraform")}
    try:
        _init_and_validate(root, mirror, env)
    finally:
        if not had_lock:
            lock.unlink(missing_ok=True)


def _init_and_validate(target: Path, mirror: Path, env: dict[str, str]) -> None:
    init = subprocess.run(["terraform", f"-chdir={target}", "init", "-backend=false",
                           "-input=false", f"-plugin-dir={mirror}"],
                          capture_output=True, text=True, env=env, check=False, timeout=600)
    assert init.returncode == 0, init.stderr
    validate = subprocess.run(["terraform", f"-chdir={target}", "validate", "-json"],
                              capture_output=True, text=True, env=env, check=False, timeout=600)
    report = json.loads(validate.stdout)
    assert report["valid"], report["diagnostics"]
