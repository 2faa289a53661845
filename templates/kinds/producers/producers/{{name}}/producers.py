"""Producer `{{ name }}`: publishes each incoming event as a record on a Kinesis stream.

AWS handler string: `producers.{{ name }}`.

Functional core, imperative shell: `to_record` and `stream_name` are pure and
unit-tested; the handler does the IO. The stream is the one `STREAM_NAME` names:
in Lambda (where `AWS_LAMBDA_FUNCTION_NAME` is set) a missing `STREAM_NAME` is an
error; on this machine nothing is published and the handler returns the record
it would send.
"""

import json
import os
from collections.abc import Mapping
from functools import cache
from typing import Any

from utils.lambda_context import LambdaContext
from utils.logs import get_logger

logger = get_logger(__name__)


def to_record(event: Mapping[str, Any]) -> dict[str, str]:
    """The Kinesis record for `event`, keyed by the event's id: pure, no IO."""
    if not event.get("id"):
        raise ValueError("the event has no `id` to use as the record's partition key")
    payload = {
        "type": "{{ name }}",
        "source": event.get("source", "unknown"),
        "detail": event.get("detail", {}),
    }
    return {
        "Data": json.dumps(payload, sort_keys=True),
        "PartitionKey": str(event["id"]),
    }


def stream_name(environ: Mapping[str, str]) -> str | None:
    """The stream to publish to; None on this machine if none is set: pure, no IO."""
    stream = environ.get("STREAM_NAME")
    if not stream and environ.get("AWS_LAMBDA_FUNCTION_NAME"):
        raise RuntimeError(
            "environment variable STREAM_NAME is not set: "
            "set it to the Kinesis stream this function publishes to"
        )
    return stream or None


@cache
def kinesis_client() -> Any:
    """The Kinesis client: made on first use, then kept for the container's life."""
    import boto3  # imported lazily: only publishing needs it, and Lambda has it

    return boto3.client("kinesis")


def {{ name }}(
    event: dict[str, Any],
    context: LambdaContext,
) -> dict[str, str]:
    """Lambda entry point: build the record, then publish it."""
    record = to_record(event)
    stream = stream_name(os.environ)
    if stream is None:
        logger.info("STREAM_NAME is not set: the record is returned, not published")
        return record
    answer = kinesis_client().put_record(StreamName=stream, **record)
    logger.info(
        "published the record to %s",
        stream,
        extra={
            "partition_key": record["PartitionKey"],
            "sequence_number": answer["SequenceNumber"],
        },
    )
    return record
