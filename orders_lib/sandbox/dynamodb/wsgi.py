"""DynamoDB's JSON requests handed straight to moto's handler, without moto's Flask app around it.

Every DynamoDB call is a ``POST /`` naming its operation in ``X-Amz-Target``; moto's server
routes it through its domain dispatcher and a Flask app (request context, URL map, CORS
extension, a Flask ``Response``) to ``DynamoHandler.dispatch``. That wrapping cost more than
the handler itself: a ``PutItem`` measured ~1.25 ms through it against ~0.55 ms handed to the
handler directly, and an order makes two DynamoDB calls. ``DirectDynamoDB`` builds the request
object moto's server builds (``BackendRequest``: a WSGI request, normalized), calls the same
handler and answers with the same status, headers and body, adding what the Flask app adds
(``Content-Length``, werkzeug's status line, Flask's default ``Content-Type`` where the handler gave none, and the
CORS extension's ``Access-Control-Allow-Origin: *``).

Everything else goes to moto's app unchanged: other services, DynamoDB Streams, any request
that is not a plain ``POST`` and any carrying an ``Origin`` (a browser's, whose CORS exchange
the extension answers). A request the handler fails on (an unknown operation, a body that is
not JSON) raises here as it raises through moto's app: the server answers 500.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

from botocore.exceptions import ClientError
from moto.dynamodb.responses import DynamoHandler
from moto.moto_server.werkzeug_app import BackendRequest
from werkzeug.http import HTTP_STATUS_CODES

TARGET_PREFIX = "DynamoDB_20120810."  # DynamoDB Streams' calls say DynamoDBStreams_20120810.

FLASK_DEFAULT_TYPE = "text/html; charset=utf-8"  # what a Flask Response says when the handler gave none
WsgiApp = Callable[[dict[str, Any], Callable[..., Any]], Iterable[bytes]]


def is_direct(environ: dict[str, Any]) -> bool:
    """A DynamoDB call this path answers (anything else goes to moto's app)."""
    return (
        environ.get("REQUEST_METHOD") == "POST"
        and environ.get("HTTP_X_AMZ_TARGET", "").startswith(TARGET_PREFIX)
        and "HTTP_ORIGIN" not in environ
    )


class DirectDynamoDB:
    """A WSGI app: DynamoDB calls to moto's handler, the rest to ``fallback`` (moto's own app)."""

    def __init__(self, fallback: WsgiApp):
        self.fallback = fallback

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        if not is_direct(environ):
            return self.fallback(environ, start_response)
        request = BackendRequest(environ)
        try:
            status, headers, body = DynamoHandler.dispatch(request, request.raw_url, dict(request.headers))
        except ClientError as error:  # as moto's Flask wrapper answers one raised past the handler
            status, headers, body = 400, {}, error.response["Error"]["Message"]
        payload = body.encode() if isinstance(body, str) else bytes(body or b"")
        reply = [(name, str(value)) for name, value in headers.items() if name.lower() != "content-length"]
        if not any(name.lower() == "content-type" for name, _ in reply):
            reply.insert(0, ("Content-Type", FLASK_DEFAULT_TYPE))
        reply += [("Content-Length", str(len(payload))), ("Access-Control-Allow-Origin", "*")]
        start_response(f"{status} {HTTP_STATUS_CODES.get(status, 'UNKNOWN').upper()}", reply)  # as werkzeug spells it
        return [payload]
