"""The private dashboard site (``infra/modules/dashboard_site``): parsed with python-hcl2, and the
published site opened in headless Chromium behind the distribution's response headers.

Only the distribution reads the bucket (origin access control; bucket and key policy name that
distribution, ``s3:GetObject`` under ``site/dashboard/`` only), viewers are sent to HTTPS, the
deployment keeps it off by default and points the function at the site bucket only when on; the
CSP the distribution adds lets every page of a published build render with no console message.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Iterator
from datetime import date, timedelta
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

from cascadeflow_cloud.config import Config
from cascadeflow_cloud.demo import generate_events
from cascadeflow_cloud.jobs.publish_dashboard import SITE_PREFIX, publish_dashboard
from cascadeflow_cloud.lake.store import LocalStore
from cascadeflow_cloud.lake.tables import Lake
from tests.dashboard.test_browser import browser
from tests.infra import hcl

__all__ = ["browser"]  # the headless Chromium fixture

SITE = hcl.MODULES / "dashboard_site"


def _policy(resource: str, name: str) -> dict[str, Any]:
    """A jsonencode()d policy of the module as a dict (references kept as text)."""
    text = hcl.resources(SITE, resource)[name]["policy"]
    body = re.sub(r"^\$\{jsonencode\((.*)\)\}$", r"\1", text, flags=re.S)
    assert body != text, text
    return {"text": re.sub(r"\s+", "", body)}  # compared without blanks


def test_only_the_distribution_reads_the_site_and_only_under_its_prefix() -> None:
    bucket = _policy("aws_s3_bucket_policy", "site")["text"]
    allow = re.findall(r'\{[^{}]*Effect="Allow".*?\}\}\}', bucket)
    assert len(allow) == 1, bucket
    [statement] = allow
    assert 'Principal={Service="cloudfront.amazonaws.com"}' in statement
    assert 'Action="s3:GetObject"' in statement
    assert 'Resource="${aws_s3_bucket.site.arn}/${local.prefix}/*"' in statement
    assert '"AWS:SourceArn"=aws_cloudfront_distribution.this.arn' in statement
    assert "aws:SecureTransport" in bucket  # TLS only
    key = _policy("aws_kms_key", "site")["text"]
    assert '"AWS:SourceArn"=aws_cloudfront_distribution.this.arn' in key
    assert 'Action="kms:Decrypt"' in key
    assert hcl.parsed(SITE / "main.tf")["locals"][0]["prefix"] == "site/dashboard"
    block = hcl.resources(SITE, "aws_s3_bucket_public_access_block")["site"]
    assert all(block[f] is True for f in ("block_public_acls", "block_public_policy",
                                          "ignore_public_acls", "restrict_public_buckets"))


def test_the_distribution_is_https_with_origin_access_control_and_headers() -> None:
    dist = hcl.resources(SITE, "aws_cloudfront_distribution")["this"]
    origin = hcl.one(dist["origin"])
    assert origin["origin_access_control_id"] == (
        "${aws_cloudfront_origin_access_control.site.id}")
    assert origin["origin_path"] == "/${local.prefix}" and "s3_origin_config" not in origin
    oac = hcl.resources(SITE, "aws_cloudfront_origin_access_control")["site"]
    assert (oac["signing_behavior"], oac["signing_protocol"]) == ("always", "sigv4")
    behaviour = hcl.one(dist["default_cache_behavior"])
    assert behaviour["viewer_protocol_policy"] == "redirect-to-https"
    assert behaviour["allowed_methods"] == ["GET", "HEAD"]
    assert behaviour["response_headers_policy_id"] == (
        "${aws_cloudfront_response_headers_policy.site.id}")
    assert dist["default_root_object"] == "index.html"
    assert dist["web_acl_id"] == "${var.web_acl_id}"


def test_the_deployment_keeps_the_site_off_and_points_the_function_at_it_when_on() -> None:
    [variable] = [b["dashboard_site"] for b in hcl.parsed(hcl.ENV / "variables.tf")["variable"]
                  if "dashboard_site" in b]
    assert variable["default"] == {} and "optional(bool, false)" in variable["type"]
    call = hcl.modules_of(hcl.ENV)["dashboard_site"]
    assert call["count"] == "${var.dashboard_site.enabled ? 1 : 0}"
    functions = hcl.modules_of(hcl.ENV)["functions"]
    assert "module.dashboard_site[0].bucket_name" in functions["schedule_input"]
    assert "site_store" in functions["schedule_input"]


def _headers() -> dict[str, str]:
    """The headers the distribution adds, from the response-headers policy."""
    policy = hcl.resources(SITE, "aws_cloudfront_response_headers_policy")["site"]
    config = hcl.one(policy["security_headers_config"])
    return {"Content-Security-Policy": hcl.one(config["content_security_policy"])[
                "content_security_policy"],
            "X-Content-Type-Options": "nosniff", "X-Frame-Options": "DENY"}


@pytest.fixture
def served(tmp_path: Path) -> Iterator[str]:
    """A small lake's published site served over HTTP with the distribution's headers and its
    default root object (``/`` is ``index.html``)."""
    until = date(2026, 11, 30)
    lake = LocalStore(tmp_path / "lake")
    Lake(lake).write_events(generate_events(until, days=14))
    publish_dashboard(lake, Config(), since=until - timedelta(days=13), until=until)
    root = tmp_path / "lake" / SITE_PREFIX
    headers = _headers()

    class Handler(SimpleHTTPRequestHandler):
        def __init__(self, *args: Any, **kwargs: Any) -> None:
            super().__init__(*args, directory=str(root), **kwargs)

        def end_headers(self) -> None:
            for name, value in headers.items():
                self.send_header(name, value)
            super().end_headers()

        def log_message(self, *args: Any) -> None:
            return None

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/"
    finally:
        server.shutdown()
        server.server_close()


@pytest.mark.slow
def test_the_published_site_renders_under_the_distribution_s_csp(served: str,
                                                                 browser: Any) -> None:
    from selenium.webdriver.support.ui import WebDriverWait

    browser.get(served)  # the index sends the browser to the build
    WebDriverWait(browser, 20).until(lambda b: "/builds/" in b.current_url)
    for page in ("index", "budgets", "reconciliation", "alerts"):
        browser.get(re.sub(r"[^/]+\.html$", f"{page}.html", browser.current_url))
        WebDriverWait(browser, 20).until(
            lambda b: b.execute_script("return window.cfReady === true"))
        # a CSP violation is a console error; the browser's own favicon request (the site
        # has none: 404 here, 403 from CloudFront) is not the page's
        assert [m for m in browser.get_log("browser")
                if "favicon.ico" not in m["message"]] == [], page
        charts = browser.execute_script("return document.querySelectorAll('canvas').length")
        assert charts > 0 or page != "index", "the spend chart did not draw"  # (no budgets
        # configured here: the other pages have tables, not necessarily charts)
