"""The local server's listen backlog: clients that connect while no handler is free to accept them (the stack
still starting, or every thread busy) wait in the kernel's queue instead of having their connection dropped."""

from __future__ import annotations

import select
import socket
import threading
import time
from http.server import BaseHTTPRequestHandler

from nps_local.gateway import LocalHTTPServer

CLIENTS = 40


class Hello(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def do_GET(self):
        self.send_response(200)
        self.send_header("Content-Length", "2")
        self.end_headers()
        self.wfile.write(b"ok")

    def log_message(self, *args):
        pass


def connected_within(sockets: list[socket.socket], seconds: float) -> int:
    """How many non-blocking connects completed (the kernel finished the handshake) before the deadline."""
    pending = set(sockets)
    done = 0
    deadline = time.monotonic() + seconds
    while pending and time.monotonic() < deadline:
        _, writable, _ = select.select([], list(pending), [], max(0.0, deadline - time.monotonic()))
        for s in writable:
            pending.discard(s)
            assert s.getsockopt(socket.SOL_SOCKET, socket.SO_ERROR) == 0
            done += 1
    return done


def test_forty_clients_connecting_at_once_are_all_held_until_the_server_accepts():
    server = LocalHTTPServer(("127.0.0.1", 0), Hello)  # bound and listening, not accepting yet
    sockets = []
    thread = None
    try:
        for _ in range(CLIENTS):
            s = socket.socket()
            s.setblocking(False)
            s.connect_ex(server.server_address)
            sockets.append(s)

        # With socketserver's default backlog of 5, connects after the sixth are dropped and wait for SYN
        # retries that keep being dropped until something accepts; with the stack's backlog all complete now.
        assert connected_within(sockets, 5.0) == CLIENTS

        thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
        thread.start()
        for s in sockets:
            s.setblocking(True)
            s.settimeout(10)
            s.sendall(b"GET / HTTP/1.1\r\nHost: local\r\nConnection: close\r\n\r\n")
        answers = []
        for s in sockets:
            data = b""
            while chunk := s.recv(4096):
                data += chunk
            answers.append(data)
        assert all(a.startswith(b"HTTP/1.1 200") and a.endswith(b"ok") for a in answers)
    finally:
        for s in sockets:
            s.close()
        if thread is not None:  # shutdown() waits for serve_forever, so only once it runs
            server.shutdown()
        server.server_close()
