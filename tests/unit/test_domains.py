"""Tests for renewer.core.domains: where a credential may go (recipe sites, request origins)."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from renewer.core.domains import (
    Origin,
    check_origin,
    check_same_site,
    check_transport,
    is_absolute,
    is_loopback,
    origin_of,
    safe_url,
)
from renewer.recipes.sites import is_public_suffix, site_of


def same_site(url: str, base_url: str, allow: tuple[str, ...] = ()) -> str | None:
    return check_same_site(url, base_url=base_url, site_of=site_of, allow=allow)


class TestSiteOf:
    @pytest.mark.parametrize(
        ("host", "site"),
        [
            ("api.github.com", "github.com"),
            ("github.com", "github.com"),
            ("api.example.co.uk", "example.co.uk"),
            ("a.b.example.com.au", "example.com.au"),
            ("127.0.0.1", "127.0.0.1"),
            ("API.Notion.COM.", "notion.com"),
            ("localhost", "localhost"),
            # the private section: anyone may own a name under these suffixes
            ("victim.workers.dev", "victim.workers.dev"),
            ("a.victim.workers.dev", "victim.workers.dev"),
            ("alice.github.io", "alice.github.io"),
            ("app.herokuapp.com", "app.herokuapp.com"),
            ("oauth2.googleapis.com", "oauth2.googleapis.com"),
            ("github.io", "github.io"),  # a suffix is its own site
        ],
    )
    def test_the_public_suffix_list_decides(self, host: str, site: str) -> None:
        """The registrable domain by the bundled Public Suffix List, private section included."""
        assert site_of(host) == site

    def test_public_suffixes_are_known(self) -> None:
        """workers.dev and co.uk are suffixes; example.com and an IP are not."""
        assert is_public_suffix("workers.dev")
        assert is_public_suffix("co.uk")
        assert not is_public_suffix("example.com")
        assert not is_public_suffix("127.0.0.1")


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
        url = "https://github.com/login/oauth/access_token"
        assert same_site(url, "https://api.github.com") is None

    def test_loopback_ports_are_one_site(self) -> None:
        """A test IdP and its API on two ports of 127.0.0.1 are one site."""
        assert same_site("http://127.0.0.1:5001/token", "http://127.0.0.1:5002/v1") is None

    def test_token_url_elsewhere_is_refused(self) -> None:
        """The seed's risk: a token_url on another domain."""
        problem = same_site("https://evil.example.net/token", "https://api.notion.com/v1")

        assert problem is not None
        assert "leaves the service's site notion.com" in problem

    @pytest.mark.parametrize(
        ("victim", "attacker"),
        [
            ("victim.workers.dev", "attacker.workers.dev"),
            ("victim.github.io", "attacker.github.io"),
            ("victim.herokuapp.com", "attacker.herokuapp.com"),
        ],
    )
    def test_neighbours_under_a_public_suffix_are_two_sites(
        self, victim: str, attacker: str
    ) -> None:
        """Two tenants of one hosting platform are not one service (issue 16, item 4)."""
        problem = same_site(f"https://{attacker}/token", f"https://{victim}/api")

        assert problem is not None
        assert f"host {attacker} is another site" in problem

    def test_allowlisted_host_and_its_subdomains_are_allowed(self) -> None:
        """An allowlist entry covers the host and hosts below it."""
        url = "https://login.idp.example.org/token"

        assert same_site(url, "https://api.notion.com", ("idp.example.org",)) is None
        assert same_site(url, "https://api.notion.com", ("example.org",)) is None
        assert same_site(url, "https://api.notion.com", ("other.org",)) is not None

    def test_suffix_trick_is_not_a_subdomain(self) -> None:
        """notexample.org is not below example.org."""
        assert same_site("https://notexample.org/t", "https://a.b", ("example.org",)) is not None


