"""Write the dashboard: four HTML pages with their data embedded as JSON, one CSV per table
(``present.Sheet.csv``, the bytes ``report --format csv`` prints for that view) and the
vendored Apache ECharts (``assets/``, see its README). No server, no CDN: the folder opens
from ``file://`` and from any static host (S3, CloudFront).

Example::

    >>> import tempfile
    >>> from pathlib import Path
    >>> from cascadeflow_cloud.dashboard.build import Site
    >>> from cascadeflow_cloud.present import Sheet
    >>> site = Site({"index": {"spend": {"views": []}}}, {"t": Sheet("t", ("a",), [("x",)])})
    >>> files = write_site(site, Path(tempfile.mkdtemp()))
    >>> sorted(f.name for f in files)[:4]
    ['LICENSE', 'LICENSE-d3', 'NOTICE', 'dashboard.js']
"""

from __future__ import annotations

import html
import json
from decimal import Decimal
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from cascadeflow_cloud.dashboard.build import Site

#: The vendored files copied next to the pages (``assets/README.md`` names their origin).
ASSETS = ("echarts.common.min.js", "LICENSE", "LICENSE-d3", "NOTICE", "dashboard.js")
#: Page file, navigation label, heading.
PAGES = (("index", "Spend", "Spend over time"),
         ("budgets", "Budgets", "Budgets: actual, forecast, thresholds"),
         ("reconciliation", "Reconciliation", "Estimate ↔ bill"),
         ("alerts", "Anomalies & alerts", "Anomalies, alerts sent, top movers"))

_STYLE = """
body{font:14px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;margin:0;color:#1b1f24;
background:#f6f7f9}header{background:#1f4e79;color:#fff;padding:10px 20px;display:flex;
gap:24px;align-items:baseline;flex-wrap:wrap}header b{font-size:16px}nav a{color:#dbe7f3;
margin-right:16px;text-decoration:none}nav a.on{color:#fff;font-weight:600;
border-bottom:2px solid #f4a261}main{padding:16px 20px;max-width:1400px}section{background:#fff;
border:1px solid #dde1e6;border-radius:6px;padding:12px 16px;margin-bottom:16px}
h1{font-size:18px;margin:4px 0 12px}h2{font-size:15px;margin:4px 0 8px}.chart{height:360px}
.small{height:300px}.grid{display:grid;grid-template-columns:repeat(auto-fit,minmax(560px,1fr));
gap:16px}table{border-collapse:collapse;font-size:12.5px;width:100%}th,td{padding:3px 8px;
border-bottom:1px solid #eceef1;text-align:left;white-space:nowrap}td.r,th.r{text-align:right}
tfoot td{font-weight:600;border-top:2px solid #c9ced6}.scroll{max-height:420px;overflow:auto}
.muted{color:#5b6470;font-size:12.5px}code{background:#eef1f4;padding:1px 4px;border-radius:3px;
font-size:12px}.pending{color:#9a5b00;font-weight:600}select{font-size:14px;margin-right:12px}
.status{font-weight:600}.over{color:#c1121f}.risk{color:#9a5b00}.ok{color:#2a7a3b}
"""


def _json_for_html(value: Any) -> str:
    """JSON safe inside ``<script type="application/json">`` (no ``</`` can close it)."""
    def default(obj: Any) -> Any:
        if isinstance(obj, Decimal):
            return str(obj)
        raise TypeError(f"not JSON: {type(obj).__name__}")

    text = json.dumps(value, ensure_ascii=False, separators=(",", ":"), default=default)
    return text.replace("</", "<\\/").replace("<!--", "<\\!--")


def page_html(name: str, page: dict[str, Any]) -> str:
    """One page: the shared header and navigation, its data as JSON, the scripts."""
    title = next(t for n, _, t in PAGES if n == name)
    nav = "".join(f'<a href="{n}.html"{" class=on" if n == name else ""}>{html.escape(label)}'
                  f"</a>" for n, label, _ in PAGES)
    span = f"{page.get('since', '')} … {page.get('until', '')}"
    return (
        "<!DOCTYPE html>\n<html lang=en><head><meta charset=utf-8>"
        "<meta name=viewport content='width=device-width,initial-scale=1'>"
        f"<title>CascadeFlow Cloud · {html.escape(title)}</title><style>{_STYLE}</style>"
        "</head><body><header><b>CascadeFlow Cloud</b><nav>" + nav + "</nav>"
        f"<span class=muted style='color:#dbe7f3'>{html.escape(span)} (UTC) · "
        f"{html.escape(str(page.get('store', '')))}</span></header>"
        f"<main data-page='{name}'><h1>{html.escape(title)}</h1><div id=content></div></main>"
        f"<script type='application/json' id=cf-data>{_json_for_html(page)}</script>"
        "<script src='assets/echarts.common.min.js'></script>"
        "<script src='assets/dashboard.js'></script></body></html>\n"
    )


def write_site(site: Site, out: Path) -> list[Path]:
    """Write every page, CSV and asset under ``out`` (created); returns the files written.

    A file is replaced atomically (written beside, then renamed), so a reader of a
    previous build never sees half a page."""
    out.mkdir(parents=True, exist_ok=True)
    written: list[Path] = []

    def put(path: Path, data: bytes) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(f".{path.name}.tmp")
        tmp.write_bytes(data)
        tmp.replace(path)
        written.append(path)

    assets = resources.files("cascadeflow_cloud.dashboard") / "assets"
    for asset in ASSETS:
        put(out / "assets" / asset, (assets / asset).read_bytes())
    for name, page in site.pages.items():
        put(out / f"{name}.html", page_html(name, page).encode("utf-8"))
    for name, sheet in site.sheets.items():
        put(out / "csv" / f"{name}.csv", sheet.csv().encode("utf-8"))
    return written
