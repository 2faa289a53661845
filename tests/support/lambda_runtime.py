"""Open a Lambda zip the way the Python runtime does, for the build tests.

usage: python3 -I lambda_runtime.py ZIP HANDLER EVENT_JSON_FILE

Prints one JSON object: the zip's entries (name, unix mode, timestamp) and the
handler's answer. The zip is extracted into a fresh folder that becomes the task
root, first on sys.path, with nothing of the project on it (run with -I so that
neither the current folder nor PYTHONPATH leak in), then the module is imported
and the function called with the event and a context object.
"""

import importlib
import json
import sys
import tempfile
import zipfile


class Context:
    function_name = "under-test"
    function_version = "$LATEST"
    invoked_function_arn = "arn:aws:lambda:eu-west-1:123456789012:function:under-test"
    memory_limit_in_mb = "128"
    aws_request_id = "00000000-0000-0000-0000-000000000000"
    log_group_name = "/aws/lambda/under-test"
    log_stream_name = "2026/01/01/[$LATEST]test"

    def get_remaining_time_in_millis(self):
        return 3000


def main(zip_path, handler, event_path):
    with open(event_path, encoding="utf-8") as f:
        event = json.load(f)
    with zipfile.ZipFile(zip_path) as archive:
        entries = [
            [i.filename, i.external_attr >> 16, list(i.date_time)]
            for i in archive.infolist()
        ]
        task_root = tempfile.mkdtemp(prefix="task-root-")
        archive.extractall(task_root)
    sys.path.insert(0, task_root)
    module_name, function_name = handler.rsplit(".", 1)
    function = getattr(importlib.import_module(module_name), function_name)
    result = function(event, Context())
    print(json.dumps({"entries": entries, "result": result}, sort_keys=True))


if __name__ == "__main__":
    main(*sys.argv[1:])
