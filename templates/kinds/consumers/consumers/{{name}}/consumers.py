"""Consumer `{{ name }}`: reads JSON records from a Kinesis stream.

AWS handler string: `consumers.{{ name }}`.

Functional core, imperative shell: `decode_records` is pure and unit-tested;
the handler `{{ name }}` does the IO (here it logs each record: replace that
with your sink, a database write for example).
"""

import base64
import json
import logging

logger = logging.getLogger()
logger.setLevel(logging.INFO)


def decode_records(event):
    """Return the JSON payloads of the Kinesis records in `event`: pure, no IO."""
    return [
        json.loads(base64.b64decode(record["kinesis"]["data"]))
        for record in event.get("Records", [])
    ]


def {{ name }}(event, context):
    """Lambda entry point: decode the batch, then hand each record to the sink."""
    records = decode_records(event)
    for record in records:
        logger.info("record: %s", json.dumps(record, sort_keys=True))
    # An empty list tells Lambda that the whole batch succeeded
    # (used when the event source mapping reports batch item failures).
    return {"batchItemFailures": []}
