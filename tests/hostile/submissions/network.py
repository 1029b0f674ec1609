"""Network: at import and in mse the submission connects over TCP to a loopback port the test
listens on (sending data) and sends a UDP datagram to it; at import it also resolves
example.com. mse returns the right value.

The worker has no network: the test's listener receives nothing and no name resolves. mse
keeps its points (failing to connect is not an error of the function).
"""
# lost: -
import socket as _socket

_PORT = int("@@PORT@@")


def _probe(where, dns):
    try:
        with _socket.create_connection(("127.0.0.1", _PORT), timeout=2) as conn:
            conn.sendall(f"hm@@RUN@@ tcp from {where}".encode())
        print(f"tcp: connected ({where})")
    except OSError as exc:
        print(f"tcp: {exc}")
    try:
        with _socket.socket(_socket.AF_INET, _socket.SOCK_DGRAM) as udp:
            udp.sendto(f"hm@@RUN@@ udp from {where}".encode(), ("127.0.0.1", _PORT))
        print(f"udp: sent ({where})")
    except OSError as exc:
        print(f"udp: {exc}")
    if dns:
        try:
            print(f"dns: resolved {_socket.getaddrinfo('example.com', 80)[0][4]}")
        except OSError as exc:
            print(f"dns: {exc}")


_probe("import", dns=True)
_called = []


def mse(y_hat, y):
    if not _called:
        _called.append(True)
        _probe("mse", dns=False)
    return ((y_hat - y) ** 2).mean()
