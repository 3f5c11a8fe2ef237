"""Every key prefix the code writes has a retention decision, and the lake module's lifecycle
rules are exactly the ``expire`` decisions, under the lake prefix (issue "Deploy for real" 3)."""

from __future__ import annotations

from datetime import date

from cascadeflow_cloud.alerts.pending import DEADLETTER, OUTBOX, item_key
from cascadeflow_cloud.alerts.state import CHANNEL_STATE_PREFIX, STATE_PREFIX
from cascadeflow_cloud.jobs.detect import FINDINGS_LATEST, FINDINGS_PREFIX
from cascadeflow_cloud.jobs.forecast import RECONCILIATION_LATEST, reconciliation_key
from cascadeflow_cloud.jobs.meter import METER_STATE
from cascadeflow_cloud.lake.artifacts import LATEST_PROJECTIONS, projection_key
from cascadeflow_cloud.lake.layout import cost_partition_key, event_batch_key, quarantine_key
from cascadeflow_cloud.lake.retention import RETENTION, retention_of

from . import hcl

DAYS_VARIABLE = {"quarantine": "${var.quarantine_expiry_days}",
                 "run_artifacts": "${var.run_artifacts_expiry_days}"}


def _lake_rules() -> dict[str, str]:
    """Expiring rules of the lake bucket: prefix under the lake prefix → days expression."""
    rules = hcl.resources(hcl.MODULES / "lake", "aws_s3_bucket_lifecycle_configuration")
    out = {}
    for rule in rules["lake"]["rule"]:
        prefix = hcl.one(rule["filter"]).get("prefix") if rule.get("filter") else None
        if "expiration" in rule and prefix and prefix.startswith("${local.lake}"):
            out[prefix.removeprefix("${local.lake}")] = hcl.one(rule["expiration"])["days"]
    return out


def test_every_key_the_code_builds_has_a_decision() -> None:
    day = date(2026, 11, 1)
    keys = [
        cost_partition_key("aws_bedrock", "123456789012", day), event_batch_key(day, "b1"),
        quarantine_key("events", day, "b1"), item_key(OUTBOX, "alerts", "slack", "m1"),
        item_key(DEADLETTER, "alerts", "slack", "m1"), f"{STATE_PREFIX}x.json",
        f"{CHANNEL_STATE_PREFIX}slack.json", f"{METER_STATE}stripe.json",
        projection_key("ml", "20261101T060000Z"), LATEST_PROJECTIONS,
        reconciliation_key("20261101T060000Z"), RECONCILIATION_LATEST,
        f"{FINDINGS_PREFIX}run=20261101T060000Z.json", FINDINGS_LATEST,
    ]
    assert {key: retention_of(key) for key in keys if retention_of(key) is None} == {}
    assert retention_of(LATEST_PROJECTIONS) == "keep"
    assert retention_of(projection_key("ml", "r")) == "run_artifacts"
    assert retention_of("somewhere-new/x.json") is None


def test_lifecycle_rules_are_exactly_the_expire_decisions() -> None:
    rules = _lake_rules()
    want = {prefix: DAYS_VARIABLE[decision] for prefix, decision in RETENTION.items()
            if decision != "keep"}
    assert rules == want
    kept = [p for p, decision in RETENTION.items() if decision == "keep"]
    assert [(rule, p) for rule in rules for p in kept if p.startswith(rule)] == []


def test_rules_sit_under_the_deployments_lake_prefix() -> None:
    local = hcl.locals_of(hcl.MODULES / "lake")["lake"]
    assert "var.lake_prefix" in local
    assert hcl.modules_of(hcl.ENV)["lake"]["lake_prefix"] == "${var.lake_prefix}"
