"""Build the Lambda artifacts into ``dist/`` (``make package``).

One artifact per dependency set; each holds Linux wheels for the Lambda runtime (CPython 3.11,
x86_64, Amazon Linux 2 so ``manylinux2014``), the project's own code (``cascadeflow_cloud`` and
``functions``), byte-code precompiled with ``--invalidation-mode unchecked-hash`` (zip entries
carry no usable mtimes, so timestamp-checked ``.pyc`` would be recompiled on every cold start),
and is zipped deterministically (sorted entries, fixed timestamps and modes): the same inputs
give the same sha256. ``dist/manifest.json`` records per artifact the zip's sha256, its
unzipped size against Lambda's 250 MB limit, its functions and requirements.

The forecast function ships in the ``lake`` zip by default (the default ``fast`` engine needs
numpy, pandas and pyarrow only). The statsmodels engine's stack (statsmodels, scipy, pandas,
pyarrow) is larger than 250 MB unzipped; it is an opt-in artifact (``selected_by``: Terraform's
``forecast_engine = "statsmodels"``), assembled the same way as a tree (``dist/build/forecast``)
for the container image in ``infra/images/forecast`` and not zipped.

Usage::

    python infra/package.py                 # every default artifact (no opt-in ones)
    python infra/package.py core lake       # only these
    python infra/package.py forecast        # the opt-in statsmodels image tree
    python infra/package.py --all           # every artifact
    python infra/package.py --importtime    # cold import time of each handler from its artifact

Dependencies are installed once per requirement set into ``dist/.cache/`` and reused.
"""

from __future__ import annotations

import argparse
import base64
import hashlib
import json
import os
import py_compile
import re
import shutil
import subprocess
import sys
import tempfile
import tomllib
import zipfile
from compileall import compile_dir
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
RUNTIME_PYTHON = "3.11"
PLATFORM = "manylinux2014_x86_64"  # python3.11 Lambda runtime: Amazon Linux 2 (glibc 2.26), x86_64
LAMBDA_UNZIPPED_LIMIT = 250 * 1024 * 1024  # bytes, function code plus all layers
TASK_ROOT = "/var/task"
ZIP_EPOCH = (1980, 1, 1, 0, 0, 0)

#: Requirements dropped from the extras of zips: duckdb serves the local ``query`` and the
#: dashboard, so only the artifact naming it in ``extra_requirements`` carries it.
EXCLUDED = {"duckdb"}
#: Large packages whose test suites and C headers are not needed at run time.
TRIM_TESTS = ("pandas", "numpy", "scipy", "statsmodels", "pyarrow", "patsy", "matplotlib")
#: Test modules imported at run time: numpy.testing (which scipy imports) needs this one.
KEEP_TEST_FILES = frozenset({"numpy/_core/tests/_natype.py"})
TRIM_PATHS = ("pyarrow/include", "pyarrow/src", "numpy/_core/include", "numpy/core/include")
TRIM_SUFFIXES = (".pyx", ".pxd", ".pxi", ".h", ".hpp", ".cc", ".cpp")
#: Optional Arrow component no function uses (Flight RPC; pyarrow.lib itself needs Substrait).
TRIM_GLOBS = ("pyarrow/libarrow_flight.so*", "pyarrow/_flight*.so")
#: botocore service models kept (the rest of botocore/data is ~28 MB of models for services no
#: function calls). A function calling another service fails with UnknownServiceError in the
#: artifact test (tests/infra/test_package.py), so add the service here.
BOTOCORE_SERVICES = frozenset({
    "s3", "ce", "cloudwatch", "secretsmanager", "ssm", "sts", "sso", "sso-oidc", "kms",
    "dynamodb", "sqs", "logs", "lambda", "stepfunctions", "athena", "glue", "xray",
})


@dataclass(frozen=True)
class Artifact:
    """One Lambda artifact: the pyproject extras it needs and the functions it serves."""

    name: str
    extras: tuple[str, ...]
    functions: tuple[str, ...]
    image: bool = False
    extra_requirements: tuple[str, ...] = field(default=())
    #: An opt-in artifact: the deployment setting that selects it instead of the default
    #: artifact of its functions (``None``: the default artifact).
    selected_by: str | None = None


BASE_EXTRAS = ("aws", "lambda")  # boto3 pinned in the artifact (S3 conditional writes), powertools

