"""Values written into line-based files stay on their line, whatever their source.

Issue 20, item 4: a secret ``devsecret\\u000b[prod]`` (or the same bytes from
an STS answer) split ``~/.aws/credentials``: the writer split lines like
``str.splitlines`` while botocore's configparser does not, ``renewer run``
said ``2 ok``, and botocore then failed to parse the file. Now every
character some reader breaks a line at is refused by the writers (AWS
profile, env file), the run reports the credential as failed, the file keeps
every byte, and botocore reads the file renewer writes — checked by
botocore's own parser on the file on disk.
"""

from __future__ import annotations

import pytest
from botocore.configloader import raw_config_parse
from hypothesis import assume, given
from hypothesis import strategies as st

from renewer.core.aws_profile import ProfileFileError, set_profile
from renewer.core.printable import LINE_BREAKS, fits_one_line
from renewer.credentials.sinks import quote_env
from renewer.secretstore.base import Namespace, SecretRef
from tests.integration.conftest import World
from tests.integration.test_run_service_credentials import OTHER, credentials_yaml, store
from tests.peers.hostile_vault import HostileVault

BREAKS = sorted(LINE_BREAKS)
IDS = [f"U+{ord(char):04X}" for char in BREAKS]
STS_ANSWER = """<GetSessionTokenResponse><GetSessionTokenResult><Credentials>
<AccessKeyId>ASIAHOSTILE0000000000</AccessKeyId><SecretAccessKey>{secret}</SecretAccessKey>
<SessionToken>sessiontokenvalue</SessionToken><Expiration>2099-01-01T00:00:00Z</Expiration>
</Credentials></GetSessionTokenResult></GetSessionTokenResponse>"""


def aws_world(world: World, impostor: HostileVault, *, sts: bool) -> World:
    """A token sink plus an AWS credential whose service (and STS) is the impostor."""
    recipes = world.home / "recipes"
    recipes.mkdir()
    base = "aws_sts" if sts else "aws_s3"
    extra = f"aws: {{sts: {{endpoint: '{impostor.url}/sts'}}}}\n" if sts else ""
    (recipes / "peer_aws.yaml").write_text(
        f"extends: {base}\nservice: peer_aws\nversion: 1\nbase_url: {impostor.url}\n{extra}"
    )
    world.extra = credentials_yaml(
        world,
        "  - name: aws-dev\n    recipe: peer_aws\n    secret: peer_aws/dev\n"
        "    sinks: [{type: aws_profile, path: HOME/.aws/credentials, profile: dev}]\n",
    )
    world.write(world.mint_ours())
    (world.home / ".aws").mkdir(mode=0o700)
    (world.home / ".aws" / "credentials").write_text(OTHER)
    impostor.answer("/", b"<ok/>", headers={"Content-Type": "text/xml"})
    return world


def set_secret(world: World, secret_access_key: str) -> None:
    store(world).update(
        SecretRef.parse("peer_aws/dev"),
        Namespace.SECRET,
        lambda _: {"access_key_id": "AKIAHOSTILE000000000", "secret_access_key": secret_access_key},
    )


def assert_profile_file_intact(world: World, result_code: int, err: str) -> None:
    path = world.home / ".aws" / "credentials"
    assert result_code == 1, err
    assert path.read_text() == OTHER, "the credentials file changed"
    assert raw_config_parse(str(path)) == {"default": {"region": "eu-central-1"}}
    assert "aws_secret_access_key cannot be written on one line" in err


@pytest.mark.parametrize("char", BREAKS, ids=IDS)
def test_a_stored_secret_with_a_line_break_never_splits_the_profile(
    world: World, impostor: HostileVault, char: str
) -> None:
    """The issue's ``devsecret\\v[prod]``, and every other line break: refused, file kept."""
    aws_world(world, impostor, sts=False)
    set_secret(world, f"devsecret{char}[prod]")

    result = world.cli("run")

    assert_profile_file_intact(world, result.code, result.err)
    assert "devsecret" not in result.err


