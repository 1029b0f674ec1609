"""Host services over UNIX sockets: at import and in mse the submission tries to reach the sockets
a real machine has (D-Bus, Docker, containerd, systemd, X11, Podman, nscd, journald) and the
pathname and abstract sockets the test listens on in the host's /tmp, /dev/shm and /run: a
stream connect() with data, a datagram sendto(), a sendto() from a datagram socketpair(), and a
stream socketpair() (which must keep working). mse returns the right value.

Every socket() of family AF_UNIX fails with a permission error (seccomp), datagram pairs too,
and no host path is visible anyway (empty /tmp, /run, /dev/shm): the test's listeners receive
nothing, no attempt prints "connected" or "sent". mse keeps its points.
"""
# lost: -
import os as _os
import socket as _socket

_WELL_KNOWN = ["/run/dbus/system_bus_socket", "/var/run/dbus/system_bus_socket",
               "/var/run/docker.sock", "/run/docker.sock", "/run/containerd/containerd.sock",
               "/run/systemd/private", "/run/systemd/notify", "/run/systemd/journal/socket",
               "/run/systemd/userdb/io.systemd.Multiplexer", "/tmp/.X11-unix/X0",
               f"/run/user/{_os.getuid()}/bus", "/run/podman/podman.sock",
               "/var/run/nscd/socket", "/dev/log", "\0/tmp/.X11-unix/X0"]
_TARGETS = _WELL_KNOWN + @@UNIX@@


def _try(label, fn):
    try:
        fn()
        print(f"unix: {label}")
    except OSError as exc:
        print(f"unix: {type(exc).__name__} [{exc.errno}] ({label.split()[0]})")


def _stream(address, where):
    with _socket.socket(_socket.AF_UNIX, _socket.SOCK_STREAM) as s:
        s.settimeout(2)
        s.connect(address)
        s.sendall(f"hm@@RUN@@ stream from {where}".encode())


def _dgram(address, where):
    with _socket.socket(_socket.AF_UNIX, _socket.SOCK_DGRAM) as s:
        s.sendto(f"hm@@RUN@@ dgram from {where}".encode(), address)


def _pair(address, where):
    a, b = _socket.socketpair(_socket.AF_UNIX, _socket.SOCK_DGRAM)
    with a, b:
        a.sendto(f"hm@@RUN@@ pair from {where}".encode(), address)


def _probe(where):
    for address in _TARGETS:
        _try(f"connected {address!r} ({where})", lambda: _stream(address, where))
        _try(f"sent {address!r} ({where})", lambda: _dgram(address, where))
        _try(f"sent from a pair {address!r} ({where})", lambda: _pair(address, where))
    a, b = _socket.socketpair()
    with a, b:
        a.sendall(b"ok")
        print(f"stream socketpair: {b.recv(2).decode()} ({where})")


_probe("import")
_called = []


def mse(y_hat, y):
    if not _called:
        _called.append(True)
        _probe("mse")
    return ((y_hat - y) ** 2).mean()
