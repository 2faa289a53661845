"""Tests for the producer `{{ name }}`: the pure core first, then the handler."""

import json
import os
import sys
import unittest
from unittest import mock

import producers.{{ name }}.producers as code
from test.lambda_context import FakeLambdaContext, load_fixture

# The handler, as Lambda calls it by its AWS handler string: producers.{{ name }}
handler = code.{{ name }}
FUNCTION_NAME = "{{ name }}"


class ToRecordTest(unittest.TestCase):
    def setUp(self):
        self.event = load_fixture("{{ fixture }}")

    def test_the_record_carries_the_event_detail_as_json(self):
        payload = json.loads(code.to_record(self.event)["Data"])
        self.assertEqual(payload["type"], FUNCTION_NAME)
        self.assertEqual(payload["source"], self.event["source"])
        self.assertEqual(payload["detail"], self.event["detail"])

    def test_the_partition_key_is_the_event_id(self):
        record = code.to_record(self.event)
        self.assertEqual(record["PartitionKey"], self.event["id"])

    def test_an_event_without_an_id_is_refused(self):
        with self.assertRaisesRegex(ValueError, "no `id`"):
            code.to_record({"detail": {}})


class StreamNameTest(unittest.TestCase):
    def test_the_stream_comes_from_stream_name(self):
        self.assertEqual(code.stream_name({"STREAM_NAME": "events"}), "events")

    def test_on_this_machine_no_stream_means_no_publishing(self):
        self.assertIsNone(code.stream_name({}))

    def test_in_lambda_a_missing_stream_name_is_an_error_naming_it(self):
        environ = {"AWS_LAMBDA_FUNCTION_NAME": FUNCTION_NAME, "STREAM_NAME": ""}
        with self.assertRaisesRegex(RuntimeError, "STREAM_NAME"):
            code.stream_name(environ)


class HandlerTest(unittest.TestCase):
    def setUp(self):
        self.event = load_fixture("{{ fixture }}")
        # A stand-in for boto3 (not needed to run these tests).
        self.boto3 = mock.Mock()
        self.boto3.client.return_value.put_record.return_value = {
            "SequenceNumber": "1",
            "ShardId": "shardId-000000000000",
        }
        code.kinesis_client.cache_clear()
        self.addCleanup(code.kinesis_client.cache_clear)

    def invoke(self, environ):
        with mock.patch.dict(os.environ, environ, clear=True):
            with mock.patch.dict(sys.modules, {"boto3": self.boto3}):
                return handler(self.event, FakeLambdaContext(FUNCTION_NAME))

    def test_without_a_stream_on_this_machine_the_record_is_returned(self):
        with self.assertLogs(code.logger, level="INFO"):
            result = self.invoke({})
        self.assertEqual(result, code.to_record(self.event))
        self.boto3.client.assert_not_called()

    def test_the_record_is_published_with_one_client_per_container(self):
        environ = {"STREAM_NAME": "events", "AWS_LAMBDA_FUNCTION_NAME": FUNCTION_NAME}
        with self.assertLogs(code.logger, level="INFO"):
            self.invoke(environ)
            self.invoke(environ)
        self.boto3.client.assert_called_once_with("kinesis")
        put_record = self.boto3.client.return_value.put_record
        self.assertEqual(put_record.call_count, 2)
        put_record.assert_called_with(StreamName="events", **code.to_record(self.event))

    def test_in_lambda_without_a_stream_the_handler_fails(self):
        with self.assertRaisesRegex(RuntimeError, "STREAM_NAME"):
            self.invoke({"AWS_LAMBDA_FUNCTION_NAME": FUNCTION_NAME})
        self.boto3.client.assert_not_called()


if __name__ == "__main__":
    unittest.main()
