"""The dashboard built from the demo's lake, opened in headless Chromium (Debian's
``chromium`` + ``chromium-driver``, installed by ``make browser``; selenium drives it).

Every page loads from ``file://`` with no console message; every chart's points equal the
lake's totals summed independently by DuckDB; every "Download CSV" link's file is byte for
byte what ``report --format csv`` prints for the command the page shows; a screenshot of each
page goes to ``tests/dashboard/screenshots/`` (git-ignored) for a person to look at."""

from __future__ import annotations

import csv
import io
import shlex
import shutil
import tempfile
from collections import defaultdict
from collections.abc import Iterator
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlparse

import pytest

from cascadeflow_cloud.cli import main
from cascadeflow_cloud.exports.sql import connect
from cascadeflow_cloud.lake.store import LocalStore
from tests.dashboard.lakes import END, FULL, SINCE, demo_lake

pytestmark = pytest.mark.slow  # a demo lake, a dashboard build and a browser (make test runs it)

CHROMIUM = Path("/usr/bin/chromium")
CHROMEDRIVER = Path("/usr/bin/chromedriver")
SHOTS = Path(__file__).parent / "screenshots"
PAGES = ("index", "budgets", "reconciliation", "alerts")
CENT = 0.005


@pytest.fixture(scope="module")
def built() -> tuple[Path, Path]:
    """(demo folder, dashboard folder) built through the command line."""
    root = demo_lake(*FULL)
    site = Path(tempfile.mkdtemp(prefix="cf-dashboard-"))
    code = main(["--store", str(root / "lake"), "--config", str(root / "cascadeflow.yaml"),
                 "dashboard", "--out", str(site), "--since", SINCE.isoformat(), "--until",
                 END.isoformat(), "--as-of", END.isoformat()])
    assert code == 0
    return root, site


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    if not (CHROMIUM.exists() and CHROMEDRIVER.exists()):
        pytest.fail("headless Chromium is missing: run `make browser` (installs Debian's "
                    "chromium and chromium-driver)")
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    profile = tempfile.mkdtemp(prefix="cf-chromium-")
    options = webdriver.ChromeOptions()
    options.binary_location = str(CHROMIUM)
    for flag in ("--headless", "--no-sandbox", "--disable-gpu",
                 "--disable-background-networking", "--disable-component-update",
                 "--no-first-run", f"--user-data-dir={profile}", "--window-size=1400,1000"):
        options.add_argument(flag)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    driver = webdriver.Chrome(service=Service(str(CHROMEDRIVER)), options=options)
    try:
        yield driver
    finally:
        driver.quit()
        shutil.rmtree(profile, ignore_errors=True)


def _open(browser: Any, site: Path, page: str) -> list[dict[str, Any]]:
    """Load a page; returns the console messages it logged."""
    browser.get((site / f"{page}.html").as_uri())
    assert browser.execute_script("return window.cfReady === true"), f"{page} did not render"
    return list(browser.get_log("browser"))


def _lake(root: Path, sql: str) -> list[tuple[Any, ...]]:
    return list(connect(LocalStore(root / "lake")).execute(sql).fetchall())


def _period(day: date, period: str) -> str:
    if period == "week":
        return (day - timedelta(days=day.weekday())).isoformat()
    return day.isoformat()[:7] if period == "month" else day.isoformat()


def _totals(rows: list[tuple[Any, ...]], period: str) -> dict[str, float]:
    out: dict[str, Decimal] = defaultdict(Decimal)
    for day, amount in rows:
        out[_period(day, period)] += Decimal(amount)
    return {k: float(v) for k, v in out.items()}


def test_every_page_opens_from_file_with_no_console_message(
        built: tuple[Path, Path], browser: Any) -> None:
    _, site = built
    SHOTS.mkdir(exist_ok=True)
    for page in PAGES:
        assert _open(browser, site, page) == []
        assert browser.execute_script("return typeof echarts") == "object"  # vendored, no CDN
        height = browser.execute_script("return document.body.scrollHeight")
        browser.set_window_size(1400, min(int(height) + 40, 3200))
        browser.save_screenshot(str(SHOTS / f"{page}.png"))
        browser.set_window_size(1400, 1000)
    html = (site / "index.html").read_text(encoding="utf-8")
    assert "http://" not in html.split("<script type='application/json'")[0]
    assert "https://" not in html.split("<script type='application/json'")[0]


