"""Dashboard build time and page weight for 1 year × 50 teams × 20 models, and the time the
spend page takes to open in headless Chromium (issue 20: built ≤ 10 s, opens ≤ 2 s).

The lake: 365 UTC days; each day one event per (team, model) — 18,250 rows per team-year,
365,000 events — with customers, and the bill of each model per day in input and output rows
(three providers). Built by ``dashboard.build.build_dashboard`` + ``site.write_site`` (no
budgets: their forecast time is ``bench_forecast``'s). "Opens" is navigation start to
``window.cfReady`` (the page's charts drawn) on ``index.html`` from ``file://``; ``n/a`` when
Chromium is not installed (``make browser``). ``build_cpu_seconds`` is the build's CPU time
(less dependent on the machine's load than wall time). ``quick``: 60 days × 10 teams × 5
models.
"""

from __future__ import annotations

import tempfile
import time
from datetime import date, timedelta
from pathlib import Path

from benchmarks._lakes import PROVIDERS, bill_rows, cost_table, team_model_day
from benchmarks._measure import quick

TARGETS = {"build_seconds": "<= 10", "build_cpu_seconds": "<= 10", "open_seconds": "<= 2"}


def _lake(root: Path, days: int, teams: int, models: int) -> tuple[object, date, date]:
    from cascadeflow_cloud.lake.store import LocalStore
    from cascadeflow_cloud.lake.tables import Lake

    store = LocalStore(root)
    lake = Lake(store)
    end = date(2026, 11, 30)
    start = end - timedelta(days=days - 1)
    for d in range(days):
        day = start + timedelta(days=d)
        rows = bill_rows(day, team_model_day(store, day, d, teams, models))
        for p in PROVIDERS:
            lake.replace_cost_days(p, "bench", [day], cost_table(rows[p]))
    return store, start, end


def _open_seconds(index: Path) -> float | str:
    chromium, driver = Path("/usr/bin/chromium"), Path("/usr/bin/chromedriver")
    if not (chromium.exists() and driver.exists()):
        return "n/a"
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = str(chromium)
    for flag in ("--headless", "--no-sandbox", "--disable-gpu",
                 "--disable-background-networking", "--disable-component-update",
                 "--no-first-run", f"--user-data-dir={tempfile.mkdtemp()}"):
        options.add_argument(flag)
    browser = webdriver.Chrome(service=Service(str(driver)), options=options)
    try:
        browser.get(index.as_uri())  # warm: the first start of a profile is not the page
        best = float("inf")
        for _ in range(3):
            browser.get(index.as_uri())
            ready = browser.execute_script(
                "return window.cfReady ? performance.now() : null")
            assert ready is not None
            best = min(best, float(ready) / 1000)
        return round(best, 3)
    finally:
        browser.quit()


def run() -> dict[str, object]:
    from cascadeflow_cloud.config import Config
    from cascadeflow_cloud.dashboard.build import build_dashboard
    from cascadeflow_cloud.dashboard.site import write_site

    days, teams, models = (60, 10, 5) if quick() else (365, 50, 20)
    root = Path(tempfile.mkdtemp(prefix="bench-dashboard-"))
    store, since, until = _lake(root / "lake", days, teams, models)
    t0, c0 = time.perf_counter(), time.process_time()
    site = build_dashboard(store, Config(), since, until)  # type: ignore[arg-type]
    files = write_site(site, root / "site")
    build, cpu = time.perf_counter() - t0, time.process_time() - c0
    pages = {f.name: f.stat().st_size for f in files if f.suffix == ".html"}
    return {
        "events": days * teams * models, "days": days, "teams": teams, "models": models,
        "build_seconds": round(build, 2), "build_cpu_seconds": round(cpu, 2),
        "page_weight_mb": {"index": round(pages["index.html"] / 1e6, 2),
                           "all_pages": round(sum(pages.values()) / 1e6, 2),
                           "csv_total": round(sum(f.stat().st_size for f in files
                                                  if f.suffix == ".csv") / 1e6, 2),
                           "echarts_js": round((root / "site" / "assets" /
                                                "echarts.common.min.js").stat().st_size
                                               / 1e6, 2)},
        "open_seconds": _open_seconds(root / "site" / "index.html"),
    }
