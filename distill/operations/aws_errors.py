"""What to do about an error from an AWS call: the fix line the commands that call AWS print under it."""

from __future__ import annotations

from botocore.exceptions import (
    ClientError,
    ConnectionError,
    CredentialRetrievalError,
    HTTPClientError,
    NoCredentialsError,
    PartialCredentialsError,
    SSOError,
    TokenRetrievalError,
)

SIGN_IN = "sign in to the stage's account (aws sso login, or a profile in AWS_PROFILE)"
CHECK_NETWORK = (
    "check the network connection and any proxy (HTTPS_PROXY, NO_PROXY, AWS_CA_BUNDLE), then run the command again"
)
MAY_CALL = "check that your credentials may make the call the error names"
# Credentials AWS refused: the common errors of every AWS API for an expired token or an access key it does not
# know (https://docs.aws.amazon.com/awsconsolehelpdocs/latest/gsg/common-errors.html, read 2026-12-02;
# InvalidClientTokenId is STS's name for the latter, ExpiredToken its name for the former).
_REFUSED_CREDENTIALS = {"ExpiredToken", "ExpiredTokenException", "InvalidClientTokenId", "UnrecognizedClientException"}
_NO_CREDENTIALS = (
    NoCredentialsError,
    PartialCredentialsError,
    SSOError,
    TokenRetrievalError,
    CredentialRetrievalError,
)


def unreachable(error: Exception) -> bool:
    """Whether the call never got an answer: no connection, a proxy or TLS failure, a timeout."""
    return isinstance(error, ConnectionError | HTTPClientError)


def without_credentials(error: Exception) -> bool:
    """Whether there were no usable credentials, or AWS refused them as expired or unknown."""
    if isinstance(error, ClientError):
        return error.response.get("Error", {}).get("Code") in _REFUSED_CREDENTIALS
    return isinstance(error, _NO_CREDENTIALS)


def fix_for(error: Exception) -> str:
    """The one thing to do about ``error`` (a botocore exception): reach the endpoint, sign in, or get the
    permission."""
    if unreachable(error):
        return f"the AWS endpoint could not be reached: {CHECK_NETWORK}"
    if without_credentials(error):
        return SIGN_IN
    return MAY_CALL
