"""Producer `{{ name }}`: turns an incoming event into a record on a Kinesis stream.

AWS handler string: `producers.{{ name }}`.

Functional core, imperative shell: `serialize_{{ name }}` is pure and unit-tested;
the handler `{{ name }}` does the IO. With no `STREAM_NAME` set (locally, in
tests) nothing is published and the handler returns the record it would send.
"""

import json
import os


def serialize_{{ name }}(event):
    """Build the Kinesis record for `event`: pure, no IO."""
    detail = event.get("detail", {})
    payload = {
        "type": "{{ name }}",
        "source": event.get("source", "unknown"),
        "detail": detail,
    }
    return {
        "Data": json.dumps(payload, sort_keys=True),
        "PartitionKey": str(event.get("id", "{{ name }}")),
    }


def {{ name }}(event, context):
    """Lambda entry point: serialize the event, then publish it."""
    record = serialize_{{ name }}(event)
    stream = os.environ.get("STREAM_NAME")
    if not stream:
        return record
    import boto3  # imported lazily: only needed when publishing, and present on Lambda

    boto3.client("kinesis").put_record(StreamName=stream, **record)
    return record
