"""Unit tests of the dev server's pure parts: durations, TTL math, names, ACL, HCL."""

from __future__ import annotations

import re

import pytest
from hypothesis import given
from hypothesis import strategies as st

from renewer.devserver.durations import (
    DurationError,
    human_duration,
    parse_duration_second,
    rfc3339_nano,
)
from renewer.devserver.hcl import HclError, parse_hcl
from renewer.devserver.policy import Capability, PolicyError, parse_policy
from renewer.devserver.policy_acl import ACL
from renewer.devserver.ttl import (
    PastMaxTTL,
    TTLInputs,
    calculate_ttl,
    sanitize_display_name,
    sanitize_policies,
)

HOUR = 3600


class TestDurations:
    @pytest.mark.parametrize(
        ("value", "seconds"),
        [
            ("90", 90),
            (90, 90),
            (90.7, 90),
            ("1h30m", 5400),
            ("1.5h", 5400),
            ("7d", 7 * 86400),
            ("768h", 2764800),
            ("300ms", 0),
            ("", 0),
            (None, 0),
            ("0", 0),
        ],
    )
    def test_vault_duration_syntax(self, value: object, seconds: int) -> None:
        """ParseDurationSecond: bare numbers are seconds, ``d`` is days, Go syntax otherwise."""
        assert parse_duration_second(value) == seconds

    @pytest.mark.parametrize("value", ["1h30", "abc", "h", "1x", True, [1], float("nan")])
    def test_invalid_durations_raise(self, value: object) -> None:
        """What Vault refuses is refused, with an error rather than a crash."""
        with pytest.raises(DurationError):
            parse_duration_second(value)

    @pytest.mark.parametrize(
        ("seconds", "text"),
        [
            (2764800, "768h"),
            (3600, "1h"),
            (5400, "1h30m"),
            (100, "1m40s"),
            (600, "10m"),
            (3605, "1h5s"),
            (45, "45s"),
            (0, "0s"),
        ],
    )
    def test_human_duration_trims_zero_units(self, seconds: int, text: str) -> None:
        """``framework.humanDuration``: Go's String() with zero units trimmed."""
        assert human_duration(seconds) == text

    def test_rfc3339_nano_trims_fraction_and_uses_z(self) -> None:
        """Go's RFC3339Nano: no trailing zeros, ``Z`` for UTC."""
        assert rfc3339_nano(0.5, utc=True) == "1970-01-01T00:00:00.5Z"
        assert rfc3339_nano(60, utc=True) == "1970-01-01T00:01:00Z"


class TestCalculateTTL:
    def test_default_ttl_when_nothing_is_asked(self) -> None:
        """No increment, no backend TTL → the system default (768h)."""
        decision = calculate_ttl(TTLInputs(), now=1000.0, start=1000.0)

        assert decision == type(decision)(ttl=2764800, warnings=())

    def test_increment_beyond_explicit_max_is_capped_with_remaining_time(self) -> None:
        """The warning names the request and the time actually left."""
        inputs = TTLInputs(increment=2 * HOUR, explicit_max_ttl=HOUR)

        decision = calculate_ttl(inputs, now=1000.0 + 45 * 60, start=1000.0)

        assert decision.ttl == 15 * 60
        assert decision.warnings == (
            'TTL of "2h" exceeded the effective max_ttl of "15m"; TTL value is capped accordingly',
        )

    def test_period_ignores_increment_and_system_max(self) -> None:
        """Periodic: TTL = period, whatever the increment; no lifetime bound without explicit."""
        inputs = TTLInputs(increment=5 * HOUR, period=HOUR)

        decision = calculate_ttl(inputs, now=10_000_000.0, start=0.0)

        assert decision.ttl == HOUR
        assert decision.warnings == ()

    def test_period_above_max_is_capped_with_period_warning(self) -> None:
        """A period above the effective max is cut to it, with the period wording."""
        inputs = TTLInputs(period=2 * HOUR, explicit_max_ttl=HOUR)

        decision = calculate_ttl(inputs, now=0.0, start=0.0)

        assert decision.ttl == HOUR
        assert decision.warnings[0].startswith('period of "2h" exceeded the effective max_ttl')

    def test_past_the_bound_cannot_renew(self) -> None:
        """At or after start + max there is nothing left to grant."""
        with pytest.raises(PastMaxTTL):
            calculate_ttl(TTLInputs(explicit_max_ttl=HOUR), now=float(HOUR), start=0.0)

    @given(
        increment=st.integers(0, 10**7),
        backend_ttl=st.integers(0, 10**7),
        explicit_max=st.integers(0, 10**7),
        elapsed=st.integers(0, 10**7),
    )
    def test_granted_ttl_never_passes_the_bound(
        self, increment: int, backend_ttl: int, explicit_max: int, elapsed: int
    ) -> None:
        """Non-periodic grants end at or before start + the effective max."""
        inputs = TTLInputs(
            increment=increment, backend_ttl=backend_ttl, explicit_max_ttl=explicit_max
        )
        effective_max = min(x for x in (explicit_max, 2764800) if x > 0)
        try:
            decision = calculate_ttl(inputs, now=float(elapsed), start=0.0)
        except PastMaxTTL:
            assert elapsed >= effective_max
            return
        assert decision.ttl > 0
        assert elapsed + decision.ttl <= effective_max
        assert bool(decision.warnings) == (
            elapsed + (increment or backend_ttl or 2764800) > effective_max
        )