def test_each_spend_chart_shows_the_lake_s_totals_per_period(
        built: tuple[Path, Path], browser: Any) -> None:
    from selenium.webdriver.support.ui import Select

    root, site = built
    window = f"date BETWEEN DATE '{SINCE}' AND DATE '{END}'"
    billed_all = _lake(root, f"SELECT date, sum(BilledCost) FROM costs WHERE {window} "
                             "GROUP BY date")
    billed_no_credit = _lake(root, f"SELECT date, sum(BilledCost) FROM costs WHERE {window} "
                                   "AND coalesce(ChargeCategory, '') <> 'Credit' GROUP BY date")
    tracked = _lake(root, f"SELECT date, sum(estimated_cost) FROM events WHERE {window} "
                          "GROUP BY date")
    _open(browser, site, "index")
    dims = [o.get_attribute("value") for o in
            Select(browser.find_element("id", "dimension")).options]
    assert dims == ["provider", "model", "team", "customer", "token", "tier"]
    checked = 0
    for dim in dims:
        for period in ("day", "week", "month"):
            Select(browser.find_element("id", "period")).select_by_value(period)
            Select(browser.find_element("id", "dimension")).select_by_value(dim)
            option = browser.execute_script(
                "var k = Object.keys(cfCharts); var o = cfCharts[k[0]].getOption();"
                "return {n: k.length, x: o.xAxis[0].data, series: o.series.map(function (s) {"
                "return {name: s.name, type: s.type, data: s.data}; })};")
            assert option["n"] == 1  # one currency in the demo
            xs = option["x"]
            bars = [s for s in option["series"] if s["type"] == "bar"]
            lines = [s for s in option["series"] if s["name"] == "tracked (est.)"]
            billed = _totals(billed_no_credit if dim in ("team", "customer", "token")
                             else billed_all, period)
            for i, x in enumerate(xs):
                points = [s["data"][i] for s in bars]
                shown = sum(p for p in points if p is not None)
                assert shown == pytest.approx(billed.get(x, 0.0), abs=CENT), (dim, period, x)
                if all(p is None for p in points):
                    assert billed.get(x, 0.0) == 0.0  # pending: nothing billed yet, not 0.00
            if dim == "tier":
                assert lines == []  # the bill's own dimension: no tracked line
            else:
                want = _totals(tracked, period)
                assert lines[0]["data"] == pytest.approx([want.get(x, 0.0) for x in xs],
                                                         abs=CENT)
            assert set(billed) <= set(xs) | {k for k, v in billed.items() if v == 0}
            checked += 1
    assert checked == 18


def test_incomplete_bills_are_one_labelled_area_per_run_of_periods(
        built: tuple[Path, Path], browser: Any) -> None:
    """The days after a provider's last billed day are shaded: each run of consecutive
    incomplete periods is one area with one label (one per day overlapped in the day view, and
    inside the plot the label sat behind the bars)."""
    from selenium.webdriver.support.ui import Select

    root, site = built
    last = dict(_lake(root, f"SELECT ProviderName, max(date) FROM costs WHERE date <= DATE '{END}' "
                            "GROUP BY ProviderName"))
    first_gap, all_gap = min(last.values()), max(last.values())
    days = [SINCE + timedelta(days=i) for i in range((END - SINCE).days + 1)]
    _open(browser, site, "index")
    Select(browser.find_element("id", "dimension")).select_by_value("provider")
    for period in ("day", "month"):
        Select(browser.find_element("id", "period")).select_by_value(period)
        option = browser.execute_script(
            "var o = cfCharts[Object.keys(cfCharts)[0]].getOption();"
            "return {x: o.xAxis[0].data, areas: o.series[0].markArea.data.map(function (a) {"
            "return [a[0].xAxis, a[1].xAxis, a[0].name]; })};")
        partial = {_period(d, period) for d in days if first_gap < d <= all_gap}
        pending = {_period(d, period) for d in days if d > all_gap} - partial
        runs: list[list[str]] = []
        for i, x in enumerate(option["x"]):
            if x not in partial | pending:
                continue
            if runs and runs[-1][1] == option["x"][i - 1]:
                runs[-1][1] = x
            else:
                runs.append([x, x, ""])
            kinds = {"partial" if x in partial else "pending"} | set(runs[-1][2].split())
            runs[-1][2] = " ".join(sorted(kinds - {""}))
        want = [[a, b, {"partial": "bill partial", "pending": "bill pending",
                        "partial pending": "bill partial, then pending"}[k]] for a, b, k in runs]
        assert option["areas"] == want, period
        assert len(want) == 1  # the demo: aws billed through the 29th, the others the 30th


def _links(browser: Any) -> list[tuple[str, str | None]]:
    return browser.execute_script(
        "return Array.from(document.querySelectorAll('a.csv')).map(function (a) {"
        "var c = a.parentNode.querySelector('code');"
        "return [a.href, c ? c.textContent : null]; });")


