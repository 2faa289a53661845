"""The type of the `context` argument that Lambda's Python runtime passes to a handler.

Handlers annotate their second argument with `LambdaContext`; the runtime's
object and the tests' `FakeLambdaContext` (test/lambda_context.py) both fit it.
"""

from typing import Any, Protocol


class CognitoIdentity(Protocol):
    """`context.identity`: its ids are set only for calls from the AWS Mobile SDK."""

    cognito_identity_id: str | None
    cognito_identity_pool_id: str | None


class LambdaContext(Protocol):
    """The attributes and method of the runtime's context object."""

    function_name: str
    function_version: str
    invoked_function_arn: str
    memory_limit_in_mb: str
    aws_request_id: str
    log_group_name: str
    log_stream_name: str

    @property
    def identity(self) -> CognitoIdentity:
        """Who called, for calls from the AWS Mobile SDK."""
        ...

    @property
    def client_context(self) -> Any:
        """The client application's context (AWS Mobile SDK calls), else None."""
        ...

    def get_remaining_time_in_millis(self) -> int:
        """Milliseconds left before Lambda stops this invocation."""
        ...
