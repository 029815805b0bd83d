"""Chapter 5 of the demo: a service credential refreshed against OAuth2 and written to its sink.

The person adds a recipe for the demo's API (an OAuth2 client-credentials
service on the local :mod:`renewer.demo.oauth` server) and a credential with
a file sink, stores the client id and secret with ``renewer creds set
--stdin`` (the encrypted local store, the embedded default), and runs
``renewer run``: the access token is fetched, tested against the API, and
written to the sink (0600), where another program reads it.
"""

from __future__ import annotations

import json
import stat
from typing import TYPE_CHECKING

from renewer.demo.oauth import API_PATH, TOKEN_PATH

if TYPE_CHECKING:
    from renewer.demo.oauth import ServedOAuth
    from renewer.demo.story import Story

RECIPE = """\
service: demo_api
version: 1
primitive: oauth2
display_name: Demo API (the demo's local OAuth2 server)
base_url: {url}/v1
grant: client_credentials
oauth:
  token_url: {url}{token_path}
  scopes: [read]
required_secrets:
  - {{key: client_id, label: Client ID, secret: false}}
  - {{key: client_secret, label: Client secret}}
inject:
  header:
    Authorization: "Bearer {{{{runtime.access_token}}}}"
test:
  method: GET
  path: {api_path}
  expect_status: 200
"""

CREDENTIAL = """\
credentials:
  - name: demo-api
    recipe: demo_api
    secret: demo_api/main
    sinks:
      - {{type: file, path: {sink}}}
"""


def credential_chapter(story: Story, oauth: ServedOAuth) -> None:
    """Add the credential, store its secret, run: the sink holds a token the API accepts."""
    from renewer.demo.story import DemoFailed

    story.step("5. A service credential: an OAuth2 access token, refreshed and written to a file")
    recipes = story.home / ".config" / "renewer" / "recipes"
    recipes.mkdir(parents=True, exist_ok=True)
    (recipes / "demo_api.yaml").write_text(
        RECIPE.format(url=oauth.url, token_path=TOKEN_PATH, api_path=API_PATH.removeprefix("/v1"))
    )
    sink = story.home / ".config" / "demo-api" / "token"
    story.extend_config(CREDENTIAL.format(sink=sink))
    story.say("  (added ~/.config/renewer/recipes/demo_api.yaml and a credentials: entry)")
    client = oauth.add_client()
    secret = json.dumps({"client_id": client.client_id, "client_secret": client.client_secret})
    story.renewer_with_stdin(secret, "creds", "set", "demo-api", "--stdin", expect=0)
    story.renewer("run", expect=0)
    if not sink.exists():
        raise DemoFailed(f"the credential's sink {sink} was not written")
    mode = stat.S_IMODE(sink.stat().st_mode)
    if mode != 0o600 or not oauth.accepts(sink.read_text().strip()):
        raise DemoFailed(f"{sink} (mode {mode:o}) does not hold a token the API accepts")
    story.say(
        f"  ~/.config/demo-api/token (mode {mode:o}) holds an access token the API accepts; "
        "each run refreshes it before it expires"
    )
