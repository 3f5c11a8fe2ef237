"""The Data Exports wiring (infra/modules/data_exports in infra/envs/example), read from the HCL:
off by default; the bucket policy lets only this account's billing services write; each
manifest write notifies ``ingest_export``; the function reads only the exports' prefix; and the
keys Data Exports writes under that Terraform are the keys the handler acts on and may read."""

from __future__ import annotations

import fnmatch

from cascadeflow_cloud.jobs.ingest_native_event import export_root, manifests_of
from tests.functions.test_ingest_export import s3_event
from tests.infra import hcl

MODULE = hcl.MODULES / "data_exports"


def _variable(directory: object, name: str) -> dict[str, object]:
    for _, block in hcl.blocks(directory, "variable"):  # type: ignore[arg-type]
        if name in block:
            return block[name]  # type: ignore[no-any-return]
    raise AssertionError(f"no variable {name}")


def test_exports_are_off_by_default_and_feed_the_function() -> None:
    setting = _variable(hcl.ENV, "data_exports")
    assert setting["default"] == {} and "enabled = optional(bool, false)" in str(setting["type"])
    call = hcl.modules_of(hcl.ENV)["data_exports"]
    assert call["count"] == "${var.data_exports.enabled ? 1 : 0}"
    assert call["function_arn"] == '${module.functions["ingest_export"].function_arn}'
    assert call["function_name"] == '${module.functions["ingest_export"].function_name}'
    assert call["bucket_name"] == "${local.exports_bucket}"
    assert hcl.locals_of(hcl.ENV)["functions"]["ingest_export"]["trigger"] == "s3"


def test_only_the_billing_services_of_this_account_write_over_tls() -> None:
    doc = hcl.resources(MODULE, "aws_iam_policy_document", kind="data")["exports"]
    write, tls = doc["statement"]
    assert write["actions"] == ["s3:PutObject", "s3:GetBucketPolicy"]
    assert hcl.one(write["principals"])["identifiers"] == [
        "billingreports.amazonaws.com", "bcm-data-exports.amazonaws.com"]
    conditions = {c["variable"]: c["values"] for c in write["condition"]}
    assert conditions["aws:SourceAccount"] == ["${local.account}"]
    assert all(":${local.account}:" in arn for arn in conditions["aws:SourceArn"])
    assert tls["effect"] == "Deny" and hcl.one(tls["condition"])["values"] == ["false"]
    policy = hcl.resources(MODULE, "aws_s3_bucket_policy")["exports"]
    assert policy["bucket"] == "${aws_s3_bucket.exports.id}"
    block = hcl.resources(MODULE, "aws_s3_bucket_public_access_block")["exports"]
    assert all(block[k] is True for k in ("block_public_acls", "block_public_policy",
                                          "ignore_public_acls", "restrict_public_buckets"))


def test_manifest_writes_invoke_the_function_and_it_reads_only_the_prefix() -> None:
    [target] = hcl.resources(MODULE, "aws_s3_bucket_notification")["exports"]["lambda_function"]
    assert target["events"] == ["s3:ObjectCreated:*"]
    assert target["lambda_function_arn"] == "${var.function_arn}"
    permission = hcl.resources(MODULE, "aws_lambda_permission")["manifest"]
    assert permission["principal"] == "s3.amazonaws.com"
    assert permission["source_arn"] == "${aws_s3_bucket.exports.arn}"
    assert permission["source_account"] == "${local.account}"

    # What Data Exports writes with the defaults (prefix "exports", export "<name>-cur2"):
    prefix, name = str(_variable(MODULE, "prefix")["default"]), "cascadeflow"
    bucket = f"{name}-exports-123456789012"
    key = f"{prefix}/{name}-cur2/metadata/BILLING_PERIOD=2025-03/{name}-cur2-Manifest.json"
    data = f"{prefix}/{name}-cur2/data/BILLING_PERIOD=2025-03/part-00000.snappy.parquet"
    assert key.startswith(f"{prefix.strip('/')}/") and key.endswith(target["filter_suffix"])
    assert target["filter_prefix"] == '${trim(var.prefix, "/")}/'
    assert manifests_of(s3_event(key, bucket)) == [(bucket, key)]
    assert export_root(key) == f"{prefix}/{name}-cur2/"
    ingest_urls = hcl.blocks(MODULE, "output")
    urls = [b["ingest_urls"]["value"] for _, b in ingest_urls if "ingest_urls" in b]
    assert "${var.prefix}/${var.name}-cur2/" in str(urls)

    # the function's export_read grant covers that delivery and nothing outside the prefix
    env = hcl.locals_of(hcl.ENV)
    grants = [g.replace("${local.exports_bucket}", bucket)
              .replace('${trim(var.data_exports.prefix, "/")}', prefix)
              for g in env["component_resources"]["export_read"]]
    assert grants == [f"arn:aws:s3:::{bucket}", f"arn:aws:s3:::{bucket}/{prefix}/*"]
    objects = grants[1]
    assert fnmatch.fnmatchcase(f"arn:aws:s3:::{bucket}/{key}", objects)
    assert fnmatch.fnmatchcase(f"arn:aws:s3:::{bucket}/{data}", objects)
    assert not fnmatch.fnmatchcase(f"arn:aws:s3:::{bucket}/other/{key}", objects)
    assert '(component != "export_read" || var.data_exports.enabled)' in env["policy_statements"]
