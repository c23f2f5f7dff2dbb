# tries: open a TCP connection, even to loopback (to fetch answers or leak the cases).
# expect: error: network access is not allowed
import socket


def backward_propagation_n(X, Y, cache):
    connection = socket.create_connection(("127.0.0.1", 80), timeout=1)
    connection.sendall(b"GET /answers HTTP/1.0\r\n\r\n")
    return {}
