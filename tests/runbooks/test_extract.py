"""The runbook reader: markers, fences, anchors and command splitting."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.runbooks.extract import anchors, blocks, renewer_commands, slug, typed_command

DOCUMENT = """\
# Title

## The OIDC-login case

<!-- scenario: healthy -->
```sh
renewer status
```

<!-- scenario: drift -->
<!-- expect: exit 1 -->
```sh
renewer status
```

```sh
renewer check
```

- a list item:

  ```text
  OK renewed devvm
  ```

<!-- expect: one -->
```sh
true
```

<!-- scenario: retry-armed -->
```sh systemd
systemctl --user list-timers 'renewer-retry@*'
```
"""


class TestBlocks:
    def test_markers_directly_above_a_fence_are_read(self, tmp_path: Path) -> None:
        path = tmp_path / "r.md"
        path.write_text(DOCUMENT)
        found = blocks(path)
        assert [(b.language, b.scenario, b.expect_exit) for b in found] == [
            ("sh", "healthy", 0),
            ("sh", "drift", 1),
            ("sh", None, 0),
            ("text", None, 0),
            ("sh", None, 0),
            ("sh", "retry-armed", 0),
        ]
        assert [b.harness for b in found] == ["", "", "", "", "", "systemd"]
        assert found[0].text == "renewer status\n"
        assert found[3].text == "OK renewed devvm\n"  # indented fence, indent removed
        assert found[4].marker_errors == ("expect marker must read 'exit N', got 'one'",)
        assert found[1].where == "r.md:12"

    def test_headings_give_github_anchors(self, tmp_path: Path) -> None:
        path = tmp_path / "r.md"
        path.write_text(DOCUMENT + "\n```sh\n# not a heading\n```\n")
        assert anchors(path) == {"title", "the-oidc-login-case"}
        assert slug("drift-heal-denied") == "drift-heal-denied"


class TestRenewerCommands:
    def test_commands_are_split_at_shell_operators(self) -> None:
        text = "vault login -method=oidc && renewer mint devvm\nrenewer run --dry-run | cat"
        assert renewer_commands(text) == [["mint", "devvm"], ["run", "--dry-run"]]

    def test_units_paths_and_comments_are_not_commands(self) -> None:
        text = "systemctl --user start renewer.service\nls ~/.local/state/renewer # renewer x"
        assert renewer_commands(text) == []


class TestTypedCommand:
    @pytest.mark.parametrize(
        ("text", "program"),
        [
            ("systemctl --user start renewer.service\n", "systemctl"),
            ("$ renewer status\n", "renewer"),
            ('\nRENEWER_CREDENTIAL="$NAME" A=b systemctl --user try-restart x\n', "systemctl"),
            ("vault list auth/token/accessors\nvault token lookup\n", "vault"),
            ("grep -n '^\\[' ~/.aws/credentials\n", "grep"),
        ],
    )
    def test_a_command_is_recognised(self, text: str, program: str) -> None:
        assert typed_command(text) == program

    @pytest.mark.parametrize(
        "text",
        [
            "OK renewed devvm (token-devvm-wizard, ttl 32d)\n",
            "HEALED devvm: ~/.vault-token held 'token-oidc-wizard'\n",
            "recipes:\n  allow_domains: [login.example-idp.com]\n",
            "NAME=notion-prod     # the credential's name\nRECIPE=notion\n",
            "",
        ],
        ids=["log-line", "heal-line", "config", "variables", "empty"],
    )
    def test_output_config_and_variables_are_not_commands(self, text: str) -> None:
        assert typed_command(text) is None
