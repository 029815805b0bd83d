"""Chapters 1-4 of the demo: the token in ``~/.vault-token`` renewed, healed, refused, recovered.

A periodic token of ours is renewed; an OIDC login overwrites it and the run
heals it, leaving exactly one token of ours in Vault (the seed's acceptance
check) and the OIDC login intact; a stray read-only login is DRIFT and the
file is left alone; ``renewer mint`` recovers, as the DRIFT line says. They
are the opening chapters as :mod:`.credential` and :mod:`.rotation` are the
later ones, so that :mod:`.story` is the stage and the running order.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from renewer.demo.story import Story

POLICIES = {
    # What an operator's admin policy grants: minting periodic/orphan tokens needs sudo.
    "vault-admin": (
        'path "auth/token/*" '
        '{ capabilities = ["create", "read", "update", "delete", "list", "sudo"] }\n'
        'path "secret/*" { capabilities = ["create", "read", "update", "delete", "list"] }\n'
        'path "sys/*" { capabilities = ["read", "list"] }\n'
    ),
    "sops-admin": 'path "secret/data/sops/*" { capabilities = ["create", "read", "update"] }\n',
    "woodpecker-read": 'path "secret/data/ci/*" { capabilities = ["read"] }\n',
}


def token_chapters(story: Story) -> None:
    """Set up the policies and the other actors' tokens, then run chapters 1 to 4."""
    from renewer.demo.story import OURS, DemoFailed

    vault = story.vault
    story.step("1. A periodic token of ours in ~/.vault-token: renewed")
    for name, text in POLICIES.items():
        vault.call("PUT", f"sys/policies/acl/{name}", {"policy": text})
    first = vault.token(
        policies=["vault-admin", "sops-admin"],
        period="768h",
        display_name="devvm-wizard",
        no_parent=True,
    )
    leftover = vault.token(  # an earlier manual re-mint, never cleaned up
        policies=["vault-admin", "sops-admin"],
        period="768h",
        display_name="devvm-wizard",
        no_parent=True,
    )
    del leftover
    story.clobber(first)
    story.renewer("run", expect=0)

    story.step("2. `vault login -method=oidc` overwrites it with a 7-day admin token: HEALED")
    oidc = vault.token(
        policies=["vault-admin"], ttl="168h", display_name="oidc-wizard", no_parent=True
    )
    story.clobber(oidc)
    story.renewer("run", expect=0)
    healed = story.token_file.read_text()
    if healed == oidc:
        raise DemoFailed("the file still holds the OIDC token after the heal")
    ours = vault.our_tokens()
    story.say(
        f"  tokens named {OURS} left in Vault: {len(ours)} "
        "(the seed's acceptance check: exactly one)"
    )
    if len(ours) != 1:
        raise DemoFailed(f"expected exactly one token of ours after the heal, found {len(ours)}")
    vault.call("GET", "auth/token/lookup-self", token=oidc)  # the OIDC login still works
    story.say("  the OIDC token was not revoked: the login that wrote it still works")

    story.step("3. A stray kubernetes login writes a read-only token: DRIFT, file untouched")
    weak = vault.token(
        policies=["woodpecker-read"], ttl="1h", display_name="kubernetes-woodpecker-default"
    )
    story.clobber(weak)
    story.renewer("run", expect=1)
    if story.token_file.read_text() != weak:
        raise DemoFailed("a denied heal must leave the file untouched")

    story.step("4. Recovery, as the DRIFT line says: log in, then `renewer mint devvm`")
    story.say("  (playing `vault login -method=oidc`: an admin token lands in ~/.vault-token)")
    story.clobber(
        vault.token(
            policies=["vault-admin"], ttl="168h", display_name="oidc-wizard", no_parent=True
        )
    )
    story.renewer("mint", "devvm", expect=0)
    story.renewer("run", expect=0)
