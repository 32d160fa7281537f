"""A TCP proxy between a till and the server that fails on command, for fault tests.

Modes (set ``proxy.mode``):
- ``pass``: forward both ways.
- ``refuse``: accept and close at once — the request never reaches the server.
- ``drop_answer``: forward the request, let the server answer (it has committed), then close
  the till's connection without passing the answer on.
- ``cut_answer``: pass on the first ``cut_after`` bytes of the answer, then close (mid-pull).
Each connection handles one exchange at a time; the proxy binds 127.0.0.1 on a free port.
"""

from __future__ import annotations

import contextlib
import socket
import threading


class FaultProxy:
    def __init__(self, target_port: int) -> None:
        self.target = ("127.0.0.1", target_port)
        self.mode = "pass"
        self.cut_after = 200
        self.faults = 0  # connections a fault was applied to
        self._listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self._listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self._listener.bind(("127.0.0.1", 0))
        self._listener.listen(64)
        self.port = self._listener.getsockname()[1]
        self._stopped = threading.Event()
        self._threads: list[threading.Thread] = []
        self._accepter = threading.Thread(target=self._accept_loop, daemon=True)
        self._accepter.start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def _accept_loop(self) -> None:
        while not self._stopped.is_set():
            try:
                client, _ = self._listener.accept()
            except OSError:
                return
            thread = threading.Thread(target=self._serve, args=(client,), daemon=True)
            thread.start()
            self._threads.append(thread)

    def _serve(self, client: socket.socket) -> None:
        """One exchange at a time, so a mode change applies to kept-alive connections too."""
        with contextlib.closing(client):
            upstream: socket.socket | None = None
            try:
                while not self._stopped.is_set():
                    request = _read_http_message(client)
                    if request is None:
                        return
                    mode = self.mode
                    if mode == "refuse":
                        self.faults += 1
                        return
                    if upstream is None:
                        upstream = socket.create_connection(self.target, timeout=60)
                    upstream.sendall(request)
                    answer = _read_http_message(upstream)
                    if answer is None:
                        return
                    if mode == "drop_answer":
                        self.faults += 1
                        return
                    if mode == "cut_answer":
                        self.faults += 1
                        client.sendall(answer[: self.cut_after])
                        return
                    client.sendall(answer)
            except OSError:
                return
            finally:
                if upstream is not None:
                    upstream.close()

    def close(self) -> None:
        self._stopped.set()
        self._listener.close()
        for thread in self._threads:
            thread.join(timeout=5)


def _read_http_message(sock: socket.socket) -> bytes | None:
    """Read one HTTP/1.1 message with a Content-Length body (what requests and werkzeug send)."""
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = sock.recv(65536)
        if not chunk:
            return None
        data += chunk
    head, _, body = data.partition(b"\r\n\r\n")
    length = -1
    chunked = False
    for line in head.split(b"\r\n")[1:]:
        name, _, value = line.partition(b":")
        if name.strip().lower() == b"content-length":
            length = int(value.strip())
        if name.strip().lower() == b"transfer-encoding" and b"chunked" in value.lower():
            chunked = True
    if chunked:
        while not body.endswith(b"0\r\n\r\n"):
            chunk = sock.recv(65536)
            if not chunk:
                break
            body += chunk
        return head + b"\r\n\r\n" + body
    if length < 0:
        is_response = head.startswith(b"HTTP/")
        if not is_response:
            return head + b"\r\n\r\n" + body  # a request without a body
        while chunk := sock.recv(65536):  # an answer that ends when the connection closes
            body += chunk
        return head + b"\r\n\r\n" + body
    while len(body) < length:
        chunk = sock.recv(65536)
        if not chunk:
            return None
        body += chunk
    return head + b"\r\n\r\n" + body
