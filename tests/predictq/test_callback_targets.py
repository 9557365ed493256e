"""The callback allow-list: what a submission may name, and where a delivery may go."""

from __future__ import annotations

import pytest

from predictq.callbacks.targets import AllowList, Refused
from predictq.errors import InvalidInput
from predictq.settings import Settings


def refused(allow: AllowList, url: object) -> str:
    with pytest.raises(InvalidInput) as info:
        allow.check(url)
    assert info.value.status == 422 and info.value.code == "invalid_input"
    return info.value.message


def test_an_empty_list_refuses_every_callback_saying_so():
    assert "allows no callback targets" in refused(AllowList.parse(""), "https://a.example/")


def test_urls_are_checked_before_the_list():
    allow = AllowList.parse("*")
    assert "http:// or https://" in refused(allow, "ftp://a.example/x")
    assert "http:// or https://" in refused(allow, "file:///etc/passwd")
    assert "credentials" in refused(allow, "https://user:pw@a.example/")
    assert "longer than" in refused(allow, "https://a.example/" + "x" * 2100)
    assert "spaces" in refused(allow, "https://a.example/a b")
    assert "no host" in refused(allow, "https:///path")
    assert "invalid port" in refused(allow, "https://a.example:99999/")
    assert "non-empty string" in refused(allow, 42)
    assert allow.check("https://a.example/x?y=1") == "https://a.example/x?y=1"


def test_host_entries_match_host_and_port():
    allow = AllowList.parse("hooks.example.com, 10.0.0.5:8080, localhost:*, *.corp.example")
    assert allow.check("https://hooks.example.com/a")
    assert allow.check("http://HOOKS.example.com./a")  # case and a trailing dot
    assert "not an allowed" in refused(allow, "https://hooks.example.com:8443/a")
    assert "not an allowed" in refused(allow, "https://evil.hooks.example.com.attacker/a")
    assert allow.check("http://10.0.0.5:8080/")
    assert "not an allowed" in refused(allow, "http://10.0.0.5/")
    assert allow.check("http://localhost:1234/") and allow.check("http://localhost/")
    assert allow.check("https://a.b.corp.example/")
    assert "not an allowed" in refused(allow, "https://corp.example/")
    assert "not an allowed" in refused(allow, "https://127.0.0.1/")


def test_url_prefix_entries_pin_scheme_port_and_path():
    allow = AllowList.parse("https://h.example.com/predictq/")
    assert allow.check("https://h.example.com/predictq/done?x=1")
    assert "not an allowed" in refused(allow, "http://h.example.com/predictq/done")
    assert "not an allowed" in refused(allow, "https://h.example.com/other")
    assert "not an allowed" in refused(allow, "https://h.example.com:444/predictq/")


def test_bad_entries_fail_at_start_up():
    for entry in ("ftp://x/", "a*b.example", "host:port", "host:0"):
        with pytest.raises(ValueError):
            AllowList.parse(entry)


def test_a_list_without_a_strong_secret_fails_at_start_up():
    with pytest.raises(ValueError, match="CALLBACK_SECRET"):
        AllowList.from_settings(Settings(callback_allow="*", callback_secret="short"))
    assert not AllowList.from_settings(Settings())  # off: no secret needed
    assert AllowList.from_settings(Settings(callback_allow="*", callback_secret="s" * 16))


def test_wildcards_never_reach_private_addresses_at_delivery():
    allow = AllowList.parse("*")
    for url in ("http://127.0.0.1:9/x", "http://10.1.2.3/", "http://169.254.169.254/latest",
                "http://[::1]:80/", "http://192.168.0.1/", "http://0.0.0.0/",
                "http://localhost:8000/"):
        with pytest.raises(Refused, match="non-public"):
            allow.resolve(url)
    target = allow.resolve("https://93.184.216.34/hook?a=1")
    assert (target.address, target.port, target.path) == ("93.184.216.34", 443, "/hook?a=1")


def test_a_literally_named_private_host_is_allowed_and_pinned():
    allow = AllowList.parse("127.0.0.1:*, localhost:8000")
    target = allow.resolve("http://127.0.0.1:8123/hook")
    assert (target.address, target.port, target.host_header) == ("127.0.0.1", 8123,
                                                                  "127.0.0.1:8123")
    local = allow.resolve("http://localhost:8000/x")
    assert local.address in ("127.0.0.1", "::1") and local.host_header == "localhost:8000"


def test_a_target_no_longer_listed_is_refused_at_delivery():
    with pytest.raises(Refused, match="no longer"):
        AllowList.parse("other.example").resolve("https://hooks.example.com/x")
