"""Tests for the consumer `{{ name }}`: the pure core first, then the handler."""

import unittest

from consumers.{{ name }} import consumers
from consumers.{{ name }}.consumers import decode_records
from test.lambda_context import FakeLambdaContext, load_fixture


class DecodeRecordsTest(unittest.TestCase):
    def test_each_record_is_decoded_from_base64_json(self):
        records = decode_records(load_fixture("{{ fixture }}"))
        self.assertEqual(len(records), 2)
        self.assertEqual(records[0]["level"], "error")

    def test_an_event_without_records_gives_nothing(self):
        self.assertEqual(decode_records({}), [])


class {{ class_name }}HandlerTest(unittest.TestCase):
    def test_handler_reports_no_failed_records(self):
        event = load_fixture("{{ fixture }}")
        with self.assertLogs(level="INFO"):
            # Called by its AWS handler string: consumers.{{ name }}
            result = consumers.{{ name }}(event, FakeLambdaContext("{{ name }}"))
        self.assertEqual(result, {"batchItemFailures": []})


if __name__ == "__main__":
    unittest.main()
