"""Fixtures of the infra tests: the packaging script loaded as a module."""

from __future__ import annotations

import importlib.util
import sys
from types import ModuleType

import pytest

from tests.infra.hcl import INFRA


def load_package_script() -> ModuleType:
    """infra/package.py (a script, not part of the library) imported by path."""
    name = "cascadeflow_infra_package"
    if name in sys.modules:
        return sys.modules[name]
    spec = importlib.util.spec_from_file_location(name, INFRA / "package.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="session")
def package() -> ModuleType:
    return load_package_script()
