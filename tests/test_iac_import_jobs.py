"""CSV user import end to end through real boto3 and a real HTTP PUT of the file to the pre-signed URL.

A job is created, GetCSVHeader's columns fill the file, requests PUTs it to the URL the job hands out
(signed and timed by the emulator, refused S3-style when altered or expired), the job runs, and an
imported user signs in only after resetting a password (RESET_REQUIRED). One emulator serves the module.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from collections.abc import Iterator
from typing import Any

import pytest
import requests

from conformance_tour_iac import ROLE, csv_text, error_of
from harness.server import Emulator

NEW_PASSWORD = "Imported-Passw0rd!"


@pytest.fixture(scope="module")
def emu() -> Iterator[Emulator]:
    with Emulator.start(seed=1314) as emulator:
        yield emulator
        assert emulator.backend.unmodeled_errors == [], emulator.backend.unmodeled_errors


@pytest.fixture()
def idp(emu: Emulator) -> Any:
    emu.backend.clock.unfreeze()
    return emu.boto3_client()


def pool_and_client(idp: Any, name: str, **settings: Any) -> tuple[str, str]:
    pool_id = idp.create_user_pool(PoolName=name, **settings)["UserPool"]["Id"]
    client = idp.create_user_pool_client(UserPoolId=pool_id, ClientName="web",
                                         ExplicitAuthFlows=["ALLOW_USER_PASSWORD_AUTH", "ALLOW_REFRESH_TOKEN_AUTH"])
    return pool_id, client["UserPoolClient"]["ClientId"]


def new_job(idp: Any, pool_id: str, name: str = "job") -> dict[str, Any]:
    return idp.create_user_import_job(JobName=name, UserPoolId=pool_id, CloudWatchLogsRoleArn=ROLE)["UserImportJob"]


def put(url: str, text: str | bytes) -> requests.Response:
    return requests.put(url, data=text.encode() if isinstance(text, str) else text,
                        headers={"x-amz-server-side-encryption": "aws:kms"}, timeout=30)


def s3_code(answer: requests.Response) -> tuple[int, str, str]:
    root = ET.fromstring(answer.content)
    return answer.status_code, root.findtext("Code") or "", root.findtext("Message") or ""


def ok(name: str, **attributes: str) -> dict[str, str]:
    return {"cognito:username": name, "cognito:mfa_enabled": "false", "email": f"{name}@example.com",
            "email_verified": "TRUE", **attributes}


def test_an_import_end_to_end_users_land_in_reset_required(emu: Emulator, idp: Any) -> None:
    pool_id, client_id = pool_and_client(
        idp, "import", AutoVerifiedAttributes=["email"],
        Schema=[{"Name": "tenant", "AttributeDataType": "String", "Mutable": True}])
    idp.admin_create_user(UserPoolId=pool_id, Username="existing", MessageAction="SUPPRESS")
    header = idp.get_csv_header(UserPoolId=pool_id)["CSVHeader"]
    assert header[-2:] == ["cognito:mfa_enabled", "cognito:username"] and "custom:tenant" in header
    assert "sub" not in header and header[:3] == ["name", "given_name", "family_name"]
    job = new_job(idp, pool_id)
    assert job["Status"] == "Created" and job["JobId"].startswith("import-")
    assert (job["ImportedUsers"], job["SkippedUsers"], job["FailedUsers"]) == (0, 0, 0)
    rows = [ok("ann", address="1 Main St\\, Springfield", **{"custom:tenant": "acme", "updated_at": "1471453471"}),
            ok("existing"),  # skipped: the username is taken
            ok("bad-email", email="not-an-email"),  # failed: the schema refuses it
            ok("unverified", email_verified="false"),  # failed: no auto-verified attribute is verified
            ok("mfa-on", **{"cognito:mfa_enabled": "true"}),  # failed: MFA is off in the pool
            ok("has space"),  # failed: spaces are not allowed in cognito:username
            ok("phone-only", email="", email_verified="false", phone_number="+12065550100",
               phone_number_verified="true")]  # failed: phone_number is not auto-verified here
    upload = put(job["PreSignedUrl"], csv_text([*reversed(header)], *rows))  # column order is free
    assert upload.status_code == 200 and upload.headers["ETag"].startswith('"')
    assert idp.describe_user_import_job(UserPoolId=pool_id, JobId=job["JobId"])["UserImportJob"]["Status"] == "Created"

    started = idp.start_user_import_job(UserPoolId=pool_id, JobId=job["JobId"])["UserImportJob"]
    assert started["Status"] == "Succeeded"  # the emulator imports at once (see harness.engine.import_jobs)
    assert (started["ImportedUsers"], started["SkippedUsers"], started["FailedUsers"]) == (1, 1, 5)
    assert started["StartDate"] >= started["CreationDate"] and "CompletionDate" in started
    described = idp.describe_user_import_job(UserPoolId=pool_id, JobId=job["JobId"])["UserImportJob"]
    assert described == started and described["PreSignedUrl"] == job["PreSignedUrl"]
    statuses = [e.data["status"] for e in emu.backend.events.list() if e.type == "import.job"
                and e.data["job_id"] == job["JobId"]]
    assert statuses == ["Created", "Pending", "InProgress", "Succeeded"]
    outcomes = {e.data["line"]: e.data["outcome"] for e in emu.backend.events.list() if e.type == "import.row"
                and e.data["job_id"] == job["JobId"]}
    assert outcomes == {3: "skipped", 4: "failed", 5: "failed", 6: "failed", 7: "failed", 8: "failed"}

    ann = idp.admin_get_user(UserPoolId=pool_id, Username="ann")
    attributes = {a["Name"]: a["Value"] for a in ann["UserAttributes"]}
    assert ann["UserStatus"] == "RESET_REQUIRED" and ann["Enabled"]
    assert attributes["address"] == "1 Main St, Springfield" and attributes["custom:tenant"] == "acme"
    assert attributes["email_verified"] == "true" and attributes["updated_at"] == "1471453471"
    with pytest.raises(idp.exceptions.PasswordResetRequiredException):
        idp.initiate_auth(ClientId=client_id, AuthFlow="USER_PASSWORD_AUTH",
                          AuthParameters={"USERNAME": "ann", "PASSWORD": "Any-Passw0rd!"})
    idp.forgot_password(ClientId=client_id, Username="ann")
    code = emu.backend.mailbox.latest_code("ann@example.com", purpose="FORGOT_PASSWORD")
    idp.confirm_forgot_password(ClientId=client_id, Username="ann", ConfirmationCode=code, Password=NEW_PASSWORD)
    tokens = idp.initiate_auth(ClientId=client_id, AuthFlow="USER_PASSWORD_AUTH",
                               AuthParameters={"USERNAME": "ann", "PASSWORD": NEW_PASSWORD})
    assert tokens["AuthenticationResult"]["AccessToken"]

    code_, s3, _ = s3_code(put(job["PreSignedUrl"], csv_text(header, ok("late"))))
    assert (code_, s3) == (403, "AccessDenied")  # the job has run: its URL takes no more files
    later = new_job(idp, pool_id, "later")
    listed = idp.list_user_import_jobs(UserPoolId=pool_id, MaxResults=1)
    assert [j["JobId"] for j in listed["UserImportJobs"]] == [later["JobId"]]  # newest first
    rest = idp.list_user_import_jobs(UserPoolId=pool_id, MaxResults=10, PaginationToken=listed["PaginationToken"])
    assert [j["JobId"] for j in rest["UserImportJobs"]] == [job["JobId"]] and "PaginationToken" not in rest


def test_the_pre_signed_url_is_checked_like_s3(emu: Emulator, idp: Any) -> None:
    pool_id, _ = pool_and_client(idp, "import-url", AutoVerifiedAttributes=["email"])
    header = idp.get_csv_header(UserPoolId=pool_id)["CSVHeader"]
    emu.backend.clock.freeze()
    job = new_job(idp, pool_id)
    url = job["PreSignedUrl"]
    assert url.startswith(f"{emu.url}/user-import/{pool_id}/{job['JobId']}?") and "X-Amz-Expires=900" in url
    body = csv_text(header, ok("zed"))
    assert s3_code(put(url.replace("X-Amz-Signature=", "X-Amz-Signature=0"), body))[:2] == (403, "SignatureDoesNotMatch")
    assert s3_code(put(url.replace("X-Amz-Expires=900", "X-Amz-Expires=9000"), body))[:2] == (
        403, "SignatureDoesNotMatch")  # a longer life is not ours to sign
    assert s3_code(put(url.split("?")[0], body))[:2] == (403, "SignatureDoesNotMatch")
    assert s3_code(put(url.replace(job["JobId"], "import-0000000000"), body))[:2] == (403, "AccessDenied")
    assert requests.get(url, timeout=10).status_code == 405  # only PUT
    emu.backend.clock.advance(901)
    assert s3_code(put(url, body)) == (403, "AccessDenied", "Request has expired")
    assert error_of(idp.start_user_import_job, UserPoolId=pool_id, JobId=job["JobId"]) == (
        "PreconditionNotMetException",
        f"No CSV file has been uploaded to the pre-signed URL of user import job {job['JobId']}.")
    emu.backend.clock.advance(24 * 3600)  # not started within a day: Expired for good
    assert idp.describe_user_import_job(UserPoolId=pool_id, JobId=job["JobId"])["UserImportJob"]["Status"] == "Expired"
    assert error_of(idp.start_user_import_job, UserPoolId=pool_id, JobId=job["JobId"])[0] == "PreconditionNotMetException"


def test_jobs_that_fail_whole_and_jobs_that_stop(idp: Any) -> None:
    pool_id, _ = pool_and_client(idp, "import-fail", AutoVerifiedAttributes=["email"])
    header = idp.get_csv_header(UserPoolId=pool_id)["CSVHeader"]
    cases = {  # file -> CompletionMessage
        csv_text([h for h in header if h != "cognito:mfa_enabled"], {"cognito:username": "x"}):
            "missing columns: cognito:mfa_enabled",
        csv_text([*header, "favourite_colour"], ok("x")): "unknown columns: favourite_colour",
        "\ufeff" + csv_text(header, ok("x")): "unknown columns: \ufeffname",  # a byte-order mark
        csv_text(header, ok("a", email_verified="false"), ok("b", email="")): "Too many users have failed",
    }
    for text, message in cases.items():
        job = new_job(idp, pool_id)
        assert put(job["PreSignedUrl"], text).status_code == 200
        done = idp.start_user_import_job(UserPoolId=pool_id, JobId=job["JobId"])["UserImportJob"]
        assert done["Status"] == "Failed" and message in done["CompletionMessage"], done
    job = new_job(idp, pool_id)
    assert put(job["PreSignedUrl"], b"cognito:username\n\xff\xfe").status_code == 200
    done = idp.start_user_import_job(UserPoolId=pool_id, JobId=job["JobId"])["UserImportJob"]
    assert (done["Status"], done["CompletionMessage"]) == ("Failed", "The CSV file is not UTF-8.")
    assert error_of(idp.start_user_import_job, UserPoolId=pool_id, JobId=job["JobId"])[0] == "PreconditionNotMetException"
    assert error_of(idp.stop_user_import_job, UserPoolId=pool_id, JobId=job["JobId"])[0] == "PreconditionNotMetException"

    empty = new_job(idp, pool_id)
    assert put(empty["PreSignedUrl"], csv_text(header)).status_code == 200  # a header and no users
    assert idp.start_user_import_job(UserPoolId=pool_id, JobId=empty["JobId"])["UserImportJob"]["Status"] == "Succeeded"
    stopped = idp.stop_user_import_job(UserPoolId=pool_id, JobId=new_job(idp, pool_id)["JobId"])["UserImportJob"]
    assert stopped["Status"] == "Stopped"
    assert stopped["CompletionMessage"] == "The Import Job was stopped by the developer."


def test_import_preconditions_and_bad_input_are_typed_errors(emu: Emulator, idp: Any) -> None:
    bare, _ = pool_and_client(idp, "import-bare")  # no auto-verified attribute
    job = new_job(idp, bare)
    header = idp.get_csv_header(UserPoolId=bare)["CSVHeader"]
    assert put(job["PreSignedUrl"], csv_text(header, ok("x"))).status_code == 200
    assert error_of(idp.start_user_import_job, UserPoolId=bare, JobId=job["JobId"]) == (
        "PreconditionNotMetException",
        "The user pool must have email or phone_number as an auto-verified attribute to import users.")
    assert error_of(idp.create_user_import_job, JobName="j", UserPoolId=bare,
                    CloudWatchLogsRoleArn="arn:aws:s3:::123456789012:bucket/x")[0] == "InvalidParameterException"
    assert error_of(idp.create_user_import_job, JobName="bad/name", UserPoolId=bare,
                    CloudWatchLogsRoleArn=ROLE)[0] == "InvalidParameterException"
    assert error_of(idp.create_user_import_job, JobName="j", UserPoolId="us-east-1_Missing00",
                    CloudWatchLogsRoleArn=ROLE)[0] == "ResourceNotFoundException"
    assert error_of(idp.describe_user_import_job, UserPoolId=bare, JobId="import-nothere")[0] == "ResourceNotFoundException"
    assert error_of(idp.describe_user_import_job, UserPoolId=bare, JobId="not-a-job-id")[0] == "InvalidParameterException"
    assert error_of(idp.list_user_import_jobs, UserPoolId=bare, MaxResults=61)[0] == "InvalidParameterException"
    # CloudWatchLogsRoleArn is required, as the model says: the server refuses its absence too
    raw = requests.post(emu.url + "/", data=f'{{"JobName": "j", "UserPoolId": "{bare}"}}', timeout=10, headers={
        "X-Amz-Target": "AWSCognitoIdentityProviderService.CreateUserImportJob",
        "Content-Type": "application/x-amz-json-1.1"})
    assert raw.status_code == 400 and raw.json()["__type"] == "InvalidParameterException"
    assert "cloudWatchLogsRoleArn" in raw.json()["message"]  # AWS names members in lower camel case
    assert idp.list_user_import_jobs(UserPoolId=bare, MaxResults=5)["UserImportJobs"][0]["JobId"] == job["JobId"]
