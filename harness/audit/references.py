"""The documents each finding cites: AWS's identity-pool guide and IAM's best practices (stable URLs)."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Reference:
    title: str
    url: str

    def to_dict(self) -> dict[str, str]:
        return {"title": self.title, "url": self.url}


COGNITO_GUIDE = "https://docs.aws.amazon.com/cognito/latest/developerguide"
IAM_GUIDE = "https://docs.aws.amazon.com/IAM/latest/UserGuide"

ROLE_TRUST = Reference("Amazon Cognito Developer Guide: Role trust and permissions",
                       f"{COGNITO_GUIDE}/role-trust-and-permissions.html")
IAM_ROLES = Reference("Amazon Cognito Developer Guide: IAM roles (identity pools)", f"{COGNITO_GUIDE}/iam-roles.html")
IDENTITY_POOL_SECURITY = Reference("Amazon Cognito Developer Guide: Security best practices for identity pools",
                                   f"{COGNITO_GUIDE}/identity-pools-security-best-practices.html")
ROLE_BASED_ACCESS = Reference("Amazon Cognito Developer Guide: Using role-based access control",
                              f"{COGNITO_GUIDE}/role-based-access-control.html")
AUTH_FLOW = Reference("Amazon Cognito Developer Guide: Identity pools authentication flow (enhanced and basic)",
                      f"{COGNITO_GUIDE}/authentication-flow.html")
PROVIDER_API = Reference("Amazon Cognito Identity API Reference: CognitoIdentityProvider (ServerSideTokenCheck)",
                         "https://docs.aws.amazon.com/cognitoidentity/latest/APIReference/"
                         "API_CognitoIdentityProvider.html")
IAM_LEAST_PRIVILEGE = Reference("IAM User Guide: Security best practices, apply least-privilege permissions",
                                f"{IAM_GUIDE}/best-practices.html#grant-least-privilege")
IAM_CONDITIONS = Reference("IAM User Guide: IAM JSON policy elements, Condition (multivalued keys)",
                           f"{IAM_GUIDE}/reference_policies_condition-single-vs-multi-valued-context-keys.html")
S3_PER_IDENTITY = Reference("IAM User Guide: Amazon S3, allow Amazon Cognito users to access objects in their bucket",
                            f"{IAM_GUIDE}/reference_policies_examples_s3_cognito-bucket.html")
DYNAMODB_PER_IDENTITY = Reference("Amazon DynamoDB Developer Guide: fine-grained access control (dynamodb:LeadingKeys)",
                                  "https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/"
                                  "specifying-conditions.html")

__all__ = ["AUTH_FLOW", "DYNAMODB_PER_IDENTITY", "IAM_CONDITIONS", "IAM_LEAST_PRIVILEGE", "IAM_ROLES",
           "IDENTITY_POOL_SECURITY", "PROVIDER_API", "ROLE_BASED_ACCESS", "ROLE_TRUST", "Reference", "S3_PER_IDENTITY"]
