"""The one HTTP client session of the process (Xero and auth), kept alive between calls.

aiohttp rather than httpx: per request it costs a fraction of httpx's client CPU, which
was the largest share of posting's CPU per day (see the README, "Where the CPU goes").
"""

import aiohttp

# Idle connections are closed by us before a server's own idle timeout (uvicorn's is
# 5 s) could close them under a request being sent.
KEEPALIVE_S = 4.0


def http_session(max_connections: int) -> aiohttp.ClientSession:
    """A session for many organisations' calls side by side; timeouts are per call."""
    session = aiohttp.ClientSession(
        connector=aiohttp.TCPConnector(
            limit=max_connections, keepalive_timeout=KEEPALIVE_S, ttl_dns_cache=300
        ),
        # Headers and bodies are ours to set; no cookies are kept between calls.
        cookie_jar=aiohttp.DummyCookieJar(),
        auto_decompress=True,
        raise_for_status=False,
    )
    # aiohttp sends a PUT again by itself when a kept-alive connection drops under it. A
    # PUT that creates journals may have reached Xero: it must stay in flight and be
    # looked up after the grace period, never raced by a silent resend.
    session._retry_connection = False
    return session


def timeout(seconds: float) -> aiohttp.ClientTimeout:
    """Like httpx's: each read may take `seconds`; waiting for a connection at most 5 s."""
    return aiohttp.ClientTimeout(
        total=None, sock_read=seconds, connect=min(seconds, 5.0), sock_connect=min(seconds, 5.0)
    )
