"""Which network addresses a camera URL may reach: the one rule against SSRF.

A camera URL is typed by an administrator and later opened by a stream worker inside the
force's network, so a careless or hostile URL could make the worker talk to the cloud
metadata service (169.254.169.254), to Redis or PostgreSQL on the same host, or probe
ports. Police cameras do live on private networks (10/8, 172.16/12, 192.168/16), so
those stay allowed; what is refused, in every spelling, is:

- loopback (127/8, ::1, ``localhost`` and its variants) unless ``LFR_CAMERA_ALLOW_LOOPBACK``;
- link-local, which includes the metadata addresses (169.254/16, fe80::/10);
- unspecified (0.0.0.0, ::), multicast, broadcast and reserved ranges;
- IPv4 hidden in IPv6 (``::ffff:a.b.c.d``, NAT64 ``64:ff9b::/96``, 6to4) is judged as IPv4;
- legacy spellings (``2852039166``, ``0xA9FEA9FE``, ``0251.0376.0251.0376``, ``127.1``),
  which the C resolver accepts but people do not read as addresses: refused outright;
- a user-info part that is itself an address or host (``http://169.254.169.254@x.org/``
  reads as the metadata address to a person), or a raw backslash or second ``@``, where
  parsers disagree about the host.

``LFR_CAMERA_ALLOWED_NETWORKS`` (comma-separated CIDRs) narrows this further: when set,
only addresses inside those networks are allowed. The rule is checked twice: on the URL
as written when a camera is saved (`check_url`), and on the addresses the name resolves
to, just before a worker connects (`connect_check`), so a name that later resolves
elsewhere (DNS rebinding) is refused at connection. The probe then connects to the
address that was checked. A failed connection gets one message, whatever the cause, so
the stream's `last_error` does not tell a refused port from a filtered one.

Plain Python (the engine imports no Django): the policy is read from the environment at
each check, so every process (web, workers, tests' subprocesses) applies the same one.
"""

from __future__ import annotations

import ipaddress
import os
import re
import socket
from dataclasses import dataclass
from urllib.parse import urlsplit

ALLOWED_NETWORKS_ENV = "LFR_CAMERA_ALLOWED_NETWORKS"
ALLOW_LOOPBACK_ENV = "LFR_CAMERA_ALLOW_LOOPBACK"
DEFAULT_PORTS = {"http": 80, "https": 443, "rtsp": 554, "rtsps": 322}
CONNECT_TIMEOUT_S = 5.0

# Names every resolver maps to loopback or to a cloud's metadata service.
_LOOPBACK_NAMES = {"localhost", "localhost.localdomain", "ip6-localhost", "ip6-loopback"}
_METADATA_NAMES = {"metadata", "metadata.google.internal", "instance-data"}
# What the C resolver (inet_aton) would read as an IPv4 address: digits, hex, dots.
_LEGACY_IPV4 = re.compile(r"(0x[0-9a-f]*|[0-9]+)(\.(0x[0-9a-f]*|[0-9]+)){0,3}", re.I)
_NAT64 = ipaddress.ip_network("64:ff9b::/96")
_Address = ipaddress.IPv4Address | ipaddress.IPv6Address


class AddressRefused(ValueError):
    """The URL names, or resolves to, an address cameras may not use; the message says why."""


@dataclass(frozen=True)
class Policy:
    """Where cameras may be: every address but the refused kinds, narrowed by `allowed`."""

    allowed: tuple[ipaddress.IPv4Network | ipaddress.IPv6Network, ...] = ()
    allow_loopback: bool = False


def policy_from_env(environ=None) -> Policy:
    """The policy the environment sets; ValueError naming the variable on a bad value."""
    environ = os.environ if environ is None else environ
    networks = []
    for item in environ.get(ALLOWED_NETWORKS_ENV, "").split(","):
        if item.strip():
            try:
                networks.append(ipaddress.ip_network(item.strip(), strict=False))
            except ValueError:
                raise ValueError(
                    f"{ALLOWED_NETWORKS_ENV} must be comma-separated networks such as "
                    f"10.0.0.0/8, got {item.strip()!r}"
                ) from None
    flag = environ.get(ALLOW_LOOPBACK_ENV, "").strip().lower()
    if flag not in {"", "0", "false", "no", "off", "1", "true", "yes", "on"}:
        raise ValueError(f"{ALLOW_LOOPBACK_ENV} must be true or false, got {flag!r}")
    return Policy(allowed=tuple(networks), allow_loopback=flag in {"1", "true", "yes", "on"})


def _embedded_ipv4(address: _Address) -> _Address:
    """The IPv4 address an IPv6 one carries (mapped, NAT64, 6to4), else the address."""
    if isinstance(address, ipaddress.IPv6Address):
        if address.ipv4_mapped is not None:
            return address.ipv4_mapped
        if address in _NAT64:
            return ipaddress.IPv4Address(int(address) & 0xFFFFFFFF)
        if address.sixtofour is not None:
            return address.sixtofour
    return address


