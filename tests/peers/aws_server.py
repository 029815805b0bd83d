"""moto's server on 127.0.0.1 for STS, IAM and S3, with authentication enforced.

moto checks every request like AWS would once its "initial no-auth action
count" is spent: the access key must exist (an IAM user's, or an assumed
role's with its session token), the SigV4 signature must match, and the
caller's policies must allow the action. The peer keeps that check on, and
turns it off only inside :meth:`MotoPeer.admin` (setting up users, keys
and roles over moto's own IAM API).

A small WSGI wrapper records every request without values: method, path,
the access key id and service of the ``Authorization`` credential scope,
whether a session token was sent, and the status. Tests use it to see that
STS was called with the long-lived key and S3 with the session's key. The
secret halves of the sessions STS hands out are given to the leak guard.
"""

from __future__ import annotations

import contextlib
import io
import json
import re
import threading
import uuid
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode
from xml.etree import ElementTree

import requests

from renewer.core.secret import Secret
from renewer.primitives.aws import AwsKeys, sign
from tests import leakguard
from tests.peers.serving import Served

ACCOUNT = "123456789012"
REGION = "us-east-1"
_DUMMY = AwsKeys("AKIAMOTOSETUPKEY0000", Secret("setup-secret-not-checked"))


@dataclass(frozen=True)
class Seen:
    method: str
    path: str
    access_key_id: str
    service: str
    session_token: bool
    status: int


@dataclass(frozen=True)
class User:
    name: str
    keys: AwsKeys


def _scope(authorization: str) -> tuple[str, str]:
    credential = authorization.partition("Credential=")[2].partition(",")[0]
    parts = credential.split("/")
    return (parts[0], parts[3]) if len(parts) >= 4 else ("", "")


