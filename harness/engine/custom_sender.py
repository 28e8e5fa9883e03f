"""Custom email and SMS sender triggers (``LambdaConfig.CustomEmailSender`` / ``CustomSMSSender``): not emulated.

Cognito hands such a function the code encrypted with the AWS Encryption SDK under the pool's
``KMSKeyID`` and sends nothing itself (docs: user-pool-lambda-custom-email-sender,
user-pool-lambda-custom-sms-sender). The harness has no KMS key a handler could decrypt with, so
a pool that configures a custom sender is refused at the first message it would send, with
UnexpectedLambdaException naming what is missing, rather than mailing the code in the clear as if
no sender were configured. Remove the sender from LambdaConfig to use the harness mailbox.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from harness.engine import triggers
from harness.errors import Err

if TYPE_CHECKING:  # pragma: no cover
    from harness.engine.store import Backend

SENDERS = {"EMAIL": "CustomEmailSender", "SMS": "CustomSMSSender"}
NOT_EMULATED = ("NotEmulated: cognito-harness does not emulate {trigger} (the code encrypted with the AWS "
                "Encryption SDK under LambdaConfig.KMSKeyID); remove LambdaConfig.{trigger} to receive "
                "messages in the harness mailbox")


def refuse_unemulated(backend: Backend, pool_id: str, channel: str) -> None:
    """Raise UnexpectedLambdaException when the pool would hand this message to a custom sender."""
    pool = backend.pools.get(pool_id)
    trigger = SENDERS.get(channel)
    if pool is None or trigger is None or not triggers.function_arn(pool, trigger):
        return
    raise Err.LAMBDA_UNEXPECTED.error(trigger=trigger, detail=NOT_EMULATED.format(trigger=trigger))


__all__ = ["SENDERS", "refuse_unemulated"]
