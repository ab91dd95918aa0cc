"""The rehearsal's hosts: a namespace reaches the hub only over its link, a cut link cuts
it off, and nothing of a run is left behind, even of a run that died."""

import socket
import subprocess
import sys

import pytest

from tests.cluster.netns import PREFIX, Network, sweep_stale, unavailable_reason

pytestmark = pytest.mark.skipif(unavailable_reason() is not None, reason=str(unavailable_reason()))

CONNECT = "import socket, sys; socket.create_connection((sys.argv[1], int(sys.argv[2])), timeout=1).close()"


def reaches(network, name, address, port):
    command = network.command(name, sys.executable, "-c", CONNECT, address, str(port))
    return subprocess.run(command, capture_output=True).returncode == 0


def namespaces():
    return subprocess.run(["ip", "netns", "list"], capture_output=True, text=True).stdout


@pytest.fixture
def network():
    network = Network()
    yield network
    network.remove()


def test_a_host_reaches_the_hub_over_its_link_until_the_link_is_cut(network):
    host = network.add_host("t1")
    with socket.create_server((host.hub_address, 0)) as server:
        port = server.getsockname()[1]
        assert reaches(network, "t1", host.hub_address, port)
        assert not reaches(network, "t1", "127.0.0.1", port), "the hub's loopback is not the host's"

        network.cut("t1")
        assert not reaches(network, "t1", host.hub_address, port)

        network.restore("t1")
        assert reaches(network, "t1", host.hub_address, port)


def test_removing_a_run_removes_its_namespaces_and_links(network):
    host = network.add_host("t1")
    network.remove()

    assert host.namespace not in namespaces()
    assert host.hub_interface not in subprocess.run(["ip", "link"], capture_output=True, text=True).stdout


def test_the_namespaces_of_a_run_that_died_are_swept():
    ended = subprocess.Popen(["true"])
    ended.wait()
    stale = f"{PREFIX}{ended.pid}-t1"
    subprocess.run(["ip", "netns", "add", stale], check=True)
    mine = Network()
    try:
        mine.add_host("t1")
        sweep_stale()

        assert stale not in namespaces()
        assert mine.hosts["t1"].namespace in namespaces()
    finally:
        mine.remove()
        subprocess.run(["ip", "netns", "delete", stale], capture_output=True)