def _report_bytes(command: str, tmp: Path) -> bytes:
    args = shlex.split(command)
    assert args[0] == "cascadeflow-cloud"
    out = tmp / "report.csv"
    assert main([*args[1:], "--out", str(out)]) == 0
    return out.read_bytes()


def test_each_csv_download_is_report_format_csv_for_that_view(
        built: tuple[Path, Path], browser: Any, tmp_path: Path) -> None:
    from selenium.webdriver.support.ui import Select

    _, site = built
    seen: dict[str, str | None] = {}
    _open(browser, site, "index")
    for dim in ("provider", "model", "team", "customer", "token", "tier"):
        for period in ("day", "week", "month"):
            Select(browser.find_element("id", "period")).select_by_value(period)
            Select(browser.find_element("id", "dimension")).select_by_value(dim)
            seen.update(_links(browser))
    for page in ("budgets", "reconciliation", "alerts"):
        _open(browser, site, page)
        seen.update(_links(browser))
    assert len(seen) == 25
    for href, command in seen.items():
        path = Path(unquote(urlparse(href).path))
        assert path.is_file() and path.parent == site / "csv"
        data = path.read_bytes()
        assert data.startswith(b"\xef\xbb\xbf")
        if command is not None:
            assert data == _report_bytes(command, tmp_path), command
        else:  # budgets, findings, alerts, movers: the page's own table
            rows = list(csv.reader(io.StringIO(data.decode("utf-8-sig"))))
            assert len(rows) >= 2, path.name


def test_budget_charts_show_actual_fan_thresholds_and_the_previous_period(
        built: tuple[Path, Path], browser: Any) -> None:
    import yaml

    root, site = built
    config = yaml.safe_load((root / "cascadeflow.yaml").read_text())
    _open(browser, site, "budgets")
    budgets = browser.execute_script(
        "return Object.keys(cfCharts).map(function (k) { var o = cfCharts[k].getOption();"
        "return {id: k, title: o.title[0].text, series: o.series.map(function (s) {"
        "return {name: s.name, data: s.data, marks: s.markLine ? s.markLine.data.map("
        "function (m) { return m.yAxis; }) : []}; })}; });")
    assert [b["id"] for b in budgets] == [f"budget-{b['name']}" for b in config["budgets"]]
    table = list(csv.DictReader(io.StringIO(
        (site / "csv" / "budgets.csv").read_text(encoding="utf-8-sig"))))
    for b, spec, row in zip(budgets, config["budgets"], table, strict=True):
        series = {s["name"].split(" (")[0]: s for s in b["series"]}
        assert {"actual", "95% interval", "80% interval", "forecast P50",
                "previous period"} <= set(series)
        amount = float(spec["amount"])
        assert series["actual"]["marks"][0] == pytest.approx(amount)
        assert sorted(series["actual"]["marks"][1:]) == pytest.approx([amount * 0.7,
                                                                       amount * 0.9])
        actual = [p["value"] if isinstance(p, dict) else p for p in series["actual"]["data"]]
        assert actual[-1] == pytest.approx(float(row["spent"]), abs=CENT)
        assert row["status"] in b["title"]
        fan = series["forecast P50"]["data"]
        assert [v for v in fan if v is not None][-1] == pytest.approx(
            float(row["projected_p50"]), rel=0.02)
        prev = series["previous period"]["data"]
        # by day of period, cut at this period's length (a longer previous month is cut)
        assert 0 < max(prev) <= float(row["previous_period"]) + CENT


def test_reconciliation_walk_adds_up_to_the_bill(built: tuple[Path, Path],
                                                 browser: Any) -> None:
    _, site = built
    _open(browser, site, "reconciliation")
    walk = browser.execute_script(
        "var o = cfCharts['walk-USD'].getOption(); return [o.series[0].data, o.series[1].data];")
    rows = list(csv.DictReader(io.StringIO((site / "csv" / "reconciliation-provider.csv")
                                           .read_text(encoding="utf-8-sig"))))
    sums = {c: float(sum(Decimal(r[c]) for r in rows)) for c in
            ("tracked", "price_drift", "untracked", "not_estimable", "billed")}
    base, height = walk
    assert height[0] == pytest.approx(sums["tracked"])
    assert height[-1] == pytest.approx(sums["billed"])
    assert base[2] + height[2] == pytest.approx(sums["tracked"] + sums["price_drift"]
                                                + sums["untracked"])
    assert sums["tracked"] + sums["price_drift"] + sums["untracked"] + sums["not_estimable"] \
        == pytest.approx(sums["billed"])
