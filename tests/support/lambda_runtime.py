"""Run a Lambda zip under the real Python runtime client, for the build tests.

usage: python3 -I lambda_runtime.py ZIP HANDLER EVENT_JSON_FILE

The zip is extracted into a fresh task root. A tiny Lambda Runtime API
(http.server on 127.0.0.1, a free port) hands the event out once, with the
headers Lambda sends, and records what comes back. `python -m awslambdaric
HANDLER` runs in the task root with AWS_LAMBDA_RUNTIME_API pointing at it,
PYTHONPATH/LAMBDA_TASK_ROOT set as on Lambda and the function's settings
(FUNCTION_SETTINGS) taken from the caller's environment. Prints one JSON
object: the zip's entries (name, unix mode, timestamp), the outcome
(`response`, `error`, `init_error` or `exited`), the handler's answer (or
error document) and the runtime's log.

The runtime process group is always ended, and the server stopped, whatever
happens; the whole run gives up after TIMEOUT_SECONDS.
"""

import http.server
import json
import os
import queue
import signal
import subprocess
import sys
import tempfile
import threading
import time
import uuid
import zipfile

API = "/2018-06-01/runtime"
# The function's configuration, passed on from the caller's environment when set.
FUNCTION_SETTINGS = (
    "AWS_LAMBDA_FUNCTION_NAME",
    "AWS_LAMBDA_LOG_FORMAT",
    "AWS_LAMBDA_LOG_LEVEL",
    "STREAM_NAME",
)
TIMEOUT_SECONDS = 30
FUNCTION_ARN = "arn:aws:lambda:us-east-1:123456789012:function:under-test"


class RuntimeApi(http.server.ThreadingHTTPServer):
    """The Lambda Runtime API for one invocation of one event."""

    daemon_threads = True

    def __init__(self, event):
        super().__init__(("127.0.0.1", 0), RuntimeApiHandler)
        self.event = event
        self.request_id = str(uuid.uuid4())
        self.handed_out = threading.Lock()
        self.stopping = threading.Event()
        self.outcomes = queue.Queue()

    def handle_error(self, request, client_address):
        """A runtime ended at the end of the run drops its connection: expected."""


class RuntimeApiHandler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, format, *args):
        """Quiet: the outcome says what happened."""

    def reply(self, status, body=b"", headers=None):
        self.send_response(status)
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def do_GET(self):
        api = self.server
        if self.path != f"{API}/invocation/next":
            self.reply(404)
            return
        if not api.handed_out.acquire(blocking=False):
            # One event only: the next poll waits until the run is over.
            api.stopping.wait()
            return
        deadline_ms = int(time.time() * 1000) + 3000
        self.reply(
            200,
            api.event,
            {
                "Content-Type": "application/json",
                "Lambda-Runtime-Aws-Request-Id": api.request_id,
                "Lambda-Runtime-Deadline-Ms": str(deadline_ms),
                "Lambda-Runtime-Invoked-Function-Arn": FUNCTION_ARN,
                "Lambda-Runtime-Trace-Id": "Root=1-00000000-000000000000000000000000",
            },
        )

    def do_POST(self):
        api = self.server
        body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
        outcomes = {
            f"{API}/invocation/{api.request_id}/response": "response",
            f"{API}/invocation/{api.request_id}/error": "error",
            f"{API}/init/error": "init_error",
        }
        outcome = outcomes.get(self.path)
        if outcome is None:
            self.reply(404)
            return
        self.reply(202, b"{}", {"Content-Type": "application/json"})
        api.outcomes.put((outcome, body))


def run_runtime(task_root, handler, event):
    """Start the runtime on `event`; return (outcome, body, log)."""
    api = RuntimeApi(event)
    server = threading.Thread(target=api.serve_forever, daemon=True)
    server.start()
    env = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "LANG": "C.UTF-8",
        "AWS_LAMBDA_RUNTIME_API": f"127.0.0.1:{api.server_address[1]}",
        "LAMBDA_TASK_ROOT": task_root,
        "PYTHONPATH": task_root,
        "PYTHONDONTWRITEBYTECODE": "1",
    }
    env.update({k: os.environ[k] for k in FUNCTION_SETTINGS if k in os.environ})
    with tempfile.TemporaryFile() as log:
        runtime = subprocess.Popen(
            [sys.executable, "-m", "awslambdaric", handler],
            cwd=task_root,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        try:
            outcome, body = wait_for_outcome(api, runtime)
        finally:
            try:
                os.killpg(runtime.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
            runtime.wait()
            api.stopping.set()
            api.shutdown()
            api.server_close()
        log.seek(0)
        return outcome, body, log.read().decode("utf-8", "replace")


def wait_for_outcome(api, runtime):
    """What the runtime posted, or how it ended without posting."""
    deadline = time.monotonic() + TIMEOUT_SECONDS
    while time.monotonic() < deadline:
        try:
            return api.outcomes.get(timeout=0.05)
        except queue.Empty:
            pass
        if runtime.poll() is not None:
            try:
                return api.outcomes.get(timeout=0.5)
            except queue.Empty:
                return "exited", str(runtime.returncode).encode()
    return "timed_out", b"null"


def main(zip_path, handler, event_path):
    # A SIGTERM (a test runner giving up) still ends the runtime's processes.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(1))
    with open(event_path, "rb") as f:
        event = f.read()
    with tempfile.TemporaryDirectory(prefix="task-root-") as task_root:
        with zipfile.ZipFile(zip_path) as archive:
            entries = [
                [i.filename, i.external_attr >> 16, list(i.date_time)]
                for i in archive.infolist()
            ]
            archive.extractall(task_root)
        outcome, body, log = run_runtime(task_root, handler, event)
    try:
        result = json.loads(body)
    except ValueError:
        result = body.decode("utf-8", "replace")
    report = {"entries": entries, "outcome": outcome, "result": result, "log": log}
    print(json.dumps(report, sort_keys=True))


if __name__ == "__main__":
    main(*sys.argv[1:])
