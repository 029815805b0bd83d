"""A throwaway renewer home for credential tests: config, user recipes, store, fake clock.

Recipes written here point at the local peers (127.0.0.1), so nothing
reaches the internet; the domain rule allows them because every URL of such
a recipe is on its own base URL's host.
"""

from __future__ import annotations

import random
import textwrap
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from renewer.config import Config, load_config
from renewer.core.secret import Secret
from renewer.credentials.handle import Credential
from renewer.credentials.opening import open_credential
from renewer.primitives.base import RuntimeState
from renewer.primitives.http import Http, RetryPolicy
from renewer.secretstore import Stores
from renewer.secretstore.base import Namespace, SecretRef, replace_with
from renewer.secretstore.local import LocalStore

START = 1_700_000_000.0
FAST = RetryPolicy(attempts=3, base=0.01, cap=0.05, deadline=5.0, timeout=2.0)


@dataclass
class Clock:
    """Injected wall clock; ``sleep`` advances it instead of waiting."""

    now_value: float = START
    slept: list[float] = field(default_factory=list)

    def now(self) -> float:
        return self.now_value

    def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        self.now_value += seconds

    def advance(self, seconds: float) -> None:
        self.now_value += seconds


class Workspace:
    """Home directory, config file and recipes directory of one test."""

    def __init__(self, root: Path) -> None:
        self.home = root / "home"
        self.home.mkdir()
        self.recipes = self.home / ".config" / "renewer" / "recipes"
        self.recipes.mkdir(parents=True)
        self.config_path = self.home / ".config" / "renewer" / "config.yaml"
        self.state_dir = self.home / ".local" / "state" / "renewer"
        self.clock = Clock()
        self.environ = {"HOME": str(self.home)}
        self.credentials: list[dict[str, Any]] = []
        self.extra: dict[str, Any] = {}

    # --- writing -------------------------------------------------------------

    def recipe(self, name: str, text: str) -> Path:
        path = self.recipes / f"{name}.yaml"
        path.write_text(textwrap.dedent(text))
        return path

    def credential(self, name: str, recipe: str, secret: str, **fields: Any) -> dict[str, Any]:
        entry = {"name": name, "recipe": recipe, "secret": secret, **fields}
        self.credentials.append(entry)
        self.write_config()
        return entry

    def write_config(self) -> Path:
        document = {
            "version": 1,
            "state_dir": str(self.state_dir),
            "recipes": {"dirs": [str(self.recipes)]},
            "credentials": self.credentials,
            **self.extra,
        }
        self.config_path.write_text(yaml.safe_dump(document, sort_keys=False))
        return self.config_path

    def config(self) -> Config:
        return load_config(self.config_path, environ=self.environ)

    # --- store ---------------------------------------------------------------

    def store(self) -> LocalStore:
        settings = self.config().credentials.secrets.local
        return LocalStore(settings.dir, settings.key_file)

    def set_secret(self, ref: str, **values: str) -> None:
        self.store().update(SecretRef.parse(ref), Namespace.SECRET, replace_with(values))

    def set_runtime(self, ref: str, runtime: RuntimeState) -> None:
        self.store().update(
            SecretRef.parse(ref), Namespace.RUNTIME, replace_with(runtime.to_record())
        )

    def runtime(self, ref: str) -> RuntimeState:
        return RuntimeState.from_record(self.store().read(SecretRef.parse(ref), Namespace.RUNTIME))

    def login_state(
        self, ref: str, access: str, refresh: str | None, *, lifetime: float = 3600
    ) -> None:
        """Runtime state as if `renewer auth login` had just run."""
        self.set_runtime(
            ref,
            RuntimeState(
                access_token=Secret(access),
                refresh_token=Secret(refresh) if refresh else None,
                token_type="Bearer",
                issued_at=self.clock.now(),
                expires_at=self.clock.now() + lifetime,
            ),
        )

    # --- opening -------------------------------------------------------------

    def http(self, seed: int = 7) -> Http:
        return Http(
            policy=FAST, now=self.clock.now, sleep=self.clock.sleep, rng=random.Random(seed)
        )

    def open(self, name: str, *, http: Http | None = None) -> Credential:
        config = self.config()
        return open_credential(config, name, stores=Stores(config), http=http or self.http())


def static_recipe(name: str, base_url: str, *, inject: str, test_path: str = "/header") -> str:
    """A static_key recipe for the API peer; *inject* is the YAML of the inject block."""
    return f"""\
service: {name}
version: 1
primitive: static_key
base_url: {base_url}
required_secrets:
  - key: api_key
    label: API key
inject:
{textwrap.indent(textwrap.dedent(inject), "  ")}
test:
  method: GET
  path: {test_path}
  expect_status: 200
"""


def oauth_recipe(
    name: str,
    *,
    base_url: str,
    authorize_url: str,
    token_url: str,
    grant: str = "authorization_code",
    client_auth: str = "header",
    test_path: str = "/users/me",
) -> str:
    secrets = "  - {key: client_id, secret: false}\n"
    if grant != "pkce":
        secrets += "  - {key: client_secret}\n"
    return f"""\
service: {name}
version: 1
primitive: oauth2
base_url: {base_url}
grant: {grant}
oauth:
  authorize_url: {authorize_url}
  token_url: {token_url}
  scopes: [read]
  client_auth: {client_auth}
required_secrets:
{secrets}inject:
  header:
    Authorization: "Bearer {{{{runtime.access_token}}}}"
test:
  method: GET
  path: {test_path}
  expect_status: 200
"""
