"""Tests for the producer `{{ name }}`: the pure core first, then the handler."""

import json
import os
import unittest
from unittest import mock

from producers.{{ name }} import producers
from producers.{{ name }}.producers import serialize_{{ name }}
from test.lambda_context import FakeLambdaContext, load_fixture


class Serialize{{ class_name }}Test(unittest.TestCase):
    def setUp(self):
        self.event = load_fixture("{{ fixture }}")

    def test_record_carries_the_event_detail_as_json(self):
        record = serialize_{{ name }}(self.event)
        payload = json.loads(record["Data"])
        self.assertEqual(payload["type"], "{{ name }}")
        self.assertEqual(payload["detail"], self.event["detail"])

    def test_partition_key_is_the_event_id(self):
        record = serialize_{{ name }}(self.event)
        self.assertEqual(record["PartitionKey"], self.event["id"])


class {{ class_name }}HandlerTest(unittest.TestCase):
    def test_without_a_stream_the_handler_returns_the_record(self):
        event = load_fixture("{{ fixture }}")
        with mock.patch.dict(os.environ, {}, clear=True):
            # Called by its AWS handler string: producers.{{ name }}
            result = producers.{{ name }}(event, FakeLambdaContext("{{ name }}"))
        self.assertEqual(result, serialize_{{ name }}(event))


if __name__ == "__main__":
    unittest.main()
