"""The one table of Cognito errors.

Every error the emulator sends is a member of :class:`Err`: its Cognito
``__type`` and the exact message a real pool sends (from AWS's documentation,
the botocore model and answers observed from real pools). Engine code raises
``Err.X.error(**fields)``; the HTTP face turns a :class:`CognitoError` into
``{"__type", "message"}`` with the right status, so no message string is
written twice.
"""

from __future__ import annotations

from enum import Enum
from typing import Any


class CognitoError(Exception):
    """An error a real user pool would return: type, message and HTTP status."""

    def __init__(self, type_: str, message: str, status: int | None = None, **extra: Any) -> None:
        super().__init__(f"{type_}: {message}")
        self.type = type_
        self.message = message
        self.status = status if status is not None else (500 if type_ == "InternalErrorException" else 400)
        self.extra = extra

    def to_body(self) -> dict[str, Any]:
        body: dict[str, Any] = {"__type": self.type, "message": self.message}
        body.update(self.extra)
        return body


class Err(Enum):
    """(type, message template). Templates use ``str.format`` fields."""

    # --- sign-in ---------------------------------------------------------
    INCORRECT_CREDENTIALS = ("NotAuthorizedException", "Incorrect username or password.")
    PASSWORD_ATTEMPTS_EXCEEDED = ("NotAuthorizedException", "Password attempts exceeded")
    USER_DISABLED = ("NotAuthorizedException", "User is disabled.")
    RESET_USER_DISABLED = ("NotAuthorizedException", "User is disabled")  # AdminResetUserPassword's wording
    USER_NOT_FOUND = ("UserNotFoundException", "User does not exist.")
    USER_CLIENT_NOT_FOUND = ("UserNotFoundException", "Username/client id combination not found.")
    USER_NOT_CONFIRMED = ("UserNotConfirmedException", "User is not confirmed.")
    PASSWORD_RESET_REQUIRED = ("PasswordResetRequiredException", "Password reset required for the user")
    TEMP_PASSWORD_EXPIRED = (
        "NotAuthorizedException",
        "Temporary password has expired and must be reset by an administrator.",
    )
    SESSION_EXPIRED = ("NotAuthorizedException", "Invalid session for the user, session is expired.")
    INVALID_SESSION = ("NotAuthorizedException", "Invalid session for the user.")
    FLOW_NOT_ENABLED = ("InvalidParameterException", "{flow} flow not enabled for this client")
    AUTH_FLOW_NOT_ENABLED = ("InvalidParameterException", "Auth flow not enabled for this client")
    AUTH_FLOW_NOT_SUPPORTED = ("InvalidParameterException", "Initiate Auth method not supported.")
    MISSING_AUTH_PARAMETER = ("InvalidParameterException", "Missing required parameter {name}")
    SRP_BAD_A = ("InvalidParameterException", "SRP_A value is invalid.")
    SRP_BAD_TIMESTAMP = (
        "InvalidParameterException",
        "TIMESTAMP format should be EEE MMM d HH:mm:ss z yyyy in english.",
    )
    SRP_TIMESTAMP_SKEW = ("NotAuthorizedException", "Incorrect username or password.")
    CUSTOM_AUTH_NOT_CONFIGURED = (
        "InvalidParameterException",
        "Custom auth lambda trigger is not configured for the user pool.",
    )
    REQUIRED_ATTRIBUTES_MISSING = ("InvalidParameterException", "Invalid attributes given, {names} is missing")
    PROVIDED_ATTRIBUTE_IMMUTABLE = ("NotAuthorizedException", "Cannot modify an already provided {name}")
    FLOW_NOT_EMULATED = (
        "UnsupportedOperationException",
        "Auth flow {flow} is not yet emulated by cognito-harness.",
    )
    SIGNUP_NOT_PERMITTED = ("NotAuthorizedException", "SignUp is not permitted for this user pool")
    AUTO_VERIFY_OFF = ("InvalidParameterException", "Cannot resend codes. Auto verification not turned on.")
    REVOKE_UNAUTHORIZED_CLIENT = ("UnauthorizedException", "Client authentication failed.")
    CHALLENGE_NOT_SUPPORTED = ("InvalidParameterException", "Challenge {name} is not supported.")
    CHALLENGE_MISMATCH = ("InvalidParameterException", "Invalid challenge name for this session.")
    # --- client / secret hash -------------------------------------------
    CLIENT_NOT_FOUND = ("ResourceNotFoundException", "User pool client {client_id} does not exist.")
    SECRET_MISSING = (
        "NotAuthorizedException",
        "Client {client_id} is configured for secret but secret was not received",
    )
    SECRET_MISMATCH = ("NotAuthorizedException", "Unable to verify secret hash for client {client_id}")
    CLIENT_SECRET_MISMATCH = ("NotAuthorizedException", "Invalid client secret for client {client_id}")
    # --- tokens ----------------------------------------------------------
    ACCESS_TOKEN_REVOKED = ("NotAuthorizedException", "Access Token has been revoked")
    ACCESS_TOKEN_EXPIRED = ("NotAuthorizedException", "Access Token has expired")
    ACCESS_TOKEN_INVALID = ("NotAuthorizedException", "Invalid Access Token")
    ACCESS_TOKEN_SCOPES = ("NotAuthorizedException", "Access Token does not have required scopes")
    REFRESH_TOKEN_REVOKED = ("NotAuthorizedException", "Refresh Token has been revoked")
    REFRESH_TOKEN_EXPIRED = ("NotAuthorizedException", "Refresh Token has expired")
    REFRESH_TOKEN_INVALID = ("NotAuthorizedException", "Invalid Refresh Token")
    REFRESH_TOKEN_REUSED = (
        "RefreshTokenReuseException",
        "The refresh token has been invalidated by refresh token rotation.",
    )
    REFRESH_ROTATION_REQUIRED = (
        "NotAuthorizedException",
        "Refresh token rotation is enabled for this client; use GetTokensFromRefreshToken.",
    )
    REVOCATION_NOT_ENABLED = (
        "UnsupportedOperationException",
        "Token revocation is not enabled for this client.",
    )
    NOT_A_REFRESH_TOKEN = ("UnsupportedTokenTypeException", "Unsupported token type.")
    REVOKE_CLIENT_MISMATCH = ("UnauthorizedException", "Invalid client for this refresh token.")
    # --- codes -----------------------------------------------------------
    CODE_MISMATCH = ("CodeMismatchException", "Invalid verification code provided, please try again.")
    CODE_EXPIRED = ("ExpiredCodeException", "Invalid code provided, please request a code again.")
    ATTEMPT_LIMIT = ("LimitExceededException", "Attempt limit exceeded, please try after some time.")
    ALREADY_CONFIRMED = ("NotAuthorizedException", "User cannot be confirmed. Current status is {status}")
    RESEND_ALREADY_CONFIRMED = ("InvalidParameterException", "User is already confirmed.")
    CANNOT_RESET_STATE = ("NotAuthorizedException", "User password cannot be reset in the current state.")
    NO_VERIFIED_CONTACT = (
        "InvalidParameterException",
        "Cannot reset password for the user as there is no registered/verified email or phone_number",
    )
    ATTRIBUTE_NOT_PRESENT = ("InvalidParameterException", "User does not have attribute {name}.")
    # --- delivery --------------------------------------------------------
    CODE_DELIVERY_FAILURE = ("CodeDeliveryFailureException", "Invalid email provided/Unable to send the email")
    SMS_DELIVERY_FAILURE = ("CodeDeliveryFailureException", "Unable to deliver the SMS message.")
    DAILY_EMAIL_LIMIT = (
        "LimitExceededException",
        "Exceeded daily email limit for the operation or the account. If a higher limit is required, "
        "please configure your user pool to use your own Amazon SES configuration for sending email.",
    )
    # --- users and attributes -------------------------------------------
    USERNAME_EXISTS = ("UsernameExistsException", "User already exists")
    ADMIN_USERNAME_EXISTS = ("UsernameExistsException", "User account already exists")
    EMAIL_EXISTS = ("UsernameExistsException", "An account with the given email already exists.")
    PHONE_EXISTS = ("UsernameExistsException", "An account with the given phone_number already exists.")
    ALIAS_EXISTS = ("AliasExistsException", "An account with the given {name} already exists.")
    USERNAME_MUST_BE_EMAIL_OR_PHONE = (
        "InvalidParameterException",
        "Username should be either an email or a phone number.",
    )
    USERNAME_MUST_BE_EMAIL = ("InvalidParameterException", "Username should be an email.")
    USERNAME_MUST_BE_PHONE = ("InvalidParameterException", "Username should be a phone number.")
    USERNAME_CANNOT_BE_EMAIL = (
        "InvalidParameterException",
        "Username cannot be of email format, since user pool is configured for email alias.",
    )
    USERNAME_CANNOT_BE_PHONE = (
        "InvalidParameterException",
        "Username cannot be of phone number format, since user pool is configured for phone_number alias.",
    )
    INVALID_EMAIL = ("InvalidParameterException", "Invalid email address format.")
    INVALID_PHONE = ("InvalidParameterException", "Invalid phone number format.")
    ATTRIBUTE_NOT_IN_SCHEMA = (
        "InvalidParameterException",
        "Attributes did not conform to the schema: {name}: Attribute does not exist in the schema.\n",
    )
    ATTRIBUTE_REQUIRED = (
        "InvalidParameterException",
        "Attributes did not conform to the schema: {name}: The attribute is required\n",
    )
    ATTRIBUTE_IMMUTABLE = (
        "NotAuthorizedException",
        "Cannot modify an already provided immutable attribute: {name}",
    )
    ATTRIBUTE_NOT_WRITABLE = (
        "NotAuthorizedException",
        "A client attempted to write unauthorized attribute",
    )
    ATTRIBUTE_TOO_LONG = (
        "InvalidParameterException",
        "Attributes did not conform to the schema: {name}: String must be no longer than {max} characters\n",
    )
    ATTRIBUTE_BAD_TYPE = (
        "InvalidParameterException",
        "Attributes did not conform to the schema: {name}: {reason}\n",
    )
    SUB_NOT_WRITABLE = ("InvalidParameterException", "Cannot modify the non-mutable attribute sub")
    # --- passwords -------------------------------------------------------
    PASSWORD_POLICY_SIGNUP = ("InvalidPasswordException", "Password did not conform with policy: {reason}")
    PASSWORD_POLICY_TEMP = ("InvalidPasswordException", "Password did not conform with password policy: {reason}")
    PASSWORD_POLICY = ("InvalidPasswordException", "Password does not conform to policy: {reason}")
    PASSWORD_HISTORY = (
        "PasswordHistoryPolicyViolationException",
        "The password you entered was used recently. Choose a different password.",
    )
    # --- resources -------------------------------------------------------
    POOL_NOT_FOUND = ("ResourceNotFoundException", "User pool {pool_id} does not exist.")
    GROUP_NOT_FOUND = ("ResourceNotFoundException", "Group not found.")
    GROUP_EXISTS = ("GroupExistsException", "A group with the name already exists.")
    DELETION_PROTECTED = (
        "InvalidParameterException",
        "The user pool cannot be deleted because deletion protection is activated. "
        "Deletion protection must be inactivated first.",
    )
    POOL_HAS_DOMAIN_DELETE = (
        "InvalidParameterException",
        "User pool cannot be deleted. It has a domain configured that should be deleted first.",
    )
    CUSTOM_ATTRIBUTE_EXISTS = ("InvalidParameterException", "Existing attribute already has name {name}.")
    TOO_MANY_CUSTOM_ATTRIBUTES = (
        "LimitExceededException",
        "The maximum number of custom attributes (50) has been reached.",
    )
    INVALID_PARAMETER = ("InvalidParameterException", "{detail}")
    INVALID_PAGINATION = ("InvalidParameterException", "Pagination token is invalid.")
    INVALID_FILTER = ("InvalidParameterException", "Error while parsing filter")
    FILTER_ATTRIBUTE = ("InvalidParameterException", "Invalid search attribute: {name}")
    TOKEN_VALIDITY_RANGE = ("InvalidParameterException", "Invalid range for token validity.")
    RESEND_NOT_POSSIBLE = (
        "UnsupportedUserStateException",
        "Resend not possible. {username} status is not FORCE_CHANGE_PASSWORD",
    )
    INVITE_DAILY_LIMIT = (
        "CodeDeliveryFailureException",
        "Exceeded daily email limit for the operation or the account. If a higher limit is required, "
        "please configure your user pool to use your own Amazon SES configuration for sending email.",
    )
    # --- protocol --------------------------------------------------------
    SERIALIZATION = ("SerializationException", "{detail}")
    UNKNOWN_OPERATION = ("UnknownOperationException", "{detail}")
    NOT_EMULATED = (
        "NotImplementedException",
        "Operation {operation} is in the Cognito API but is not yet emulated by cognito-harness.",
    )
    # --- federation, domains, resource servers, triggers (issue 3) -------
    IDP_NOT_FOUND = ("ResourceNotFoundException", "Identity provider {name} does not exist.")
    IDP_EXISTS = ("DuplicateProviderException", "A provider with the name {name} already exists in this user pool.")
    IDP_IDENTIFIER_EXISTS = ("DuplicateProviderException", "Identifier {identifier} is already used by another provider.")
    IDP_IDENTIFIER_IN_USE = ("InvalidParameterException", "Identifier {identifier} is already used by another provider.")
    IDP_IDENTIFIER_NOT_FOUND = ("ResourceNotFoundException", "Identity provider with identifier {identifier} does not exist.")
    IDP_DETAILS_INVALID = ("InvalidParameterException", "{detail}")
    IDP_RESERVED_NAME = ("InvalidParameterException", "Provider name {name} is reserved for provider type {ptype}.")
    RESOURCE_SERVER_NOT_FOUND = ("ResourceNotFoundException", "Resource server {identifier} does not exist.")
    RESOURCE_SERVER_EXISTS = ("InvalidParameterException", "A resource server with identifier {identifier} already exists.")
    DOMAIN_EXISTS = ("InvalidParameterException", "Domain already exists.")
    POOL_HAS_DOMAIN = ("InvalidParameterException", "User pool already has a domain configured.")
    DOMAIN_NOT_FOUND = ("InvalidParameterException", "No such domain or user pool exists.")
    DOMAIN_RESERVED = ("InvalidParameterException", "Domain {domain} is reserved and cannot be used.")
    LINK_MERGE_NOT_SUPPORTED = (
        "InvalidParameterException",
        "Merging is not currently supported, provide a SourceUser that has not been signed up in order to link",
    )
    LINK_SOURCE_IS_NATIVE = (
        "InvalidParameterException",
        "Invalid SourceUser: Cognito users with a username/password may not be passed in as a SourceUser, "
        "only as a DestinationUser",
    )
    LINK_SOURCE_ATTRIBUTE = (
        "InvalidParameterException",
        "Invalid SourceUser: ProviderAttributeName must be Cognito_Subject for provider {name}",
    )
    LINK_ALREADY_LINKED = ("AliasExistsException", "The provided SourceUser is already linked to a user.")
    LINK_LIMIT = ("LimitExceededException", "A user can have at most 5 linked identities.")
    LINK_IMMUTABLE_ATTRIBUTES = (
        "InvalidParameterException",
        "Cannot link to a DestinationUser with immutable attribute {name}.",
    )
    ALREADY_FOUND_ENTRY = ("InvalidParameterException", "Already found an entry for username {username}")
    LAMBDA_FAILED = ("UserLambdaValidationException", "{trigger} failed with error {message}.")
    LAMBDA_BAD_RESPONSE = ("InvalidLambdaResponseException", "Unrecognizable lambda output")
    LAMBDA_UNEXPECTED = ("UnexpectedLambdaException", "{trigger} invocation failed due to error {detail}.")
    LAMBDA_TIMED_OUT = ("UnexpectedLambdaException",
                        "{trigger} invocation failed due to error Socket timeout while invoking Lambda function.")
    # a real pool says AccessDeniedException for a function it may not invoke (or that was deleted); the
    # harness adds how to give the ARN a function
    LAMBDA_NOT_BOUND = (
        "UnexpectedLambdaException",
        "{trigger} invocation failed due to error AccessDeniedException. cognito-harness: nothing runs {arn}: "
        "bind it (serve --lambda-endpoint URL or AWS_ENDPOINT_URL_LAMBDA for SAM local / LocalStack; "
        "[pool.triggers] {trigger} = \"python:module:function\" or \"node:path/index.handler\"; "
        "POST /_harness/triggers {{\"arn\", \"handler\"}}; pytest: cognito_triggers.bind(\"{trigger}\", fn)).",
    )
    MIGRATION_FAILED = ("UserNotFoundException", "Exception migrating user in app client {client_id}")
    # --- MFA (issue 12) ---------------------------------------------------
    MFA_CODE_MISMATCH = ("CodeMismatchException", "Invalid code or auth state for the user.")
    MFA_CODE_EXPIRED = ("ExpiredCodeException", "Invalid code provided, please request a code again.")
    SESSION_USED = ("NotAuthorizedException", "Invalid session for the user, session can only be used once.")
    TOTP_NOT_ENABLED_IN_POOL = ("SoftwareTokenMFANotFoundException", "Software Token MFA has not been enabled by the userPool.")
    TOTP_NOT_ASSOCIATED = ("SoftwareTokenMFANotFoundException", "Software Token MFA has not been associated with the user.")
    TOTP_NONE_TO_DELETE = ("ResourceNotFoundException", "User does not have a software token to delete.")
    TOTP_VERIFY_MISMATCH = ("EnableSoftwareTokenMFAException", "Code mismatch and fail enable Software Token MFA")
    TOTP_NOT_VERIFIED = ("InvalidParameterException", "User has not verified software token mfa")
    SMS_MFA_NO_PHONE = ("InvalidParameterException", "User does not have delivery config set to turn on SMS_MFA")
    EMAIL_MFA_NO_EMAIL = ("InvalidParameterException", "User does not have delivery config set to turn on EMAIL_OTP")
    MFA_FACTOR_OFF_IN_POOL = ("InvalidParameterException", "{factor} is not enabled for this user pool.")
    MFA_NEEDS_SMS_CONFIG = (
        "InvalidParameterException",
        "SMS configuration and Auto verification for phone_number are required when MFA is required/optional",
    )
    MFA_ON_NEEDS_FACTOR = (
        "InvalidParameterException",
        "At least one MFA method (SMS, software token or email) must be enabled when MfaConfiguration is {mode}.",
    )
    EMAIL_MFA_NEEDS_SES = (
        "InvalidParameterException",
        "Email MFA requires the user pool to send email with Amazon SES (EmailSendingAccount DEVELOPER).",
    )
    MFA_TEMPLATE_CODE = ("InvalidParameterException", "{field} must contain the {{####}} placeholder.")
    MFA_METHOD_NOT_FOUND = ("MFAMethodNotFoundException", "No MFA mechanism registered in the account: {factor}")
    ACCESS_OR_SESSION = ("InvalidParameterException", "Provide either an AccessToken or a Session, not both.")
    # --- tiers and auth events (issue 12) ---
    FEATURE_UNAVAILABLE_IN_TIER = (
        "FeatureUnavailableInTierException",
        "The following features need to be disabled for the {tier} pricing tier configured: {features}",
    )
    TIER_CHANGE_NOT_ALLOWED = (
        "TierChangeNotAllowedException",
        "The following features need to be disabled for the {tier} pricing tier configured: {features}",
    )
    ADD_ON_NOT_ENABLED = (
        "UserPoolAddOnNotEnabledException",
        "Threat protection (UserPoolAddOns AdvancedSecurityMode AUDIT or ENFORCED) is not enabled for this user pool.",
    )
    AUTH_EVENT_NOT_FOUND = ("ResourceNotFoundException", "Auth event {event_id} does not exist for the user.")
    FEEDBACK_TOKEN_INVALID = ("NotAuthorizedException", "Invalid feedback token for the auth event.")
    # --- devices (issue 12) ---------------------------------------------
    DEVICE_NOT_FOUND = ("ResourceNotFoundException", "Device does not exist.")
    DEVICE_KEY_INVALID = ("InvalidParameterException", "Invalid device key given.")
    DEVICE_KEY_EXISTS = ("DeviceKeyExistsException", "Device key already exists.")
    DEVICE_VERIFIER_INVALID = (
        "InvalidParameterException",
        "DeviceSecretVerifierConfig must carry a base64 Salt and PasswordVerifier.",
    )
    DEVICE_OWNER_NOT_FOUND = ("ResourceNotFoundException", "User does not exist.")  # Admin*Device without UserNotFound
    # --- identity pools: roles and credentials (issue 14) -------------------
    IDENTITY_POOL_ROLES_INVALID = (
        "InvalidIdentityPoolConfigurationException",
        "Invalid identity pool configuration. Check assigned IAM roles for this pool.",
    )
    AMBIGUOUS_ROLE_DENIED = (
        "NotAuthorizedException",
        "The ambiguous role mapping rules for: {provider} denied this request.",
    )
    # chosen wording (AWS's is unobserved): a CustomRoleArn the token's cognito:roles does not list
    CUSTOM_ROLE_NOT_IN_TOKEN = (
        "NotAuthorizedException",
        "The role mapping rules for: {provider} denied this request: CustomRoleArn is not in the token's cognito:roles.",
    )
    # --- identity pools: administration (cognito-identity, issue 14) ----
    # Sourced: IDENTITY_POOL_NOT_FOUND / IDENTITY_NOT_FOUND (AWS answers "IdentityPool '<id>' not found."),
    # ROLE_MAPPING_PROVIDER (observed verbatim, parentheses included, in CloudFormation/CDK failures),
    # DEVELOPER_PROVIDER_IMMUTABLE (the API reference: "Once you have set a developer provider name, you
    # cannot change it"). The other wordings are chosen (AWS's text unverified); their types are modeled.
    IDENTITY_POOL_NOT_FOUND = ("ResourceNotFoundException", "IdentityPool '{pool_id}' not found.")
    IDENTITY_NOT_FOUND = ("ResourceNotFoundException", "Identity '{identity_id}' not found.")
    IDENTITY_POOL_LIMIT = ("LimitExceededException", "The identity pool limit ({limit}) has been reached.")
    IDENTITY_POOL_ARN_INVALID = ("InvalidParameterException", "Invalid identity pool ARN: {arn}")
    IDENTITY_POOL_TAG_LIMIT = ("InvalidParameterException", "An identity pool can have at most {limit} tags.")
    IDENTITY_POOL_TAG_RESERVED = ("InvalidParameterException", "Tag keys beginning with 'aws:' are reserved.")
    LOGIN_PROVIDER_UNSUPPORTED = (
        "InvalidParameterException",
        "Unsupported login provider {name}: SupportedLoginProviders takes graph.facebook.com, accounts.google.com, "
        "www.amazon.com, appleid.apple.com, api.twitter.com or www.digits.com.",
    )
    USER_POOL_PROVIDER_INVALID = (
        "InvalidParameterException",
        "Invalid Cognito Identity Provider name {name}: expected cognito-idp.<region>.amazonaws.com/<user pool id>.",
    )
    USER_POOL_PROVIDER_DUPLICATE = (
        "InvalidParameterException",
        "Cognito Identity Provider {name} with client {client_id} is listed twice.",
    )
    USER_POOL_PROVIDER_LIMIT = (
        "LimitExceededException",
        "An identity pool can have at most {limit} Cognito Identity Providers.",
    )
    DEVELOPER_PROVIDER_IMMUTABLE = (
        "InvalidParameterException",
        "The developer provider name of an identity pool cannot be changed once it is set (it is {name}).",
    )
    ROLE_TYPE_INVALID = ("InvalidParameterException", "Invalid role type {name}: expected authenticated or unauthenticated.")
    ROLE_ARN_INVALID = ("InvalidParameterException", "Invalid role ARN {arn}: expected arn:aws:iam::<account id>:role/<name>.")
    ROLE_MAPPING_PROVIDER = (
        "InvalidParameterException",
        "({key}) is not a valid RoleMapping ProviderName or is not a configured provider.",
    )
    ROLE_MAPPING_AMBIGUOUS_REQUIRED = (
        "InvalidParameterException",
        "AmbiguousRoleResolution must be specified for the RoleMapping of {key}.",
    )
    ROLE_MAPPING_RULES_REQUIRED = (
        "InvalidParameterException",
        "RulesConfiguration is required for the RoleMapping of {key}, of type Rules.",
    )
    ROLE_MAPPING_RULES_UNEXPECTED = (
        "InvalidParameterException",
        "RulesConfiguration is only allowed for a RoleMapping of type Rules ({key} is of type Token).",
    )
    ROLE_MAPPING_RULES_LIMIT = (
        "InvalidParameterException",
        "The RoleMapping of {key} has {count} rules: at most {limit} are allowed.",
    )
    DEVELOPER_PROVIDER_MISMATCH = (
        "InvalidParameterException",
        "This identity pool does not support the specified developer provider.",
    )  # the message a developer-provider app reported (danilop/lambdauth#32)
    DEVELOPER_LOOKUP_NEEDS_KEY = (
        "InvalidParameterException",
        "Either IdentityId or DeveloperUserIdentifier must be specified.",
    )
    DEVELOPER_USER_NOT_FOUND = (
        "ResourceNotFoundException",
        "DeveloperUserIdentifier {identifier} is not linked to an identity of this identity pool.",
    )
    DEVELOPER_USER_MISMATCH = (
        "ResourceConflictException",
        "DeveloperUserIdentifier {identifier} is not linked to identity {identity_id}.",
    )
    IDENTITY_MERGE_CONFLICT = (
        "ResourceConflictException",
        "The identities cannot be merged: each is linked to a different {provider} user.",
    )  # the API reference: merging two users of the same public provider "will throw an exception"
    # --- identity pools: logins, identities, OpenID tokens (issue 14) ------
    # Observed verbatim from real identity pools (amplify-js #2067, #3675, #9704, aws-cli #7652):
    # the LOGIN_* messages but LOGIN_REVOKED and LOGIN_DUPLICATE_PROVIDER, UNAUTHENTICATED_NOT_ALLOWED,
    # CLASSIC_FLOW_DISABLED, CLASSIC_FLOW_WITH_ROLE_MAPPINGS. The others are chosen wordings (modeled types).
    LOGIN_PROVIDER_NOT_SUPPORTED = ("NotAuthorizedException", "Token is not from a supported provider of this identity pool.")
    LOGIN_ISSUER_MISMATCH = ("NotAuthorizedException", "Invalid login token. Issuer doesn't match providerName")
    LOGIN_UNVERIFIABLE = ("NotAuthorizedException", "Invalid login token. Couldn't verify signed token.")
    LOGIN_NOT_ID_TOKEN = ("NotAuthorizedException", "Invalid login token. Not a valid OpenId Connect identity token.")
    LOGIN_EXPIRED = ("NotAuthorizedException", "Invalid login token. Token expired: {now} >= {exp}")
    LOGIN_REVOKED = ("NotAuthorizedException", "Invalid login token. The user has been signed out, disabled or deleted.")
    LOGINS_DONT_MATCH = (
        "NotAuthorizedException",
        "Logins don't match. Please include at least one valid login for this identity or identity pool.",
    )
    UNAUTHENTICATED_NOT_ALLOWED = ("NotAuthorizedException", "Unauthenticated access is not supported for this identity pool.")
    LOGIN_DUPLICATE_PROVIDER = (
        "ResourceConflictException",
        "Identity {identity_id} is already linked to a different login of {provider}.",
    )
    IDENTITY_MERGED = ("NotAuthorizedException", "Identity '{identity_id}' was merged into '{survivor}'.")
    DEVELOPER_LOGIN_IN_PUBLIC_API = (
        "NotAuthorizedException",
        "Developer provider {provider} logins are only accepted by GetOpenIdTokenForDeveloperIdentity.",
    )
    UNLINK_DEVELOPER_LOGIN = (
        "InvalidParameterException",
        "Use UnlinkDeveloperIdentity to remove a login of developer provider {provider}.",
    )
    DEVELOPER_USER_REGISTERED = (
        "DeveloperUserAlreadyRegisteredException",
        "The provided developer user identifier is already registered with Cognito under a different identity ID.",
    )  # the model's documentation of the exception
    CLASSIC_FLOW_DISABLED = ("InvalidParameterException", "Basic (classic) flow is not enabled, please use enhanced flow.")
    CLASSIC_FLOW_WITH_ROLE_MAPPINGS = (
        "InvalidParameterException",
        "Basic (classic) flow is not supported with RoleMappings, please use enhanced flow.",
    )
    # --- STS AssumeRoleWithWebIdentity (the classic flow's second half; codes from botocore's sts model) ---
    # Observed verbatim: STS_NOT_A_JWT (amplify-js #9704), STS_ROLE_NOT_TRUSTED (AWS "Role trust and permissions").
    STS_NOT_A_JWT = (
        "InvalidIdentityToken",
        "The ID Token provided is not a valid JWT. (You may see this error if you sent an Access Token)",
    )
    STS_TOKEN_UNVERIFIABLE = ("InvalidIdentityToken", "Couldn't verify the signature of the web identity token.")
    STS_TOKEN_EXPIRED = ("ExpiredTokenException", "Token expired: current date/time {now} must be before the expiration date/time {exp}")
    STS_ROLE_NOT_TRUSTED = ("AccessDenied", "Not authorized to perform sts:AssumeRoleWithWebIdentity")
    STS_VALIDATION = ("ValidationError", "{detail}")
    # --- infrastructure-as-code operations (issue 13) ---------------------
    # Sourced: LAST_CLIENT_SECRET (the API reference: "You cannot delete the last remaining secret for an
    # app client"). The other wordings are chosen (AWS's text unverified); their types are modeled.
    RESOURCE_ARN_INVALID = (
        "InvalidParameterException",
        "Invalid ResourceArn {arn}: expected arn:aws:cognito-idp:<region>:<account id>:userpool/<user pool id>.",
    )
    TAG_LIMIT = ("InvalidParameterException", "A user pool can have at most {limit} tags.")
    TAG_KEY_RESERVED = ("InvalidParameterException", "Tag key {key} is reserved: keys beginning with aws: are for AWS use.")
    UI_NEEDS_DOMAIN = ("InvalidParameterException", "There has to be an existing domain associated with this user pool")
    UI_CSS_INVALID = ("InvalidParameterException", "Invalid CSS: {detail}")
    UI_IMAGE_INVALID = ("InvalidParameterException", "ImageFile must be a PNG or JPEG image.")
    CLIENT_HAS_NO_SECRET = (
        "InvalidParameterException",
        "Client {client_id} has no client secret: client secrets can be added only to a confidential app client.",
    )
    CLIENT_SECRET_LIMIT = (
        "LimitExceededException",
        "Client {client_id} already has {limit} client secrets; delete one before adding another.",
    )
    CLIENT_SECRET_EXISTS = ("InvalidParameterException", "Client {client_id} already has this client secret.")
    CLIENT_SECRET_NOT_FOUND = ("ResourceNotFoundException", "Client secret {secret_id} does not exist.")
    LAST_CLIENT_SECRET = ("InvalidParameterException", "You cannot delete the last remaining secret for an app client.")
    IMPORT_JOB_NOT_FOUND = ("ResourceNotFoundException", "User import job {job_id} does not exist.")
    IMPORT_JOB_NOT_STARTABLE = (
        "PreconditionNotMetException",
        "User import job {job_id} is {status}: only a job in status Created can be started.",
    )
    IMPORT_JOB_NOT_STOPPABLE = (
        "PreconditionNotMetException",
        "User import job {job_id} is {status}: only a job that has not finished can be stopped.",
    )
    IMPORT_NO_FILE = (
        "PreconditionNotMetException",
        "No CSV file has been uploaded to the pre-signed URL of user import job {job_id}.",
    )
    IMPORT_NEEDS_AUTO_VERIFY = (
        "PreconditionNotMetException",
        "The user pool must have email or phone_number as an auto-verified attribute to import users.",
    )
    # --- faults ----------------------------------------------------------
    THROTTLED = ("TooManyRequestsException", "Rate exceeded")
    INTERNAL_ERROR = ("InternalErrorException", "Internal server error.")

    @property
    def type(self) -> str:
        return self.value[0]

    @property
    def template(self) -> str:
        return self.value[1]

    def message(self, **fields: Any) -> str:
        return self.template.format(**fields) if fields else self.template

    def error(self, **fields: Any) -> CognitoError:
        """The exception to raise, with the message filled in."""
        return CognitoError(self.type, self.message(**fields))


def validation_error(problems: list[str]) -> CognitoError:
    """AWS's ``N validation error(s) detected: ...`` InvalidParameterException."""
    noun = "error" if len(problems) == 1 else "errors"
    return CognitoError(
        "InvalidParameterException",
        f"{len(problems)} validation {noun} detected: " + "; ".join(problems),
    )
