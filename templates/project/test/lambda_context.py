"""Test support shared by every handler's tests: a Lambda context and the fixtures.

`FakeLambdaContext` carries the attributes and methods of the context object that
the Python runtime passes to a handler, and `lambda_environment` the variables
Lambda sets for a function, so handlers can be called as Lambda calls them.
`lambda-scaffold invoke` builds its context and environment with this same file
(the copy in its binary), so a handler sees the same context in both.
"""

import json
import os
import sys
import time
import uuid
from pathlib import Path
from typing import Any

FIXTURES = Path(__file__).resolve().parent / "fixtures"

DEFAULT_REGION = "us-east-1"
ACCOUNT_ID = "123456789012"
FUNCTION_VERSION = "$LATEST"
DEFAULT_MEMORY_MB = 128
DEFAULT_TIMEOUT_SECONDS = 3


def load_fixture(name: str) -> Any:
    """Return the sample event `test/fixtures/<name>` as Python data."""
    return json.loads((FIXTURES / name).read_text(encoding="utf-8"))


def region() -> str:
    """The function's region: AWS_REGION or AWS_DEFAULT_REGION, else us-east-1."""
    return (
        os.environ.get("AWS_REGION")
        or os.environ.get("AWS_DEFAULT_REGION")
        or DEFAULT_REGION
    )


def new_log_stream_name() -> str:
    """A log stream name shaped like Lambda's: `2026/01/31/[$LATEST]` and hex."""
    return (
        time.strftime("%Y/%m/%d", time.gmtime())
        + f"/[{FUNCTION_VERSION}]"
        + uuid.uuid4().hex
    )


class CognitoIdentity:
    """`context.identity`: its ids are set only for calls from the AWS Mobile SDK."""

    def __init__(self) -> None:
        self.cognito_identity_id: str | None = None
        self.cognito_identity_pool_id: str | None = None


class FakeLambdaContext:
    """The attributes and methods of the Lambda runtime's context object."""

    def __init__(
        self,
        function_name: str,
        timeout_seconds: float = DEFAULT_TIMEOUT_SECONDS,
        memory_limit_in_mb: int = DEFAULT_MEMORY_MB,
        log_stream_name: str | None = None,
    ) -> None:
        self.function_name = function_name
        self.function_version = FUNCTION_VERSION
        self.invoked_function_arn = (
            f"arn:aws:lambda:{region()}:{ACCOUNT_ID}:function:{function_name}"
        )
        self.memory_limit_in_mb = str(memory_limit_in_mb)
        self.aws_request_id = str(uuid.uuid4())
        self.log_group_name = f"/aws/lambda/{function_name}"
        self.log_stream_name = log_stream_name or new_log_stream_name()
        self.identity = CognitoIdentity()
        # Set only for calls from the AWS Mobile SDK.
        self.client_context: Any = None
        self.tenant_id: str | None = None
        self._deadline = time.monotonic() + timeout_seconds

    def get_remaining_time_in_millis(self) -> int:
        return max(0, int((self._deadline - time.monotonic()) * 1000))

    def log(self, message: object) -> None:
        """Write to the function's log, as the runtime's `context.log` does."""
        sys.stdout.write(str(message))


def lambda_environment(
    function_name: str,
    handler: str,
    python_version: str,
    task_root: str,
    memory_limit_in_mb: int = DEFAULT_MEMORY_MB,
) -> dict[str, str]:
    """The variables Lambda sets for a function, with the context's defaults.

    `handler` is the AWS handler string (`producers.error_event`), `python_version`
    the runtime's (`3.13`), `task_root` the folder the zip is extracted to,
    `memory_limit_in_mb` the function's memory (give the context the same). Give
    `AWS_LAMBDA_LOG_STREAM_NAME` to the context as its `log_stream_name`.
    """
    return {
        "AWS_REGION": region(),
        "AWS_DEFAULT_REGION": region(),
        "AWS_EXECUTION_ENV": f"AWS_Lambda_python{python_version}",
        "AWS_LAMBDA_FUNCTION_NAME": function_name,
        "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": str(memory_limit_in_mb),
        "AWS_LAMBDA_FUNCTION_VERSION": FUNCTION_VERSION,
        "AWS_LAMBDA_INITIALIZATION_TYPE": "on-demand",
        "AWS_LAMBDA_LOG_GROUP_NAME": f"/aws/lambda/{function_name}",
        "AWS_LAMBDA_LOG_STREAM_NAME": new_log_stream_name(),
        "LAMBDA_TASK_ROOT": task_root,
        "TZ": ":UTC",
        "_HANDLER": handler,
    }
