"""What a handler receives and returns, and the errors it can raise.

Handlers never see WSGI; app.py turns an ``environ`` into a ``Call`` and a
``Reply`` (or an ``ApiError``) back into bytes. Status codes and messages here
follow ``sdk/logical/response_util.go``: a handler's error *response* is a 400
with its message, ``permission denied`` is 403, an unsupported path 404, an
unsupported operation 405.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import Enum
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from renewer.devserver.tokens import TokenEntry


class Operation(Enum):
    """Vault's logical operations; ACL capabilities are named after them."""

    READ = "read"
    LIST = "list"
    CREATE = "create"
    UPDATE = "update"
    DELETE = "delete"
    PATCH = "patch"


def multierror(*messages: str) -> str:
    """Render errors the way hashicorp/go-multierror prints them."""
    noun = "error" if len(messages) == 1 else "errors"
    lines = "".join(f"\t* {message}\n" for message in messages)
    return f"{len(messages)} {noun} occurred:\n{lines}\n"


class ApiError(Exception):
    """An error reply: HTTP status plus Vault's ``{"errors": [...]}`` list."""

    def __init__(
        self,
        status: int,
        *messages: str,
        headers: Mapping[str, str] | None = None,
    ) -> None:
        super().__init__(f"{status}: {'; '.join(messages)}")
        self.status = status
        self.messages = messages
        self.headers = dict(headers or {})


def bad_request(message: str) -> ApiError:
    """A handler's error response (``logical.ErrorResponse``): 400 with the message."""
    return ApiError(400, message)


def handler_error(message: str, status: int = 400) -> ApiError:
    """A handler's Go error (``&logical.StatusBadRequest{...}``), not an error response.

    ``handleRequest`` appends it to a multierror, so the text arrives wrapped:
    ``1 error occurred:\n\t* invalid accessor\n\n`` (Vault and OpenBao alike;
    seen on OpenBao 2.7.2). An error *response* (``logical.ErrorResponse``,
    :func:`bad_request`) arrives as its bare message.
    """
    return ApiError(status, multierror(message))


def permission_denied() -> ApiError:
    """A valid token whose policies do not allow the request."""
    return ApiError(403, multierror("permission denied"))


def unsupported_path() -> ApiError:
    """A mount exists but none of its paths match."""
    return ApiError(404, multierror("unsupported path"))


def unsupported_operation() -> ApiError:
    """The path exists but not for this operation."""
    return ApiError(405, multierror("unsupported operation"))


def not_found() -> ApiError:
    """A read or list that found nothing: 404 with an empty ``errors`` list."""
    return ApiError(404)


@dataclass(frozen=True, slots=True)
class Call:
    """One logical request as a handler sees it.

    *path* is the path after ``/v1/`` (with the trailing ``/`` Vault adds for
    LIST); *params* are the named parts of the matched route; *data* is the
    decoded body merged over the query string, as Vault's ``FieldData`` sees it.
    *token* is None only on unauthenticated routes.
    """

    operation: Operation
    path: str
    params: Mapping[str, str]
    data: Mapping[str, Any]
    query: Mapping[str, str]
    token: TokenEntry | None
    token_id: str
    now: float


@dataclass(frozen=True, slots=True)
class Reply:
    """A successful reply.

    The default is Vault's JSON envelope. *raw* replaces the envelope with a
    bare JSON object (``sys/health``); *inject* copies ``data`` keys to the top
    level as Vault's ``injectDataIntoTopRoutes`` does. *status* lets KV answer
    404 with a body for a deleted version. *body* is a raw, non-JSON answer
    with its *content_type* (``pki/ca/pem``, Vault's ``HTTPRawBody``). A Reply
    with nothing in it is 204.
    """

    data: Mapping[str, Any] | None = None
    auth: Mapping[str, Any] | None = None
    warnings: tuple[str, ...] = ()
    raw: Mapping[str, Any] | None = None
    status: int = 200
    inject: bool = False
    mount_type: str | None = None
    headers: Mapping[str, str] = field(default_factory=dict)
    body: bytes | None = None
    content_type: str = "application/json"

    @property
    def is_empty(self) -> bool:
        """Nothing to say: Vault's ``respondOk`` answers 204 with no body."""
        return (
            self.data is None
            and self.auth is None
            and not self.warnings
            and self.raw is None
            and self.body is None
        )


NO_CONTENT = Reply()
