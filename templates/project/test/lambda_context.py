"""Test support shared by every handler's tests: a Lambda context and the fixtures.

`FakeLambdaContext` carries the attributes of the real context object that the
Python runtime passes to a handler, so handlers can be called as Lambda calls them.
"""

import json
import time
import uuid
from pathlib import Path

FIXTURES = Path(__file__).resolve().parent / "fixtures"


def load_fixture(name):
    """Return the sample event `test/fixtures/<name>` as Python data."""
    return json.loads((FIXTURES / name).read_text(encoding="utf-8"))


class FakeLambdaContext:
    """The attributes and method of the Lambda runtime's context object."""

    def __init__(self, function_name, timeout_seconds=3, memory_limit_in_mb=128):
        self.function_name = function_name
        self.function_version = "$LATEST"
        self.invoked_function_arn = (
            "arn:aws:lambda:eu-west-1:123456789012:function:" + function_name
        )
        self.memory_limit_in_mb = str(memory_limit_in_mb)
        self.aws_request_id = str(uuid.uuid4())
        self.log_group_name = "/aws/lambda/" + function_name
        self.log_stream_name = time.strftime("%Y/%m/%d") + "/[$LATEST]local"
        self._deadline = time.monotonic() + timeout_seconds

    def get_remaining_time_in_millis(self):
        return max(0, int((self._deadline - time.monotonic()) * 1000))
