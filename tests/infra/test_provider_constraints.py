"""Provider constraints match the attributes used, read from the HCL itself (issue "Deploy for
real" 9). ``terraform validate`` needs the providers' schemas, which this machine cannot
download (no provider mirror, registry.terraform.io unreachable): docs/deploy.md says how to
run it where they are. What can be checked without them is here: every module or root that
uses an attribute or resource newer than a provider release admits only releases that have it,
and so does every root that calls such a module (else ``terraform init`` may pick a provider
that rejects the plan)."""

from __future__ import annotations

import re
from pathlib import Path

from . import hcl

#: (provider, text in the .tf files) => the first release that has it, with the source.
MINIMUM: dict[tuple[str, str], tuple[tuple[int, ...], str]] = {
    ("aws", "invoked_via_function_url"): (
        (6, 42), "aws_lambda_permission.invoked_via_function_url: documented from 6.42"),
    ("azuread", "azuread_application_federated_identity_credential"): (
        (3, 0), "application_id (the application's resource id) replaces "
                "application_object_id in azuread 3.0"),
}


def _lower_bounds(directory: Path) -> dict[str, tuple[int, ...]]:
    bounds: dict[str, tuple[int, ...]] = {}
    for path in sorted(directory.glob("*.tf")):
        for block in hcl.parsed(path).get("terraform", []):
            for providers in block.get("required_providers", []):
                for name, spec in providers.items():
                    found = re.search(r">=\s*([\d.]+)", spec["version"])
                    assert found, (path, name)
                    bounds[name] = tuple(int(p) for p in found.group(1).split("."))
    return bounds


def _module_sources(directory: Path) -> list[Path]:
    return [(directory / str(body["source"])).resolve()
            for body in hcl.modules_of(directory).values()
            if str(body.get("source", "")).startswith(".")]


def _text(directory: Path) -> str:
    return "\n".join(p.read_text() for p in sorted(directory.glob("*.tf")))


def test_every_version_gated_attribute_is_admitted_only_by_releases_that_have_it() -> None:
    directories = sorted({p.parent for p in hcl.tf_files()})
    problems: list[str] = []
    used = 0
    for directory in directories:
        callers = [directory] + [d for d in directories if directory in _module_sources(d)]
        for (provider, marker), (minimum, why) in MINIMUM.items():
            if not re.search(rf"\b{re.escape(marker)}\b", _text(directory)):
                continue
            used += 1
            for caller in callers:
                bound = _lower_bounds(caller).get(provider)
                if bound is None or bound < minimum:
                    problems.append(f"{caller.relative_to(hcl.ROOT)}: {provider} >= "
                                    f"{'.'.join(map(str, bound or ()))} admits releases "
                                    f"without {marker} ({why})")
    assert used >= len(MINIMUM)  # each gated attribute is in use somewhere
    assert problems == [], "\n".join(problems)


def test_the_check_fails_on_a_too_low_bound(tmp_path: Path) -> None:
    """The reader of the constraints: a module admitting aws 6.0 is caught."""
    (tmp_path / "versions.tf").write_text(
        'terraform {\n  required_version = ">= 1.6"\n  required_providers {\n'
        '    aws = {\n      source  = "hashicorp/aws"\n      version = ">= 6.0, < 7.0"\n'
        "    }\n  }\n}\n")
    assert _lower_bounds(tmp_path)["aws"] < MINIMUM[("aws", "invoked_via_function_url")][0]
