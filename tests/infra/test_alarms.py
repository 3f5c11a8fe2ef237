"""Every function has an error, throttle and dead-letter-queue alarm; the jobs' own metrics
for dead-lettered alerts and quarantined input have alarms whose metric names and dimensions
are the ones the runtime emits (issue "Deploy for real" 2)."""

from __future__ import annotations

import re

from tests.functions.test_runtime import CASES, DELIVERY

from . import hcl

ALARMS = hcl.MODULES / "alarms"


def test_each_function_gets_error_throttle_and_dead_letter_alarms() -> None:
    for name in ("errors", "throttles", "dead_letters"):
        alarm = hcl.resources(ALARMS, "aws_cloudwatch_metric_alarm")[name]
        assert alarm["for_each"] == "${var.functions}", name
    call = hcl.modules_of(hcl.ENV)["alarms"]
    assert "module.functions" in call["functions"]  # every deployed function, none picked


def test_job_metric_alarms_watch_what_the_runtime_emits() -> None:
    job = hcl.resources(ALARMS, "aws_cloudwatch_metric_alarm")["job"]
    assert job["namespace"] == "CascadeFlow" and job["for_each"] == "${var.job_alarms}"
    expression = hcl.modules_of(hcl.ENV)["alarms"]["job_alarms"]
    assert re.search(r'for fn in \[\\?"notify\\?", \\?"meter_stripe\\?"\]', expression)
    # notify and meter_stripe both answer through jobs.handlers._delivery (the DELIVERY set)
    assert "PendingDeadLetters" in DELIVERY and CASES["notify"][2] == DELIVERY
    for function in ("collect_events", "ingest_aws_bedrock", "ingest_azure_openai",
                     "ingest_gcp_vertex"):
        assert "Quarantined" in CASES[function][2], function
    # ingest blobs carry service + source; the alarm's dimensions must be exactly those
    assert CASES["ingest_aws_bedrock"][4] == {"source": "aws_bedrock"}
    assert "source = trimprefix(fn, \\\"ingest_\\\")" in expression \
        or 'source = trimprefix(fn, "ingest_")' in expression
