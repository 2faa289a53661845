"""Consumer `{{ name }}`: reads JSON records from a Kinesis stream.

AWS handler string: `consumers.{{ name }}`.

Functional core, imperative shell: `decode_record` is pure and unit-tested; the
handler does the IO (`handle_record` logs each record: replace that with your
sink, a database write for example). Each record is handled on its own: one
that fails is logged and reported in `batchItemFailures` by its sequence number,
the others are still handled. With `FunctionResponseTypes: [ReportBatchItemFailures]`
on the event source mapping, Lambda retries from the earliest failed record
instead of the whole batch, so records after it may come again: keep the sink
idempotent.
"""

import base64
import json
from typing import Any

from utils.lambda_context import LambdaContext
from utils.logs import get_logger

logger = get_logger(__name__)


def decode_record(record: dict[str, Any]) -> Any:
    """The JSON payload of one Kinesis record: pure, no IO.

    A ValueError if its data is not base64-encoded JSON (in UTF-8).
    """
    return json.loads(base64.b64decode(record["kinesis"]["data"], validate=True))


def handle_record(payload: Any) -> None:
    """The sink of one decoded record."""
    logger.info("record: %s", json.dumps(payload, sort_keys=True))


def {{ name }}(
    event: dict[str, Any],
    context: LambdaContext,
) -> dict[str, list[dict[str, str]]]:
    """Lambda entry point: handle each record, report those that failed."""
    failures = []
    for record in event.get("Records", []):
        sequence_number = record["kinesis"]["sequenceNumber"]
        try:
            handle_record(decode_record(record))
        except Exception:
            logger.exception("record %s failed", sequence_number)
            failures.append({"itemIdentifier": sequence_number})
    return {"batchItemFailures": failures}
