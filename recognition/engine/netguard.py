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
- the metadata addresses outside link-local (Alibaba, AWS over IPv6, Oracle, Azure);
- a host not written in plain ASCII (``１２７.０.０.１``, ``169。254。169。254``);
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

Plain Python (the engine imports no Django): the caller passes the `Policy`, built by
`policy_from` from Django's settings (deployments.services.cameras.camera_policy); with
none, the strictest one applies (no loopback, no narrowing).
"""

from __future__ import annotations

import ipaddress
import re
import socket
import ssl
import threading
from dataclasses import dataclass
from urllib.parse import urlsplit, urlunsplit

ALLOWED_NETWORKS_SETTING = "LFR_CAMERA_ALLOWED_NETWORKS"
DEFAULT_PORTS = {"http": 80, "https": 443, "rtsp": 554, "rtsps": 322}
CONNECT_TIMEOUT_S = 5.0

# Names every resolver maps to loopback or to a cloud's metadata service.
_LOOPBACK_NAMES = {"localhost", "localhost.localdomain", "ip6-localhost", "ip6-loopback"}
_METADATA_NAMES = {"metadata", "metadata.google.internal", "instance-data"}
# Metadata services outside link-local: Alibaba, AWS over IPv6, Oracle, Azure's wire server.
_METADATA_ADDRESSES = {
    ipaddress.ip_address(a)
    for a in ("100.100.100.200", "fd00:ec2::254", "192.0.0.192", "168.63.129.16")
}
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


def policy_from(*, allowed_networks=(), allow_loopback: bool = False) -> Policy:
    """The policy of these settings; ValueError naming the setting on a bad network."""
    networks = []
    for item in allowed_networks:
        try:
            networks.append(ipaddress.ip_network(item.strip(), strict=False))
        except ValueError:
            raise ValueError(
                f"{ALLOWED_NETWORKS_SETTING} must be comma-separated networks such as "
                f"10.0.0.0/8, got {item.strip()!r}"
            ) from None
    return Policy(allowed=tuple(networks), allow_loopback=bool(allow_loopback))


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
    if address in _METADATA_ADDRESSES:
        return "a cloud metadata address"
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
        return f"outside the camera networks allowed here ({ALLOWED_NETWORKS_SETTING})"
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
    if not host.isascii():
        # Full-width digits and letters, ideographic full stops, zero-width characters:
        # resolvers fold them to an address or name a person does not read there.
        raise AddressRefused(
            "the host is not written in plain ASCII (full-width or look-alike characters); "
            "write addresses as a.b.c.d and international names in their xn-- form"
        )
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
    policy = Policy() if policy is None else policy
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


def connect_check(url: str, *, error: type[Exception] = AddressRefused, policy=None) -> tuple:
    """Before a worker opens `url`: check it as written, resolve its host, refuse it if any
    address it resolves to is refused, and connect once to a checked address.

    Returns that address, (family, sockaddr), for the connection itself (`Relay`): the
    name is resolved here only, so a second answer from DNS cannot change where it goes.
    Raises `error` (the caller's exception type, e.g. the sources' SourceError) with a
    message that names no credentials and, for a failed connection, not the cause.
    """
    policy = Policy() if policy is None else policy
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
    return family, sockaddr


# --- The connection itself ------------------------------------------------------------
# FFmpeg (inside OpenCV) would resolve the name again, follow HTTP and RTSP redirects and
# fetch a playlist's entries from anywhere: a camera's answer could send a worker to any
# address. So FFmpeg talks only to a `Relay` on loopback, which connects to the checked
# address alone and cuts a connection whose answer is a redirect; the sources module
# restricts FFmpeg's protocols and formats (no playlists).
RELAY_HEADER_MAX = 64 * 1024
_TLS = {"https": "http", "rtsps": "rtsp"}


class Relay:
    """A loopback door to one checked camera address, for one open source.

    `url` is what FFmpeg opens: the camera's URL with this door as its host (TLS is spoken
    here, to the camera, so the relay reads what comes back). Every connection FFmpeg
    makes to it goes to the checked address, nowhere else; a 3xx answer or an RTSP
    REDIRECT cuts it (`refused` then says so). HTTP requests carry the camera's own Host.
    """

    def __init__(self, url: str, address: tuple):
        parts = urlsplit(url)
        self.scheme = parts.scheme.lower()
        self.host, port = _host(url)
        self.port = port or DEFAULT_PORTS.get(self.scheme, 80)
        self.family, self.sockaddr = address
        self.refused = ""
        self._sockets: set[socket.socket] = set()
        self._lock = threading.Lock()
        self._listener = socket.create_server(("127.0.0.1", 0))
        door = f"127.0.0.1:{self._listener.getsockname()[1]}"
        userinfo = parts.netloc.rsplit("@", 1)[0] + "@" if "@" in parts.netloc else ""
        self.url = urlunsplit(
            (_TLS.get(self.scheme, self.scheme), userinfo + door, parts.path, parts.query, "")
        )
        self._door = door.encode()
        threading.Thread(target=self._accept, name=f"relay {self.host}", daemon=True).start()

    def _accept(self) -> None:
        while True:
            try:
                client, _ = self._listener.accept()
            except OSError:
                return  # closed
            threading.Thread(target=self._connect, args=(client,), daemon=True).start()

    def _connect(self, client: socket.socket) -> None:
        try:
            upstream = socket.socket(self.family, socket.SOCK_STREAM)
            upstream.settimeout(CONNECT_TIMEOUT_S)
            upstream.connect(self.sockaddr)
            upstream.settimeout(None)
            if self.scheme in _TLS:
                # What FFmpeg did itself (it does not verify certificates by default):
                # cameras mostly carry self-signed ones.
                context = ssl.create_default_context()
                context.check_hostname = False
                context.verify_mode = ssl.CERT_NONE
                upstream = context.wrap_socket(upstream, server_hostname=self.host)
        except OSError:
            client.close()
            return
        with self._lock:
            self._sockets.update((client, upstream))
        rtsp = self.scheme.startswith("rtsp")
        threading.Thread(
            target=self._pipe,
            args=(client, upstream),
            kwargs={"head": None if rtsp else self._host_header},
            daemon=True,
        ).start()
        self._pipe(upstream, client, watch=_RtspWatch().feed if rtsp else _HttpWatch().feed)

    def _host_header(self, head: bytes) -> bytes:
        """The HTTP request's header with the camera's Host (FFmpeg named the door)."""
        shown = f"[{self.host}]" if ":" in self.host else self.host
        if self.port != DEFAULT_PORTS.get(self.scheme):
            shown = f"{shown}:{self.port}"
        return re.sub(rb"(?im)^host:[^\r\n]*", b"Host: " + _ascii_host(shown), head, count=1)

    def _pipe(self, source: socket.socket, sink: socket.socket, *, head=None, watch=None):
        """Copy source to sink. `head(header)` rewrites the first header (the request);
        `watch(data)` sees every chunk and may cut the connection (a str saying why)."""
        pending = b""
        try:
            while data := source.recv(65536):
                if head is not None:
                    pending += data
                    if b"\r\n\r\n" not in pending and len(pending) < RELAY_HEADER_MAX:
                        continue
                    data, pending, head = head(pending), b"", None
                elif watch is not None and (why := watch(data)):
                    self.refused = why
                    break
                sink.sendall(data)
        except OSError:
            pass
        finally:
            _shut(source)
            _shut(sink)

    def close(self) -> None:
        _shut(self._listener)
        with self._lock:
            for sock in self._sockets:
                _shut(sock)
            self._sockets.clear()


def _ascii_host(host: str) -> bytes:
    try:
        return host.encode("ascii")
    except UnicodeEncodeError:
        return host.encode("idna")


def _shut(sock: socket.socket) -> None:
    try:
        sock.shutdown(socket.SHUT_RDWR)
    except OSError:
        pass
    sock.close()


class _HttpWatch:
    """The camera's HTTP answer: its status line is read; a redirect cuts the connection."""

    def __init__(self):
        self._head = b""
        self._done = False

    def feed(self, data: bytes) -> str | None:
        if self._done:
            return None
        self._head += data
        line, found, _ = self._head.partition(b"\r\n")
        if not found:
            return "an oversized answer" if len(self._head) > RELAY_HEADER_MAX else None
        self._done = True
        return _redirect(line)


