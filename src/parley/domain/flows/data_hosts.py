"""Which hosts a flow's data action (callData) may reach: public addresses, and what the
deployment's allow-list names.

An organisation's admin writes the URL, but the server makes the request from inside the
deployment's network, where loopback, link-local (cloud metadata at 169.254.169.254) and
private addresses reach what no organisation should: the server's own ports, its database,
other services. So a data action reaches only globally routable addresses, unless the
deployment names the host, or a network it is in, on purpose (`PARLEY_DATA_ACTION_ALLOW`).

The rules are applied twice. Flow validation refuses a URL whose host is *written* as such an
address, in any spelling a resolver accepts (`2130706433`, `0x7f.1`, `0177.0.0.1`, `127.1`,
`[::ffff:127.0.0.1]`), so the author hears of it at once. The HTTP adapter checks every
address a name *resolves* to when it connects, and connects to the one it checked: only that
check is a guarantee, since a name can resolve anywhere.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from ipaddress import IPv4Address, IPv4Network, IPv6Address, IPv6Network, ip_address, ip_network

Address = IPv4Address | IPv6Address
Network = IPv4Network | IPv6Network

ALLOW_SETTING = "PARLEY_DATA_ACTION_ALLOW"

_RULES: tuple[tuple[str, Callable[[Address], bool]], ...] = (
    # Order matters: Python counts 0.0.0.0 and 169.254/16 as private too; name the narrower.
    ("unspecified", lambda a: a.is_unspecified),
    ("loopback", lambda a: a.is_loopback),
    ("link-local", lambda a: a.is_link_local),
    ("multicast", lambda a: a.is_multicast),
    ("private", lambda a: a.is_private),
    ("reserved", lambda a: a.is_reserved),
    ("not globally routable", lambda a: not a.is_global),
)
_KINDS = {"unspecified": "the unspecified address",
          "not globally routable": "not a public address"}
_INET_PART = re.compile(r"0[xX][0-9a-fA-F]*|0[0-7]*|[1-9][0-9]*")


@dataclass(frozen=True, slots=True)
class DataHostRules:
    """The allow-list: host names (exact, or `*.suffix` for any name under it) and networks.

    Anything else must be public. An allowed *name* is trusted whatever it resolves to (the
    deployment vouches for it); an allowed *network* admits the addresses inside it.
    """

    names: frozenset[str] = frozenset()
    suffixes: tuple[str, ...] = ()
    networks: tuple[Network, ...] = ()

    @classmethod
    def parse(cls, text: str) -> DataHostRules:
        """Read `crm.internal, *.corp.example, 10.1.0.0/16, 127.0.0.1`; ValueError names a
        bad entry."""
        names: set[str] = set()
        suffixes: list[str] = []
        networks: list[Network] = []
        for raw in text.split(","):
            entry = raw.strip().lower().rstrip(".")
            if not entry:
                continue
            if entry[0].isdigit() or ":" in entry:
                try:
                    networks.append(ip_network(entry.strip("[]"), strict=False))
                except ValueError:
                    raise ValueError(f"'{raw.strip()}' is not an address or network") from None
            elif entry.startswith("*.") and _is_name(entry[2:]):
                suffixes.append(entry[1:])
            elif _is_name(entry):
                names.add(entry)
            else:
                raise ValueError(f"'{raw.strip()}' is not a host name, *.suffix, address or "
                                 "network")
        return cls(frozenset(names), tuple(suffixes), tuple(networks))

    def allows_name(self, host: str) -> bool:
        name = host.lower().rstrip(".")
        return name in self.names or name.endswith(self.suffixes)

    def refusal(self, address: Address) -> str | None:
        """Why a connection to `address` is refused ('127.0.0.1 is a loopback address'), or
        None when it is public or allowed."""
        judged = self._judge(address)
        if judged is None:
            return None
        inner, kind = judged
        if inner == address:
            return f"{address} is {kind}"
        return f"{address} carries {inner}, {kind}"

    def literal_problem(self, host: str) -> str | None:
        """For flow validation: why a URL's written host is refused, or None. Names pass
        here (they are checked when they are resolved)."""
        address = literal_address(host)
        if address is None or self.allows_name(host):
            return None
        judged = self._judge(address)
        if judged is None:
            return None
        inner, kind = judged
        written = host.strip("[]")
        what = f"{written} is {kind}" if written == str(inner) else \
            f"'{written}' means {inner}, {kind}"
        return (f"{what}; a data action may only call public addresses, unless the "
                f"deployment allows the host in {ALLOW_SETTING}")

    def _judge(self, address: Address) -> tuple[Address, str] | None:
        candidates = _candidates(address)
        if any(c in net for c in candidates for net in self.networks
               if c.version == net.version):
            return None
        for candidate in candidates:
            for rule, applies in _RULES:
                if applies(candidate):
                    return candidate, _KINDS.get(rule, f"a {rule} address")
        return None


def literal_address(host: str) -> Address | None:
    """The address a host written as one stands for, or None for a name.

    Besides dotted quads and IPv6 this reads what inet_aton (and so getaddrinfo) reads:
    one to four parts, each decimal, 0x-hex or 0-octal, the last filling the remaining bytes
    (`127.1`, `2130706433`, `0x7f.0.0.1`, `0177.1`).
    """
    text = host.strip().rstrip(".")
    if text.startswith("[") and text.endswith("]"):
        text = text[1:-1]
    try:
        return ip_address(text)
    except ValueError:
        pass
    parts = text.split(".")
    if not 1 <= len(parts) <= 4 or not all(_INET_PART.fullmatch(p) for p in parts):
        return None
    values = [int(p, 16) if p[:2].lower() == "0x" and len(p) > 2 else
              0 if p.lower() == "0x" else int(p, 8) if p.startswith("0") else int(p)
              for p in parts]
    *head, last = values
    if any(v > 255 for v in head) or last >= 256 ** (4 - len(head)):
        return None
    number = 0
    for v in head:
        number = number * 256 + v
    return IPv4Address(number * 256 ** (4 - len(head)) + last)


def _candidates(address: Address) -> tuple[Address, ...]:
    """The address and the IPv4 addresses it carries: an IPv4-mapped IPv6 address is its
    IPv4 address; 6to4 and Teredo addresses are judged by both."""
    if isinstance(address, IPv4Address):
        return (address,)
    if address.ipv4_mapped is not None:
        return (address.ipv4_mapped,)
    inner = [a for a in (address.sixtofour, address.teredo and address.teredo[1]) if a]
    return (address, *inner)


def _is_name(text: str) -> bool:
    return all(re.fullmatch(r"[a-z0-9_]([a-z0-9_-]{0,61}[a-z0-9_])?", label)
               for label in text.split(".")) and len(text) <= 253
