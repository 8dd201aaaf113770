"""Fetching an image from a URL a user gave, without letting them reach our own network (SSRF).

Each hop (the first URL and every redirect) is resolved once; every address must be public, and the
connection goes to that checked address (with the original Host header and TLS server name), so a
DNS answer that changes between the check and the connect cannot point us inside. The whole download
has one deadline (UPLOAD_URL_DEADLINE_S, 15 s): a server that drips bytes cannot hold a web thread
longer than that. And at most UPLOAD_URL_MAX_CONCURRENT downloads run at once in a web process
(2 of gunicorn's 4 threads by default): slow servers given by several people cannot take every
thread, so pages keep answering; one more address meanwhile gets FetchBusy at once.
"""

from __future__ import annotations

import contextlib
import http.client
import ipaddress
import socket
import threading
import time
from urllib.parse import SplitResult, urljoin, urlsplit

import urllib3
from django.conf import settings
from urllib3.connection import HTTPConnection, HTTPSConnection

from .images import ImageRejected, human_size

MAX_REDIRECTS = 3
CONNECT_TIMEOUT_S = 5.0


class FetchBusy(Exception):
    """Every download slot of this process is taken; the person should try again shortly."""

    retry_after_s = 5

    def __str__(self) -> str:
        return (
            "Several image addresses are being downloaded right now. Try again in a few seconds, "
            "or upload the image file itself."
        )


_slots: dict[int, threading.BoundedSemaphore] = {}
_slots_lock = threading.Lock()


def _download_slots() -> threading.BoundedSemaphore:
    size = max(1, settings.UPLOAD_URL_MAX_CONCURRENT)
    with _slots_lock:
        return _slots.setdefault(size, threading.BoundedSemaphore(size))


def _allowed(address: ipaddress.IPv4Address | ipaddress.IPv6Address) -> bool:
    extra = [ipaddress.ip_network(net) for net in getattr(settings, "UPLOAD_URL_EXTRA_ALLOWED_NETWORKS", [])]
    if any(address in net for net in extra):
        return True  # only tests configure this, to serve images from a local server
    # is_global is False for loopback, private, link-local, shared (CGNAT), reserved and unspecified.
    return address.is_global and not address.is_multicast


def resolve_public(host: str, port: int) -> str:
    """One address of `host` after checking that all of them are public. Raises ImageRejected."""
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError) as exc:
        raise ImageRejected(f"The address {host!r} could not be found.") from exc
    addresses = [ipaddress.ip_address(info[4][0].split("%")[0]) for info in infos]
    if not addresses or not all(_allowed(a) for a in addresses):
        raise ImageRejected("That address is not a public web address; only public http(s) images can be fetched.")
    return str(addresses[0])


class _Deadline:
    """Closes the connection's socket when the download's time is up, whatever it is blocked on.

    Per-operation socket timeouts cannot bound a download: a server that sends a little before each
    timeout expires (2 KB every 2 s) keeps every read alive forever. Shutting the socket down wakes a
    blocked read at once, so the request thread is free at the deadline.
    """

    def __init__(self, seconds: float) -> None:
        self.seconds = seconds
        self.ends_at = time.monotonic() + seconds
        self.expired = False
        self._timer: threading.Timer | None = None

    def remaining(self) -> float:
        left = self.ends_at - time.monotonic()
        if left <= 0:
            self.expired = True
            raise self.error()
        return left

    def error(self) -> ImageRejected:
        return ImageRejected(
            f"The image did not arrive within {self.seconds:g} seconds; the server is too slow. "
            "Download it and upload the file instead."
        )

    def guard(self, sock: socket.socket) -> None:
        self.cancel()
        self._timer = threading.Timer(self.remaining(), self._expire, args=(sock,))
        self._timer.daemon = True
        self._timer.start()

    def _expire(self, sock: socket.socket) -> None:
        self.expired = True
        with contextlib.suppress(OSError):  # already closed: the download ended just now
            sock.shutdown(socket.SHUT_RDWR)

    def cancel(self) -> None:
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None


def _connect(parts: SplitResult, deadline: _Deadline) -> HTTPConnection:
    """A connection to the checked address of `parts.hostname` (TLS with the real server name)."""
    port = parts.port or (443 if parts.scheme == "https" else 80)
    ip = resolve_public(parts.hostname or "", port)
    timeout = min(CONNECT_TIMEOUT_S, deadline.remaining())
    if parts.scheme == "https":
        conn: HTTPConnection = HTTPSConnection(ip, port, timeout=timeout, server_hostname=parts.hostname)
    else:
        conn = HTTPConnection(ip, port, timeout=timeout)
    conn.connect()
    return conn


def fetch_image_bytes(url: str) -> tuple[bytes, str]:
    """Download `url` (http/https, public hosts only, size capped); returns (bytes, filename).

    The whole download, redirects included, has one deadline (settings.UPLOAD_URL_DEADLINE_S).
    Raises ImageRejected with a message for the person who sent the address, or FetchBusy (without
    waiting) when settings.UPLOAD_URL_MAX_CONCURRENT downloads are already running in this process.
    """
    slots = _download_slots()
    if not slots.acquire(blocking=False):
        raise FetchBusy()
    try:
        return _download(url)
    finally:
        slots.release()


def _download(url: str) -> tuple[bytes, str]:
    max_bytes = settings.UPLOAD_MAX_BYTES
    deadline = _Deadline(settings.UPLOAD_URL_DEADLINE_S)
    for _ in range(MAX_REDIRECTS + 1):
        parts = urlsplit(url)
        if parts.scheme not in {"http", "https"} or not parts.hostname:
            raise ImageRejected("Only http:// and https:// image addresses are accepted.")
        path = parts.path or "/"
        if parts.query:
            path += "?" + parts.query
        host_header = parts.hostname if parts.port is None else f"{parts.hostname}:{parts.port}"
        conn = None
        try:
            conn = _connect(parts, deadline)
            deadline.guard(conn.sock)
            conn.request(
                "GET",
                path,
                headers={"Host": host_header, "User-Agent": "artsite-fetch/1.0", "Accept": "image/*"},
                preload_content=False,
            )
            response = conn.getresponse()
            if response.status in {301, 302, 303, 307, 308} and response.headers.get("Location"):
                url = urljoin(url, response.headers["Location"])  # checked again on the next hop
                continue
            if response.status != 200:
                raise ImageRejected(f"The image could not be downloaded (the server answered {response.status}).")
            length = response.headers.get("Content-Length")
            if length and length.isdigit() and int(length) > max_bytes:
                raise ImageRejected(f"The image is larger than {human_size(max_bytes)}.")
            data = bytearray()
            while chunk := response.read1(64 * 1024):  # whatever has arrived, never waits for a full block
                data += chunk
                if len(data) > max_bytes:
                    raise ImageRejected(f"The image is larger than {human_size(max_bytes)}.")
                deadline.remaining()
            if deadline.expired:
                raise deadline.error()  # the socket was shut down mid-body: what arrived is cut short
            name = parts.path.rsplit("/", 1)[-1][:200] or "image"
            return bytes(data), name
        except ImageRejected:
            raise
        except (OSError, http.client.HTTPException, urllib3.exceptions.HTTPError) as exc:
            if deadline.expired:
                raise deadline.error() from exc
            raise ImageRejected("The image could not be downloaded (the server did not answer properly).") from exc
        finally:
            deadline.cancel()
            if conn is not None:
                conn.close()
    raise ImageRejected("The image address redirects too many times.")
