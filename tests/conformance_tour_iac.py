"""The infrastructure-as-code part of the operation-conformance tour.

Tags by ARN, the signing certificate, classic hosted-UI branding, client-secret rotation, the CSV
header and a user import job (its CSV PUT to the pre-signed URL with requests), each operation once to
succeed and once to fail, on a pool of its own.
"""

from __future__ import annotations

import base64
from typing import Any

import pytest
import requests
from botocore.exceptions import ClientError

from conformance_tour_support import MISSING_POOL, fail

ROLE = "arn:aws:iam::123456789012:role/CognitoImport"
PNG = base64.b64decode("iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR4nGNgYGD4DwABBAEAwS2OUAAAAABJRU5ErkJggg==")


def error_of(call: Any, **kwargs: Any) -> tuple[str, str]:
    """(code, message) of a call that must fail with a typed 400."""
    with pytest.raises(ClientError) as info:
        call(**kwargs)
    response = info.value.response
    assert response["ResponseMetadata"]["HTTPStatusCode"] == 400, response
    return response["Error"]["Code"], response["Error"]["Message"]


def csv_text(header: list[str], *rows: dict[str, str]) -> str:
    """A user import file: the header, then one line per row (columns a row leaves out are empty)."""
    return "\n".join([",".join(header), *(",".join(row.get(c, "") for c in header) for row in rows)]) + "\n"


def iac_tour(idp: Any, backend: Any) -> None:  # noqa: ARG001 - same signature as the other parts
    """Every IaC operation once to succeed and once to fail."""
    pool = idp.create_user_pool(PoolName="tour-iac", AutoVerifiedAttributes=["email"],
                                UserPoolTags={"team": "auth"})["UserPool"]
    pool_id, arn = pool["Id"], pool["Arn"]
    idp.tag_resource(ResourceArn=arn, Tags={"env": "test"})
    fail(idp.tag_resource, ResourceArn=arn, Tags={f"k{i}": "v" for i in range(50)})  # 52 tags in all
    idp.list_tags_for_resource(ResourceArn=arn)
    fail(idp.list_tags_for_resource, ResourceArn=arn.replace(pool_id, MISSING_POOL))
    idp.untag_resource(ResourceArn=arn, TagKeys=["env"])
    fail(idp.untag_resource, ResourceArn="arn:aws:iam::123456789012:role/not-a-pool", TagKeys=["env"])
    idp.get_signing_certificate(UserPoolId=pool_id)
    fail(idp.get_signing_certificate, UserPoolId=MISSING_POOL)

    client = idp.create_user_pool_client(UserPoolId=pool_id, ClientName="srv", GenerateSecret=True)["UserPoolClient"]
    cid = client["ClientId"]
    fail(idp.set_ui_customization, UserPoolId=pool_id, ClientId="ALL", CSS=".label-customizable{color:red}")  # no domain
    idp.create_user_pool_domain(UserPoolId=pool_id, Domain="tour-iac-domain")
    idp.set_ui_customization(UserPoolId=pool_id, ClientId=cid, CSS=".label-customizable{color:red}", ImageFile=PNG)
    idp.get_ui_customization(UserPoolId=pool_id, ClientId=cid)
    fail(idp.get_ui_customization, UserPoolId=pool_id, ClientId="nosuchclient")

    added = idp.add_user_pool_client_secret(UserPoolId=pool_id, ClientId=cid)["ClientSecretDescriptor"]
    fail(idp.add_user_pool_client_secret, UserPoolId=pool_id, ClientId=cid)  # a third secret
    idp.list_user_pool_client_secrets(UserPoolId=pool_id, ClientId=cid)
    fail(idp.list_user_pool_client_secrets, UserPoolId=pool_id, ClientId="nosuchclient")
    idp.delete_user_pool_client_secret(UserPoolId=pool_id, ClientId=cid, ClientSecretId=added["ClientSecretId"])
    fail(idp.delete_user_pool_client_secret, UserPoolId=pool_id, ClientId=cid, ClientSecretId=added["ClientSecretId"])

    header = idp.get_csv_header(UserPoolId=pool_id)["CSVHeader"]
    fail(idp.get_csv_header, UserPoolId=MISSING_POOL)
    job = idp.create_user_import_job(JobName="tour", UserPoolId=pool_id, CloudWatchLogsRoleArn=ROLE)["UserImportJob"]
    fail(idp.create_user_import_job, JobName="tour", UserPoolId=pool_id,
         CloudWatchLogsRoleArn="arn:aws:s3:::123456789012:bucket")
    fail(idp.start_user_import_job, UserPoolId=pool_id, JobId=job["JobId"])  # nothing uploaded yet
    row = {"cognito:username": "imported", "email": "imported@example.com", "email_verified": "true",
           "cognito:mfa_enabled": "false"}
    assert requests.put(job["PreSignedUrl"], data=csv_text(header, row).encode(), timeout=30).status_code == 200
    idp.start_user_import_job(UserPoolId=pool_id, JobId=job["JobId"])
    idp.describe_user_import_job(UserPoolId=pool_id, JobId=job["JobId"])
    fail(idp.describe_user_import_job, UserPoolId=pool_id, JobId="import-missing")
    fail(idp.stop_user_import_job, UserPoolId=pool_id, JobId=job["JobId"])  # already finished
    second = idp.create_user_import_job(JobName="tour-2", UserPoolId=pool_id, CloudWatchLogsRoleArn=ROLE)
    idp.stop_user_import_job(UserPoolId=pool_id, JobId=second["UserImportJob"]["JobId"])
    idp.list_user_import_jobs(UserPoolId=pool_id, MaxResults=10)
    fail(idp.list_user_import_jobs, UserPoolId=pool_id, MaxResults=10, PaginationToken="bogus-token")