ARTIFACTS: dict[str, Artifact] = {
    a.name: a
    for a in (
        Artifact("core", BASE_EXTRAS, ("collect_events", "notify")),
        Artifact("meter", (*BASE_EXTRAS, "lake", "notify"), ("meter_stripe",)),
        Artifact("lake", (*BASE_EXTRAS, "lake"),
                 ("compact_events", "detect_anomalies", "forecast_budgets")),
        # the dashboard's report engine is DuckDB over Arrow (the lake extra without pandas;
        # numpy for the Arrow columns the usage cells are read through)
        Artifact("dashboard", BASE_EXTRAS, ("publish_dashboard",),
                 extra_requirements=("pyarrow>=15.0", "duckdb>=1.1", "numpy>=1.26")),
        Artifact("ingest-aws", (*BASE_EXTRAS, "lake"), ("ingest_aws_bedrock",)),
        # the Query API pull and the scheduled read of the export containers (azure-storage-blob)
        Artifact("ingest-azure", (*BASE_EXTRAS, "lake", "azure"),
                 ("ingest_azure_openai", "ingest_azure_export")),
        # the billing export pull and the scheduled query of the FOCUS views (the same clients)
        Artifact("ingest-gcp", (*BASE_EXTRAS, "lake", "gcp"),
                 ("ingest_gcp_vertex", "ingest_gcp_focus_view")),
        # the native export deliveries (S3-triggered): the native format readers need pyarrow
        Artifact("ingest-export", (*BASE_EXTRAS, "lake"), ("ingest_export",)),
        Artifact("forecast", (*BASE_EXTRAS, "lake", "forecast"), ("forecast_budgets",), image=True,
                 selected_by='forecast_engine = "statsmodels"'),
    )
}


def artifact_for(function: str, *, opt_in: bool = False) -> Artifact:
    """The artifact that carries ``functions/<function>.py`` by default, or with ``opt_in`` its
    opt-in artifact (``selected_by``) where there is one."""
    carriers = [a for a in ARTIFACTS.values() if function in a.functions]
    preferred = [a for a in carriers if (a.selected_by is not None) == opt_in]
    for artifact in preferred + carriers:
        return artifact
    raise KeyError(f"function {function!r} is in no artifact; add it to ARTIFACTS in {__file__}")


def requirements(artifact: Artifact, pyproject: Path = ROOT / "pyproject.toml") -> list[str]:
    """The artifact's requirement specifiers, read from pyproject.toml (core + its extras)."""
    project = tomllib.loads(pyproject.read_text())["project"]
    reqs = list(project["dependencies"])
    optional = project["optional-dependencies"]
    for extra in artifact.extras:
        if extra not in optional:
            raise KeyError(f"artifact {artifact.name}: pyproject.toml has no extra {extra!r}")
        reqs += optional[extra]
    reqs = [r for r in reqs if _project_name(r) not in EXCLUDED] + list(artifact.extra_requirements)
    return sorted(set(reqs), key=str.lower)


def _project_name(spec: str) -> str:
    """``"pandas>=2.1"`` -> ``"pandas"``."""
    return re.split(r"[\s;\[<>=!~]", spec, maxsplit=1)[0].lower()


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def _files(tree: Path) -> list[Path]:
    files = (p for p in tree.rglob("*") if p.is_file())
    return sorted(files, key=lambda p: p.relative_to(tree).as_posix())


def tree_digest(tree: Path) -> str:
    """sha256 over every (relative path, content sha256) of a tree, in sorted order."""
    digest = hashlib.sha256()
    for path in _files(tree):
        digest.update(f"{path.relative_to(tree).as_posix()}\0{_sha256(path)}\n".encode())
    return digest.hexdigest()


def _compile(tree: Path, *, root: Path | None = None, sourceless: bool = False) -> None:
    """Precompile with unchecked-hash byte-code; paths in code objects read /var/task/...

    ``sourceless``: write ``X.pyc`` beside ``X.py`` and drop the source (dependencies only: it
    saves ~10 % of an artifact; their traceback lines then show file and line, not text).
    """
    ok = compile_dir(
        str(tree), quiet=2, workers=0, stripdir=str(root or tree), prependdir=TASK_ROOT,
        legacy=sourceless, invalidation_mode=py_compile.PycInvalidationMode.UNCHECKED_HASH,
    )
    if not ok:
        print(f"warning: some files in {tree} did not compile (kept as source)", file=sys.stderr)
    if sourceless:
        for source in tree.rglob("*.py"):
            if source.with_suffix(".pyc").is_file():
                source.unlink()


