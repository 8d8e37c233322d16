"""Loopback ports for the servers a Python test starts (the C++ tests' free_port() in
child_process.h does the same).

A port that was only bound and closed is free for any process: a test running beside
this one could be handed it by bind(0), or take it as the source port of a connection,
before our server binds it ("cannot listen on ..."). So free_port() also connects to the
port and closes the accepted side first: the kernel keeps that side in TIME_WAIT for
60 s, gives the port to no bind(0) and no connect() meanwhile, and lets a server that
binds it with SO_REUSEADDR or SO_REUSEPORT (ours, httplib's, the JVM's, Go's) have it at
once. A port is also never handed out twice by one process.

Run as a script, it prints one such port (for shell tests)."""

import socket

_GIVEN = set()


def _reserve():
    with socket.socket() as listener:
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
        listener.bind(("127.0.0.1", 0))
        listener.listen(1)
        address = listener.getsockname()
        with socket.create_connection(address, timeout=5):
            accepted, _ = listener.accept()
            accepted.close()  # first: this side, bound to the port, is left in TIME_WAIT
        return address[1]


def _unreserved():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def free_port(reserve=True):
    """A loopback port reserved for a server about to be started, never one given before.
    reserve=False for a port podman publishes: its forwarder (pasta, rootlessport, conmon)
    is not ours to check for SO_REUSEADDR, so it gets a port only bound and closed."""
    for _ in range(1000):
        port = _reserve() if reserve else _unreserved()
        if port not in _GIVEN:
            _GIVEN.add(port)
            return port
    raise RuntimeError("cannot reserve a loopback port")


if __name__ == "__main__":
    print(free_port())
