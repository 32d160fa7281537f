"""A TCP proxy between a till and the server that fails on command, for fault tests.

Modes (set ``proxy.mode``):
- ``pass``: forward both ways.
- ``refuse``: accept and close at once — the request never reaches the server.
- ``drop_answer``: forward the request, let the server answer (it has committed), then close
  the till's connection without passing the answer on.
- ``cut_answer``: pass on the first ``cut_after`` bytes of the answer, then close (mid-pull).
- ``stale_answer``: a misconfigured caching proxy: a push is not forwarded but answered with
  the last push answer the server gave through this proxy (other requests pass).
- ``html_error``: a firewall or proxy refusing: every request is answered ``error_status``
  with an HTML page, never forwarded.
- ``json_error``: the same with a JSON body in the server's error shape but without the
  server's protocol header (a gateway imitating an API error).
- ``hold_push_answer``: forward a push and let the server answer (it has committed), then
  hold the answer back (``held`` is set) until ``release`` is set — the till is waiting in
  the middle of its push, e.g. for the test to SIGKILL it; other requests pass.
- ``body_limit``: a proxy's request body limit (nginx's ``client_max_body_size``): a request
  whose body is longer than ``body_limit`` bytes is answered 413 with an HTML page; the
  others pass.
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
        self.error_status = 400
        self.body_limit = 1 << 20
        self.last_push_answer: bytes | None = None  # recorded while passing, for stale_answer
        self.faults = 0  # connections a fault was applied to
        self.held = threading.Event()  # hold_push_answer: a push answer is being held
        self.release = threading.Event()  # hold_push_answer: let it go (then close)
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
                    is_push = request.startswith(b"POST /api/v1/sync/push ")
                    own = self._own_answer(mode, request, is_push)
                    if own is not None:
                        self.faults += 1
                        client.sendall(own)
                        if mode == "stale_answer":
                            continue  # a cache keeps the connection
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
                    if mode == "hold_push_answer" and is_push:
                        self.faults += 1
                        self.held.set()
                        self.release.wait(timeout=60)
                        return
                    if mode == "cut_answer":
                        self.faults += 1
                        client.sendall(answer[: self.cut_after])
                        return
                    if is_push:
                        self.last_push_answer = answer
                    client.sendall(answer)
            except OSError:
                return
            finally:
                if upstream is not None:
                    upstream.close()

    def _own_answer(self, mode: str, request: bytes, is_push: bool) -> bytes | None:
        """What the proxy answers itself in ``mode`` instead of forwarding, or None."""
        if mode == "stale_answer" and is_push and self.last_push_answer is not None:
            return self.last_push_answer
        if mode == "html_error":
            return _page(self.error_status, "text/html", _html(self.error_status))
        if mode == "json_error":
            body = b'{"error": "invalid_body", "message": "request blocked by the gateway"}'
            return _page(self.error_status, "application/json", body)
        if mode == "body_limit" and len(request.partition(b"\r\n\r\n")[2]) > self.body_limit:
            return _page(413, "text/html", _html(413))
        return None

    def close(self) -> None:
        self._stopped.set()
        self.release.set()
        self._listener.close()
        for thread in self._threads:
            thread.join(timeout=5)


REASONS = {
    400: "Bad Request",
    403: "Forbidden",
    413: "Request Entity Too Large",
    422: "Unprocessable Entity",
}


def _html(status: int) -> bytes:
    reason = REASONS.get(status, "Error")
    return (
        f"<html><head><title>{status} {reason}</title></head><body><center><h1>{status} "
        f"{reason}</h1></center><hr><center>nginx</center></body></html>"
    ).encode()


def _page(status: int, content_type: str, body: bytes) -> bytes:
    """An answer of the proxy's own (no protocol header: it is not the server's)."""
    head = (
        f"HTTP/1.1 {status} {REASONS.get(status, 'Error')}\r\nServer: nginx\r\n"
        f"Content-Type: {content_type}\r\nContent-Length: {len(body)}\r\n"
        "Connection: close\r\n\r\n"
    )
    return head.encode() + body


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