def _trim(tree: Path) -> None:
    for package in TRIM_TESTS:
        for tests in sorted((tree / package).rglob("tests")) if (tree / package).is_dir() else []:
            if not tests.is_dir():
                continue
            keep = [f for f in KEEP_TEST_FILES if (tree / f).parent == tests]
            if not keep:
                shutil.rmtree(tests, ignore_errors=True)
                continue
            for child in tests.iterdir():
                if child.relative_to(tree).as_posix() not in keep:
                    shutil.rmtree(child) if child.is_dir() else child.unlink()
    for rel in TRIM_PATHS:
        shutil.rmtree(tree / rel, ignore_errors=True)
    for pattern in TRIM_GLOBS:
        for path in tree.glob(pattern):
            path.unlink()
    for package in TRIM_TESTS:
        if (tree / package).is_dir():
            for path in (tree / package).rglob("*"):
                if path.suffix in TRIM_SUFFIXES and path.is_file():
                    path.unlink()
    shutil.rmtree(tree / "bin", ignore_errors=True)
    _dedupe_shared_libraries(tree / "pyarrow")
    data = tree / "botocore" / "data"
    if data.is_dir():
        for service in data.iterdir():
            if service.is_dir() and service.name not in BOTOCORE_SERVICES:
                shutil.rmtree(service)


def _dedupe_shared_libraries(directory: Path) -> None:
    """Wheels may carry ``libX.so``, ``libX.so.N`` and ``libX.so.N.M.P`` as identical copies;
    the loader needs only the SONAME ``libX.so.N``."""
    if not directory.is_dir():
        return
    for soname in sorted(directory.glob("lib*.so.*")):
        if not re.fullmatch(r"lib.+\.so\.\d+", soname.name):
            continue
        base = soname.name.rsplit(".", 1)[0]
        digest = _sha256(soname)
        for twin in [directory / base, *directory.glob(f"{soname.name}.*")]:
            if twin.is_file() and twin != soname and _sha256(twin) == digest:
                twin.unlink()


def gnu_strip() -> str | None:
    """Path of GNU strip (binutils) if present; stripping is skipped without it (or with
    ``CASCADEFLOW_NO_STRIP=1``)."""
    path = None if os.environ.get("CASCADEFLOW_NO_STRIP") == "1" else shutil.which("strip")
    if path is None:
        return None
    try:
        out = subprocess.run([path, "--version"], capture_output=True, text=True, check=False)
    except OSError:
        return None
    return path if "GNU" in out.stdout else None


def _strip_shared_objects(tree: Path, strip: str) -> None:
    """Drop symbols the dynamic loader does not need (``strip --strip-unneeded``): ~20 MB less
    in the Arrow artifacts (libarrow ships unstripped). Libraries vendored by auditwheel
    (``*.libs/``, or with an RPATH into one) were rewritten by patchelf and strip can corrupt
    them, so they are left alone; every stripped object must still load (``dlopen``) or its
    original is restored."""
    for path in sorted(tree.rglob("*.so*")):
        if not path.is_file() or path.is_symlink() or path.parent.name.endswith(".libs"):
            continue
        data = path.read_bytes()
        if data[:4] != b"\x7fELF" or re.search(rb"\$ORIGIN[^\x00]*\.libs", data):
            continue
        subprocess.run([strip, "--strip-unneeded", str(path)], check=True)
        load = "import ctypes, sys; ctypes.CDLL(sys.argv[1])"
        check = subprocess.run([sys.executable, "-c", load, str(path)], capture_output=True,
                               check=False)
        if check.returncode != 0:
            path.write_bytes(data)


