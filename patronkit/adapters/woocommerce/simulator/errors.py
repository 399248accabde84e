"""WP_Error as the REST API sends it, and JSON responses encoded the way WordPress does."""

from __future__ import annotations

from typing import Any

from flask import Response

from .formats import php_json


class RestError(Exception):
    """{"code": ..., "message": ..., "data": {"status": ..., ...}}"""

    def __init__(
        self, code: str, message: str, status: int, extra: dict[str, Any] | None = None
    ) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.status = status
        self.extra = extra or {}

    def body(self) -> dict[str, Any]:
        return {
            "code": self.code,
            "message": self.message,
            "data": {"status": self.status, **self.extra},
        }


def invalid_param(name: str, message: str, detail_code: str) -> RestError:
    """What WP_REST_Request::has_valid_params() reports for one bad argument."""
    return RestError(
        "rest_invalid_param",
        f"Invalid parameter(s): {name}",
        400,
        {
            "params": {name: message},
            "details": {name: {"code": detail_code, "message": message, "data": None}},
        },
    )


def not_found(post_type: str, message: str = "Invalid ID.", status: int = 404) -> RestError:
    return RestError(f"woocommerce_rest_{post_type}_invalid_id", message, status)


def json_response(
    payload: Any, status: int = 200, headers: dict[str, str] | None = None
) -> Response:
    response = Response(php_json(payload), status=status, mimetype="application/json")
    response.headers["Content-Type"] = "application/json; charset=UTF-8"
    for name, value in (headers or {}).items():
        response.headers[name] = value
    return response


def error_response(error: RestError) -> Response:
    return json_response(error.body(), error.status)
