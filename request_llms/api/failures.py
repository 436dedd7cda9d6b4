"""One error shape for the API, OpenAI's: `{"error": {"message", "type", "param", "code"}}` with the right status.

Messages are LocalScholar's own one-line fixes, in the language the client asks for (`Accept-Language`
starting with zh gives Chinese; English otherwise).
"""

from __future__ import annotations

from fastapi.responses import JSONResponse

from .. import errors
from ..text import Text
from .protocol import ErrorInfo, ErrorResponse

# LLMError class -> (HTTP status, OpenAI error type, code); anything unlisted is the backend being unable to serve
_STATUS: dict[type[errors.LLMError], tuple[int, str, str | None]] = {
    errors.IdentifierError: (404, "invalid_request_error", "model_not_found"),
    errors.ModelNotAllowed: (404, "invalid_request_error", "model_not_found"),
    errors.ModelNotFound: (404, "invalid_request_error", "model_not_found"),
    errors.ContextTooLong: (400, "invalid_request_error", "context_length_exceeded"),
    errors.WrongKindOfModel: (400, "invalid_request_error", "wrong_kind_of_model"),  # /embeddings says model_not_embedding
    errors.RateLimited: (429, "rate_limit_error", "rate_limit_exceeded"),
    errors.BackendTimeout: (504, "server_error", "timeout"),
    errors.ServerError: (502, "server_error", "upstream_error"),
    errors.StreamError: (502, "server_error", "upstream_error"),
    errors.StreamCut: (502, "server_error", "upstream_error"),
}
UNAVAILABLE = (503, "server_error", "model_unavailable")


class ApiFailure(Exception):
    """A request the API refuses before calling the model: status, type, code, param and the message."""

    def __init__(
        self, status: int, message: Text, kind: str = "invalid_request_error", code: str | None = None, param: str | None = None
    ) -> None:
        super().__init__(message.en)
        self.status, self.message, self.kind, self.code, self.param = status, message, kind, code, param


def language(accept: str | None) -> str:
    return "zh" if (accept or "").strip().lower().startswith("zh") else "en"


def body(message: str, kind: str, code: str | None = None, param: str | None = None) -> dict:
    return ErrorResponse(error=ErrorInfo(message=message, type=kind, param=param, code=code)).model_dump()


def of_failure(failure: ApiFailure, lang: str) -> JSONResponse:
    headers = {"WWW-Authenticate": "Bearer"} if failure.status == 401 else None
    return JSONResponse(body(failure.message.text(lang), failure.kind, failure.code, failure.param), failure.status, headers)


def of_error(exc: errors.LLMError, lang: str) -> tuple[int, dict]:
    """The status and body for a model-layer error."""
    status, kind, code = next((v for cls, v in _STATUS.items() if isinstance(exc, cls)), UNAVAILABLE)
    message = exc.text(lang)
    if isinstance(exc, errors.ContextTooLong) and exc.tokens and exc.limit:
        # the wording OpenAI's clients look for, with both numbers, before our fix
        message = (
            f"This model's maximum context length is {exc.limit} tokens. However, your messages resulted in "
            f"{exc.tokens} tokens. {message}"
        )
    return status, body(message, kind, code, "messages" if code == "context_length_exceeded" else None)


def error_response(exc: errors.LLMError, lang: str) -> JSONResponse:
    status, content = of_error(exc, lang)
    headers = {"Retry-After": str(int(exc.retry_after))} if status == 429 and exc.retry_after else None
    return JSONResponse(content, status, headers)
