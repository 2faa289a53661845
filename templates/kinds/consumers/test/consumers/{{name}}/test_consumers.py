"""Tests for the consumer `{{ name }}`: the pure core first, then the handler."""

import base64
import copy
import unittest
from unittest import mock

import consumers.{{ name }}.consumers as code
from test.lambda_context import FakeLambdaContext, load_fixture

# The handler, as Lambda calls it by its AWS handler string: consumers.{{ name }}
handler = code.{{ name }}
FUNCTION_NAME = "{{ name }}"
# The data of `sam local generate-event kinesis get-records`: plain text, not JSON.
SAM_SAMPLE_DATA = b"Hello, this is a test 123."


def batch_with(*data):
    """The sample event with one record per item of `data` (bytes), numbered from 1."""
    event = load_fixture("{{ fixture }}")
    template = event["Records"][0]
    records = []
    for number, item in enumerate(data, start=1):
        record = copy.deepcopy(template)
        record["kinesis"]["data"] = base64.b64encode(item).decode()
        record["kinesis"]["sequenceNumber"] = str(number)
        records.append(record)
    event["Records"] = records
    return event


class DecodeRecordTest(unittest.TestCase):
    def test_each_record_is_decoded_from_base64_json(self):
        records = load_fixture("{{ fixture }}")["Records"]
        payloads = [code.decode_record(record) for record in records]
        self.assertEqual([p["level"] for p in payloads], ["error", "info"])

    def test_data_that_is_not_json_is_a_value_error(self):
        record = batch_with(SAM_SAMPLE_DATA)["Records"][0]
        with self.assertRaises(ValueError):
            code.decode_record(record)

    def test_data_that_is_not_base64_is_a_value_error(self):
        record = batch_with(b"{}")["Records"][0]
        record["kinesis"]["data"] = "not base64!"
        with self.assertRaises(ValueError):
            code.decode_record(record)


class HandlerTest(unittest.TestCase):
    def invoke(self, event):
        return handler(event, FakeLambdaContext(FUNCTION_NAME))

    def test_a_good_batch_reports_no_failed_records(self):
        with self.assertLogs(code.logger, level="INFO") as logs:
            result = self.invoke(load_fixture("{{ fixture }}"))
        self.assertEqual(result, {"batchItemFailures": []})
        self.assertEqual(len(logs.records), 2)

    def test_each_bad_record_is_reported_by_its_sequence_number(self):
        event = batch_with(b'{"n": 1}', SAM_SAMPLE_DATA, b'{"n": 3}', b"[")
        with mock.patch.object(code, "handle_record") as handle_record:
            with self.assertLogs(code.logger, level="ERROR"):
                result = self.invoke(event)
        failed = [{"itemIdentifier": "2"}, {"itemIdentifier": "4"}]
        self.assertEqual(result, {"batchItemFailures": failed})
        handled = [call.args[0] for call in handle_record.call_args_list]
        self.assertEqual(handled, [{"n": 1}, {"n": 3}])

    def test_a_record_the_sink_fails_on_is_reported_too(self):
        event = batch_with(b'{"n": 1}', b'{"n": 2}')
        sink_error = [None, RuntimeError("database down")]
        with mock.patch.object(code, "handle_record", side_effect=sink_error):
            with self.assertLogs(code.logger, level="ERROR"):
                result = self.invoke(event)
        self.assertEqual(result, {"batchItemFailures": [{"itemIdentifier": "2"}]})

    def test_an_event_without_records_reports_nothing(self):
        self.assertEqual(self.invoke({}), {"batchItemFailures": []})


if __name__ == "__main__":
    unittest.main()
