"""Exchange credentials in AWS Secrets Manager: one secret per connection and credential version.

Each secret is encrypted under the customer-managed KMS key and tagged with its owner, exchange
and connection. A credential change creates a new secret and destroys the old one, instead of
adding a version to the same secret: Secrets Manager would keep the old value as AWSPREVIOUS, and a
replaced key must not stay readable. Destruction is always immediate (no recovery window).
"""

from __future__ import annotations

import hashlib
import hmac
import json
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from backfuture.aws import client, error_code
from backfuture.config import settings
from backfuture.errors import StorageUnavailable
from backfuture.exchanges import Credentials
from backfuture.observability import tracer


class SecretMissing(Exception):
    """The secret no longer exists (destroyed after a refusal or a delete)."""


def secret_name(connection_id: str, credentials_version: int) -> str:
    return f"{settings().secret_name_prefix}{connection_id}/v{credentials_version}"


class SecretVault:
    def __init__(self, secretsmanager: Any | None = None) -> None:
        self._sm = secretsmanager or client("secretsmanager")
        self._pepper: bytes | None = None

    def store(
        self,
        *,
        connection_id: str,
        credentials_version: int,
        owner: str,
        exchange: str,
        credentials: Credentials,
    ) -> str:
        """Create the connection's secret; returns its ARN."""
        value = {"api_key": credentials.api_key, "api_secret": credentials.api_secret}
        if credentials.passphrase is not None:
            value["passphrase"] = credentials.passphrase
        try:
            created = self._sm.create_secret(
                Name=secret_name(connection_id, credentials_version),
                KmsKeyId=settings().kms_key_id,
                SecretString=json.dumps(value),
                Description="Exchange API credentials of one BackFuture connection",
                Tags=[
                    {"Key": "owner", "Value": owner},
                    {"Key": "exchange", "Value": exchange},
                    {"Key": "connection", "Value": connection_id},
                ],
            )
        except (ClientError, BotoCoreError) as error:
            raise StorageUnavailable(error_code(error)) from None
        return str(created["ARN"])

    # Traced without response or error: either could carry key material.
    @tracer.capture_method(capture_response=False, capture_error=False)
    def read(self, arn: str) -> Credentials:
        try:
            response = self._sm.get_secret_value(SecretId=arn)
        except (ClientError, BotoCoreError) as error:
            if error_code(error) == "ResourceNotFoundException":
                raise SecretMissing(arn) from None
            # `from None`: botocore's exception text carries nothing secret, but the chained context
            # of a failed read is never worth the risk of a traceback near key material.
            raise StorageUnavailable(error_code(error)) from None
        value = json.loads(response["SecretString"])
        return Credentials(value["api_key"], value["api_secret"], value.get("passphrase"))

    # Traced without response or error: either could carry key material.
    @tracer.capture_method(capture_response=False, capture_error=False)
    def destroy(self, arn: str) -> None:
        """Delete at once, without a recovery window. Already gone counts as done."""
        try:
            self._sm.delete_secret(SecretId=arn, ForceDeleteWithoutRecovery=True)
        except (ClientError, BotoCoreError) as error:
            if error_code(error) != "ResourceNotFoundException":
                raise StorageUnavailable(error_code(error)) from None

    def fingerprint(self, api_key: str) -> str:
        """A keyed hash of the API key: finds a key connected twice without storing it in clear.

        The pepper lives in its own secret, so a copy of the table alone cannot be used to test
        guesses of API keys against the fingerprints.
        """
        if self._pepper is None:
            try:
                response = self._sm.get_secret_value(SecretId=settings().fingerprint_secret_arn)
            except (ClientError, BotoCoreError) as error:
                raise StorageUnavailable(error_code(error)) from None
            self._pepper = response["SecretString"].encode()
        return hmac.new(self._pepper, api_key.encode(), hashlib.sha256).hexdigest()
