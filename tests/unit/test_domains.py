"""Tests for renewer.core.domains: where a recipe may send a credential."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from renewer.core.domains import (
    check_same_host,
    check_same_site,
    check_transport,
    is_loopback,
    site_of,
)


class TestSiteOf:
    @pytest.mark.parametrize(
        ("host", "site"),
        [
            ("api.github.com", "github.com"),
            ("github.com", "github.com"),
            ("oauth2.googleapis.com", "googleapis.com"),
            ("api.example.co.uk", "example.co.uk"),
            ("example.co.uk", "example.co.uk"),
            ("a.b.example.com.au", "example.com.au"),
            ("127.0.0.1", "127.0.0.1"),
            ("API.Notion.COM.", "notion.com"),
            ("localhost", "localhost"),
        ],
    )
    def test_registrable_domain_is_approximated(self, host: str, site: str) -> None:
        """Two labels, three under a ccTLD's generic second level; IPs are their own site."""
        assert site_of(host) == site


class TestCheckTransport:
    @pytest.mark.parametrize(
        "url",
        [
            "https://api.notion.com/v1",
            "http://127.0.0.1:8080/x",
            "http://localhost/",
            "http://[::1]:9/",
        ],
    )
    def test_https_or_loopback_http_is_fine(self, url: str) -> None:
        """Secrets travel over TLS, or stay on this machine."""
        assert check_transport(url) is None

    @pytest.mark.parametrize(
        ("url", "word"),
        [
            ("http://api.notion.com/v1", "plain http"),
            ("ftp://example.com/", "not an http(s) URL"),
            ("not a url", "not an absolute"),
            ("https://host:port/", "not an absolute"),
        ],
    )
    def test_other_transports_are_refused(self, url: str, word: str) -> None:
        """Plain http to another host, other schemes and non-URLs are refused."""
        problem = check_transport(url)

        assert problem is not None
        assert word in problem

    def test_loopback_detection(self) -> None:
        """127.0.0.0/8, ::1 and localhost are loopback; 10.0.0.1 is not."""
        assert is_loopback("127.0.0.2")
        assert is_loopback("::1")
        assert not is_loopback("10.0.0.1")
        assert not is_loopback("localhost.evil.com")


class TestCheckSameSite:
    def test_github_oauth_on_github_com_is_allowed(self) -> None:
        """api.github.com's token endpoint on github.com is the same site."""
        assert (
            check_same_site(
                "https://github.com/login/oauth/access_token", base_url="https://api.github.com"
            )
            is None
        )

    def test_loopback_ports_are_one_site(self) -> None:
        """A test IdP and its API on two ports of 127.0.0.1 are one site."""
        assert (
            check_same_site("http://127.0.0.1:5001/token", base_url="http://127.0.0.1:5002/v1")
            is None
        )

    def test_token_url_elsewhere_is_refused(self) -> None:
        """The seed's risk: a token_url on another domain."""
        problem = check_same_site(
            "https://evil.example.net/token", base_url="https://api.notion.com/v1"
        )

        assert problem is not None
        assert "leaves the service's domain notion.com" in problem

    def test_allowlisted_host_and_its_subdomains_are_allowed(self) -> None:
        """An allowlist entry covers the host and hosts below it."""
        url = "https://login.idp.example.org/token"

        assert (
            check_same_site(url, base_url="https://api.notion.com", allow=["idp.example.org"])
            is None
        )
        assert (
            check_same_site(url, base_url="https://api.notion.com", allow=["example.org"]) is None
        )
        assert (
            check_same_site(url, base_url="https://api.notion.com", allow=["other.org"]) is not None
        )

    def test_suffix_trick_is_not_a_subdomain(self) -> None:
        """notexample.org is not below example.org."""
        assert (
            check_same_site(
                "https://notexample.org/t", base_url="https://a.b", allow=["example.org"]
            )
            is not None
        )


class TestCheckSameHost:
    def test_same_host_is_allowed(self) -> None:
        """Absolute URLs on the base URL's host are fine."""
        assert (
            check_same_host("https://api.notion.com/v1/x", base_url="https://api.notion.com/v1")
            is None
        )

    def test_sibling_host_is_refused(self) -> None:
        """bind is stricter than the recipe rule: the exact host only."""
        problem = check_same_host("https://www.notion.com/x", base_url="https://api.notion.com/v1")

        assert problem is not None
        assert "not on the service's host api.notion.com" in problem

    def test_downgrade_to_http_is_refused(self) -> None:
        """https → http on loopback would still be a downgrade."""
        problem = check_same_host("http://localhost/x", base_url="https://localhost/")

        assert problem is not None
        assert "downgrade" in problem


labels = st.text(alphabet="abcxyz0", min_size=1, max_size=5)
hosts = st.lists(labels, min_size=1, max_size=5).map(".".join)


@given(host=hosts, other=hosts)
def test_a_host_outside_the_site_is_never_allowed_without_allowlist(host: str, other: str) -> None:
    """Only hosts that share the base URL's site pass the recipe rule."""
    verdict = check_same_site(f"https://{other}/t", base_url=f"https://{host}/")

    assert (verdict is None) == (site_of(other) == site_of(host))
