"""Run one handler the way AWS Lambda runs it from its zip (lambda-scaffold invoke).

lambda-scaffold runs this file, embedded in its binary, as::

    python3 -c RUNNER TASK_ROOT PROJECT_ROOT MODULE FUNCTION TIMEOUT PYTHON_VERSION

with the event as JSON on stdin, in TASK_ROOT, with PYTHONDONTWRITEBYTECODE=1.

Imports as in the zip: the task root (the handler folder, whose files are the
zip's root) comes first on sys.path, and of the project root only `utils` can
be imported, as the zip holds it beside the handler; nothing else of the
project is importable. The handler gets the event and a context object with
the real attributes, and TIMEOUT seconds. Its answer is printed as JSON on
stdout; whatever it prints or logs goes to stderr, as its logs would go to
CloudWatch. The exit status tells lambda-scaffold what happened.
"""

import importlib
import importlib.abc
import importlib.machinery
import json
import logging
import os
import sys
import threading
import time
import traceback
import uuid

# Exit statuses, read by src/invoke.rs.
RAISED = 10
IMPORT_FAILED = 11
HANDLER_MISSING = 12
NOT_JSON = 13
TIMED_OUT = 14

MEMORY_MB = 128
SHARED_PACKAGE = "utils"


class SharedCode(importlib.abc.MetaPathFinder):
    """Find `utils` where the zip has it: at the root, beside the handler.

    First on sys.meta_path, so an installed package named `utils` does not win
    over the project's, as it cannot in the zip.
    """

    def __init__(self, task_root, project_root):
        self.roots = [task_root, project_root]

    def find_spec(self, name, path=None, target=None):
        if name != SHARED_PACKAGE:
            return None
        return importlib.machinery.PathFinder.find_spec(name, self.roots)


class LambdaContext:
    """The attributes and method of the Python runtime's context object."""

    def __init__(self, function_name, timeout_seconds):
        region = os.environ.get("AWS_REGION", "us-east-1")
        self.function_name = function_name
        self.function_version = "$LATEST"
        self.invoked_function_arn = (
            f"arn:aws:lambda:{region}:123456789012:function:{function_name}"
        )
        self.memory_limit_in_mb = str(MEMORY_MB)
        self.aws_request_id = str(uuid.uuid4())
        self.log_group_name = f"/aws/lambda/{function_name}"
        self.log_stream_name = (
            time.strftime("%Y/%m/%d", time.gmtime()) + "/[$LATEST]" + uuid.uuid4().hex
        )
        self.identity = None
        self.client_context = None
        self._deadline = time.monotonic() + timeout_seconds

    def get_remaining_time_in_millis(self):
        return max(0, int((self._deadline - time.monotonic()) * 1000))


def finish(status, error=None):
    """Flush, say what failed as Lambda would, and end the process at once.

    os._exit: Lambda freezes the process after the answer, so threads the
    handler left running must not keep it alive.
    """
    if error:
        print(f"[ERROR] {error}", file=sys.stderr)
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(status)


def print_traceback(error):
    """Print the traceback of `error` without the frames of this runner and of
    the import machinery, so that it starts in the project's code."""
    report = traceback.TracebackException.from_exception(error)
    report.stack = traceback.StackSummary.from_list(
        [
            frame
            for frame in report.stack
            if not frame.filename.startswith("<")
            and frame.filename != importlib.__file__
        ]
    )
    print("".join(report.format()), end="", file=sys.stderr)


def log_like_lambda(request_id):
    """Send the root logger's records to stderr in the Lambda runtime's format."""

    def add_request_id(record):
        record.aws_request_id = request_id
        return True

    formatter = logging.Formatter(
        "[%(levelname)s]\t%(asctime)s.%(msecs)03dZ\t%(aws_request_id)s\t%(message)s",
        "%Y-%m-%dT%H:%M:%S",
    )
    formatter.converter = time.gmtime
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(formatter)
    handler.addFilter(add_request_id)
    logging.getLogger().addHandler(handler)


def main(task_root, project_root, module_name, function_name, timeout, python):
    timeout = float(timeout)
    event = json.load(sys.stdin)
    # Only the answer goes to the real stdout; what the handler prints is its log.
    answer = os.fdopen(os.dup(1), "w", encoding="utf-8")
    os.dup2(2, 1)

    if f"{sys.version_info[0]}.{sys.version_info[1]}" != python:
        print(
            f"note: running Python {sys.version.split()[0]}; "
            f"the Lambda runtime of this project is python{python}",
            file=sys.stderr,
        )
    context = LambdaContext(function_name, timeout)
    os.environ.update(
        {
            "AWS_LAMBDA_FUNCTION_NAME": function_name,
            "AWS_LAMBDA_FUNCTION_VERSION": context.function_version,
            "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": context.memory_limit_in_mb,
            "AWS_LAMBDA_LOG_GROUP_NAME": context.log_group_name,
            "AWS_LAMBDA_LOG_STREAM_NAME": context.log_stream_name,
            "LAMBDA_TASK_ROOT": task_root,
            "_HANDLER": f"{module_name}.{function_name}",
        }
    )
    # `python -c` puts the current folder first on sys.path: make it the task root.
    sys.path[:] = [task_root] + [p for p in sys.path if p not in ("", task_root)]
    sys.meta_path.insert(0, SharedCode(task_root, project_root))
    log_like_lambda(context.aws_request_id)

    # Any exception is the handler's to report, as the Lambda runtime reports it.
    # SystemExit too: a sys.exit() in the handler is a failed invocation on Lambda.
    try:
        module = importlib.import_module(module_name)
    except (Exception, SystemExit) as error:  # noqa: BLE001
        print_traceback(error)
        finish(
            IMPORT_FAILED,
            "Runtime.ImportModuleError: "
            f"Unable to import module '{module_name}': {error}",
        )
    function = getattr(module, function_name, None)
    if not callable(function):
        finish(
            HANDLER_MISSING,
            f"Runtime.HandlerNotFound: Handler '{function_name}' "
            f"missing on module '{module_name}'",
        )

    def time_out():
        finish(TIMED_OUT, f"Task timed out after {timeout:.2f} seconds")

    watchdog = threading.Timer(timeout, time_out)
    watchdog.daemon = True
    watchdog.start()
    try:
        result = function(event, context)
    except (Exception, SystemExit) as error:  # noqa: BLE001
        print_traceback(error)
        finish(RAISED, f"{type(error).__name__}: {error}")
    watchdog.cancel()

    try:
        text = json.dumps(result, indent=2)
    except (TypeError, ValueError) as error:
        finish(NOT_JSON, f"Runtime.MarshalError: Unable to marshal response: {error}")
    answer.write(text + "\n")
    answer.flush()
    finish(0)


main(*sys.argv[1:])