class TestNames:
    @pytest.mark.parametrize(
        ("requested", "expected"),
        [
            ("", "token"),
            ("devvm-wizard", "token-devvm-wizard"),
            ("My App_1", "token-My-App-1"),
            ("a.b.", "token-a-b"),
            ("x..", "token-x-"),
            ("token", "token-token"),
            ("héllo", "token-h-llo"),
        ],
    )
    def test_display_name_rule(self, requested: str, expected: str) -> None:
        """``token-`` + name, unsafe chars → ``-``, exactly one trailing ``-`` removed."""
        assert sanitize_display_name(requested) == expected

    @given(st.text(max_size=40))
    def test_display_names_are_always_safe_and_prefixed(self, requested: str) -> None:
        """Whatever is asked, the result is ``token[-...]`` in ``[a-zA-Z0-9-]``, case kept."""
        result = sanitize_display_name(requested)

        assert re.fullmatch(r"token(-[A-Za-z0-9-]*)?", result)
        ascii_kept = [c for c in requested if c.isascii() and c.isalnum()]
        assert [c for c in result[len("token-") :] if c.isalnum()] == ascii_kept

    def test_policy_sanitising(self) -> None:
        """Lower-case, trim, de-duplicate, sort, ``default`` added, ``root`` absorbing."""
        assert sanitize_policies([" Web", "web", "", "stage"], add_default=True) == (
            "default",
            "stage",
            "web",
        )
        assert sanitize_policies(["web", "Root"], add_default=True) == ("root",)
        assert sanitize_policies([], add_default=False) == ()


def acl_of(*rules: tuple[str, str]) -> ACL:
    """An ACL from ``(path, capabilities-list)`` pairs, one policy each."""
    policies = [
        parse_policy(f"p{i}", f'path "{path}" {{ capabilities = [{caps}] }}')
        for i, (path, caps) in enumerate(rules)
    ]
    return ACL(policies)


class TestACL:
    def test_exact_beats_glob(self) -> None:
        """An exact rule wins over any glob covering the same path."""
        acl = acl_of(("secret/*", '"read"'), ("secret/a", '"update"'))

        assert acl.capability_names("secret/a") == ["update"]
        assert acl.capability_names("secret/b") == ["read"]

    def test_longest_glob_wins(self) -> None:
        """Of two globs the longer prefix is more specific."""
        acl = acl_of(("secret/*", '"read"'), ("secret/team/*", '"list"'))

        assert acl.capability_names("secret/team/x") == ["list"]

    def test_plus_matches_one_segment(self) -> None:
        """``+`` matches exactly one segment; it does not span ``/``."""
        acl = acl_of(("secret/+/cfg", '"read"'))

        assert acl.capability_names("secret/a/cfg") == ["read"]
        assert acl.capability_names("secret/a/b/cfg") == ["deny"]

    def test_later_wildcard_is_more_specific(self) -> None:
        """``a/b/+`` beats ``a/+/c`` for ``a/b/c`` (first wildcard later)."""
        acl = acl_of(("a/+/c", '"read"'), ("a/b/+", '"update"'))

        assert acl.capability_names("a/b/c") == ["update"]

    def test_non_prefix_beats_prefix_at_same_wildcard_position(self) -> None:
        """``a/+/bar`` beats ``a/+/ba*`` for ``a/x/bar``."""
        acl = acl_of(("a/+/ba*", '"read"'), ("a/+/bar", '"update"'))

        assert acl.capability_names("a/x/bar") == ["update"]

    def test_deny_absorbs_merged_rules(self) -> None:
        """Merged rules for one path: any ``deny`` leaves only deny."""
        acl = acl_of(("x", '"read", "update"'), ("x", '"deny"'))

        assert acl.capability_names("x") == ["deny"]
        assert not acl.allows(Capability.READ, "x")

    def test_list_tries_the_path_without_trailing_slash(self) -> None:
        """For LIST the ACL also looks up the path without its ``/``."""
        acl = acl_of(("auth/token/accessors", '"list", "sudo"'))

        assert acl.allows(Capability.LIST, "auth/token/accessors/", is_list=True)
        assert acl.has_sudo("auth/token/accessors/", is_list=True)
        assert not acl.allows(Capability.LIST, "auth/token/accessors/")

    def test_root_acl_allows_everything(self) -> None:
        """The root policy skips every check."""
        acl = ACL([], is_root=True)

        assert acl.allows(Capability.SUDO, "anything")
        assert acl.capability_names("anything") == ["root"]

    @given(
        # Policy paths lose a leading "/" when parsed, so generated prefixes never start with one.
        prefixes=st.lists(
            st.text(alphabet="ab/", max_size=6).map("a".__add__), min_size=1, max_size=6
        ),
        path=st.text(alphabet="ab/", max_size=8),
    )
    def test_most_specific_glob_wins(self, prefixes: list[str], path: str) -> None:
        """Among plain globs, the longest matching prefix alone decides."""
        rules = [
            (prefix + "*", f'"{name}"')
            for prefix, name in zip(prefixes, _names(prefixes), strict=True)
        ]
        acl = acl_of(*rules)

        matching = [
            (p, n) for p, n in zip(prefixes, _names(prefixes), strict=True) if path.startswith(p)
        ]
        if not matching:
            assert acl.capability_names(path) == ["deny"]
            return
        longest = max(len(p) for p, _ in matching)
        winners = {n for p, n in matching if len(p) == longest}
        assert set(acl.capability_names(path)) == winners