class TestOrigins:
    @pytest.mark.parametrize(
        ("url", "origin"),
        [
            ("https://API.example.com/v1?x=1", Origin("https", "api.example.com", 443)),
            ("https://api.example.com:443/", Origin("https", "api.example.com", 443)),
            ("http://127.0.0.1:18080/x", Origin("http", "127.0.0.1", 18080)),
            ("http://[::1]/x", Origin("http", "::1", 80)),
            ("ftp://example.com/", None),
            ("/relative", None),
        ],
    )
    def test_origin_is_scheme_host_and_port(self, url: str, origin: Origin | None) -> None:
        """Default ports are filled in; other schemes have no origin here."""
        assert origin_of(url) == origin

    def test_origin_renders_like_a_browser(self) -> None:
        """Default ports are left out; IPv6 hosts are bracketed."""
        assert str(Origin("https", "a.example", 443)) == "https://a.example"
        assert str(Origin("http", "::1", 8080)) == "http://[::1]:8080"

    @pytest.mark.parametrize(
        ("url", "absolute"),
        [
            ("https://x.example/a", True),
            ("HTTP://x.example/a", True),
            ("/search?next=https://evil.example/", False),
            ("search?u=http://x", False),
            ("projects:list", False),
            ("//evil.example/x", False),
        ],
    )
    def test_only_a_leading_scheme_makes_a_url_absolute(self, url: str, absolute: bool) -> None:
        """A query holding '://' is still a path (issue 16, item 3)."""
        assert is_absolute(url) is absolute

    def test_same_origin_passes(self) -> None:
        """The base URL's own origin, default port written or not."""
        base = "https://api.example.com/v1"
        assert check_origin("https://api.example.com:443/x", base_url=base) is None

    @pytest.mark.parametrize(
        ("url", "word"),
        [
            ("http://127.0.0.1:18090/x", "is not the service's origin http://127.0.0.1:18080"),
            ("http://localhost:18080/x", "is not the service's origin"),
            ("ftp://127.0.0.1/x", "not an absolute http(s) URL"),
        ],
    )
    def test_another_port_or_host_is_another_origin(self, url: str, word: str) -> None:
        """Ports count (issue 16, item 3)."""
        problem = check_origin(url, base_url="http://127.0.0.1:18080")

        assert problem is not None
        assert word in problem

    def test_downgrade_is_named(self) -> None:
        """http on the https host is a downgrade, said so."""
        problem = check_origin("http://localhost/x", base_url="https://localhost/")

        assert problem is not None
        assert "downgrade" in problem

    def test_allowed_origins_pass(self) -> None:
        """An origin the recipe lists may receive the credential."""
        upload = Origin("https", "uploads.example.com", 443)
        url, base = "https://uploads.example.com/f", "https://api.example.com"
        assert check_origin(url, base_url=base, allowed={upload}) is None

    def test_messages_never_show_the_query(self) -> None:
        """The refusal names origins only; safe_url drops query, fragment and user info."""
        problem = check_origin("http://127.0.0.1:1/x?api_key=SECRET", base_url="http://127.0.0.1:2")

        assert problem is not None
        assert "SECRET" not in problem
        assert safe_url("http://u:pw@Host:9/p?api_key=SECRET#f") == "http://host:9/p"


labels = st.text(alphabet="abcxyz0", min_size=1, max_size=5)
suffixes = st.sampled_from(["com", "co.uk", "workers.dev", "github.io", "herokuapp.com", "dev"])
hosts = st.builds(
    lambda parts, suffix: ".".join([*parts, suffix]),
    st.lists(labels, min_size=1, max_size=3),
    suffixes,
)


@given(host=hosts, other=hosts)
def test_a_host_outside_the_site_is_never_allowed_without_allowlist(host: str, other: str) -> None:
    """Only hosts that share the base URL's site pass the recipe rule."""
    verdict = same_site(f"https://{other}/t", f"https://{host}/")

    assert (verdict is None) == (site_of(other) == site_of(host))


@given(host=hosts, other=hosts)
def test_a_public_suffix_is_never_a_shared_site(host: str, other: str) -> None:
    """Two hosts are one site only if they share a registrable name below the suffix."""
    if site_of(host) == site_of(other):
        assert not is_public_suffix(site_of(host)) or host == other == site_of(host)


schemes = st.sampled_from(["http", "https"])
ports = st.sampled_from([None, 80, 443, 8080, 18080, 18090])
origin_hosts = st.sampled_from(["127.0.0.1", "localhost", "api.example.com", "evil.example"])


def url_of(scheme: str, host: str, port: int | None) -> str:
    return f"{scheme}://{host}" + ("" if port is None else f":{port}") + "/p?k=v"


@given(scheme=schemes, host=origin_hosts, port=ports, base_scheme=schemes, base_host=origin_hosts)
def test_only_the_exact_origin_passes(
    scheme: str, host: str, port: int | None, base_scheme: str, base_host: str
) -> None:
    """check_origin passes exactly when scheme, host and effective port are the base URL's."""
    url, base = url_of(scheme, host, port), f"{base_scheme}://{base_host}:18080/v1"
    expected = (scheme, host, port or {"http": 80, "https": 443}[scheme]) == (
        base_scheme,
        base_host,
        18080,
    )

    assert (check_origin(url, base_url=base) is None) is expected