class MotoPeer:
    """moto's server plus the recording wrapper and IAM helpers."""

    def __init__(self) -> None:
        from moto.moto_server.werkzeug_app import DomainDispatcherApplication, create_backend_app

        self.seen: list[Seen] = []
        self._lock = threading.Lock()
        self._app = DomainDispatcherApplication(create_backend_app)
        self._served = Served(self._recording)
        self.url = self._served.url
        self._enforce()

    def stop(self) -> None:
        self._set_auth(enforced=False)  # as moto starts: other tests' moto sees no auth
        self._served.stop()

    # --- recording ---------------------------------------------------------------

    def _recording(
        self, environ: dict[str, Any], start_response: Callable[..., Any]
    ) -> Iterable[bytes]:
        length = int(environ.get("CONTENT_LENGTH") or 0)
        body = environ["wsgi.input"].read(length) if length else b""
        environ["wsgi.input"] = io.BytesIO(body)
        access_key_id, service = _scope(environ.get("HTTP_AUTHORIZATION", ""))
        status: list[int] = []

        def recording_start(line: str, headers: Any, *args: Any) -> Any:
            status.append(int(line.split(maxsplit=1)[0]))
            return start_response(line, headers, *args)

        result = self._app(environ, recording_start)
        if service == "sts":  # the sessions it hands out are secrets for the leak guard
            body_out = b"".join(result)
            for tag in (b"SecretAccessKey", b"SessionToken"):
                for found in re.findall(b"<" + tag + b">([^<]+)</" + tag + b">", body_out):
                    leakguard.remember(found.decode())
            result = [body_out]
        with self._lock:
            self.seen.append(
                Seen(
                    method=environ["REQUEST_METHOD"],
                    path=environ.get("PATH_INFO", ""),
                    access_key_id=access_key_id,
                    service=service,
                    session_token="HTTP_X_AMZ_SECURITY_TOKEN" in environ,
                    status=status[0] if status else 0,
                )
            )
        return result  # type: ignore[no-any-return]

    def calls(self, service: str) -> list[Seen]:
        with self._lock:
            return [seen for seen in self.seen if seen.service == service]

    # --- authentication switch -----------------------------------------------------

    def _set_auth(self, *, enforced: bool) -> None:
        """moto's documented server switch: POST /moto-api/reset-auth with the
        number of requests to let through unauthenticated (0: check them all)."""
        count = "0" if enforced else "inf"
        with requests.Session() as session:
            answer = session.post(f"{self.url}/moto-api/reset-auth", data=count, timeout=10)
        assert answer.status_code == 200, answer.text

    def _enforce(self) -> None:
        self._set_auth(enforced=True)

    @contextlib.contextmanager
    def admin(self) -> Iterator[None]:
        """Authentication off for set-up calls; on again afterwards."""
        self._set_auth(enforced=False)
        try:
            yield
        finally:
            self._enforce()

    def query(self, service: str, action: str, **params: str) -> ElementTree.Element:
        """One Query API call (IAM, STS) signed with a set-up key; the parsed XML answer."""
        body = urlencode({"Action": action, "Version": _VERSIONS[service], **params})
        request = requests.Request(
            "POST",
            self.url + "/",
            data=body,
            headers={"Content-Type": "application/x-www-form-urlencoded; charset=utf-8"},
        ).prepare()
        sign(request, _DUMMY, service=service, region=REGION)
        with requests.Session() as session:
            response = session.send(request, timeout=10)
        assert response.status_code == 200, response.text
        return ElementTree.fromstring(response.content)  # noqa: S314 - our own peer

    # --- IAM set-up ----------------------------------------------------------------------

    def new_user(self, *, policy: dict[str, Any] | None = None) -> User:
        """An IAM user with an access key (and an inline *policy*)."""
        name = f"user-{uuid.uuid4().hex[:10]}"
        with self.admin():
            self.query("iam", "CreateUser", UserName=name)
            if policy is not None:
                self.query(
                    "iam",
                    "PutUserPolicy",
                    UserName=name,
                    PolicyName="p",
                    PolicyDocument=json.dumps(policy),
                )
            answer = self.query("iam", "CreateAccessKey", UserName=name)
        key_id = _text(answer, "AccessKeyId")
        secret = _text(answer, "SecretAccessKey")
        leakguard.remember(secret)
        return User(name, AwsKeys(key_id, Secret(secret)))

    def new_role(self, *, trusted: User, policy: dict[str, Any]) -> str:
        """A role *trusted* may assume, with an inline *policy*; returns its ARN."""
        name = f"role-{uuid.uuid4().hex[:10]}"
        trust = {
            "Version": "2012-10-17",
            "Statement": [
                {
                    "Effect": "Allow",
                    "Principal": {"AWS": f"arn:aws:iam::{ACCOUNT}:user/{trusted.name}"},
                    "Action": "sts:AssumeRole",
                }
            ],
        }
        with self.admin():
            answer = self.query(
                "iam", "CreateRole", RoleName=name, AssumeRolePolicyDocument=json.dumps(trust)
            )
            self.query(
                "iam",
                "PutRolePolicy",
                RoleName=name,
                PolicyName="p",
                PolicyDocument=json.dumps(policy),
            )
        return _text(answer, "Arn")

    def deactivate(self, user: User) -> None:
        """Make the user's key inactive, as an administrator revoking it would."""
        with self.admin():
            self.query(
                "iam",
                "DeleteAccessKey",
                UserName=user.name,
                AccessKeyId=user.keys.access_key_id,
            )

    def create_bucket(self, name: str) -> None:
        with self.admin():
            request = requests.Request("PUT", f"{self.url}/{name}").prepare()
            sign(request, _DUMMY, service="s3", region=REGION)
            with requests.Session() as session:
                assert session.send(request, timeout=10).status_code == 200


_VERSIONS = {"iam": "2010-05-08", "sts": "2011-06-15"}


def _text(root: ElementTree.Element, name: str) -> str:
    for element in root.iter():
        if element.tag.rsplit("}", 1)[-1] == name:
            return (element.text or "").strip()
    raise AssertionError(f"no {name} in the answer")


def allow(*actions: str, resource: str = "*") -> dict[str, Any]:
    """An IAM policy document allowing *actions*."""
    return {
        "Version": "2012-10-17",
        "Statement": [{"Effect": "Allow", "Action": list(actions), "Resource": resource}],
    }
