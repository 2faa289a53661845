"""Tests for the web handler `{{ name }}`: the pure core first, then the handler."""

import json
import unittest

from handlers.{{ name }} import handlers
from handlers.{{ name }}.handlers import json_response, render_{{ name }}
from test.lambda_context import FakeLambdaContext, load_fixture


class Render{{ class_name }}Test(unittest.TestCase):
    def test_greets_the_name_from_the_query_string(self):
        body = render_{{ name }}(load_fixture("{{ fixture }}"))
        self.assertEqual(body, {"message": "hello, lambda"})

    def test_greets_the_world_without_a_query_string(self):
        self.assertEqual(render_{{ name }}({}), {"message": "hello, world"})

    def test_json_response_is_an_api_gateway_proxy_answer(self):
        response = json_response(201, {"a": 1})
        self.assertEqual(response["statusCode"], 201)
        self.assertEqual(response["headers"]["Content-Type"], "application/json")
        self.assertEqual(json.loads(response["body"]), {"a": 1})


class {{ class_name }}HandlerTest(unittest.TestCase):
    def test_handler_answers_200_with_a_json_body(self):
        event = load_fixture("{{ fixture }}")
        # Called by its AWS handler string: handlers.{{ name }}
        response = handlers.{{ name }}(event, FakeLambdaContext("{{ name }}"))
        self.assertEqual(response["statusCode"], 200)
        self.assertEqual(json.loads(response["body"]), {"message": "hello, lambda"})


if __name__ == "__main__":
    unittest.main()