def refusal(address: _Address, policy: Policy) -> str | None:
    """Why a camera may not use this address, or None when it may."""
    address = _embedded_ipv4(address)
    if address.is_loopback:
        return None if policy.allow_loopback else "a loopback address (this server itself)"
    if address.is_link_local:
        return "a link-local address (cloud metadata services live there)"
    if address.is_unspecified:
        return "the unspecified address"
    if address.is_multicast:
        return "a multicast address"
    if address.is_reserved or address == ipaddress.IPv4Address("255.255.255.255"):
        return "a reserved address"
    if policy.allowed and not any(address in net for net in policy.allowed):
        return f"outside the camera networks allowed here ({ALLOWED_NETWORKS_ENV})"
    return None


def _literal(host: str) -> _Address | None:
    """The address a host literally is; AddressRefused for legacy IPv4 spellings."""
    try:
        return ipaddress.ip_address(host.split("%", 1)[0])  # fe80::1%eth0: zone dropped
    except ValueError:
        pass
    if _LEGACY_IPV4.fullmatch(host):
        try:
            legacy = ipaddress.IPv4Address(socket.inet_aton(host))
        except OSError:
            return None
        raise AddressRefused(
            f"the host {host!r} is the address {legacy} written in a non-standard form: "
            "write IPv4 addresses as four decimal numbers (a.b.c.d)"
        )
    return None


def _host(url: str) -> tuple[str, int | None]:
    """(host name or address, port) of a network URL, refusing ambiguous authorities."""
    parts = urlsplit(url)
    if "\\" in parts.netloc or parts.netloc.count("@") > 1:
        raise AddressRefused("the URL's host part is ambiguous (a backslash or a second '@')")
    if parts.username and _looks_like_host(parts.username, parts.password):
        raise AddressRefused(
            f"the part before '@' ({parts.username!r}) looks like a host, but the camera "
            f"would connect to {parts.hostname!r}: give the camera's host only"
        )
    host = (parts.hostname or "").rstrip(".").lower()
    if not host:
        raise AddressRefused("the URL has no host")
    try:
        port = parts.port
    except ValueError:
        raise AddressRefused("the URL's port is not a number from 0 to 65535") from None
    return host, port


def _looks_like_host(username: str, password: str | None) -> bool:
    """User info that reads as a host: an address (with no password, or a port-like one:
    ``169.254.169.254:80@``), or a dotted or loopback name with no password."""
    try:
        address = _literal(username) is not None
    except AddressRefused:
        address = True
    if address and (not password or password.isdigit()):
        return True
    name = username.lower()
    return not password and ("." in name or name in _LOOPBACK_NAMES | _METADATA_NAMES)


def check_url(url: str, policy: Policy | None = None) -> None:
    """Refuse a network URL whose host, as written, is not one cameras may use.

    Names are not resolved here (a camera's name may resolve only on the camera network):
    `connect_check` resolves them when a worker connects.
    """
    policy = policy_from_env() if policy is None else policy
    host, _ = _host(url)
    if host in _LOOPBACK_NAMES or host.endswith(".localhost"):
        if not policy.allow_loopback:
            raise AddressRefused(f"the host {host!r} is a loopback name (this server itself)")
        return
    if host in _METADATA_NAMES:
        raise AddressRefused(f"the host {host!r} is a cloud metadata service")
    address = _literal(host)
    if address is not None and (why := refusal(address, policy)):
        raise AddressRefused(f"the host {host} is {why}")


def connect_check(url: str, *, error: type[Exception] = AddressRefused, policy=None) -> None:
    """Before a worker opens `url`: check it as written, resolve its host, refuse it if any
    address it resolves to is refused, and connect once to a checked address.

    Raises `error` (the caller's exception type, e.g. the sources' SourceError) with a
    message that names no credentials and, for a failed connection, not the cause.
    """
    policy = policy_from_env() if policy is None else policy
    scheme = urlsplit(url).scheme.lower()
    shown = _without_userinfo(url)
    try:
        check_url(url, policy)
        host, port = _host(url)
        port = port or DEFAULT_PORTS.get(scheme, 80)
        try:
            infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
        except (OSError, UnicodeError):
            raise AddressRefused("its host name does not resolve") from None
        for *_, sockaddr in infos:
            if why := refusal(ipaddress.ip_address(sockaddr[0].split("%", 1)[0]), policy):
                raise AddressRefused(f"its host {host!r} resolves to {why}")
    except AddressRefused as exc:
        raise error(f"{shown} is not allowed as a camera: {exc}") from None
    family, socktype, proto, _, sockaddr = infos[0]
    try:
        with socket.socket(family, socktype, proto) as sock:
            sock.settimeout(CONNECT_TIMEOUT_S)
            sock.connect(sockaddr)
    except OSError:
        # One message for refused, timed out, filtered and unreachable: no port probing.
        raise error(f"{shown} is unreachable") from None


def _without_userinfo(url: str) -> str:
    parts = urlsplit(url)
    if "@" not in parts.netloc:
        return url
    return url.replace(parts.netloc, parts.netloc.rsplit("@", 1)[1], 1).split("#", 1)[0]
