"""Tests for utils.http with the events API Gateway sends (payload 1.0 and 2.0)."""

import base64
import json
import unittest

from test.lambda_context import FakeLambdaContext
from utils.http import HttpError, Request, json_response, serve


def echo(request):
    return {"method": request.method, "path": request.path, "body": request.json()}


def fail(request):
    raise RuntimeError("a bug")


class RequestTest(unittest.TestCase):
    def test_a_rest_api_event_payload_1_0(self):
        event = {
            "httpMethod": "GET",
            "path": "/orders",
            "queryStringParameters": {"name": "lambda"},
            "headers": {"Accept": "application/json"},
            "requestContext": {"httpMethod": "GET", "path": "/prod/orders"},
            "body": None,
            "isBase64Encoded": False,
        }
        request = Request.from_event(event)
        self.assertEqual(request.method, "GET")
        self.assertEqual(request.path, "/orders")
        self.assertEqual(request.query, {"name": "lambda"})
        self.assertEqual(request.headers["accept"], "application/json")
        self.assertIsNone(request.body)

    def test_an_http_api_or_function_url_event_payload_2_0(self):
        event = {
            "version": "2.0",
            "rawPath": "/orders",
            "rawQueryString": "name=lambda",
            "queryStringParameters": {"name": "lambda"},
            "requestContext": {"http": {"method": "POST", "path": "/orders"}},
            "body": base64.b64encode(b'{"test":"body"}').decode(),
            "isBase64Encoded": True,
        }
        request = Request.from_event(event)
        self.assertEqual(request.method, "POST")
        self.assertEqual(request.path, "/orders")
        self.assertEqual(request.query, {"name": "lambda"})
        self.assertEqual(request.json(), {"test": "body"})

    def test_the_cookie_header_is_the_same_in_both_payload_formats(self):
        rest_api = {"httpMethod": "GET", "headers": {"Cookie": "a=1; b=2"}}
        http_api = {
            "version": "2.0",
            "headers": {"accept": "*/*"},
            "cookies": ["a=1", "b=2"],
            "requestContext": {"http": {"method": "GET", "path": "/"}},
        }
        for event in (rest_api, http_api):
            request = Request.from_event(event)
            self.assertEqual(request.headers["cookie"], "a=1; b=2", event)

    def test_a_repeated_query_parameter_is_the_same_in_both_payload_formats(self):
        rest_api = {
            "httpMethod": "GET",
            "queryStringParameters": {"tag": "b", "q": "x"},
            "multiValueQueryStringParameters": {"tag": ["a", "b"], "q": ["x"]},
        }
        http_api = {
            "version": "2.0",
            "rawQueryString": "tag=a&tag=b&q=x",
            "queryStringParameters": {"tag": "a,b", "q": "x"},
            "requestContext": {"http": {"method": "GET", "path": "/"}},
        }
        for event in (rest_api, http_api):
            request = Request.from_event(event)
            self.assertEqual(request.query, {"tag": "a,b", "q": "x"}, event)

    def test_the_path_has_no_stage_in_either_payload_format(self):
        def http_api(stage, path):
            return {
                "version": "2.0",
                "rawPath": path,
                "requestContext": {"stage": stage, "http": {"method": "GET"}},
            }

        rest_api = {
            "httpMethod": "GET",
            "path": "/orders",
            "requestContext": {"stage": "dev", "path": "/dev/orders"},
        }
        # An HTTP API's named stage leads its 2.0 paths; `$default` does not.
        events = [rest_api, http_api("dev", "/dev/orders")]
        events += [http_api("$default", "/orders"), http_api("dev", "/orders")]
        for event in events:
            self.assertEqual(Request.from_event(event).path, "/orders", event)
        self.assertEqual(Request.from_event(http_api("dev", "/dev")).path, "/")
        # (through a custom domain, a path that merely starts like the stage)
        devices = Request.from_event(http_api("dev", "/devices")).path
        self.assertEqual(devices, "/devices")

    def test_an_event_without_a_method_is_a_get(self):
        request = Request.from_event({"queryStringParameters": {"name": "me"}})
        self.assertEqual((request.method, request.path), ("GET", "/"))

    def test_a_body_that_is_not_json_is_a_400(self):
        with self.assertRaises(HttpError) as raised:
            Request(method="POST", path="/", body="name=me").json()
        self.assertEqual(raised.exception.status, 400)

    def test_a_body_that_is_not_base64_is_a_400(self):
        event = {"httpMethod": "POST", "body": "not base64!", "isBase64Encoded": True}
        with self.assertRaises(HttpError) as raised:
            Request.from_event(event)
        self.assertEqual(raised.exception.status, 400)


class JsonResponseTest(unittest.TestCase):
    def test_an_api_gateway_answer_with_a_json_body(self):
        response = json_response(201, {"a": 1}, {"Location": "/a/1"})
        self.assertEqual(response["statusCode"], 201)
        self.assertEqual(response["headers"]["Content-Type"], "application/json")
        self.assertEqual(response["headers"]["Location"], "/a/1")
        self.assertEqual(json.loads(response["body"]), {"a": 1})


class ServeTest(unittest.TestCase):
    def setUp(self):
        self.context = FakeLambdaContext("serve")

    def test_the_route_for_the_method_answers(self):
        event = {"httpMethod": "POST", "path": "/x", "body": '{"n": 1}'}
        response = serve({"POST": echo}, event, self.context)
        self.assertEqual(response["statusCode"], 200)
        body = {"method": "POST", "path": "/x", "body": {"n": 1}}
        self.assertEqual(json.loads(response["body"]), body)

    def test_a_response_a_route_built_is_passed_on_as_it_is(self):
        def create(request):
            return json_response(201, {"id": 1}, {"Location": "/items/1"})

        response = serve({"POST": create}, {"httpMethod": "POST"}, self.context)
        self.assertEqual(response["statusCode"], 201)
        self.assertEqual(response["headers"]["Location"], "/items/1")
        self.assertEqual(json.loads(response["body"]), {"id": 1})

    def test_a_dict_a_route_returns_is_data_even_with_a_status_code_key(self):
        data = {"statusCode": 404, "body": "x"}
        response = serve({"GET": lambda request: data}, {}, self.context)
        self.assertEqual(response["statusCode"], 200)
        self.assertEqual(json.loads(response["body"]), data)

    def test_a_method_without_a_route_is_a_405_naming_the_allowed_ones(self):
        event = {"httpMethod": "DELETE", "path": "/x"}
        response = serve({"POST": echo, "GET": echo}, event, self.context)
        self.assertEqual(response["statusCode"], 405)
        self.assertEqual(response["headers"]["Allow"], "GET, POST")

    def test_a_body_that_is_not_json_is_a_400_with_a_json_error(self):
        body = base64.b64encode(b"plain text").decode()
        event = {"httpMethod": "POST", "body": body, "isBase64Encoded": True}
        response = serve({"POST": echo}, event, self.context)
        self.assertEqual(response["statusCode"], 400)
        self.assertIn("not JSON", json.loads(response["body"])["error"])

    def test_an_unexpected_error_is_a_json_500_with_the_request_id(self):
        with self.assertLogs("utils.http", level="ERROR") as logs:
            response = serve({"GET": fail}, {"httpMethod": "GET"}, self.context)
        self.assertEqual(response["statusCode"], 500)
        body = json.loads(response["body"])
        self.assertEqual(body["request_id"], self.context.aws_request_id)
        self.assertIn("a bug", logs.output[0])


if __name__ == "__main__":
    unittest.main()
