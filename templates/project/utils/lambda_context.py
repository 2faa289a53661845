"""The type of the `context` argument that Lambda's Python runtime passes to a handler.

Handlers annotate their second argument with `LambdaContext`; the runtime's
object and the tests' `FakeLambdaContext` (test/lambda_context.py) both fit it.
"""

from typing import Protocol


class LambdaContext(Protocol):
    """The attributes and method of the runtime's context object."""

    function_name: str
    function_version: str
    invoked_function_arn: str
    memory_limit_in_mb: str
    aws_request_id: str
    log_group_name: str
    log_stream_name: str

    def get_remaining_time_in_millis(self) -> int:
        """Milliseconds left before Lambda stops this invocation."""
        ...
