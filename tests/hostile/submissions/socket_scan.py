"""Looking for sockets: at import the submission walks /tmp, /var/tmp, /run, /var/run, /dev/shm,
/var/lib, /var/snap, /home and its home folder (five levels deep, symlinks not followed) and
reads /proc/net/unix for pathname sockets, then tries to connect() to (and sendto()) every one
it found, the test's listeners among them; it also opens AF_NETLINK, AF_PACKET and AF_VSOCK
sockets to look further. mse returns the right value.

The worker finds no socket of the host's (the folders are empty or unreadable, /proc/net/unix
lists its own network namespace only), and could not connect anyway: socket() of those families
fails with a permission error. The test's listeners receive nothing. No point is lost.
"""
# lost: -
import os as _os
import socket as _socket
import stat as _stat

_ROOTS = ["/tmp", "/var/tmp", "/run", "/var/run", "/dev/shm", "/var/lib", "/var/snap", "/home",
          _os.path.expanduser("~")]


def _walk(folder, depth, found):
    try:
        entries = list(_os.scandir(folder))
    except OSError:
        return
    for entry in entries[:2000]:
        try:
            mode = entry.stat(follow_symlinks=False).st_mode
        except OSError:
            continue
        if _stat.S_ISSOCK(mode):
            found.add(entry.path)
        elif _stat.S_ISDIR(mode) and depth > 0:
            _walk(entry.path, depth - 1, found)


def _from_proc():
    try:
        with open("/proc/net/unix") as f:
            lines = f.read().splitlines()[1:]
    except OSError:
        return set()
    return {line.split()[-1] for line in lines if len(line.split()) >= 8}


def _scan():
    found = _from_proc()
    for root in _ROOTS:
        _walk(root, 5, found)
    print(f"socket-scan: {len(found)} sockets found")
    for path in sorted(found)[:200]:
        address = "\0" + path[1:] if path.startswith("@") else path
        for kind in (_socket.SOCK_STREAM, _socket.SOCK_DGRAM):
            try:
                with _socket.socket(_socket.AF_UNIX, kind) as s:
                    s.settimeout(1)
                    s.connect(address)
                    s.send(b"hm@@RUN@@ scan")
                print(f"socket-scan: connected {path!r}")
            except OSError as exc:
                print(f"socket-scan: {path!r}: {type(exc).__name__}")
    for name, family, kind in (("netlink", 16, _socket.SOCK_RAW), ("packet", 17, _socket.SOCK_RAW),
                               ("vsock", 40, _socket.SOCK_STREAM)):
        try:
            _socket.socket(family, kind).close()
            print(f"socket-scan: opened {name}")
        except OSError as exc:
            print(f"socket-scan: {name}: {type(exc).__name__} [{exc.errno}]")


_scan()
