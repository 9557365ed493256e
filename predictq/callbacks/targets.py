"""Which callback URLs are allowed: the operator's allow-list (`PREDICTQ_CALLBACK_ALLOW`).

At submission a `callback_url` is only parsed and matched against the list (nothing is
resolved: a submission never makes predictq touch the network). At delivery the URL is
matched again (the list may have shrunk since) and its host resolved once; the POST goes
to the address that was checked, so a DNS answer that changes between the check and the
connection (rebinding) cannot redirect it. An entry naming a host literally allows any
address it resolves to, private ones included (the operator named it); a wildcard entry
(`*`, `*.example.com`) reaches only globally routable addresses, so the API cannot be
used to probe the deployment's internal network.

Entries, comma-separated:
  `hooks.example.com`      that host, on the scheme's default port (80 / 443)
  `hooks.example.com:8443` that host and port;  `10.0.0.5:*` any port
  `*.example.com`          any subdomain of example.com (not example.com itself)
  `https://h.example.com/predictq/`  URLs starting with this (scheme, host, port, path)
  `*`                      any host, any port (public addresses only)
"""

from __future__ import annotations

import ipaddress
import socket
from dataclasses import dataclass
from urllib.parse import SplitResult, urlsplit

from predictq.errors import InvalidInput

MAX_URL_CHARS = 2048
SCHEMES = ("http", "https")
DEFAULT_PORTS = {"http": 80, "https": 443}
ANY_PORT = -1
MIN_SECRET_CHARS = 16

# `callback_url` in the OpenAPI document (api/schemas.py); `AllowList.check` is the rest.
CALLBACK_URL_SCHEMA = {
    "type": "string", "minLength": 1, "maxLength": MAX_URL_CHARS, "format": "uri",
    "description": "Where to POST the job document, signed, once it is final (done or "
                   "failed); must be allowed by the operator (PREDICTQ_CALLBACK_ALLOW). "
                   "docs/CALLBACKS.md."}


class Refused(Exception):
    """A target the allow-list refuses at delivery: never retried."""


@dataclass(frozen=True)
class Rule:
    host: str  # lower case; "*" any; "*.example.com" its subdomains
    port: int | None  # None: the scheme's default port; ANY_PORT: any
    scheme: str | None = None  # set by URL-prefix entries
    path: str = ""  # URL-prefix entries: the path must start with it

    @property
    def explicit(self) -> bool:
        """Names its host literally: may reach private addresses."""
        return not self.host.startswith("*")

    def matches(self, parts: SplitResult) -> bool:
        host = (parts.hostname or "").rstrip(".")
        scheme = parts.scheme.lower()
        if self.scheme is not None and scheme != self.scheme:
            return False
        if self.host == "*":
            pass
        elif self.host.startswith("*."):
            if not host.endswith(self.host[1:]):
                return False
        elif host != self.host:
            return False
        port = parts.port or DEFAULT_PORTS[scheme]
        if self.port != ANY_PORT and port != (self.port or DEFAULT_PORTS[scheme]):
            return False
        return (parts.path or "/").startswith(self.path)


