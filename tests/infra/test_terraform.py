"""Static checks of the Terraform tree: parsed with python-hcl2, no cloud and no Terraform CLI.

Every handler has a function, role, log group and trigger; every variable and output is
documented; IAM grants are exactly the ones the code declares (cascadeflow_cloud.permissions);
the catalog matches the lake's schemas; no secret value appears anywhere.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from cascadeflow_cloud import permissions
from tests.infra import hcl

#: The functions of docs/deploy.md (its Functions table): the handlers the deployment must
#: carry even before their modules are merged; after the merge the functions/ listing covers
#: them too.
PLANNED_FUNCTIONS = {
    "collect_events", "ingest_aws_bedrock", "ingest_azure_openai", "ingest_gcp_vertex",
    "forecast_budgets", "notify", "meter_stripe", "compact_events", "detect_anomalies",
    "ingest_export", "ingest_azure_export", "ingest_gcp_focus_view", "publish_dashboard",
}
FUNCTION_MODULE = hcl.MODULES / "function"
FANOUT_MODULE = hcl.MODULES / "fanout"


def present_handlers() -> set[str]:
    return {p.stem for p in (hcl.ROOT / "functions").glob("*.py") if p.stem != "__init__"}


def deployed_functions() -> dict[str, dict[str, object]]:
    functions = hcl.locals_of(hcl.ENV)["functions"]
    assert isinstance(functions, dict)
    return functions


# ---------------------------------------------------------------- parsing and documentation
def test_every_tf_file_parses_and_the_tree_is_complete() -> None:
    files = hcl.tf_files()
    for path in files:
        assert isinstance(hcl.parsed(path), dict), path
    dirs = {p.parent.relative_to(hcl.INFRA).as_posix() for p in files}
    expected = {f"modules/{m}" for m in ("lake", "function", "secrets", "catalog", "alarms",
                                          "azure_reader", "gcp_reader", "fanout", "artifacts")}
    assert expected | {"envs/example"} <= dirs


def test_every_variable_and_output_is_documented() -> None:
    undocumented = []
    count = 0
    for path in hcl.tf_files():
        for kind in ("variable", "output"):
            for block in hcl.parsed(path).get(kind, []):
                for name, body in block.items():
                    count += 1
                    description = body.get("description", "")
                    if not isinstance(description, str) or len(description.strip()) < 8:
                        undocumented.append(f"{path.relative_to(hcl.ROOT)}: {kind} {name}")
    assert count > 60
    assert not undocumented, undocumented


def _required_providers(directory: Path) -> dict[str, str]:
    """provider => version constraint, from every ``terraform`` block of one directory."""
    found: dict[str, str] = {}
    for _, block in hcl.blocks(directory, "terraform"):
        for providers in block.get("required_providers", []):
            for name, spec in providers.items():
                found[name] = spec["version"]
    return found


def _roots() -> list[Path]:
    """The directories ``terraform apply`` runs in: those that configure a provider."""
    return sorted({path.parent for path in hcl.tf_files() if hcl.parsed(path).get("provider")})


def test_roots_pin_terraform_and_providers_with_upper_bounds_and_modules_state_minimums() -> None:
    """HashiCorp's split (Version Constraints, best practices): a reusable module states only
    the minimum provider versions it needs; the root a user applies sets Terraform's version
    and an upper bound on every provider, so a major release is admitted in one place."""
    roots = _roots()
    assert {r.relative_to(hcl.INFRA).as_posix() for r in roots} == {
        "envs/example", "envs/example/azure-reader", "envs/example/gcp-reader"}
    for root in roots:
        versions = [b for _, b in hcl.blocks(root, "terraform")]
        assert versions and all("required_version" in b for b in versions), root
        pins = _required_providers(root)
        assert pins, root
        for name, constraint in pins.items():
            assert re.search(r">=\s*[\d.]+,\s*<\s*[\d.]+", constraint), (root, name)
    modules = sorted(p for p in hcl.MODULES.iterdir() if p.is_dir())
    assert len(modules) >= 10
    for module in modules:
        minimums = _required_providers(module)
        assert minimums, f"{module.name} declares no provider"
        for name, constraint in minimums.items():
            assert re.fullmatch(r">=\s*[\d.]+", constraint), (module.name, name, constraint)


def test_every_provider_a_called_module_needs_is_bounded_by_the_root_that_calls_it() -> None:
    """A module's providers come from its caller: each is pinned there (upper bound), and the
    root's lower bound is at least the module's minimum."""
    def version(text: str) -> tuple[int, ...]:
        found = re.search(r">=\s*([\d.]+)", text)
        assert found, text
        return tuple(int(p) for p in found.group(1).split("."))

    checked = 0
    for root in _roots():
        pins = _required_providers(root)
        for body in hcl.modules_of(root).values():
            source = str(body.get("source", ""))
            if not source.startswith("."):
                continue
            module = (root / source).resolve()
            for name, minimum in _required_providers(module).items():
                checked += 1
                assert name in pins, f"{root.name} calls {module.name} but does not pin {name}"
                assert version(pins[name]) >= version(minimum), (root.name, module.name, name)
    assert checked >= 10


# ---------------------------------------------------------------- functions and triggers
def test_every_handler_has_a_function_role_log_group_and_trigger() -> None:
    functions = deployed_functions()
    handlers = present_handlers() | PLANNED_FUNCTIONS
    assert handlers <= set(functions), handlers - set(functions)
    assert set(functions) <= handlers, "a deployed function has no planned or present handler"

    call = hcl.modules_of(hcl.ENV)["functions"]
    assert call["source"] == "../../modules/function"
    assert call["for_each"] == "${local.functions}"
    assert call["handler"] == "functions.${each.key}.handler"
    assert call["policy_statements"] == "${local.policy_statements[each.key]}"

    # The module gives each instance its own function, role, log group and dead-letter queue.
    for rtype in ("aws_lambda_function", "aws_iam_role", "aws_iam_role_policy",
                  "aws_cloudwatch_log_group", "aws_sqs_queue"):
        assert "this" in hcl.resources(FUNCTION_MODULE, rtype) or rtype == "aws_sqs_queue"
    assert "dlq" in hcl.resources(FUNCTION_MODULE, "aws_sqs_queue")
    lam = hcl.resources(FUNCTION_MODULE, "aws_lambda_function")["this"]
    assert lam["role"] == "${aws_iam_role.this.arn}"
    assert hcl.one(lam["tracing_config"])["mode"] == "Active"
    assert hcl.one(lam["dead_letter_config"])["target_arn"] == "${aws_sqs_queue.dlq.arn}"
    assert hcl.one(lam["logging_config"])["log_group"] == "${aws_cloudwatch_log_group.this.name}"
    assert lam["reserved_concurrent_executions"] == "${var.reserved_concurrency}"
    assert lam["kms_key_arn"] == "${var.kms_key_arn}"
    log_group = hcl.resources(FUNCTION_MODULE, "aws_cloudwatch_log_group")["this"]
    assert log_group["name"] == "/aws/lambda/${var.function_name}"
    assert log_group["kms_key_id"] == "${var.kms_key_arn}"

    # Triggers: each kind exists and is gated on the trigger variable.
    schedule = hcl.resources(FUNCTION_MODULE, "aws_scheduler_schedule")["this"]
    assert schedule["count"] == '${var.trigger == "schedule" ? 1 : 0}'
    target = hcl.one(schedule["target"])
    assert target["arn"] == "${aws_lambda_function.this.arn}"
    assert "retry_policy" in target and "dead_letter_config" in target
    url = hcl.resources(FUNCTION_MODULE, "aws_lambda_function_url")["this"]
    assert url["count"] == '${var.trigger == "url" ? 1 : 0}'
    assert url["authorization_type"] == "${var.url_auth_type}"
    fanout = hcl.modules_of(hcl.ENV)["fanout"]
    assert fanout["for_each"] == "${local.fanout}"
    assert fanout["function_arn"] == "${module.functions[each.key].function_arn}"
    machine = hcl.resources(FANOUT_MODULE, "aws_sfn_state_machine")["this"]
    assert hcl.one(machine["tracing_configuration"])["enabled"] is True
    assert hcl.one(machine["logging_configuration"])["log_destination"].startswith(
        "${aws_cloudwatch_log_group.this.arn}")
    assert "this" in hcl.resources(FANOUT_MODULE, "aws_scheduler_schedule")

    values = hcl.locals_of(hcl.ENV)
    defaults = {"schedules": values["default_schedules"],
                "reserved_concurrency": values["default_reserved_concurrency"]}
    for name, spec in functions.items():
        assert spec["trigger"] in ("schedule", "url", "fanout", "s3"), name
        if spec["trigger"] in ("schedule", "fanout"):
            assert re.match(r"^(cron|rate)\(.+\)$", defaults["schedules"][name]), name
        assert defaults["reserved_concurrency"][name] >= 1, name
        assert 1 <= spec["timeout"] <= 900 and 128 <= spec["memory"] <= 10240, name
    assert [n for n, s in functions.items() if s["trigger"] == "url"] == ["collect_events"]
    assert {n for n, s in functions.items() if s["trigger"] == "fanout"} == {
        "forecast_budgets", "ingest_aws_bedrock", "ingest_azure_openai", "ingest_gcp_vertex",
        "notify"}
    # s3: invoked by the export bucket's notification (tests/infra/test_data_exports.py)
    assert {n for n, s in functions.items() if s["trigger"] == "s3"} == {"ingest_export"}


def test_collector_url_defaults_to_iam_auth() -> None:
    variables = {n: b for blk in hcl.parsed(hcl.ENV / "variables.tf")["variable"]
                 for n, b in blk.items()}
    assert variables["collector_auth_type"]["default"] == "AWS_IAM"
    public = hcl.resources(FUNCTION_MODULE, "aws_lambda_permission")["public_url"]
    assert public["count"].startswith('${var.trigger == "url" && var.url_auth_type == "NONE"')


def test_functions_use_the_artifact_of_the_packaging_script(package: object) -> None:
    artifacts = package.ARTIFACTS  # type: ignore[attr-defined]
    for name, spec in deployed_functions().items():
        artifact = package.artifact_for(name)  # type: ignore[attr-defined]
        if spec["artifact"] == "${local.forecast_artifact}":  # chosen by forecast_engine
            continue  # tests/infra/test_forecast_engine.py renders the choice
        assert spec["artifact"] == artifact.name, name
        assert not artifact.image, name
    packaged = {fn for a in artifacts.values() for fn in a.functions}
    assert packaged == set(deployed_functions())


# ---------------------------------------------------------------- IAM from the code
def _statements(directory: Path, name: str) -> list[dict[str, object]]:
    doc = hcl.resources(directory, "aws_iam_policy_document", kind="data")[name]
    statements = doc["statement"]
    return statements if isinstance(statements, list) else [statements]


def _actions(statements: list[dict[str, object]]) -> set[str]:
    found: set[str] = set()
    for statement in statements:
        actions = statement["actions"]
        assert isinstance(actions, list)
        found |= set(actions)
    return found


def test_each_function_policy_grants_exactly_the_declared_actions() -> None:
    env = hcl.locals_of(hcl.ENV)
    component_actions = env["component_actions"]
    for component, actions in component_actions.items():
        assert set(actions) == set(permissions.COMPONENT_ACTIONS[component]), component
    runtime = _actions(_statements(FUNCTION_MODULE, "this"))
    assert runtime == {a for c in permissions.RUNTIME_COMPONENTS
                       for a in permissions.COMPONENT_ACTIONS[c]}
    # Beyond the static runtime statements, the module adds only var.policy_statements.
    dynamic = hcl.resources(FUNCTION_MODULE, "aws_iam_policy_document", kind="data")["this"]
    [block] = dynamic["dynamic"]
    assert block["statement"]["for_each"] == "${var.policy_statements}"
    assert hcl.one(block["statement"]["content"])["actions"] == "${statement.value.actions}"
    assert "component_actions[component]" in env["policy_statements"]

    for name, spec in deployed_functions().items():
        assert tuple(spec["components"]) == permissions.FUNCTION_COMPONENTS[name], name
        granted = set(runtime)
        for component in spec["components"]:
            granted |= set(component_actions[component])
        assert granted == set(permissions.actions_for(name)), name
        assert bool(spec["secrets"]) == ("secrets" in spec["components"]), name


@pytest.mark.parametrize(("directory", "document", "role"), [
    (FUNCTION_MODULE, "scheduler", "schedule"),
    (FANOUT_MODULE, "machine", "fanout"),
    (FANOUT_MODULE, "scheduler", "fanout_schedule"),
])
def test_service_roles_grant_exactly_the_declared_actions(
        directory: Path, document: str, role: str) -> None:
    assert _actions(_statements(directory, document)) == set(permissions.actions_for_role(role))


def test_no_wildcard_actions_and_resource_star_only_where_unavoidable() -> None:
    documents = 0
    for path in hcl.tf_files():
        for block in hcl.parsed(path).get("data", []):
            for name, body in block.get("aws_iam_policy_document", {}).items():
                documents += 1
                for statement in body.get("statement", []):
                    for action in statement["actions"]:
                        assert "*" not in action, (path, name, action)
                    if "*" in statement["resources"]:
                        outside = set(statement["actions"]) - permissions.RESOURCE_STAR_ONLY
                        assert not outside, (path, name, outside)
    assert documents >= 4
    env = hcl.locals_of(hcl.ENV)
    for component, resources in env["component_resources"].items():
        if "*" in resources:
            assert set(env["component_actions"][component]) <= permissions.RESOURCE_STAR_ONLY
    # No inline policy of any role is written outside a policy document.
    for path in hcl.tf_files():
        for block in hcl.parsed(path).get("resource", []):
            for name, body in block.get("aws_iam_role_policy", {}).items():
                assert ".json" in body["policy"], (path, name)


# ---------------------------------------------------------------- lake, secrets, catalog
def test_lake_bucket_baseline() -> None:
    lake = hcl.MODULES / "lake"
    key = hcl.resources(lake, "aws_kms_key")["this"]
    assert key["enable_key_rotation"] is True
    block = hcl.resources(lake, "aws_s3_bucket_public_access_block")["lake"]
    assert all(block[f] is True for f in ("block_public_acls", "block_public_policy",
                                          "ignore_public_acls", "restrict_public_buckets"))
    encryption = hcl.resources(lake, "aws_s3_bucket_server_side_encryption_configuration")
    sse = hcl.one(hcl.one(encryption["lake"]["rule"])["apply_server_side_encryption_by_default"])
    assert sse["sse_algorithm"] == "aws:kms"
    assert sse["kms_master_key_id"] == "${aws_kms_key.this.arn}"
    versioning = hcl.resources(lake, "aws_s3_bucket_versioning")["lake"]
    assert hcl.one(versioning["versioning_configuration"])["status"] == "Enabled"
    rules = hcl.resources(lake, "aws_s3_bucket_lifecycle_configuration")["lake"]["rule"]
    expiring = {hcl.one(r["filter"]).get("prefix") for r in rules if "expiration" in r}
    assert {"${local.lake}quarantine/", "${local.lake}deadletter/"} <= expiring
    assert any("noncurrent_version_expiration" in r for r in rules)
    policy = re.sub(r"\s+", " ", hcl.resources(lake, "aws_s3_bucket_policy")["lake"]["policy"])
    assert 'Effect = "Deny"' in policy
    assert 'Condition = {Bool = {"aws:SecureTransport" = "false"}}' in policy
    logging = hcl.resources(lake, "aws_s3_bucket_logging")["lake"]
    assert logging["target_bucket"] == "${aws_s3_bucket.logs.id}"


def test_secrets_are_entries_only() -> None:
    secrets = hcl.MODULES / "secrets"
    entries = hcl.parsed(secrets / "variables.tf")["variable"]
    defaults = {n: b.get("default") for blk in entries for n, b in blk.items()}["secrets"]
    assert {"slack-webhook-url", "webhook-signing", "stripe-api-key", "azure-client-secret",
            "gcp-credentials", "hmac-key"} <= set(defaults)
    secret = hcl.resources(secrets, "aws_secretsmanager_secret")["this"]
    assert secret["kms_key_id"] == "${var.kms_key_arn}"
    # Resources that would put secret material into code or state must not exist anywhere.
    forbidden = {"aws_secretsmanager_secret_version", "azuread_application_password",
                 "azuread_service_principal_password", "google_service_account_key",
                 "aws_iam_access_key", "aws_ssm_parameter"}
    for path in hcl.tf_files():
        for block in hcl.parsed(path).get("resource", []):
            assert not forbidden & set(block), (path, forbidden & set(block))
    # Every secret a function may read is a created entry.
    names = set(defaults)
    for name, spec in deployed_functions().items():
        assert set(spec["secrets"]) <= names, name


SECRET_PATTERNS = {
    "aws access key": re.compile(r"\b(AKIA|ASIA)[0-9A-Z]{16}\b"),
    "webhook secret": re.compile(r"whsec_[A-Za-z0-9+/=]{8,}"),
    "stripe key": re.compile(r"\b(sk|rk)_(live|test)_[A-Za-z0-9]{8,}"),
    "slack token": re.compile(r"\bxox[abpr]-[A-Za-z0-9-]{8,}"),
    "slack webhook": re.compile(r"hooks\.slack\.com/services/T[A-Z0-9]+/B[A-Z0-9]+/[A-Za-z0-9]+"),
    "private key": re.compile(r"-----BEGIN [A-Z ]*PRIVATE KEY-----"),
    "password literal": re.compile(
        r"(?i)\b(password|secret|api_key|token|client_secret)\s*=\s*\"(?!\$\{)[^\"]{4,}\""),
}


def find_secrets(text: str) -> list[str]:
    """Names of the secret patterns found in a text."""
    return [name for name, pattern in SECRET_PATTERNS.items() if pattern.search(text)]


def test_secret_scanner_finds_each_kind_of_secret() -> None:
    samples = {
        "aws access key": 'key = "AKIAABCDEFGHIJKLMNOP"',
        "webhook secret": 'x = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"',
        "stripe key": 'x = "sk_live_51Habcdefghijk"',
        "slack token": 'x = "xoxb-123456789012-abcdef"',
        "slack webhook": 'u = "https://hooks.slack.com/services/T0001/B0002/abcdEFGH1234"',
        "private key": "-----BEGIN RSA PRIVATE KEY-----",
        "password literal": 'password = "hunter22"',
    }
    for name, text in samples.items():
        assert name in find_secrets(text), name
    assert find_secrets('password = "${var.db_password}"\nsecret_id = aws_secretsmanager.x') == []


def test_no_secret_value_in_any_tf_or_tfvars_file() -> None:
    files = [p for p in hcl.INFRA.rglob("*")
             if p.is_file() and (p.suffix in (".tf", ".tfvars") or p.name.endswith(".tfvars.json"))]
    assert len(files) >= 20
    leaks = {str(p.relative_to(hcl.ROOT)): found for p in files
             if (found := find_secrets(p.read_text()))}
    assert not leaks, leaks


def _glue_type(arrow_type: object) -> str:
    import pyarrow as pa

    assert isinstance(arrow_type, pa.DataType)
    if pa.types.is_decimal(arrow_type):
        return f"decimal({arrow_type.precision},{arrow_type.scale})"
    if pa.types.is_timestamp(arrow_type):
        return "timestamp"
    return {pa.string(): "string", pa.bool_(): "boolean", pa.int64(): "bigint",
            pa.float64(): "double"}[arrow_type]


def test_catalog_tables_match_the_lake_schemas() -> None:
    from cascadeflow_cloud.lake.tables import COST_SCHEMA, EVENT_SCHEMA

    tables = hcl.resources(hcl.MODULES / "catalog", "aws_glue_catalog_table")
    for name, schema, partitions in (("costs", COST_SCHEMA, ["source", "scope", "month"]),
                                     ("events", EVENT_SCHEMA, ["date"])):
        table = tables[name]
        assert table["name"] == name
        columns = hcl.one(table["storage_descriptor"])["columns"]
        assert [(c["name"], c["type"]) for c in columns] == [
            (f.name, _glue_type(f.type)) for f in schema]
        assert [k["name"] for k in table["partition_keys"]] == partitions
        template = table["parameters"]
        assert "storage.location.template" in template and f"/{name}/" in template
        assert "projection.date.type" in hcl.locals_of(hcl.MODULES / "catalog")["date_projection"]
        assert "projection.month.type" in hcl.locals_of(hcl.MODULES / "catalog")["month_projection"]
    workgroup = hcl.resources(hcl.MODULES / "catalog", "aws_athena_workgroup")["this"]
    config = hcl.one(workgroup["configuration"])
    assert config["enforce_workgroup_configuration"] is True
    encryption = hcl.one(hcl.one(config["result_configuration"])["encryption_configuration"])
    assert encryption["encryption_option"] == "SSE_KMS"


# ---------------------------------------------------------------- checkov skip list
def test_every_checkov_skip_has_a_reason() -> None:
    lines = (hcl.INFRA / ".checkov.yaml").read_text().splitlines()
    skips = [i for i, line in enumerate(lines) if re.match(r"\s+- CKV", line)]
    assert 1 <= len(skips) <= 5, "keep the skip list short"
    for i in skips:
        assert lines[i - 1].strip().startswith("#") and len(lines[i - 1]) > 30, lines[i]
    inline = 0
    for path in hcl.tf_files():
        for match in re.finditer(r"#checkov:skip=([A-Z0-9_]+)(:?)(.*)", path.read_text()):
            inline += 1
            assert match.group(2) == ":" and len(match.group(3).strip()) > 20, (path, match[0])
    assert inline <= 10  # CKV_AZURE_249 and CKV_GCP_125: GitHub-OIDC checks on AWS federation;
    # CKV_AWS_145 on the Data Exports bucket: AWS documents no key policy for the service; the
    # dashboard distribution's geo restriction, origin failover and WAF Log4j rule


# ---------------------------------------------------------------- fan-out state machine
def _walk(states: dict[str, dict[str, object]], start: str) -> list[str]:
    """Names reachable from ``start``; fails on a transition to an unknown state."""
    seen: list[str] = []
    todo = [start]
    while todo:
        name = todo.pop()
        if name in seen:
            continue
        assert name in states, f"transition to unknown state {name}"
        seen.append(name)
        state = states[name]
        targets = [state.get("Next"), state.get("Default")]
        targets += [c["Next"] for c in state.get("Choices", [])]  # type: ignore[attr-defined]
        todo += [t for t in targets if isinstance(t, str)]
        if not any(isinstance(t, str) for t in targets):
            assert state.get("End") is True or state["Type"] in ("Succeed", "Fail"), name
    return seen


def test_fanout_plans_then_maps_each_shard_to_one_invocation() -> None:
    definition = hcl.locals_of(FANOUT_MODULE)["definition"]
    states = definition["States"]
    assert sorted(_walk(states, definition["StartAt"])) == sorted(states)
    plan = states[definition["StartAt"]]
    assert plan["Resource"] == "arn:aws:states:::lambda:invoke"
    assert plan["Parameters"]["Payload"]["fanout"] == "plan"
    choice = states[plan["Next"]]
    assert choice["Type"] == "Choice" and choice["Default"] == "Done"
    [branch] = choice["Choices"]
    assert branch["Variable"] == "$.plan.result.shards" and branch["IsPresent"] is True
    shards = states[branch["Next"]]
    assert shards["Type"] == "Map" and shards["ItemsPath"] == "$.plan.result.shards"
    assert shards["ItemSelector"] == {"fanout": "shard", "shard.$": "$$.Map.Item.Value"}
    assert shards["MaxConcurrency"] == "${var.max_concurrency}"
    inner = shards["ItemProcessor"]
    assert _walk(inner["States"], inner["StartAt"]) == ["RunShard"]
    run = inner["States"]["RunShard"]
    assert run["Parameters"] == {"FunctionName": "${var.function_arn}", "Payload.$": "$"}
    for task in (plan, run):
        assert task["Retry"] == "${local.retry}"
    retry = hcl.locals_of(FANOUT_MODULE)["retry"]
    assert "Lambda.TooManyRequestsException" in hcl.one(retry)["ErrorEquals"]


def test_every_function_url_grant_has_its_invoke_function_twin() -> None:
    """Since October 2025 a function URL needs lambda:InvokeFunction beside
    lambda:InvokeFunctionUrl (for calls through the URL only), or every caller gets 403."""
    permissions = hcl.resources(hcl.MODULES / "function", "aws_lambda_permission")
    pairs = {"url": "url_invoke", "public_url": "public_url_invoke"}
    for url_grant, invoke_grant in pairs.items():
        url, invoke = permissions[url_grant], permissions[invoke_grant]
        assert url["action"] == "lambda:InvokeFunctionUrl"
        assert invoke["action"] == "lambda:InvokeFunction"
        assert invoke["invoked_via_function_url"] is True
        assert (invoke.get("for_each"), invoke.get("count"), invoke["principal"]) == (
            url.get("for_each"), url.get("count"), url["principal"])
    version = hcl.load(hcl.MODULES / "function" / "versions.tf")
    assert ">= 6.42" in str(version)  # a provider that documents invoked_via_function_url
