"""STS answers parsed strictly, session lifetimes, and what SigV4 signs (no network)."""

from __future__ import annotations

import pytest
import requests

from renewer.core.secret import Secret
from renewer.primitives.aws import AwsKeys, sign
from renewer.primitives.aws_sts import (
    MalformedStsAnswer,
    StsError,
    parse_sts_answer,
    session_lifetime,
)

ANSWER = b"""<AssumeRoleResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/">
<AssumeRoleResult><Credentials>
<AccessKeyId>ASIAEXAMPLE</AccessKeyId><SecretAccessKey>sk</SecretAccessKey>
<SessionToken>tok</SessionToken><Expiration>2030-01-01T01:00:00Z</Expiration>
</Credentials></AssumeRoleResult></AssumeRoleResponse>"""


class TestParseStsAnswer:
    def test_credentials(self) -> None:
        """Namespaces ignored, values taken as they are."""
        keys = parse_sts_answer(200, ANSWER)

        assert isinstance(keys, AwsKeys)
        assert keys.access_key_id == "ASIAEXAMPLE"
        assert keys.secret_access_key.reveal() == "sk"
        assert keys.session_token is not None
        assert keys.session_token.reveal() == "tok"
        assert keys.expiration == "2030-01-01T01:00:00Z"

    def test_an_error_answer(self) -> None:
        """Code and cleaned message."""
        body = (
            b"<ErrorResponse><Error><Type>Sender</Type><Code>AccessDenied</Code>"
            b"<Message>not\nallowed</Message></Error></ErrorResponse>"
        )

        assert parse_sts_answer(403, body) == StsError("AccessDenied", "not allowed")

    @pytest.mark.parametrize(
        ("body", "message"),
        [
            (b"not xml at all", "not XML"),
            (b"<html><body>login</body></html>", "not an STS answer (a <html> document)"),
            (b'<!DOCTYPE x [<!ENTITY a "b">]><x>&a;</x>', "declares a document type"),
            (b"<R>" + b"a" * 70_000 + b"</R>", "larger than 65536 bytes"),
            (ANSWER.replace(b"<SessionToken>tok</SessionToken>", b""), "have no SessionToken"),
            (b"<AssumeRoleResponse/>", "no Credentials"),
        ],
        ids=["text", "html", "dtd", "huge", "no-token", "empty"],
    )
    def test_anything_else_is_malformed(self, body: bytes, message: str) -> None:
        """The message describes the shape, never a value."""
        with pytest.raises(
            MalformedStsAnswer, match=message.replace("(", r"\(").replace(")", r"\)")
        ):
            parse_sts_answer(200, body)


class TestSessionLifetime:
    def test_measured_against_the_answers_date(self) -> None:
        """A local clock a day off does not change the lifetime."""
        lifetime = session_lifetime(
            "2030-01-01T01:00:00.000Z", "Tue, 01 Jan 2030 00:00:00 GMT", now=0.0
        )

        assert lifetime == 3600

    def test_without_a_date_the_local_clock(self) -> None:
        """No Date header: Expiration minus now."""
        assert session_lifetime("1970-01-01T00:10:00Z", None, now=60.0) == 540

    def test_an_unreadable_expiration(self) -> None:
        """Refused."""
        with pytest.raises(MalformedStsAnswer, match="Expiration"):
            session_lifetime("soon", None, now=0.0)


class TestSign:
    def test_only_chosen_headers_are_signed(self) -> None:
        """host, content-type and x-amz-*; headers requests adds later cannot break it."""
        request = requests.Request(
            "POST",
            "https://sts.amazonaws.com/",
            data="Action=GetCallerIdentity",
            headers={"Content-Type": "application/x-www-form-urlencoded", "X-Other": "1"},
        ).prepare()

        sign(
            request,
            AwsKeys("AKIAEXAMPLE", Secret("secret"), Secret("session")),
            service="sts",
            region="us-east-1",
        )

        authorization = request.headers["Authorization"]
        assert authorization.startswith("AWS4-HMAC-SHA256 Credential=AKIAEXAMPLE/")
        assert "/us-east-1/sts/aws4_request" in authorization
        assert "SignedHeaders=content-type;host;x-amz-date;x-amz-security-token," in authorization
        assert request.headers["X-Amz-Security-Token"] == "session"

    def test_s3_signs_the_payload_hash(self) -> None:
        """S3 wants X-Amz-Content-SHA256."""
        request = requests.Request("GET", "https://s3.amazonaws.com/").prepare()

        sign(request, AwsKeys("AKIAEXAMPLE", Secret("secret")), service="s3", region="us-east-1")

        assert "X-Amz-Content-SHA256" in request.headers
        assert "X-Amz-Security-Token" not in request.headers
