"""Partial batch responses for the sources Lambda reads in batches: Kinesis and
DynamoDB streams, SQS queues.

`process_batch` handles each record on its own: one that fails (it cannot be
decoded, or its handling raises) is logged and reported in `batchItemFailures`
by its item identifier (the sequence number of a stream record, the message id
of an SQS message), the others are still handled. With
`FunctionResponseTypes: [ReportBatchItemFailures]` on the event source mapping,
Lambda retries only what failed (from the earliest failed record, for a
stream), so records may come again: keep the handling idempotent.
"""

import logging
from collections.abc import Callable, Iterable
from typing import Any, TypeVar

Decoded = TypeVar("Decoded")
Record = dict[str, Any]
BatchResponse = dict[str, list[dict[str, str]]]


def process_batch(
    records: Iterable[Record],
    item_identifier: Callable[[Record], str],
    decode: Callable[[Record], Decoded],
    handle: Callable[[Decoded], None],
    logger: logging.Logger,
) -> BatchResponse:
    """Decode and handle each record; the answer names those that failed."""
    failures = []
    for record in records:
        identifier = item_identifier(record)
        try:
            handle(decode(record))
        except Exception:
            logger.exception("record %s failed", identifier)
            failures.append({"itemIdentifier": identifier})
    return {"batchItemFailures": failures}
