"""Connection settings of the SDK's own HTTP session: pool limits and the proxy to go through.

``Limits`` is a small value object (httpx's ``Limits``), so the pool is configured in one
argument rather than a sea of them. ``ProxyChoice`` decides the proxy of a URL the way
requests and httpx do: an explicit ``proxy=`` first, else ``HTTP_PROXY``/``HTTPS_PROXY``/
``ALL_PROXY`` from the environment unless ``NO_PROXY`` covers the host.

aiohttp's own ``trust_env=True`` is not used: it looks the proxy up in a thread on every
request, and reads ``~/.netrc`` for credentials, which would clash with the bearer token
(aiohttp refuses a request with both). The environment is read once, when the session is
created, and each host's answer is remembered.
"""

from __future__ import annotations

import math
import urllib.request
from dataclasses import dataclass, field

import aiohttp
import yarl

from inro_async.errors import InvalidArgumentError

__all__ = ["DEFAULT_LIMITS", "Limits", "ProxyChoice", "redact_url"]


@dataclass(frozen=True, slots=True)
class Limits:
    """The connection pool of the SDK's own session.

    ``max_connections``: connections open at once, to all hosts (``None``: no limit).
    ``keepalive_expiry``: seconds an idle connection is kept for reuse; ``0`` closes each
    connection after its response. The default (10 s) drops idle connections before typical
    server keep-alive limits (60-75 s), so a POST rarely lands on one the server has closed.
    """

    max_connections: int | None = 100
    keepalive_expiry: float = 10.0

    def __post_init__(self) -> None:
        count = self.max_connections
        if count is not None and (type(count) is not int or count < 1):
            raise InvalidArgumentError(
                "max_connections",
                f"must be a whole number >= 1, or None for no limit; got {count!r}",
            )
        expiry = self.keepalive_expiry
        if (
            isinstance(expiry, bool)
            or not isinstance(expiry, int | float)
            or not 0 <= expiry < math.inf
        ):
            raise InvalidArgumentError(
                "keepalive_expiry", f"must be >= 0 seconds (0: no keep-alive); got {expiry!r}"
            )

    def connector(self) -> aiohttp.TCPConnector:
        """A connector with these limits (created inside the running loop)."""
        if self.keepalive_expiry == 0:
            return aiohttp.TCPConnector(limit=self.max_connections or 0, force_close=True)
        return aiohttp.TCPConnector(
            limit=self.max_connections or 0, keepalive_timeout=self.keepalive_expiry
        )


DEFAULT_LIMITS = Limits()
"""100 connections, idle ones kept 10 s."""


def redact_url(url: str | yarl.URL) -> str:
    """``url`` without its user and password (a proxy URL may carry them), for logs and errors."""
    parsed = yarl.URL(url) if isinstance(url, str) else url
    if parsed.user is None and parsed.password is None:
        return str(parsed)
    return str(parsed.with_user(None).with_password(None))


def check_proxy(proxy: str | None) -> str | None:
    """``proxy`` if it is an absolute http(s) URL (or ``None``); else ``InvalidArgumentError``."""
    if proxy is None:
        return None
    if isinstance(proxy, str):
        url = yarl.URL(proxy.strip())
        if url.scheme in ("http", "https") and url.host:
            return str(url)
    shown = redact_url(proxy) if isinstance(proxy, str) else repr(proxy)
    raise InvalidArgumentError(
        "proxy", f"must be an http(s) URL like 'http://proxy.example:3128'; got {shown!r}"
    )


@dataclass(slots=True)
class ProxyChoice:
    """Which proxy a request goes through: ``explicit``, else the environment's (if trusted)."""

    explicit: str | None = None
    trust_env: bool = True
    _explicit: yarl.URL | None = field(default=None, init=False, repr=False)
    _env: dict[str, str] | None = field(default=None, init=False, repr=False)
    _by_origin: dict[str, yarl.URL | None] = field(default_factory=dict, init=False, repr=False)

    def __post_init__(self) -> None:
        if self.explicit is not None:
            self._explicit = yarl.URL(self.explicit)

    def never(self) -> bool:
        """True when every URL connects directly: no proxy given, none in a trusted environment.

        Reads the environment once, as ``for_url`` does (``NO_PROXY`` alone names no proxy).
        """
        if self._explicit is not None:
            return False
        if not self.trust_env:
            return True
        if self._env is None:
            self._env = urllib.request.getproxies_environment()
        return not any(value for scheme, value in self._env.items() if scheme != "no")

    def for_url(self, url: str) -> yarl.URL | None:
        """The proxy for ``url`` (``None``: connect directly); remembered per origin."""
        if self._explicit is not None or not self.trust_env:
            return self._explicit
        # The origin as text ("https://host:port"), cut without parsing: this runs per request.
        end = url.find("/", url.find("://") + 3)
        origin = url if end < 0 else url[:end]
        try:
            return self._by_origin[origin]
        except KeyError:
            pass
        if self._env is None:  # read once: getproxies() scans the whole environment
            self._env = urllib.request.getproxies_environment()
        env, parsed = self._env, yarl.URL(url)
        proxy: yarl.URL | None = None
        chosen = env.get(parsed.scheme) or env.get("all")
        # proxy_bypass_environment reads NO_PROXY the way requests does (typeshed omits it).
        bypass = urllib.request.proxy_bypass_environment  # type: ignore[attr-defined]
        host = parsed.host or ""
        if parsed.explicit_port is not None:  # NO_PROXY entries may name a port, as host:port
            host = f"{host}:{parsed.explicit_port}"
        if chosen and not bypass(host, env):
            proxy = yarl.URL(chosen if "://" in chosen else f"http://{chosen}")
        self._by_origin[origin] = proxy
        return proxy