def install_dependencies(reqs: list[str], cache: Path) -> Path:
    """Install Linux wheels for the runtime into a cached folder keyed by the requirement set."""
    strip = gnu_strip()
    layout = f"sourceless-3 strip-2={bool(strip)}"  # bump when trimming or compiling changes
    digest = hashlib.sha256("\n".join([layout, RUNTIME_PYTHON, PLATFORM, *reqs]).encode())
    target = cache / f"deps-{digest.hexdigest()[:16]}"
    if (target / ".complete").exists():
        return target
    cache.mkdir(parents=True, exist_ok=True)
    # A folder of this build's own: two builds of the same set at once (two test workers, two
    # shells) must not install into one folder; the first to finish publishes it.
    partial = Path(tempfile.mkdtemp(prefix=target.name + ".partial-", dir=cache))
    cmd = [
        sys.executable, "-m", "pip", "install", "--quiet", "--no-compile",
        "--platform", PLATFORM, "--implementation", "cp", "--python-version", RUNTIME_PYTHON,
        "--only-binary=:all:", "--target", str(partial), *reqs,
    ]
    subprocess.run(cmd, check=True)
    _trim(partial)
    if strip:
        _strip_shared_objects(partial, strip)
    _compile(partial, sourceless=True)
    if strip:
        (partial / ".stripped").write_text(strip + "\n")
    (partial / ".complete").write_text("\n".join(reqs) + "\n")
    if (target / ".complete").exists():  # another build finished first: keep its folder
        shutil.rmtree(partial, ignore_errors=True)
        return target
    shutil.rmtree(target, ignore_errors=True)  # an unfinished folder of an older layout
    try:
        partial.rename(target)
    except OSError:  # renamed by a concurrent build between the check and here
        shutil.rmtree(partial, ignore_errors=True)
        if not (target / ".complete").exists():
            raise
    return target


def _copy_project(tree: Path) -> None:
    ignore = shutil.ignore_patterns("__pycache__", "*.pyc", "*.pyo")
    shutil.copytree(ROOT / "shared" / "cascadeflow_cloud", tree / "cascadeflow_cloud",
                    ignore=ignore)
    shutil.copytree(ROOT / "functions", tree / "functions", ignore=ignore)


def _link_tree(src: Path, dst: Path) -> None:
    def link(s: str, d: str) -> None:
        try:
            os.link(s, d)
        except OSError:
            shutil.copy2(s, d)

    shutil.copytree(src, dst, copy_function=link,
                    ignore=shutil.ignore_patterns(".complete", ".stripped"))


def write_zip(tree: Path, out: Path) -> None:
    """Zip ``tree`` deterministically: sorted entries, fixed timestamps, normalised modes."""
    tmp = out.with_suffix(".zip.tmp")
    with zipfile.ZipFile(tmp, "w", compression=zipfile.ZIP_DEFLATED, compresslevel=6) as zf:
        for path in _files(tree):
            info = zipfile.ZipInfo(path.relative_to(tree).as_posix(), date_time=ZIP_EPOCH)
            mode = 0o755 if os.access(path, os.X_OK) else 0o644
            info.external_attr = (0o100000 | mode) << 16
            info.compress_type = zipfile.ZIP_DEFLATED
            info.create_system = 3
            with path.open("rb") as fh:
                zf.writestr(info, fh.read(), compresslevel=6)
    tmp.replace(out)


def _base64sha256(path: Path) -> str:
    return base64.b64encode(bytes.fromhex(_sha256(path))).decode()


def build(artifact: Artifact, dist: Path, *, make_zip: bool = True) -> dict[str, object]:
    """Build one artifact (its tree under ``dist/build``, and its zip unless it is an image or
    ``make_zip`` is false); return its manifest entry."""
    reqs = requirements(artifact)
    deps = install_dependencies(reqs, dist / ".cache")
    tree = dist / "build" / artifact.name
    shutil.rmtree(tree, ignore_errors=True)
    tree.parent.mkdir(parents=True, exist_ok=True)
    _link_tree(deps, tree)
    _copy_project(tree)
    _compile(tree / "cascadeflow_cloud", root=tree)
    _compile(tree / "functions", root=tree)
    files = _files(tree)
    unzipped = sum(p.stat().st_size for p in files)
    entry: dict[str, object] = {
        "functions": list(artifact.functions),
        "present_functions": sorted(f for f in artifact.functions
                                    if (ROOT / "functions" / f"{f}.py").exists()),
        "requirements": reqs,
        "package_type": "Image" if artifact.image else "Zip",
        "tree": f"build/{artifact.name}",
        "tree_sha256": tree_digest(tree),
        "files": len(files),
        "unzipped_bytes": unzipped,
        "unzipped_mb": round(unzipped / 1024 / 1024, 1),
        "fits_zip_limit": unzipped <= LAMBDA_UNZIPPED_LIMIT,
        "stripped": (deps / ".stripped").exists(),
    }
    if not artifact.image and make_zip:
        if unzipped > LAMBDA_UNZIPPED_LIMIT:
            raise SystemExit(f"{artifact.name}: {unzipped / 2**20:.1f} MB unzipped exceeds "
                             f"Lambda's 250 MB limit; make it an image artifact")
        out = dist / f"{artifact.name}.zip"
        write_zip(tree, out)
        entry.update(zip=out.name, sha256=_sha256(out), base64sha256=_base64sha256(out),
                     zip_bytes=out.stat().st_size)
    return entry


