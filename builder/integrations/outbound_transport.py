"""The HTTP client of outbound webhooks: requests, with the address guard where sockets are opened.

Each connection resolves its host, refuses it if any address is internal (unless allowed; see
builder.integrations.outbound), and connects only to the addresses it checked. Redirects are not
followed (a 3xx is the answer), proxies and .netrc from the environment are ignored, and the
response body is read up to a cap, within the timeout.
"""

from __future__ import annotations

import socket
import time
from dataclasses import dataclass

import requests
from requests.adapters import HTTPAdapter
from urllib3 import HTTPConnectionPool, HTTPSConnectionPool
from urllib3.connection import HTTPConnection, HTTPSConnection
from urllib3.exceptions import ConnectTimeoutError, NameResolutionError, NewConnectionError
from urllib3.util import connection

from builder.integrations import outbound

USER_AGENT = "flowdesk-webhooks/1"
RESPONSE_CAP = 64 * 1024  # bytes of a response body kept


class _GuardedConnection(HTTPConnection):
    def _new_conn(self) -> socket.socket:
        try:
            addresses = outbound.vetted_addresses(self._dns_host, self.port)
        except socket.gaierror as exc:
            raise NameResolutionError(self.host, self, exc) from exc
        failure: Exception = NewConnectionError(self, f"{self.host} has no address")
        for address in addresses:  # only the addresses just checked
            try:
                return connection.create_connection((address, self.port), self.timeout,
                                                    source_address=self.source_address,
                                                    socket_options=self.socket_options)
            except TimeoutError as exc:
                failure = ConnectTimeoutError(self, f"Connection to {self.host} timed out ({exc})")
            except OSError as exc:
                failure = NewConnectionError(self, f"Failed to establish a new connection: {exc}")
        raise failure


class _GuardedHTTPSConnection(_GuardedConnection, HTTPSConnection):
    pass  # TLS still checks the certificate against the host name, not the address


class _Pool(HTTPConnectionPool):
    ConnectionCls = _GuardedConnection


class _HTTPSPool(HTTPSConnectionPool):
    ConnectionCls = _GuardedHTTPSConnection


class _GuardedAdapter(HTTPAdapter):
    def init_poolmanager(self, *args, **kwargs):
        super().init_poolmanager(*args, **kwargs)
        self.poolmanager.pool_classes_by_scheme = {"http": _Pool, "https": _HTTPSPool}


@dataclass(frozen=True)
class Response:
    status: int
    headers: dict[str, str]  # names in lower case
    body: bytes
    truncated: bool


def session() -> requests.Session:
    s = requests.Session()
    s.trust_env = False  # no proxy or .netrc from the environment: the guard checks the real destination
    s.mount("http://", _GuardedAdapter(max_retries=0))
    s.mount("https://", _GuardedAdapter(max_retries=0))
    s.headers["User-Agent"] = USER_AGENT
    return s


def send(method: str, url: str, headers: dict[str, str], body: bytes, timeout: float,
         cap: int = RESPONSE_CAP) -> Response:
    """One attempt. Raises outbound.DestinationRefused, or requests' Timeout / ConnectionError."""
    outbound.check_url(url)
    deadline = time.monotonic() + timeout * 2  # connect, then the whole response
    with session() as s:
        response = s.request(method, url, headers=headers, data=body or None, timeout=(timeout, timeout),
                             allow_redirects=False, stream=True)
        try:
            chunks, size, truncated = [], 0, False
            for chunk in response.iter_content(8192):
                chunks.append(chunk)
                size += len(chunk)
                if size > cap:
                    truncated = True
                    break
                if time.monotonic() > deadline:
                    raise requests.Timeout(f"the response took longer than {timeout * 2:g} seconds")
            data = b"".join(chunks)[:cap]
        finally:
            response.close()
    return Response(response.status_code, {k.lower(): v for k, v in response.headers.items()}, data, truncated)
