"""The operations Terraform's and CDK's Cognito resources call on every plan, through real boto3.

Tags by ARN (and in Create/Describe/UpdateUserPool), GetSigningCertificate (the JWKS key as an X.509
certificate, self-signed), classic hosted-UI branding, client-secret rotation (both secrets work for
SECRET_HASH, RevokeToken, GetTokensFromRefreshToken and client_secret_basic at /oauth2/token until one
is deleted), a Terraform-plan-like read sequence that answers the same twice, moto as a cross-check
where moto implements the operation, and snapshot/restore of all of it. The CSV user import is in
tests/test_iac_import_jobs.py. One emulator serves the module.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import boto3
import jwt
import pytest
import requests
from botocore.config import Config
from cryptography import x509
from cryptography.x509.oid import NameOID
from moto import mock_aws

from conformance_tour_iac import PNG, ROLE, error_of
from harness.control import Control
from harness.server import ONE_ATTEMPT, Emulator

PASSWORD = "Iac-Passw0rd!"
FLOWS = ["ALLOW_USER_PASSWORD_AUTH", "ALLOW_REFRESH_TOKEN_AUTH"]
CSS = ".label-customizable { font-weight: 400; }\n.submitButton-customizable:hover { color: #123456; }"


@pytest.fixture(scope="module")
def emu() -> Iterator[Emulator]:
    with Emulator.start(seed=1313) as emulator:
        yield emulator
        assert emulator.backend.unmodeled_errors == [], emulator.backend.unmodeled_errors


@pytest.fixture()
def idp(emu: Emulator) -> Any:
    emu.backend.clock.unfreeze()
    return emu.boto3_client()


def secret_hash(client_id: str, secret: str, username: str) -> str:
    digest = hmac.new(secret.encode(), (username + client_id).encode(), hashlib.sha256).digest()
    return base64.b64encode(digest).decode()


def user(idp: Any, pool_id: str, name: str) -> None:
    idp.admin_create_user(UserPoolId=pool_id, Username=name, MessageAction="SUPPRESS")
    idp.admin_set_user_password(UserPoolId=pool_id, Username=name, Password=PASSWORD, Permanent=True)


# --- tags ----------------------------------------------------------------------------------------


def test_tags_by_arn_are_the_pools_tags(emu: Emulator, idp: Any) -> None:
    pool = idp.create_user_pool(PoolName="tags", UserPoolTags={"team": "auth"})["UserPool"]
    pool_id, arn = pool["Id"], pool["Arn"]
    assert arn == f"arn:aws:cognito-idp:us-east-1:123456789012:userpool/{pool_id}"
    assert idp.list_tags_for_resource(ResourceArn=arn)["Tags"] == {"team": "auth"}
    idp.tag_resource(ResourceArn=arn, Tags={"env": "dev", "team": "identity"})
    assert idp.describe_user_pool(UserPoolId=pool_id)["UserPool"]["UserPoolTags"] == {"team": "identity", "env": "dev"}
    idp.untag_resource(ResourceArn=arn, TagKeys=["env", "never-set"])
    assert idp.list_tags_for_resource(ResourceArn=arn)["Tags"] == {"team": "identity"}
    idp.update_user_pool(UserPoolId=pool_id)  # an update that leaves the tags out keeps them
    assert idp.list_tags_for_resource(ResourceArn=arn)["Tags"] == {"team": "identity"}
    idp.update_user_pool(UserPoolId=pool_id, UserPoolTags={"owner": "me"})  # ... and one that names them sets them
    assert idp.list_tags_for_resource(ResourceArn=arn)["Tags"] == {"owner": "me"}
    # the harness:issuer tag picks the issuer whichever operation sets it
    discovery = f"{emu.url}/{pool_id}/.well-known/openid-configuration"
    idp.tag_resource(ResourceArn=arn, Tags={"harness:issuer": "aws"})
    assert requests.get(discovery, timeout=10).json()["issuer"] == f"https://cognito-idp.us-east-1.amazonaws.com/{pool_id}"
    idp.untag_resource(ResourceArn=arn, TagKeys=["harness:issuer"])
    assert requests.get(discovery, timeout=10).json()["issuer"] == f"{emu.url}/{pool_id}"


def test_tag_limits_and_bad_arns_are_typed_errors(idp: Any) -> None:
    pool = idp.create_user_pool(PoolName="tag-limits", UserPoolTags={f"k{i}": "v" for i in range(49)})["UserPool"]
    arn = pool["Arn"]
    idp.tag_resource(ResourceArn=arn, Tags={"k49": "v"})  # the 50th
    assert error_of(idp.tag_resource, ResourceArn=arn, Tags={"k50": "v"}) == (
        "InvalidParameterException", "A user pool can have at most 50 tags.")
    assert len(idp.list_tags_for_resource(ResourceArn=arn)["Tags"]) == 50  # a refused request changes nothing
    assert error_of(idp.create_user_pool, PoolName="x", UserPoolTags={f"k{i}": "v" for i in range(51)})[0] == \
        "InvalidParameterException"
    code, message = error_of(idp.tag_resource, ResourceArn=arn, Tags={"aws:cloudformation:stack-name": "s"})
    assert code == "InvalidParameterException" and "aws:" in message
    code, message = error_of(idp.tag_resource, ResourceArn=arn, Tags={"k" * 129: "v"})
    assert code == "InvalidParameterException" and "length less than or equal to 128" in message
    code, message = error_of(idp.tag_resource, ResourceArn=arn, Tags={"k": "v" * 257})
    assert code == "InvalidParameterException" and "length less than or equal to 256" in message
    assert error_of(idp.tag_resource, ResourceArn=arn, Tags={"harness:issuer": "elsewhere"})[0] == \
        "InvalidParameterException"
    missing = arn.rsplit("/", 1)[0] + "/us-east-1_Missing00"
    assert error_of(idp.list_tags_for_resource, ResourceArn=missing) == (
        "ResourceNotFoundException", "User pool us-east-1_Missing00 does not exist.")
    for elsewhere in (arn.replace(":us-east-1:", ":eu-west-1:"), arn.replace("123456789012", "210987654321")):
        assert error_of(idp.untag_resource, ResourceArn=elsewhere, TagKeys=["k1"])[0] == "ResourceNotFoundException"
    for not_a_pool in ("arn:aws:iam::123456789012:role/admin",
                       "arn:aws:cognito-identity:us-east-1:123456789012:identitypool/us-east-1:1234",
                       "not-an-arn-at-all-really"):
        assert error_of(idp.list_tags_for_resource, ResourceArn=not_a_pool)[0] == "InvalidParameterException"


# --- the signing certificate -----------------------------------------------------------------------


def test_signing_certificate_is_the_id_token_key_self_signed(emu: Emulator, idp: Any) -> None:
    emu.backend.clock.freeze(1_900_000_000)
    pool_id = idp.create_user_pool(PoolName="cert")["UserPool"]["Id"]
    client_id = idp.create_user_pool_client(UserPoolId=pool_id, ClientName="c", ExplicitAuthFlows=FLOWS)[
        "UserPoolClient"]["ClientId"]
    user(idp, pool_id, "carl")
    der = base64.b64decode(idp.get_signing_certificate(UserPoolId=pool_id)["Certificate"], validate=True)
    cert = x509.load_der_x509_certificate(der)
    cert.verify_directly_issued_by(cert)  # self-signed by the key it carries
    assert cert.subject == cert.issuer
    assert cert.subject.get_attributes_for_oid(NameOID.COMMON_NAME)[0].value == pool_id
    assert cert.not_valid_before_utc.timestamp() == 1_900_000_000
    assert cert.not_valid_after_utc - cert.not_valid_before_utc >= timedelta(days=3652)
    id_token = idp.initiate_auth(ClientId=client_id, AuthFlow="USER_PASSWORD_AUTH",
                                 AuthParameters={"USERNAME": "carl", "PASSWORD": PASSWORD})["AuthenticationResult"]["IdToken"]
    kid = jwt.get_unverified_header(id_token)["kid"]
    jwks = requests.get(f"{emu.url}/{pool_id}/.well-known/jwks.json", timeout=10).json()
    jwk = next(k for k in jwks["keys"] if k["kid"] == kid)
    assert cert.public_key().public_numbers() == jwt.algorithms.RSAAlgorithm.from_jwk(json.dumps(jwk)).public_numbers()
    jwt.decode(id_token, cert.public_key(), algorithms=["RS256"], audience=client_id,  # the cert verifies the token
               options={"verify_exp": False, "verify_iat": False})  # (issued on the frozen clock, ahead of now)
    assert idp.get_signing_certificate(UserPoolId=pool_id)["Certificate"] == base64.b64encode(der).decode()
    Control(emu.backend).rotate_keys(pool_id)
    rotated = x509.load_der_x509_certificate(base64.b64decode(idp.get_signing_certificate(UserPoolId=pool_id)["Certificate"]))
    assert rotated.public_key().public_numbers() != cert.public_key().public_numbers()
    assert error_of(idp.get_signing_certificate, UserPoolId="us-east-1_Missing00")[0] == "ResourceNotFoundException"


def test_signing_certificate_is_the_same_for_the_same_seed() -> None:
    certificates = []
    for _ in range(2):
        with Emulator.start(seed=77) as emulator:
            emulator.backend.clock.freeze(1_900_000_000)
            client = emulator.boto3_client()
            pool_id = client.create_user_pool(PoolName="seeded")["UserPool"]["Id"]
            certificates.append(client.get_signing_certificate(UserPoolId=pool_id)["Certificate"])
    assert certificates[0] == certificates[1]


# --- classic hosted-UI branding ----------------------------------------------------------------------


def test_ui_customization_per_pool_and_per_client(emu: Emulator, idp: Any) -> None:
    pool_id = idp.create_user_pool(PoolName="ui")["UserPool"]["Id"]
    web = idp.create_user_pool_client(UserPoolId=pool_id, ClientName="web")["UserPoolClient"]["ClientId"]
    mobile = idp.create_user_pool_client(UserPoolId=pool_id, ClientName="mobile")["UserPoolClient"]["ClientId"]
    assert idp.get_ui_customization(UserPoolId=pool_id)["UICustomization"] == {}  # nothing applied: an empty object
    assert error_of(idp.set_ui_customization, UserPoolId=pool_id, ClientId="ALL", CSS=CSS) == (
        "InvalidParameterException", "There has to be an existing domain associated with this user pool")
    idp.create_user_pool_domain(UserPoolId=pool_id, Domain="iac-ui-test")
    emu.backend.clock.freeze(1_900_000_000)
    pool_level = idp.set_ui_customization(UserPoolId=pool_id, ClientId="ALL", CSS=CSS)["UICustomization"]
    assert pool_level["ClientId"] == "ALL" and pool_level["CSS"] == CSS and "ImageUrl" not in pool_level
    assert pool_level["CreationDate"].timestamp() == 1_900_000_000
    fallback = idp.get_ui_customization(UserPoolId=pool_id, ClientId=mobile)["UICustomization"]
    assert fallback["ClientId"] == "ALL" and fallback["CSS"] == CSS  # no client branding: the pool's

    emu.backend.clock.advance(60)
    own = idp.set_ui_customization(UserPoolId=pool_id, ClientId=web, CSS=".logo-customizable{max-width:60%}",
                                   ImageFile=PNG)["UICustomization"]
    assert own["ClientId"] == web and own["LastModifiedDate"].timestamp() == 1_900_000_060
    logo = requests.get(own["ImageUrl"], timeout=10)
    assert logo.status_code == 200 and logo.content == PNG and logo.headers["Content-Type"] == "image/png"
    assert idp.get_ui_customization(UserPoolId=pool_id, ClientId=web)["UICustomization"] == own
    assert idp.get_ui_customization(UserPoolId=pool_id)["UICustomization"] == pool_level

    emu.backend.clock.advance(60)  # the next set replaces CSS and logo together; CreationDate stays
    again = idp.set_ui_customization(UserPoolId=pool_id, ClientId=web, CSS=CSS)["UICustomization"]
    assert "ImageUrl" not in again and again["CreationDate"] == own["CreationDate"]
    assert again["LastModifiedDate"].timestamp() == 1_900_000_120 and again["CSSVersion"] != own["CSSVersion"]
    assert requests.get(own["ImageUrl"], timeout=10).status_code == 404

    for css, why in ((".header { color: red }", "not one of the customizable classes"),
                     ("@import url(https://evil.example/x.css);", "@import"),
                     ("@media print { .label-customizable { color: red } }", "@media"),
                     (".label-customizable { background: url(javascript:alert(1)) }", "scripts"),
                     (".label-customizable { color: red ", "block")):
        code, message = error_of(idp.set_ui_customization, UserPoolId=pool_id, ClientId=web, CSS=css)
        assert code == "InvalidParameterException" and why in message, message
    assert error_of(idp.set_ui_customization, UserPoolId=pool_id, ClientId=web, ImageFile=b"GIF89a....") == (
        "InvalidParameterException", "ImageFile must be a PNG or JPEG image.")
    assert error_of(idp.set_ui_customization, UserPoolId=pool_id, ClientId=web, CSS="x" * 131073)[0] == \
        "InvalidParameterException"
    assert error_of(idp.get_ui_customization, UserPoolId=pool_id, ClientId="nosuchclient")[0] == "ResourceNotFoundException"
    assert idp.get_ui_customization(UserPoolId=pool_id, ClientId=web)["UICustomization"] == again  # unchanged


# --- client-secret rotation ----------------------------------------------------------------------------


def _confidential_setup(idp: Any) -> tuple[str, str, str]:
    pool_id = idp.create_user_pool(PoolName="secrets")["UserPool"]["Id"]
    idp.create_resource_server(UserPoolId=pool_id, Identifier="api", Name="api",
                               Scopes=[{"ScopeName": "read", "ScopeDescription": "read"}])
    client = idp.create_user_pool_client(
        UserPoolId=pool_id, ClientName="srv", GenerateSecret=True, ExplicitAuthFlows=FLOWS,
        AllowedOAuthFlows=["client_credentials"], AllowedOAuthScopes=["api/read"],
        AllowedOAuthFlowsUserPoolClient=True)["UserPoolClient"]
    user(idp, pool_id, "sam")
    return pool_id, client["ClientId"], client["ClientSecret"]


def _token_endpoint(emu: Emulator, pool_id: str, client_id: str, secret: str) -> int:
    answer = requests.post(f"{emu.url}/{pool_id}/oauth2/token", auth=(client_id, secret),
                           data={"grant_type": "client_credentials"}, timeout=10)
    return answer.status_code


def _sign_in(idp: Any, client_id: str, secret: str) -> dict[str, Any]:
    return idp.initiate_auth(ClientId=client_id, AuthFlow="USER_PASSWORD_AUTH", AuthParameters={
        "USERNAME": "sam", "PASSWORD": PASSWORD, "SECRET_HASH": secret_hash(client_id, secret, "sam")})["AuthenticationResult"]


def test_two_client_secrets_both_work_until_one_is_deleted(emu: Emulator, idp: Any) -> None:
    pool_id, cid, first = _confidential_setup(idp)
    [original] = idp.list_user_pool_client_secrets(UserPoolId=pool_id, ClientId=cid)["ClientSecrets"]
    assert set(original) == {"ClientSecretId", "ClientSecretCreateDate"} and original["ClientSecretId"].startswith(f"{cid}--")
    added = idp.add_user_pool_client_secret(UserPoolId=pool_id, ClientId=cid)["ClientSecretDescriptor"]
    second = added["ClientSecretValue"]  # generated: shown once
    assert second != first and 24 <= len(second) <= 64
    listed = idp.list_user_pool_client_secrets(UserPoolId=pool_id, ClientId=cid)["ClientSecrets"]
    assert [s["ClientSecretId"] for s in listed] == [original["ClientSecretId"], added["ClientSecretId"]]
    assert all("ClientSecretValue" not in s for s in listed)
    code, _ = error_of(idp.add_user_pool_client_secret, UserPoolId=pool_id, ClientId=cid,
                       ClientSecret="Third0Secret0Of0Thirty0Chars")
    assert code == "LimitExceededException"
    idp.update_user_pool_client(UserPoolId=pool_id, ClientId=cid, ExplicitAuthFlows=FLOWS,
                                AllowedOAuthFlows=["client_credentials"], AllowedOAuthScopes=["api/read"],
                                AllowedOAuthFlowsUserPoolClient=True)  # an update keeps both secrets

    for secret in (first, second):  # SECRET_HASH, GetTokensFromRefreshToken, RevokeToken, /oauth2/token
        tokens = _sign_in(idp, cid, secret)
        idp.get_tokens_from_refresh_token(RefreshToken=tokens["RefreshToken"], ClientId=cid, ClientSecret=secret)
        idp.revoke_token(Token=tokens["RefreshToken"], ClientId=cid, ClientSecret=secret)
        assert _token_endpoint(emu, pool_id, cid, secret) == 200
    assert _token_endpoint(emu, pool_id, cid, "not-a-secret-of-this-client") == 400

    idp.delete_user_pool_client_secret(UserPoolId=pool_id, ClientId=cid, ClientSecretId=original["ClientSecretId"])
    assert idp.describe_user_pool_client(UserPoolId=pool_id, ClientId=cid)["UserPoolClient"]["ClientSecret"] == second
    assert _token_endpoint(emu, pool_id, cid, first) == 400
    assert error_of(_sign_in, idp=idp, client_id=cid, secret=first)[0] == "NotAuthorizedException"
    assert error_of(idp.revoke_token, Token="x" * 40, ClientId=cid, ClientSecret=first)[0] == "UnauthorizedException"
    _sign_in(idp, cid, second)
    assert error_of(idp.delete_user_pool_client_secret, UserPoolId=pool_id, ClientId=cid,
                    ClientSecretId=added["ClientSecretId"]) == (
        "InvalidParameterException", "You cannot delete the last remaining secret for an app client.")
    assert error_of(idp.delete_user_pool_client_secret, UserPoolId=pool_id, ClientId=cid,
                    ClientSecretId=original["ClientSecretId"])[0] == "ResourceNotFoundException"

    chosen = "Chosen0Secret0Of0Thirty0Chars"
    custom = idp.add_user_pool_client_secret(UserPoolId=pool_id, ClientId=cid, ClientSecret=chosen)["ClientSecretDescriptor"]
    assert "ClientSecretValue" not in custom  # a secret the caller chose is not echoed
    _sign_in(idp, cid, chosen)


def test_client_secret_operations_refuse_bad_input(emu: Emulator, idp: Any) -> None:
    unchecked = emu.boto3_client(config=Config(parameter_validation=False, retries=ONE_ATTEMPT))  # the server judges
    pool_id = idp.create_user_pool(PoolName="secrets-bad")["UserPool"]["Id"]
    public = idp.create_user_pool_client(UserPoolId=pool_id, ClientName="spa")["UserPoolClient"]["ClientId"]
    assert error_of(idp.add_user_pool_client_secret, UserPoolId=pool_id, ClientId=public)[0] == "InvalidParameterException"
    assert idp.list_user_pool_client_secrets(UserPoolId=pool_id, ClientId=public)["ClientSecrets"] == []
    confidential = idp.create_user_pool_client(UserPoolId=pool_id, ClientName="srv", GenerateSecret=True)["UserPoolClient"]
    cid = confidential["ClientId"]
    for bad in ("short", "has spaces in it but is long enough", "x" * 65):  # 24-64 of [\w+]
        assert error_of(unchecked.add_user_pool_client_secret, UserPoolId=pool_id, ClientId=cid, ClientSecret=bad)[0] \
            == "InvalidParameterException"
    assert error_of(idp.add_user_pool_client_secret, UserPoolId=pool_id, ClientId=cid,
                    ClientSecret=confidential["ClientSecret"])[0] == "InvalidParameterException"  # already its secret
    assert error_of(idp.list_user_pool_client_secrets, UserPoolId=pool_id, ClientId=cid, NextToken="more")[0] == \
        "InvalidParameterException"
    assert error_of(idp.delete_user_pool_client_secret, UserPoolId=pool_id, ClientId=cid,
                    ClientSecretId=f"{cid}--1")[0] == "ResourceNotFoundException"
    assert error_of(idp.add_user_pool_client_secret, UserPoolId="us-east-1_Missing00", ClientId=cid)[0] == \
        "ResourceNotFoundException"


# --- a Terraform plan, twice -------------------------------------------------------------------------


def _plan(idp: Any, pool_id: str, client_id: str, domain: str) -> list[dict[str, Any]]:
    """What a plan of aws_cognito_user_pool, _client, _domain, _ui_customization and
    aws_cognito_user_pool_signing_certificate reads, answers only."""
    pool = idp.describe_user_pool(UserPoolId=pool_id)["UserPool"]
    answers = [pool, idp.get_user_pool_mfa_config(UserPoolId=pool_id),
               idp.list_tags_for_resource(ResourceArn=pool["Arn"]),
               idp.describe_user_pool_client(UserPoolId=pool_id, ClientId=client_id),
               idp.get_ui_customization(UserPoolId=pool_id, ClientId=client_id),
               idp.describe_user_pool_domain(Domain=domain),
               idp.get_signing_certificate(UserPoolId=pool_id)]
    for answer in answers:
        answer.pop("ResponseMetadata", None)
    return answers


def test_a_terraform_plan_reads_what_apply_wrote_and_the_same_twice(idp: Any) -> None:
    pool = idp.create_user_pool(PoolName="tf", AutoVerifiedAttributes=["email"],
                                UserPoolTags={"Name": "tf", "Environment": "dev"})["UserPool"]
    pool_id = pool["Id"]
    idp.set_user_pool_mfa_config(UserPoolId=pool_id, MfaConfiguration="OPTIONAL",
                                 SoftwareTokenMfaConfiguration={"Enabled": True})
    client_id = idp.create_user_pool_client(UserPoolId=pool_id, ClientName="app", GenerateSecret=True)[
        "UserPoolClient"]["ClientId"]
    idp.create_user_pool_domain(UserPoolId=pool_id, Domain="tf-plan-domain")
    idp.set_ui_customization(UserPoolId=pool_id, ClientId=client_id, CSS=CSS)
    first = _plan(idp, pool_id, client_id, "tf-plan-domain")
    described, mfa, tags, client, ui, domain, certificate = first
    assert tags["Tags"] == described["UserPoolTags"] == {"Name": "tf", "Environment": "dev"}
    assert mfa["MfaConfiguration"] == "OPTIONAL" and mfa["SoftwareTokenMfaConfiguration"] == {"Enabled": True}
    assert client["UserPoolClient"]["ClientId"] == client_id and ui["UICustomization"]["CSS"] == CSS
    assert domain["DomainDescription"]["UserPoolId"] == pool_id and described["Domain"] == "tf-plan-domain"
    assert certificate["Certificate"]
    assert _plan(idp, pool_id, client_id, "tf-plan-domain") == first  # no drift: a second plan shows no change


# --- moto, where it implements the operation --------------------------------------------------------------


def test_tags_in_create_and_describe_and_the_mfa_config_match_moto(idp: Any) -> None:
    def run(client: Any) -> tuple[dict[str, Any], str, str]:
        pool = client.create_user_pool(PoolName="parity", UserPoolTags={"team": "auth", "env": "ci"})["UserPool"]
        described = client.describe_user_pool(UserPoolId=pool["Id"])["UserPool"]
        mfa = client.get_user_pool_mfa_config(UserPoolId=pool["Id"])["MfaConfiguration"]
        return described["UserPoolTags"], described["Arn"].rsplit("/", 1)[0], mfa

    with mock_aws():
        moto = run(boto3.client("cognito-idp", region_name="us-east-1"))
    assert run(idp) == moto  # same tags, same ARN up to the pool id (region, account), same MFA mode


# --- snapshots carry it all --------------------------------------------------------------------------------


def test_snapshot_and_restore_carry_tags_branding_secrets_and_jobs(emu: Emulator, idp: Any) -> None:
    control = Control(emu.backend)
    pool_id, cid, first = _confidential_setup(idp)
    arn = idp.describe_user_pool(UserPoolId=pool_id)["UserPool"]["Arn"]
    idp.tag_resource(ResourceArn=arn, Tags={"cost-center": "42"})
    idp.create_user_pool_domain(UserPoolId=pool_id, Domain="iac-snapshot")
    idp.set_ui_customization(UserPoolId=pool_id, ClientId="ALL", CSS=CSS, ImageFile=PNG)
    second = idp.add_user_pool_client_secret(UserPoolId=pool_id, ClientId=cid)["ClientSecretDescriptor"]
    job = idp.create_user_import_job(JobName="kept", UserPoolId=pool_id, CloudWatchLogsRoleArn=ROLE)["UserImportJob"]
    before = [idp.list_tags_for_resource(ResourceArn=arn)["Tags"],
              idp.get_ui_customization(UserPoolId=pool_id)["UICustomization"],
              idp.list_user_pool_client_secrets(UserPoolId=pool_id, ClientId=cid)["ClientSecrets"],
              idp.describe_user_import_job(UserPoolId=pool_id, JobId=job["JobId"])["UserImportJob"]]
    snapshot = control.snapshot(include_secrets=True)
    stored = next(p for p in snapshot["pools"] if p["pool_id"] == pool_id)
    assert stored["tags"]["cost-center"] == "42" and stored["ui_customizations"]["ALL"]["css"] == CSS
    assert len(stored["clients"][cid]["client_secrets"]) == 2 and job["JobId"] in stored["import_jobs"]
    secretless = next(p for p in control.snapshot()["pools"] if p["pool_id"] == pool_id)
    assert second["ClientSecretValue"] not in json.dumps(secretless)
    assert "upload_key" not in secretless["import_jobs"][job["JobId"]]

    idp.untag_resource(ResourceArn=arn, TagKeys=["cost-center"])
    idp.delete_user_pool_client_secret(UserPoolId=pool_id, ClientId=cid, ClientSecretId=second["ClientSecretId"])
    idp.stop_user_import_job(UserPoolId=pool_id, JobId=job["JobId"])
    control.restore(snapshot)
    after = [idp.list_tags_for_resource(ResourceArn=arn)["Tags"],
             idp.get_ui_customization(UserPoolId=pool_id)["UICustomization"],
             idp.list_user_pool_client_secrets(UserPoolId=pool_id, ClientId=cid)["ClientSecrets"],
             idp.describe_user_import_job(UserPoolId=pool_id, JobId=job["JobId"])["UserImportJob"]]
    assert after == before
    for secret in (first, second["ClientSecretValue"]):
        _sign_in(idp, cid, secret)
    assert requests.put(job["PreSignedUrl"], data=b"restored", timeout=10).status_code == 200  # its key came back
    assert requests.get(after[1]["ImageUrl"], timeout=10).content == PNG