@dataclass(frozen=True)
class Target:
    """Where a delivery connects: the checked address, and the URL's own host for the
    Host header and TLS."""

    scheme: str
    host: str
    address: str
    port: int
    path: str  # path and query

    @property
    def host_header(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        return host if self.port == DEFAULT_PORTS[self.scheme] else f"{host}:{self.port}"


def _rule(entry: str) -> Rule:
    if "://" in entry:
        parts = urlsplit(entry)
        scheme = parts.scheme.lower()
        if scheme not in SCHEMES or not parts.hostname:
            raise ValueError(f"callback allow-list entry {entry!r}: not an http(s) URL")
        return Rule(parts.hostname.rstrip("."), parts.port or DEFAULT_PORTS[scheme], scheme,
                    parts.path or "/")
    if entry == "*":
        return Rule("*", ANY_PORT)
    host, port = entry, None
    if entry.startswith("["):  # [IPv6]:port
        host, _, rest = entry[1:].partition("]")
        port_text = rest[1:] if rest.startswith(":") else ""
    elif entry.count(":") == 1:
        host, port_text = entry.split(":")
    else:
        port_text = ""
    if port_text == "*":
        port = ANY_PORT
    elif port_text:
        if not port_text.isdigit() or not 0 < int(port_text) < 65536:
            raise ValueError(f"callback allow-list entry {entry!r}: bad port")
        port = int(port_text)
    host = host.lower().rstrip(".")
    if not host or "/" in host or ("*" in host and not host.startswith("*.")):
        raise ValueError(f"callback allow-list entry {entry!r}: not a host pattern")
    return Rule(host, port)


class AllowList:
    def __init__(self, rules: list[Rule]) -> None:
        self.rules = rules

    @classmethod
    def parse(cls, text: str) -> AllowList:
        return cls([_rule(e.strip()) for e in text.split(",") if e.strip()])

    @classmethod
    def from_settings(cls, settings: object) -> AllowList:
        """The deployment's list; raises ValueError when it allows something but the
        signing secret is missing or short (callbacks would go out unverifiable)."""
        allow = cls.parse(getattr(settings, "callback_allow", ""))
        secret = getattr(settings, "callback_secret", "")
        if allow.rules and len(secret) < MIN_SECRET_CHARS:
            raise ValueError("PREDICTQ_CALLBACK_ALLOW is set, so PREDICTQ_CALLBACK_SECRET "
                             f"must be at least {MIN_SECRET_CHARS} characters")
        return allow

    def __bool__(self) -> bool:
        return bool(self.rules)

    def check(self, url: object) -> str:
        """The `callback_url` of a submission, or InvalidInput (422) saying why not."""
        if not self.rules:
            raise InvalidInput("callback_url: callbacks are turned off here (the operator "
                               "allows no callback targets: PREDICTQ_CALLBACK_ALLOW)")
        if not isinstance(url, str) or not url:
            raise InvalidInput("callback_url must be a non-empty string")
        parts = _parse(url)
        if self.rule_for(parts) is None:
            raise InvalidInput(f"callback_url: {parts.hostname!r} is not an allowed "
                               "callback target (PREDICTQ_CALLBACK_ALLOW)")
        return url

    def rule_for(self, parts: SplitResult) -> Rule | None:
        """The most trusting rule matching: a literal one before a wildcard."""
        matching = [rule for rule in self.rules if rule.matches(parts)]
        return next((r for r in matching if r.explicit), matching[0] if matching else None)

    def resolve(self, url: str) -> Target:
        """Where to deliver to `url`, or Refused. DNS failures raise OSError (retried)."""
        try:
            parts = _parse(url)
        except InvalidInput as exc:
            raise Refused(exc.message) from None
        rule = self.rule_for(parts)
        if rule is None:
            raise Refused(f"{parts.hostname!r} is not (or no longer) an allowed callback "
                          "target")
        scheme = parts.scheme.lower()
        host = (parts.hostname or "").rstrip(".")
        port = parts.port or DEFAULT_PORTS[scheme]
        addresses = _addresses(host, port)
        if not rule.explicit:
            private = [a for a in addresses if not ipaddress.ip_address(a).is_global]
            if private:
                raise Refused(f"{host!r} resolves to a non-public address ({private[0]}); "
                              "only a literally named host may")
        path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
        return Target(scheme, host, addresses[0], port, path)


def _parse(url: str) -> SplitResult:
    if len(url) > MAX_URL_CHARS:
        raise InvalidInput(f"callback_url is longer than {MAX_URL_CHARS} characters")
    if any(ord(c) <= 32 or ord(c) == 127 for c in url):
        raise InvalidInput("callback_url must not contain spaces or control characters")
    parts = urlsplit(url)
    if parts.scheme.lower() not in SCHEMES:
        raise InvalidInput("callback_url must be an http:// or https:// URL")
    if not parts.hostname:
        raise InvalidInput("callback_url has no host")
    if parts.username is not None or parts.password is not None:
        raise InvalidInput("callback_url must not carry credentials")
    try:
        parts.port  # noqa: B018  (raises on a bad port)
    except ValueError:
        raise InvalidInput("callback_url has an invalid port") from None
    return parts


def _addresses(host: str, port: int) -> list[str]:
    try:
        return [str(ipaddress.ip_address(host))]
    except ValueError:
        pass
    infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    seen = dict.fromkeys(str(info[4][0]) for info in infos)
    if not seen:
        raise OSError(f"{host!r} resolves to no address")
    return list(seen)
