"""Web handler `{{ name }}`: answers an API Gateway (proxy integration) request.

AWS handler string: `handlers.{{ name }}`.

Functional core, imperative shell: `render_{{ name }}` and `json_response` are
pure and unit-tested; the handler `{{ name }}` is the shell (add IO there).
"""

import json


def render_{{ name }}(request):
    """Build the response body for an API Gateway request: pure, no IO."""
    params = request.get("queryStringParameters") or {}
    return {"message": f"hello, {params.get('name', 'world')}"}


def json_response(status, body):
    """Wrap `body` as an API Gateway proxy response: pure, no IO."""
    return {
        "statusCode": status,
        "headers": {"Content-Type": "application/json"},
        "body": json.dumps(body, sort_keys=True),
    }


def {{ name }}(event, context):
    """Lambda entry point."""
    return json_response(200, render_{{ name }}(event))