def _names(prefixes: list[str]) -> list[str]:
    names = ["read", "list", "update", "create", "delete", "patch"]
    return [names[i % len(names)] for i in range(len(prefixes))]


class TestPolicyParsing:
    def test_hcl_blocks_attributes_and_comments(self) -> None:
        """Labelled blocks, lists, nested objects and all three comment styles."""
        body = parse_hcl(
            """
            # hash comment
            path "a/*" {  // line comment
              capabilities = ["read", "list",]
              allowed_parameters = { "k" = [] }
              /* block
                 comment */
            }
            path "b" { policy = "write" }
            """
        )

        assert body["path"] == [
            ("a/*", {"capabilities": ["read", "list"], "allowed_parameters": {"k": []}}),
            ("b", {"policy": "write"}),
        ]

    def test_legacy_policy_words(self) -> None:
        """``policy = "write"`` means create, read, update, delete and list."""
        policy = parse_policy("p", 'path "x" { policy = "write" }')

        assert ACL([policy]).capability_names("x") == ["create", "delete", "list", "read", "update"]

    @pytest.mark.parametrize(
        "text",
        [
            'path "x" { capabilities = ["fly"] }',
            'path "x" { bogus = 1 }',
            'path "x" { capa',
            'nonsense "x" {}',
            'path "x/+*" { capabilities = ["read"] }',
        ],
    )
    def test_invalid_policies_are_refused(self, text: str) -> None:
        """Unknown capabilities, keys, syntax errors and ``+*`` are errors."""
        with pytest.raises(PolicyError, match=r"^failed to parse policy"):
            parse_policy("p", text)

    def test_unterminated_hcl_raises(self) -> None:
        """The HCL reader reports the problem instead of guessing."""
        with pytest.raises(HclError):
            parse_hcl('path "x" {')


class TestEncoding:
    def test_envelope_keeps_go_field_order_and_sorts_data(self) -> None:
        """Struct fields in declaration order; ``data`` (a Go map) sorted; trailing newline."""
        from renewer.devserver.encoding import envelope_body
        from renewer.devserver.protocol import Reply

        body = envelope_body(Reply(data={"b": 1, "a": {"z": 1, "y": 2}}), mount_type="kv")

        assert body.endswith(b"}\n")
        text = body.decode()
        keys = ["request_id", "lease_id", "renewable", "lease_duration", "data", "wrap_info"]
        positions = [text.index(f'"{key}"') for key in [*keys, "warnings", "auth", "mount_type"]]
        assert positions == sorted(positions)
        assert '"data":{"a":{"y":2,"z":1},"b":1}' in text

    def test_html_characters_are_escaped_like_go(self) -> None:
        """Go's encoder writes ``<``, ``>`` and ``&`` as ``\\u003c``, ``\\u003e``, ``\\u0026``."""
        from renewer.devserver.encoding import error_body

        assert error_body(("a<b>&c",)) == b'{"errors":["a\\u003cb\\u003e\\u0026c"]}\n'


class TestClock:
    def test_clock_adds_its_offset_to_the_source(self) -> None:
        """Virtual time is the injected source plus every advance so far."""
        from renewer.devserver.clock import Clock

        clock = Clock(source=lambda: 1000.0)
        clock.advance(60)
        clock.advance(0.5)

        assert clock.now() == 1060.5
        assert clock.offset == 60.5

    @pytest.mark.parametrize("seconds", [-1.0, float("nan"), float("inf"), 1e12])
    def test_clock_refuses_backwards_and_absurd_jumps(self, seconds: float) -> None:
        """Time never runs back, and one step stays within a century."""
        from renewer.devserver.clock import Clock

        with pytest.raises(ValueError):
            Clock().advance(seconds)
