"""Web handler `{{ name }}`: answers HTTP requests from API Gateway or a function URL.

AWS handler string: `handlers.{{ name }}`.

Functional core, imperative shell: `greet` and `echo` are pure and unit-tested;
the handler maps each HTTP method to one of them (add IO there). `utils.http`
reads both API Gateway payload formats and turns the answer, or the error, into
an HTTP response: 405 for another method, 400 for a body that is not JSON, and
a JSON 500 with the request id for anything unexpected.
"""

from typing import Any

from utils.http import Request, serve
from utils.lambda_context import LambdaContext


def greet(request: Request) -> dict[str, str]:
    """GET: a greeting for the `name` in the query string: pure, no IO."""
    params = request.query
    return {"message": f"hello, {params.get('name', 'world')}"}


def echo(request: Request) -> dict[str, Any]:
    """POST: the JSON body sent, back (a 400 if it is not JSON): pure, no IO."""
    return {"received": request.json()}


def {{ name }}(
    event: dict[str, Any],
    context: LambdaContext,
) -> dict[str, Any]:
    """Lambda entry point: GET and POST are served, other methods get a 405."""
    return serve({"GET": greet, "POST": echo}, event, context)