@pytest.mark.parametrize(
    "char", ["\n", "&#13;", "\x85", "\u2028", "\u2029"], ids=["LF", "CR", "NEL", "LS", "PS"]
)
def test_the_same_bytes_from_an_sts_answer_are_refused_too(
    world: World, impostor: HostileVault, char: str
) -> None:
    """Whatever the source: a session secret from STS goes through the same writer.

    (XML 1.0 cannot carry VT or the other C0 breaks: the STS parser refuses those.)
    """
    aws_world(world, impostor, sts=True)
    set_secret(world, "longlivedsecretvalue0000")
    impostor.answer(
        "/sts",
        STS_ANSWER.format(secret=f"stssecret{char}[prod]").encode(),
        headers={"Content-Type": "text/xml"},
    )

    result = world.cli("run")

    assert_profile_file_intact(world, result.code, result.err)
    assert impostor.sent_to("/sts"), "STS was never asked"


@pytest.mark.parametrize("char", [*BREAKS, "\x00"], ids=[*IDS, "NUL"])
def test_env_files_and_profiles_refuse_every_line_break(char: str) -> None:
    value = f"abc{char}[prod]"
    assert not fits_one_line(value)
    with pytest.raises(ValueError, match="line break"):
        quote_env(value)
    with pytest.raises(ProfileFileError, match="cannot be written on one line"):
        set_profile("", "dev", [("aws_secret_access_key", value)])


# Files as people and tools leave them: any line ending botocore honours or not,
# odd characters inside values and comments.
ENDINGS = st.sampled_from(["\n", "\r\n", "\r", *BREAKS])
WORDS = st.text(alphabet="abXY09/+=_-.[]#; \t\x0b\x0c\x1c\x85\u2028", max_size=10)


@st.composite
def credential_files(draw: st.DrawFn) -> str:
    lines = []
    for _ in range(draw(st.integers(0, 8))):
        kind = draw(st.sampled_from(["header", "option", "comment", "blank", "continued"]))
        if kind == "header":
            lines.append(f"[{draw(st.sampled_from(['default', 'dev', 'prod', 'x']))}]")
        elif kind == "option":
            key = draw(st.sampled_from(["region", "aws_access_key_id", "aws_session_token"]))
            lines.append(f"{key} = {draw(WORDS)}")
        elif kind == "comment":
            lines.append(f"# {draw(WORDS)}")
        elif kind == "continued":
            lines.append(f"  {draw(WORDS)}")
        else:
            lines.append("")
    return "".join(line + draw(ENDINGS) for line in lines)


secret_values = st.text(
    alphabet=st.characters(codec="utf-8", exclude_characters="\r\n") | st.sampled_from(BREAKS),
    min_size=1,
    max_size=16,
)


@given(text=credential_files(), secret=secret_values)
def test_botocore_reads_back_exactly_what_was_written_or_nothing_is_written(
    tmp_path_factory: pytest.TempPathFactory, text: str, secret: str
) -> None:
    """On any file botocore can read, set_profile either refuses or botocore reads the value."""
    path = tmp_path_factory.mktemp("aws") / "credentials"
    path.write_bytes(text.encode())
    try:
        before = raw_config_parse(str(path))
    except Exception:  # botocore refuses the file: nothing to compare with
        assume(False)
        return
    values = [("aws_access_key_id", "AKIAEXAMPLE"), ("aws_secret_access_key", secret)]
    try:
        written = set_profile(text, "dev", values)
    except ProfileFileError as refused:
        if fits_one_line(secret) and secret == secret.strip():
            assert "appears 2 times" in str(refused) or "is indented" in str(refused)
        return
    path.write_bytes(written.encode())

    after = raw_config_parse(str(path))

    assert after["dev"]["aws_secret_access_key"] == secret
    assert after["dev"]["aws_access_key_id"] == "AKIAEXAMPLE"
    assert {name: body for name, body in after.items() if name != "dev"} == {
        name: body for name, body in before.items() if name != "dev"
    }
