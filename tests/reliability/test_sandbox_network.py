"""The sandbox is reachable from this machine only.

tests/sandbox/test_pipeline.py probes ``gethostbyname(gethostname())``, which is a
127.x address on many machines (so it probes nothing); this test reads the
kernel's socket table and probes every non-loopback address the host has.
"""

from __future__ import annotations

import itertools
import socket
from pathlib import Path

LISTEN = "0A"


def listening_addresses(port: int) -> set[str]:
    """Local addresses of LISTEN sockets on ``port`` (IPv4 and IPv6), from /proc/net."""
    found = set()
    for table, width in (("/proc/net/tcp", 8), ("/proc/net/tcp6", 32)):
        for line in Path(table).read_text().splitlines()[1:]:
            local, state = line.split()[1], line.split()[3]
            address, hex_port = local.split(":")
            if state == LISTEN and int(hex_port, 16) == port:
                raw = bytes.fromhex(address)
                if width == 8:
                    found.add(socket.inet_ntop(socket.AF_INET, raw[::-1]))
                else:  # four little-endian 32-bit words
                    words = b"".join(raw[i : i + 4][::-1] for i in range(0, 16, 4))
                    found.add(socket.inet_ntop(socket.AF_INET6, words))
    return found


def host_addresses() -> set[str]:
    """The host's own IPv4 addresses, from the kernel's local routing table."""
    addresses, lines = set(), Path("/proc/net/fib_trie").read_text().splitlines()
    for previous, line in itertools.pairwise(lines):
        if "/32 host LOCAL" in line:
            addresses.add(previous.split()[-1])
    return addresses


def test_the_sandbox_socket_is_bound_to_loopback_only(sandbox):
    assert listening_addresses(sandbox.port) == {"127.0.0.1"}


def test_no_other_address_of_this_host_reaches_the_sandbox(sandbox):
    others = {a for a in host_addresses() if not a.startswith("127.")}
    for address in others:
        with socket.socket() as probe:
            probe.settimeout(1)
            assert probe.connect_ex((address, sandbox.port)) != 0, f"the sandbox answers on {address}"
    with socket.create_connection(("127.0.0.1", sandbox.port), timeout=1):
        pass
