"""Rotation manifests are rendered as data: a secret cannot add keys to them.

Issue 20, item 5: a stored secret ``oldsecret\\nreplicas: 0\\nimage:
evil/backdoor`` was inserted unquoted by the manifest template and the
manifest parsed with the extra keys. The template is now parsed (YAML or
JSON), each placeholder filled inside its string, and the result written by a
serializer; here a real hook process parses the manifest it is handed.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest
import yaml
from hypothesis import example, given
from hypothesis import strategies as st

from renewer.core.secret import Secret
from renewer.rotation.hooks import CommandHook, manifest_data, render_manifest
from renewer.rotation.targets.credential_entry import DEFAULT_MANIFEST

INJECTION = "oldsecret\nreplicas: 0\nimage: evil/backdoor"
APPLY = """\
import json, sys, yaml
with open(sys.argv[1]) as handle:
    manifest = yaml.safe_load(handle)
with open(sys.argv[2], "w") as out:
    json.dump(manifest, out)
"""
USER_TEMPLATE = """\
# deploy/webhook-secret.yaml
apiVersion: v1
kind: Secret
metadata: {name: webhook}
stringData:
  current: ${current}
  previous: "${previous}"
replicas: 2
"""


def values(current: str, previous: str = "previous-value", pending: str = "") -> dict[str, Secret]:
    return {"current": Secret(current), "previous": Secret(previous), "pending": Secret(pending)}


def test_the_injection_of_issue_20_reaches_a_real_hook_as_one_value(tmp_path: Path) -> None:
    """The hook process parses the manifest: the same keys as the template, the value intact."""
    script, seen = tmp_path / "apply.py", tmp_path / "seen.json"
    script.write_text(APPLY)
    hook = CommandHook(
        argv=(sys.executable, str(script), "{manifest}", str(seen)),
        template=USER_TEMPLATE,
        state_dir=tmp_path / "state",
        name="webhook",
    )

    hook(values(INJECTION))

    manifest = json.loads(seen.read_text())
    assert manifest == {
        "apiVersion": "v1",
        "kind": "Secret",
        "metadata": {"name": "webhook"},
        "stringData": {"current": INJECTION, "previous": "previous-value"},
        "replicas": 2,
    }


def test_a_json_template_stays_json_and_holds_the_value_as_a_string() -> None:
    template = '{"accept": ["${current}", "${previous}"], "replicas": 2}\n'
    rendered = render_manifest(template, values('x", "replicas": 0, "y": "'))
    assert json.loads(rendered) == {
        "accept": ['x", "replicas": 0, "y": "', "previous-value"],
        "replicas": 2,
    }


@pytest.mark.parametrize(
    ("template", "words"),
    [
        ("keys: {current: ${current}}\n", "m.yaml:1"),
        ("${current}: value\n", "a placeholder must be a value, not a key"),
        ("a: [unclosed\n", "m.yaml:2"),
    ],
    ids=["unquoted-in-flow", "placeholder-key", "not-yaml"],
)
def test_a_template_that_is_not_data_is_refused_with_its_line(template: str, words: str) -> None:
    with pytest.raises(ValueError, match=words):
        manifest_data(template, source="m.yaml")


secrets = st.text(st.characters(codec="utf-8"), max_size=30)


@example(current="", previous="\u2028", pending="\x85")  # YAML line breaks, found here
@given(current=secrets, previous=secrets, pending=secrets)
def test_whatever_the_secrets_the_default_manifest_has_three_keys_holding_them(
    current: str, previous: str, pending: str
) -> None:
    """Line breaks, quotes, ': ', '#', '---', '{': every value comes back as itself."""
    rendered = render_manifest(DEFAULT_MANIFEST, values(current, previous, pending))

    expected = {"current": current, "previous": previous, "pending": pending}
    assert yaml.safe_load(rendered) == expected


@given(current=secrets)
def test_whatever_the_secret_a_user_template_keeps_its_shape(current: str) -> None:
    rendered = yaml.safe_load(render_manifest(USER_TEMPLATE, values(current)))

    assert rendered["stringData"] == {"current": current, "previous": "previous-value"}
    assert set(rendered) == {"apiVersion", "kind", "metadata", "stringData", "replicas"}
