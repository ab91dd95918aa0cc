"""Hosts on one machine: a network namespace per worker host, joined to the hub (the
root namespace) by a veth pair of its own and nothing else.

A host's processes reach the hub only at its veth's hub-side address, so `cut(host)`
(the hub-side end set down) really cuts them off from broker and database, and
`restore(host)` brings the link back. Nothing is routed further: traffic stays on the
veths this run made.

Names carry a prefix with the creating process's id (`lcr<pid>-host1`, interfaces
`lcr<pid>h1`/`lcr<pid>n1`, under Linux's 15 characters), so a run removes exactly what it
made, and the next run removes what a killed run left behind (`sweep_stale`).
"""

import ipaddress
import os
import random
import re
import shutil
import signal
import subprocess
from dataclasses import dataclass

PREFIX = "lcr"
#: Each host gets a /30 out of this range; one that an interface already uses is skipped.
ADDRESS_RANGE = ipaddress.ip_network("10.213.0.0/16")
_STALE = re.compile(rf"^{PREFIX}(\d+)-")


def unavailable_reason():
    """Why namespaces cannot be made here, or None when they can."""
    if os.geteuid() != 0:
        return "network namespaces need root"
    if shutil.which("ip") is None:
        return "`ip` (iproute2) is not installed"
    probe = subprocess.run(["ip", "netns", "list"], capture_output=True, text=True)
    if probe.returncode != 0:
        return f"`ip netns` is unavailable: {probe.stderr.strip()}"
    return None


@dataclass(frozen=True)
class Host:
    name: str
    namespace: str
    hub_interface: str
    #: The hub's address on this host's link: where the host finds broker and database.
    hub_address: str
    address: str


class Network:
    """The namespaces and veths of one run; `remove()` is safe to call more than once."""

    def __init__(self):
        self.prefix = f"{PREFIX}{os.getpid()}"
        self.hosts = {}

    def add_host(self, name):
        number = len(self.hosts) + 1
        subnet = _free_subnet()
        hub_address, address = (str(ip) for ip in subnet.hosts())
        host = Host(
            name=name,
            namespace=f"{self.prefix}-{name}",
            hub_interface=f"{self.prefix}h{number}",
            hub_address=hub_address,
            address=address,
        )
        inside = f"{self.prefix}n{number}"
        # Recorded first: a failure half way through is still removed.
        self.hosts[name] = host
        _ip("netns", "add", host.namespace)
        _ip("link", "add", host.hub_interface, "type", "veth", "peer", "name", inside, "netns", host.namespace)
        _ip("addr", "add", f"{hub_address}/{subnet.prefixlen}", "dev", host.hub_interface)
        _ip("link", "set", host.hub_interface, "up")
        _ip("-n", host.namespace, "addr", "add", f"{address}/{subnet.prefixlen}", "dev", inside)
        _ip("-n", host.namespace, "link", "set", inside, "up")
        _ip("-n", host.namespace, "link", "set", "lo", "up")
        return host

    def cut(self, name):
        _ip("link", "set", self.hosts[name].hub_interface, "down")

    def restore(self, name):
        _ip("link", "set", self.hosts[name].hub_interface, "up")

    def command(self, name, *argv):
        """argv run inside the host's namespace."""
        return ["ip", "netns", "exec", self.hosts[name].namespace, *argv]

    def remove(self):
        """Kill what still runs in each namespace, delete its link, then the namespace."""
        for host in list(self.hosts.values()):
            _remove_namespace(host.namespace)
            del self.hosts[host.name]
        _remove_links(self.prefix)


def sweep_stale():
    """Remove namespaces left by runs whose process is gone (killed before cleaning up)."""
    listing = subprocess.run(["ip", "netns", "list"], capture_output=True, text=True).stdout
    for line in listing.splitlines():
        namespace = line.split()[0] if line.strip() else ""
        match = _STALE.match(namespace)
        if match and not _alive(int(match.group(1))):
            _remove_namespace(namespace)
            _remove_links(f"{PREFIX}{match.group(1)}")


def _remove_namespace(namespace):
    pids = subprocess.run(["ip", "netns", "pids", namespace], capture_output=True, text=True).stdout.split()
    for pid in pids:
        try:
            os.kill(int(pid), signal.SIGKILL)
        except ProcessLookupError:
            pass
    subprocess.run(["ip", "netns", "delete", namespace], capture_output=True)


def _remove_links(prefix):
    """Delete the hub-side ends of a run's veths (and so both ends) at once: a deleted
    namespace frees its devices only later, in the kernel's own time."""
    listing = subprocess.run(["ip", "-o", "link"], capture_output=True, text=True).stdout
    for name in re.findall(rf"^\d+: ({prefix}h\d+)@", listing, flags=re.MULTILINE):
        subprocess.run(["ip", "link", "delete", name], capture_output=True)


def _alive(pid):
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _free_subnet():
    used = subprocess.run(["ip", "-4", "-o", "addr"], capture_output=True, text=True, check=True).stdout
    taken = [ipaddress.ip_interface(word).network for word in re.findall(r"inet (\S+)", used)]
    candidates = list(ADDRESS_RANGE.subnets(new_prefix=30))
    for subnet in random.sample(candidates, 64):
        if not any(subnet.overlaps(network) for network in taken):
            return subnet
    raise RuntimeError(f"no free /30 in {ADDRESS_RANGE}")


def _ip(*args):
    done = subprocess.run(["ip", *args], capture_output=True, text=True)
    if done.returncode != 0:
        raise RuntimeError(f"ip {' '.join(args)}: {done.stderr.strip()}")
