"""A local stand-in for GitHub's repository-webhook REST API, on 127.0.0.1.

GitHub itself cannot run here, so this plays the part a static rotation
talks to, as GitHub documents it
(docs.github.com/en/rest/repos/webhooks), and no more permissive:

* ``GET /repos/{owner}/{repo}/hooks/{hook_id}/config``: the webhook's
  configuration; a set secret is shown as ``********``, never the value;
* ``PATCH .../config`` with a JSON body (``url``, ``content_type``,
  ``secret``, ``insecure_ssl``): 200 with the configuration (secret masked);
  an unparsable body is 400 ``Problems parsing JSON``;
* ``POST .../pings``: 204, and GitHub sends a ``ping`` event to the webhook's
  URL, signed with the secret it holds (``X-Hub-Signature-256``) — here
  synchronously, the receiver's answer recorded in :attr:`deliveries`;
* every route wants ``Authorization: Bearer <token>`` (or ``token <token>``):
  none or an unknown token is 401 ``Bad credentials``; a token without
  ``admin:repo_hook`` (or an unknown hook) is 404 ``Not Found``, as GitHub
  answers for what a token may not see.

Requests are recorded without secrets (method, path, whether authorized).
"""

from __future__ import annotations

import json
import secrets
import threading
from dataclasses import dataclass, field
from typing import Any

import requests
from flask import Flask, Response, jsonify, request

from renewer.rotation.signing import github_signature
from tests.peers.serving import Served

MASK = "********"
HOOK_ADMIN = "admin:repo_hook"


@dataclass
class Hook:
    url: str
    secret: str = ""
    content_type: str = "json"
    insecure_ssl: str = "0"

    def config(self) -> dict[str, str]:
        shown = {"content_type": self.content_type, "insecure_ssl": self.insecure_ssl}
        shown["url"] = self.url
        if self.secret:
            shown["secret"] = MASK
        return shown


@dataclass(frozen=True)
class Seen:
    method: str
    path: str
    authorized: bool


@dataclass
class GitHubPeer:
    """Repositories' webhooks and the tokens that may administer them."""

    hooks: dict[tuple[str, str, str], Hook] = field(default_factory=dict)
    tokens: dict[str, frozenset[str]] = field(default_factory=dict)  # token -> scopes
    seen: list[Seen] = field(default_factory=list)
    deliveries: list[int] = field(default_factory=list)  # the receiver's status per delivery
    url: str = ""
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def add_token(self, *scopes: str) -> str:
        token = f"ghp_{secrets.token_urlsafe(27)}"
        self.tokens[token] = frozenset(scopes)
        return token

    def secret_of(self, owner: str, repo: str, hook_id: str) -> str:
        return self.hooks[(owner, repo, hook_id)].secret

    def deliver(self, hook: Hook, event: str, body: bytes, *, secret: str | None = None) -> int:
        """Send *event* to the hook's URL, signed as GitHub signs (or with *secret*)."""
        key = hook.secret if secret is None else secret
        headers = {
            "Content-Type": "application/json",
            "User-Agent": "GitHub-Hookshot/local",
            "X-GitHub-Event": event,
            "X-GitHub-Delivery": secrets.token_hex(8),
        }
        if key:
            headers["X-Hub-Signature-256"] = github_signature(key.encode(), body)
        with requests.Session() as session:
            session.trust_env = False
            status = session.post(hook.url, data=body, headers=headers, timeout=10).status_code
        self.deliveries.append(status)
        return status

    def app(self) -> Flask:
        app = Flask("github-peer")
        route = "/repos/<owner>/<repo>/hooks/<hook_id>"

        @app.route(f"{route}/config", methods=["GET", "PATCH"])
        def config(owner: str, repo: str, hook_id: str) -> Any:
            hook, problem = self._authorize(owner, repo, hook_id)
            if problem is not None:
                return problem
            assert hook is not None
            if request.method == "PATCH":
                try:
                    body = json.loads(request.get_data() or b"{}")
                except ValueError:
                    return _error(400, "Problems parsing JSON")
                if not isinstance(body, dict):
                    return _error(400, "Problems parsing JSON")
                for name in ("url", "content_type", "secret", "insecure_ssl"):
                    if isinstance(body.get(name), str):
                        setattr(hook, name, body[name])
            return jsonify(hook.config())

        @app.route(f"{route}/pings", methods=["POST"])
        def ping(owner: str, repo: str, hook_id: str) -> Any:
            hook, problem = self._authorize(owner, repo, hook_id)
            if problem is not None:
                return problem
            assert hook is not None
            body = json.dumps({"zen": "Keep it logically awesome.", "hook_id": hook_id}).encode()
            self.deliver(hook, "ping", body)
            return Response(status=204)

        return app

    def _authorize(self, owner: str, repo: str, hook_id: str) -> tuple[Hook | None, Any]:
        header = request.headers.get("Authorization", "")
        scheme, _, token = header.partition(" ")
        scopes = self.tokens.get(token) if scheme.lower() in {"bearer", "token"} else None
        with self._lock:
            self.seen.append(Seen(request.method, request.path, scopes is not None))
        if scopes is None:
            return None, _error(401, "Bad credentials")
        hook = self.hooks.get((owner, repo, hook_id))
        if hook is None or HOOK_ADMIN not in scopes:
            return None, _error(404, "Not Found")
        return hook, None


def _error(status: int, message: str) -> tuple[Response, int]:
    document = {"message": message, "documentation_url": "https://docs.github.com/rest"}
    return jsonify(document), status


class ServedGitHub:
    """The peer served on a free loopback port; ``peer.url`` is set while it runs."""

    def __init__(self, peer: GitHubPeer) -> None:
        self.peer = peer
        self._served = Served(peer.app())
        peer.url = self._served.url

    def stop(self) -> None:
        self._served.stop()
