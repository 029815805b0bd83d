"""A recipe's ``test`` block as a real API call: build, authenticate, send, check.

The expectations are matched by the pure :func:`renewer.core.expect.check_answer`.
5xx, 429, timeouts and refused connections are retried and end as
``ServiceUnavailable`` (exit 75): a service that is down says nothing about
the credential. Any other mismatch is a failed test.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

from renewer.core.domains import is_absolute
from renewer.core.expect import NOT_JSON, check_answer
from renewer.primitives.base import CredentialState, Primitive, TestResult
from renewer.template import TemplateError, render

if TYPE_CHECKING:
    from renewer.primitives.http import Http

MAX_BODY_BYTES = 1 << 20


def join_url(base_url: str, path: str) -> str:
    """*path* relative to *base_url* (``/users/me`` on ``https://x/v1`` is ``https://x/v1/users/me``)."""
    if is_absolute(path):
        return path
    if not path:
        return base_url
    return base_url.rstrip("/") + "/" + path.lstrip("/")


def run_recipe_test(primitive: Primitive, state: CredentialState, *, http: Http) -> TestResult:
    """Run *state*'s recipe test with *primitive*'s authentication."""
    import requests

    spec = state.recipe.test
    if spec is None:
        return TestResult(passed=True, skipped=True)
    values = state.values()
    try:
        headers = {name: render(text, values) for name, text in spec.headers.items()}
    except TemplateError as exc:
        return TestResult(passed=False, problems=(f"test headers: {exc}",))
    request = requests.Request(
        spec.method,
        join_url(state.recipe.base_url, spec.path),
        headers=headers,
        json=dict(spec.json) if spec.json is not None else None,
        data=dict(spec.form) if spec.form is not None else None,
    ).prepare()
    primitive.authenticate(request, state)
    response = http.send(request, what=f"{state.name}: test {spec.method} {spec.path}")
    with response:
        body = _json_body(response)
    problems = check_answer(
        status=response.status_code,
        body=body,
        expect_status=spec.expect_status,
        expect_json=spec.expect_json,
    )
    return TestResult(passed=not problems, status=response.status_code, problems=problems)


def _json_body(response: Any) -> Any:
    content = response.content[:MAX_BODY_BYTES]
    try:
        return json.loads(content)
    except ValueError:
        return NOT_JSON
