"""The Azure and GCP reader modules grant read access and nothing else (issue "Deploy for real":
least privilege). checkov has no policy for most of these resource types
(``azuread_application``, ``azuread_service_principal``, ``azurerm_role_assignment``: 0 checks
evaluated, docs/deploy.md), so the grants are pinned here."""

from __future__ import annotations

import re

from tests.infra import hcl

AZURE = hcl.MODULES / "azure_reader"
GCP = hcl.MODULES / "gcp_reader"

#: Roles the Azure source can work with: Cost Management queries need no write permission.
AZURE_READ_ONLY = {"Cost Management Reader", "Reader"}
#: The GCP source runs BigQuery jobs over the billing export and reads results (REST + Storage
#: Read API); the Lambda role impersonates the reader through workload identity federation.
GCP_ROLES = {"roles/bigquery.dataViewer", "roles/bigquery.jobUser",
             "roles/bigquery.readSessionUser", "roles/iam.workloadIdentityUser"}


def _all_resources(directory: object) -> dict[str, dict[str, dict[str, object]]]:
    found: dict[str, dict[str, dict[str, object]]] = {}
    for _, block in hcl.blocks(directory, "resource"):  # type: ignore[arg-type]
        for rtype, bodies in block.items():
            found.setdefault(rtype, {}).update(bodies)
    return found


def test_azure_reader_holds_one_read_only_role_and_no_secret() -> None:
    resources = _all_resources(AZURE)
    assignments = resources["azurerm_role_assignment"]
    assert sorted(assignments) == ["cost_reader", "export_reader"]
    assert assignments["cost_reader"]["role_definition_name"] == "${var.role_definition_name}"
    # the export's blobs: read and list, on the one container (the variable must be a
    # container's ARM id, never the account's)
    export = assignments["export_reader"]
    assert export["role_definition_name"] == "Storage Blob Data Reader"
    assert export["scope"] == "${var.export_container_id}"
    variable = next(body["export_container_id"] for _, body in hcl.blocks(AZURE, "variable")
                    if "export_container_id" in body)
    assert variable["default"] is None
    assert "/blobServices/default/containers/[^/]+$" in hcl.one(variable["validation"])[
        "condition"]
    assert {a["principal_type"] for a in assignments.values()} == {"ServicePrincipal"}
    assert {a["principal_id"] for a in assignments.values()} == {
        "${azuread_service_principal.reader.object_id}"}
    # no client secret or certificate in Terraform (it would land in the state)
    assert not {"azuread_application_password", "azuread_service_principal_password",
                "azuread_application_certificate"} & set(resources)

    variable = next(body["role_definition_name"] for _, body in hcl.blocks(AZURE, "variable")
                    if "role_definition_name" in body)
    assert variable["default"] in AZURE_READ_ONLY
    condition = hcl.one(variable["validation"])["condition"]
    allowed = set(re.findall(r'"([^"]+)"', condition.split("]")[0]))
    assert allowed == AZURE_READ_ONLY, condition  # the variable cannot widen the grant


def test_azure_federated_credentials_trust_exactly_the_two_ingest_roles() -> None:
    credential = _all_resources(AZURE)["azuread_application_federated_identity_credential"]
    body = credential["aws_role"]
    assert body["for_each"] == "${local.federated_roles}"
    assert body["subject"] == "${each.value.arn}"
    assert body["issuer"] == "${var.aws_token_issuer}"
    roles = hcl.locals_of(AZURE)["federated_roles"]
    # one exact role ARN each: the Query API ingest's and the export reader's
    assert re.findall(r"arn *= *(var\.\w+)", roles) == ["var.aws_role_arn",
                                                        "var.aws_export_role_arn"], roles


def test_gcp_reader_grants_only_the_bigquery_read_path() -> None:
    resources = _all_resources(GCP)
    roles = {body["role"] for rtype, bodies in resources.items() if rtype.endswith("_iam_member")
             for body in bodies.values()}
    assert roles == GCP_ROLES
    # data access sits on the one billing dataset, not the project
    assert resources["google_bigquery_dataset_iam_member"]["viewer"]["role"] == \
        "roles/bigquery.dataViewer"
    project_roles = {body["role"] for body in resources["google_project_iam_member"].values()}
    assert "roles/bigquery.dataViewer" not in project_roles
    assert not {"google_service_account_key"} & set(resources)  # keyless: no key is minted


def test_gcp_focus_view_dataset_is_granted_apart_only_and_two_roles_are_federated() -> None:
    resources = _all_resources(GCP)
    view = resources["google_bigquery_dataset_iam_member"]["focus_view"]
    assert view["role"] == "roles/bigquery.dataViewer"  # read only, on that one dataset
    assert view["dataset_id"] == "${var.focus_view_dataset}"
    assert view["count"] == "${local.focus_view_elsewhere ? 1 : 0}"
    values = hcl.locals_of(GCP)
    assert "var.focus_view_dataset != null" in values["focus_view_elsewhere"]
    # the pool's provider and the impersonation trust exactly the two ingest roles, one each
    roles = values["federated_roles"]
    assert re.findall(r"(\w+) *= *var\.(\w+)", roles) == [
        ("ingest", "aws_role_name"), ("focus_view", "aws_focus_role_name")], roles
    member = resources["google_service_account_iam_member"]["federated"]
    assert member["for_each"] == "${local.federated_roles}"
    assert member["member"].endswith("/attribute.aws_role/${each.value}")
    provider = resources["google_iam_workload_identity_pool_provider"]["aws"]
    assert "local.federated_roles" in provider["attribute_condition"]
    assert "==" in provider["attribute_condition"]  # exact ARNs, no prefix match
