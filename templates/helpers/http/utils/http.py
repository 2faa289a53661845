"""HTTP for the web handlers: the request API Gateway sends, the answer it expects.

Both event shapes are read: REST APIs send payload format 1.0 (`httpMethod`,
`path`), HTTP APIs send 2.0 (`requestContext.http`, `rawPath`), and so do
Lambda function URLs. `serve` turns a handler's routes into an HTTP answer:
what a route returns as a 200 JSON body, or as it is when the route built a
`Response` itself (`json_response(201, item, {"Location": ...})`), 405 for a
method it does not serve, the status of an `HttpError` (400 for a
body that is not JSON), and a JSON 500 carrying the request id, instead of
API Gateway's bare 502, for anything unexpected.
"""

import base64
import binascii
import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from utils.lambda_context import LambdaContext
from utils.logs import get_logger

logger = get_logger(__name__)


class HttpError(Exception):
    """An answer other than success, raised by a route: `status` and a message."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


@dataclass(frozen=True)
class Request:
    """The parts of an API Gateway or function URL event a route reads."""

    method: str
    path: str
    query: dict[str, str] = field(default_factory=dict)
    headers: dict[str, str] = field(default_factory=dict)
    body: str | None = None

    @classmethod
    def from_event(cls, event: Mapping[str, Any]) -> "Request":
        """Read a payload 1.0 or 2.0 event: pure, no IO.

        An event that names no method (a hand-written test event) is a GET.
        Header names are lower-cased, as HTTP APIs send them; the cookies that
        payload 2.0 sends apart (`cookies`) are joined into the `cookie`
        header, as payload 1.0 sends them. A query parameter given more than
        once has its values joined by commas, as payload 2.0 sends it (1.0's
        `queryStringParameters` keeps only the last; its multi-value form has all).
        The path is the route's, without the stage, in both formats.
        """
        context = event.get("requestContext") or {}
        http = context.get("http") or {}
        method = event.get("httpMethod") or http.get("method") or "GET"
        path = event.get("path")
        if not path:
            # Payload 2.0 paths start with an HTTP API's named stage (not with
            # `$default`); payload 1.0's `path` has no stage.
            path = event.get("rawPath") or http.get("path") or "/"
            stage = context.get("stage")
            if stage and stage != "$default" and f"{path}/".startswith(f"/{stage}/"):
                path = path[len(stage) + 1 :] or "/"
        body = event.get("body")
        if body is not None and event.get("isBase64Encoded"):
            try:
                body = base64.b64decode(body, validate=True).decode("utf-8")
            except (binascii.Error, UnicodeDecodeError) as error:
                raise HttpError(
                    400, "the body is not valid base64-encoded UTF-8"
                ) from error
        headers = {
            name.lower(): value for name, value in (event.get("headers") or {}).items()
        }
        if event.get("cookies"):
            headers["cookie"] = "; ".join(event["cookies"])
        repeated = event.get("multiValueQueryStringParameters")
        if repeated:
            query = {name: ",".join(values) for name, values in repeated.items()}
        else:
            query = dict(event.get("queryStringParameters") or {})
        return cls(
            method=method.upper(),
            path=path,
            query=query,
            headers=headers,
            body=body,
        )

    def json(self) -> Any:
        """The body parsed as JSON; an `HttpError` 400 if it is missing or not JSON."""
        if not self.body:
            raise HttpError(400, "a JSON body is required")
        try:
            return json.loads(self.body)
        except ValueError as error:
            raise HttpError(400, f"the body is not JSON: {error}") from error


class Response(dict[str, Any]):
    """An HTTP answer in the shape both payload formats accept (`statusCode`,
    `headers`, `body`). A route returns one for a status other than 200 or
    headers of its own, and `serve` passes it on as it is; any other value a
    route returns is data, a 200 JSON body (a dict with a `statusCode` key too).
    """


def json_response(
    status: int,
    body: Any,
    headers: Mapping[str, str] | None = None,
) -> Response:
    """An answer both payload formats accept, with `body` as JSON: pure, no IO."""
    return Response(
        statusCode=status,
        headers={"Content-Type": "application/json", **(headers or {})},
        body=json.dumps(body, sort_keys=True),
    )


Route = Callable[[Request], Any]


def serve(
    routes: Mapping[str, Route],
    event: Mapping[str, Any],
    context: LambdaContext,
) -> dict[str, Any]:
    """Answer `event` with the route for its method, as an HTTP answer."""
    try:
        request = Request.from_event(event)
        route = routes.get(request.method)
        if route is None:
            allowed = ", ".join(sorted(routes))
            return json_response(
                405,
                {"error": f"method {request.method} is not allowed"},
                {"Allow": allowed},
            )
        answer = route(request)
        if isinstance(answer, Response):
            return answer
        return json_response(200, answer)
    except HttpError as error:
        return json_response(error.status, {"error": error.message})
    except Exception:
        logger.exception(
            "unexpected error", extra={"request_id": context.aws_request_id}
        )
        body = {"error": "internal error", "request_id": context.aws_request_id}
        return json_response(500, body)
