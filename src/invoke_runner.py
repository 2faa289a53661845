"""Run one handler the way AWS Lambda runs it from its zip (lambda-scaffold invoke).

lambda-scaffold runs this file, embedded in its binary, as::

    python3 -c RUNNER TASK_ROOT CONTEXT_FILE EVENT_FILE KIND NAME PYTHON_VERSION

in TASK_ROOT, with PYTHONDONTWRITEBYTECODE=1, LAMBDA_SCAFFOLD_MEMORY_MB (the
function's memory) and LAMBDA_SCAFFOLD_TIMEOUT (the
handler's timeout in seconds), in a process group of its own.
TASK_ROOT holds exactly the project's files that the zip holds, staged by the
project's packager (`tools/package_lambda.py --stage`); CONTEXT_FILE is the
project template `test/lambda_context.py`, the one definition of the context
and of Lambda's environment variables; EVENT_FILE the event, as JSON.

Imports as on Lambda: the task root comes first on sys.path, then the Python
that runs this (its installed packages stand in for the zip's dependencies),
and the handler string `KIND.NAME` is resolved as the runtime resolves it.
With `invoke --zip`, TASK_ROOT holds the zip's files, dependencies included;
LAMBDA_SCAFFOLD_OPT, when set, is the folder that stands for Lambda's /opt,
holding the layer's files (its `python/` folders come next on sys.path, as
on Lambda), and Python runs with -S: no installed package stands in, but for
what Lambda's runtime itself provides (the AWS SDK, `RUNTIME_PACKAGES`),
found last, in this Python's site-packages, as the runtime finds its own.
Whatever the handler prints or logs goes to stderr, as its logs would go to
CloudWatch. What happened goes to stdout as JSON lines for lambda-scaffold,
which also enforces the timeouts: `{"type": "started"}` right before the
handler is called, then one final message (see `src/invoke.rs`). A process
that ends without a final message gave no answer.
"""

import importlib
import importlib.machinery
import importlib.util
import json
import logging
import os
import site
import sys
import time
import traceback

# What Lambda's Python runtime provides beside the zip (in /var/runtime): the
# AWS SDK and the packages it imports.
RUNTIME_PACKAGES = frozenset(
    {"boto3", "botocore", "s3transfer", "jmespath", "dateutil", "urllib3", "six"}
)


class RuntimeProvided:
    """An import finder, last on sys.meta_path with --zip (python -S): the
    packages Lambda's runtime provides, from this Python's site-packages."""

    def __init__(self):
        # In the order Python searches them: the user's first.
        self.folders = [site.getusersitepackages(), *site.getsitepackages()]

    def find_spec(self, name, path=None, target=None):
        if path is not None or name not in RUNTIME_PACKAGES:
            return None
        return importlib.machinery.PathFinder.find_spec(name, self.folders)


def load_context_module(path):
    """The shared test support module, under a name no project uses."""
    spec = importlib.util.spec_from_file_location("lambda_scaffold_context", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


class Channel:
    """The real stdout, kept for lambda-scaffold: the handler's stdout is stderr."""

    def __init__(self):
        self.stream = os.fdopen(os.dup(1), "w", encoding="utf-8")
        os.dup2(2, 1)

    def send(self, kind, **fields):
        self.stream.write(json.dumps({"type": kind, **fields}) + "\n")
        self.stream.flush()

    def finish(self, kind, **fields):
        """Send the final message and end the process at once.

        os._exit: Lambda freezes the process after the answer, so threads the
        handler left running must not keep it alive.
        """
        sys.stdout.flush()
        sys.stderr.flush()
        self.send(kind, **fields)
        os._exit(0)


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


def describe(error):
    return f"{type(error).__name__}: {error}"


def lacks_handler(error, kind, name):
    """Tell whether importing `kind` failed because the handler module does not
    define the function: the zip's `KIND/__init__.py` imports it from there."""
    return (
        type(error) is ImportError
        and error.name == f"{kind}.{name}.{kind}"
        and f"cannot import name '{name}'" in str(error)
    )


def log_like_lambda(request):
    """Send the root logger's records to stderr in the Lambda runtime's format,
    with the id of the request under way (`request["id"]`, none during init)."""

    def add_request_id(record):
        record.aws_request_id = request["id"]
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


def encode(channel, answer):
    """The answer as JSON text; anything else ends the run with the reason."""
    try:
        return json.dumps(answer, indent=2, allow_nan=False)
    except ValueError as error:
        if "Out of range float values" in str(error):
            channel.finish("not_finite")
        channel.finish("not_json", error=describe(error))
    except BaseException as error:  # noqa: BLE001 (reported as the handler's)
        channel.finish("not_json", error=describe(error))


def main(task_root, context_file, event_file, kind, name, python):
    channel = Channel()
    with open(event_file, encoding="utf-8") as f:
        event = json.load(f)
    if f"{sys.version_info[0]}.{sys.version_info[1]}" != python:
        print(
            f"note: running Python {sys.version.split()[0]}; "
            f"the Lambda runtime of this project is python{python}",
            file=sys.stderr,
        )
    timeout = float(os.environ.pop("LAMBDA_SCAFFOLD_TIMEOUT"))
    memory_mb = int(os.environ.pop("LAMBDA_SCAFFOLD_MEMORY_MB"))
    shared = load_context_module(context_file)
    environment = shared.lambda_environment(
        name, f"{kind}.{name}", python, task_root, memory_mb
    )
    os.environ.update(environment)
    time.tzset()
    opt = os.environ.pop("LAMBDA_SCAFFOLD_OPT", "")
    layer = [f"{opt}/python/lib/python{python}/site-packages", f"{opt}/python"]
    # `python -c` puts the current folder first on sys.path: make it the task root.
    sys.path[:] = [task_root, *(layer if opt else [])] + [
        p for p in sys.path if p not in ("", task_root)
    ]
    if sys.flags.no_site:
        sys.meta_path.append(RuntimeProvided())
    request = {"id": ""}
    log_like_lambda(request)

    # Anything raised is the handler's to report, as the Lambda runtime reports
    # it: SystemExit and KeyboardInterrupt too.
    try:
        module = importlib.import_module(kind)
        function = getattr(module, name, None)
    except BaseException as error:  # noqa: BLE001
        if lacks_handler(error, kind, name):
            channel.finish("handler_missing")
        print_traceback(error)
        channel.finish("import_failed", error=describe(error))
    if not callable(function):
        channel.finish("handler_missing")

    # The handler's clock starts now; lambda-scaffold times it from here too.
    context = shared.FakeLambdaContext(
        name,
        timeout_seconds=timeout,
        memory_limit_in_mb=memory_mb,
        log_stream_name=environment["AWS_LAMBDA_LOG_STREAM_NAME"],
    )
    request["id"] = context.aws_request_id
    channel.send("started")
    try:
        answer = function(event, context)
    except BaseException as error:  # noqa: BLE001
        print_traceback(error)
        channel.finish("raised", error=describe(error))
    channel.finish("answered", answer=encode(channel, answer))


main(*sys.argv[1:])
