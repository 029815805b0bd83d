"""Chapter 6 of the demo: a blue/green rotation of the Vault token, with a short grace.

``renewer rotate devvm-token --now`` mints the new token with the current
one's authority, checks it, swaps it into ``~/.vault-token``, and keeps the
old one valid for the grace (two tokens of ours in Vault). After the grace,
``renewer run`` revokes the old one: exactly one again. The grace is two
seconds so the demo can wait it out; a day is typical.
"""

from __future__ import annotations

import time
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from renewer.demo.story import Story

GRACE = 2  # seconds

ROTATION = """\
rotations:
  - name: devvm-token
    type: vault-token
    token: devvm
    grace: {grace}s   # so short only for the demo; a day is typical
"""


def rotation_chapter(story: Story) -> None:
    """Rotate by hand, show both tokens in the grace, wait it out, run: one token again."""
    from renewer.demo.story import OURS, DemoFailed

    story.step(f"6. Blue/green rotation of ~/.vault-token, with a {GRACE}-second grace")
    story.extend_config(ROTATION.format(grace=GRACE))
    before = story.token_file.read_text()
    story.renewer("rotate", "devvm-token", "--now", expect=0)
    if story.token_file.read_text() == before:
        raise DemoFailed("the rotation did not put a new token in ~/.vault-token")
    ours = story.vault.our_tokens()
    story.say(
        f"  tokens named {OURS} in Vault: {len(ours)} (the new one in the file, the old one "
        "valid until its grace ends, for whatever still holds it)"
    )
    if len(ours) != 2:
        raise DemoFailed(f"expected two tokens of ours during the grace, found {len(ours)}")
    story.say(f"  (waiting {GRACE}s for the grace to end)")
    time.sleep(GRACE + 0.5)
    story.renewer("run", expect=0)
    ours = story.vault.our_tokens()
    story.say(f"  tokens named {OURS} in Vault: {len(ours)}: the old one was revoked")
    if len(ours) != 1:
        raise DemoFailed(f"expected exactly one token of ours after the grace, found {len(ours)}")