class _RtspWatch:
    """The camera's RTSP messages, framed (headers, Content-Length bodies, interleaved
    `$` data): a 3xx answer or a REDIRECT request cuts the connection."""

    def __init__(self):
        self._buffer = b""
        self._skip = 0

    def feed(self, data: bytes) -> str | None:
        buffer = self._buffer + data
        while buffer:
            if self._skip:
                taken = min(self._skip, len(buffer))
                buffer, self._skip = buffer[taken:], self._skip - taken
                continue
            if buffer[:1] == b"$":
                if len(buffer) < 4:
                    break
                self._skip = int.from_bytes(buffer[2:4], "big")
                buffer = buffer[4:]
                continue
            end = buffer.find(b"\r\n\r\n")
            if end < 0:
                if len(buffer) > RELAY_HEADER_MAX:
                    return "an oversized answer"
                break
            head, buffer = buffer[:end], buffer[end + 4 :]
            line = head.split(b"\r\n", 1)[0]
            if why := _redirect(line):
                return why
            length = re.search(rb"(?im)^content-length:\s*(\d+)", head)
            self._skip = int(length.group(1)) if length else 0
        self._buffer = buffer
        return None


def _redirect(line: bytes) -> str | None:
    """Why a status or request line is refused: a redirect (3xx) or a REDIRECT request."""
    words = line.split()
    if words[:1] == [b"REDIRECT"]:
        return "a redirect"
    if len(words) > 1 and words[0].startswith((b"HTTP/", b"RTSP/")) and words[1][:1] == b"3":
        return "a redirect"
    return None


def _without_userinfo(url: str) -> str:
    parts = urlsplit(url)
    if "@" not in parts.netloc:
        return url
    return url.replace(parts.netloc, parts.netloc.rsplit("@", 1)[1], 1).split("#", 1)[0]
