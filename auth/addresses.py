"""Where a request comes from, and whether its sender may vouch for a user: trusted proxies only (pure).

Behind a reverse proxy every request arrives from the proxy's address; the proxy names the client in
``X-Forwarded-For`` and the signed-in user in the trusted header. Both are believed only when the connection
itself comes from one of ``IOC_TRUSTED_PROXIES``: a client connecting directly could write anything there.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Sequence

Network = ipaddress.IPv4Network | ipaddress.IPv6Network


def parse_networks(entries: Sequence[str]) -> tuple[Network, ...]:
    """``["10.0.0.5", "10.1.0.0/16"]`` → networks; ValueError names a bad entry."""
    networks = []
    for entry in entries:
        try:
            networks.append(ipaddress.ip_network(entry.strip(), strict=False))
        except ValueError:
            raise ValueError(f"{entry!r} is not an IP address or network (e.g. 10.0.0.5 or 10.1.0.0/16)") from None
    return tuple(networks)


def is_trusted(address: str | None, proxies: Sequence[Network]) -> bool:
    """Whether the connection's own address is one of the trusted proxies."""
    if not address or not proxies:
        return False
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return False
    return any(ip in network for network in proxies)


def client_address(remote: str | None, forwarded_for: str | None, proxies: Sequence[Network]) -> str:
    """The client's address: the connection's, or behind trusted proxies the nearest untrusted hop they name."""
    address = remote or ""
    if not is_trusted(address, proxies) or not forwarded_for:
        return address
    for hop in reversed([h.strip() for h in forwarded_for.split(",")[-16:]]):
        if not is_trusted(hop, proxies):
            try:
                return str(ipaddress.ip_address(hop))
            except ValueError:
                return address  # a proxy that forwards garbage: keep what we know
    return address
