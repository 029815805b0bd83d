"""The recovery command renewer prints (issue 15, items 4-5): one that works where it is read."""

from __future__ import annotations

from pathlib import Path

from renewer.config import TokenSink, default_login
from renewer.core.model import MintSpec, TokenSpec
from renewer.tokens.results import recovery_command

HOME = Path("/home/wizard")


def sink(path: Path = HOME / ".vault-token", login: str = "vault login -method=oidc") -> TokenSink:
    return TokenSink(
        name="devvm",
        path=path,
        expect=TokenSpec(display_name="token-devvm-wizard", policies=frozenset({"vault-admin"})),
        mint=MintSpec(display_name="devvm-wizard", policies=("vault-admin",), period=2_764_800),
        login=login,
    )


def test_the_usual_case_is_the_seeds_line() -> None:
    assert recovery_command(sink(), home=HOME) == "vault login -method=oidc && renewer mint devvm"


def test_with_vault_token_set_the_mint_reads_the_logins_file() -> None:
    """$VAULT_TOKEN would win over the fresh login and fail again."""
    assert recovery_command(sink(), home=HOME, vault_token_set=True) == (
        "vault login -method=oidc && renewer mint devvm --from-file ~/.vault-token"
    )


def test_a_sink_elsewhere_mints_from_the_file_the_login_wrote() -> None:
    """The CLI's login writes ~/.vault-token, not the sink's file."""
    elsewhere = sink(path=HOME / ".config" / "tokens" / "devvm")
    assert recovery_command(elsewhere, home=HOME).endswith("--from-file ~/.vault-token")


def test_the_login_is_the_sinks() -> None:
    custom = sink(login="bao login -method=ldap username=wizard")
    assert recovery_command(custom, home=HOME).startswith(
        "bao login -method=ldap username=wizard &&"
    )


def test_the_default_login_is_the_cli_on_path(tmp_path: Path) -> None:
    """`vault` when it is there (it wins), else `bao`, else `vault` (the usual name)."""
    for name in ("bao",):
        (tmp_path / name).write_text("#!/bin/sh\n")
        (tmp_path / name).chmod(0o755)
    assert default_login({"PATH": str(tmp_path)}) == "bao login -method=oidc"
    (tmp_path / "vault").write_text("#!/bin/sh\n")
    (tmp_path / "vault").chmod(0o755)
    assert default_login({"PATH": str(tmp_path)}) == "vault login -method=oidc"
    assert default_login({"PATH": str(tmp_path / "none")}) == "vault login -method=oidc"
