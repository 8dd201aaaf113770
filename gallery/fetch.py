"""Fetching an image from a URL a user gave, without letting them reach our own network (SSRF).

Each hop (the first URL and every redirect) is resolved once; every address must be public, and the
connection goes to that checked address (with the original Host header and TLS server name), so a
DNS answer that changes between the check and the connect cannot point us inside.
"""

from __future__ import annotations

import ipaddress
import socket
from urllib.parse import urljoin, urlsplit

import urllib3
from django.conf import settings

from .images import ImageRejected, human_size

MAX_REDIRECTS = 3
TIMEOUT = urllib3.Timeout(connect=5.0, read=10.0)


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


def fetch_image_bytes(url: str) -> tuple[bytes, str]:
    """Download `url` (http/https, public hosts only, size and time capped); returns (bytes, filename)."""
    max_bytes = settings.UPLOAD_MAX_BYTES
    for _ in range(MAX_REDIRECTS + 1):
        parts = urlsplit(url)
        if parts.scheme not in {"http", "https"} or not parts.hostname:
            raise ImageRejected("Only http:// and https:// image addresses are accepted.")
        port = parts.port or (443 if parts.scheme == "https" else 80)
        ip = resolve_public(parts.hostname, port)
        if parts.scheme == "https":
            pool = urllib3.HTTPSConnectionPool(ip, port, server_hostname=parts.hostname, timeout=TIMEOUT, retries=False)
        else:
            pool = urllib3.HTTPConnectionPool(ip, port, timeout=TIMEOUT, retries=False)
        path = parts.path or "/"
        if parts.query:
            path += "?" + parts.query
        host_header = parts.hostname if parts.port is None else f"{parts.hostname}:{parts.port}"
        try:
            response = pool.urlopen(
                "GET",
                path,
                headers={"Host": host_header, "User-Agent": "artsite-fetch/1.0", "Accept": "image/*"},
                redirect=False,
                preload_content=False,
            )
        except urllib3.exceptions.HTTPError as exc:
            raise ImageRejected("The image could not be downloaded (the server did not answer in time).") from exc
        try:
            if response.status in {301, 302, 303, 307, 308} and response.headers.get("Location"):
                url = urljoin(url, response.headers["Location"])  # checked again on the next hop
                continue
            if response.status != 200:
                raise ImageRejected(f"The image could not be downloaded (the server answered {response.status}).")
            length = response.headers.get("Content-Length")
            if length and length.isdigit() and int(length) > max_bytes:
                raise ImageRejected(f"The image is larger than {human_size(max_bytes)}.")
            data = bytearray()
            try:
                for chunk in response.stream(64 * 1024):
                    data += chunk
                    if len(data) > max_bytes:
                        raise ImageRejected(f"The image is larger than {human_size(max_bytes)}.")
            except urllib3.exceptions.HTTPError as exc:
                raise ImageRejected("The download was interrupted.") from exc
            name = parts.path.rsplit("/", 1)[-1][:200] or "image"
            return bytes(data), name
        finally:
            response.release_conn()
            pool.close()
    raise ImageRejected("The image address redirects too many times.")