def _load_manifest(dist: Path) -> dict[str, object]:
    path = dist / "manifest.json"
    if path.exists():
        data = json.loads(path.read_text())
        if isinstance(data, dict):
            return data
    return {}


def write_manifest(dist: Path, entries: dict[str, dict[str, object]]) -> Path:
    manifest = _load_manifest(dist)
    artifacts = dict(manifest.get("artifacts", {}))  # type: ignore[call-overload]
    artifacts.update(entries)
    manifest = {
        "runtime": f"python{RUNTIME_PYTHON}",
        "platform": PLATFORM,
        "limit_unzipped_bytes": LAMBDA_UNZIPPED_LIMIT,
        "artifacts": dict(sorted(artifacts.items())),
    }
    path = dist / "manifest.json"
    path.write_text(json.dumps(manifest, indent=2, sort_keys=True) + "\n")
    return path


def _top_level_import_us(tree: Path, statement: str) -> int:
    code = f"import sys; sys.path[:0] = [{str(tree)!r}]; {statement}"
    proc = subprocess.run([sys.executable, "-I", "-S", "-X", "importtime", "-c", code],
                          capture_output=True, text=True, check=True)
    total = 0
    for line in proc.stderr.splitlines():
        if not line.startswith("import time:"):
            continue
        _, cumulative, name = line[len("import time:"):].split("|")
        if cumulative.strip().isdigit() and name.startswith(" ") and not name.startswith("  "):
            total += int(cumulative)
    return total


def import_time(tree: Path, module: str) -> float:
    """Seconds to import ``module`` cold from ``tree``, from ``python -X importtime``: the
    cumulative time of the top-level imports, minus those of an interpreter that imports nothing."""
    loaded = _top_level_import_us(tree, f"import {module}")
    return (loaded - _top_level_import_us(tree, "pass")) / 1e6


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("artifacts", nargs="*", help=f"subset of {', '.join(ARTIFACTS)}")
    parser.add_argument("--all", action="store_true",
                        help="also the opt-in artifacts (selected_by a deployment setting)")
    parser.add_argument("--dist", type=Path, default=ROOT / "dist")
    parser.add_argument("--importtime", action="store_true",
                        help="report cold import time of each present handler from its built tree")
    args = parser.parse_args(argv)
    if sys.version_info[:2] != tuple(int(x) for x in RUNTIME_PYTHON.split(".")):
        parser.error(f"run with Python {RUNTIME_PYTHON}: byte-code must match the Lambda runtime")
    names = args.artifacts or [n for n, a in ARTIFACTS.items() if args.all or not a.selected_by]
    unknown = [n for n in names if n not in ARTIFACTS]
    if unknown:
        parser.error(f"unknown artifact(s): {', '.join(unknown)}")
    args.dist.mkdir(parents=True, exist_ok=True)
    if args.importtime:
        for name in names:
            tree = args.dist / "build" / name
            for fn in ARTIFACTS[name].functions:
                if not (tree / "functions" / f"{fn}.py").exists():
                    print(f"{fn:22} {name:13} handler not present")
                    continue
                print(f"{fn:22} {name:13} {import_time(tree, f'functions.{fn}') * 1000:8.0f} ms")
        return 0
    entries = {}
    for name in names:
        entry = build(ARTIFACTS[name], args.dist)
        entries[name] = entry
        size = f"{entry['unzipped_mb']:>7} MB unzipped"
        zip_bytes = entry.get("zip_bytes")
        zipped = f", {int(str(zip_bytes)) / 2**20:.1f} MB zip" if zip_bytes else " (image)"
        print(f"{name:13} {size}{zipped}, {entry['files']} files")
    print(f"manifest: {write_manifest(args.dist, entries)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
