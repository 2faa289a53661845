"""Tests for the web handler `{{ name }}`: the pure core first, then the handler."""

import base64
import json
import unittest
from unittest import mock

import handlers.{{ name }}.handlers as code
from test.lambda_context import FakeLambdaContext, load_fixture
from utils.http import Request

# The handler, as Lambda calls it by its AWS handler string: handlers.{{ name }}
handler = code.{{ name }}
FUNCTION_NAME = "{{ name }}"


def call(event):
    """Call the handler; return its status and its JSON body."""
    response = handler(event, FakeLambdaContext(FUNCTION_NAME))
    return response["statusCode"], json.loads(response["body"])


class CoreTest(unittest.TestCase):
    def test_greets_the_name_from_the_query_string(self):
        request = Request(method="GET", path="/", query={"name": "lambda"})
        self.assertEqual(code.greet(request), {"message": "hello, lambda"})

    def test_greets_the_world_without_a_query_string(self):
        request = Request(method="GET", path="/")
        self.assertEqual(code.greet(request), {"message": "hello, world"})

    def test_echoes_a_json_body(self):
        request = Request(method="POST", path="/", body='{"a": [1, 2]}')
        self.assertEqual(code.echo(request), {"received": {"a": [1, 2]}})


class HandlerTest(unittest.TestCase):
    def test_a_rest_api_get_answers_200_with_a_json_body(self):
        event = load_fixture("api_gateway_event.json")
        self.assertEqual(call(event), (200, {"message": "hello, lambda"}))

    def test_an_http_api_post_answers_with_its_body(self):
        # SAM's sample HTTP API (and function URL) event: a base64-encoded body.
        event = load_fixture("http_api_event.json")
        self.assertEqual(call(event), (200, {"received": {"test": "body"}}))

    def test_an_http_api_get_reads_the_query_string(self):
        event = load_fixture("http_api_event.json")
        event["requestContext"]["http"]["method"] = "GET"
        event["queryStringParameters"] = {"name": "url"}
        self.assertEqual(call(event), (200, {"message": "hello, url"}))

    def test_a_method_it_does_not_serve_is_a_405(self):
        event = load_fixture("api_gateway_event.json")
        event["httpMethod"] = "DELETE"
        status, body = call(event)
        self.assertEqual(status, 405)
        self.assertIn("DELETE", body["error"])

    def test_a_body_that_is_not_json_is_a_400(self):
        event = load_fixture("http_api_event.json")
        event["body"] = base64.b64encode(b"name=lambda").decode()
        status, body = call(event)
        self.assertEqual(status, 400)
        self.assertIn("not JSON", body["error"])

    def test_an_unexpected_error_is_a_json_500_with_the_request_id(self):
        context = FakeLambdaContext(FUNCTION_NAME)
        event = load_fixture("api_gateway_event.json")
        with mock.patch.object(code, "greet", side_effect=RuntimeError("a bug")):
            with self.assertLogs(level="ERROR"):
                response = handler(event, context)
        self.assertEqual(response["statusCode"], 500)
        body = json.loads(response["body"])
        self.assertEqual(body["request_id"], context.aws_request_id)


if __name__ == "__main__":
    unittest.main()
