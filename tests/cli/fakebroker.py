# SPDX-License-Identifier: GPL-2.0-or-later
"""A stand-in broker on a unix socket for what the simulated board cannot show (an address a
kernel driver owns, the GPIO list with the line configuration in it) or for a broker that
stalls. It answers from a table of routes and records every request."""
import json
import os
import shutil
import socket
import socketserver
import tempfile
import threading
from http.server import BaseHTTPRequestHandler


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args):
        pass

    def _serve(self):
        broker = self.server.broker
        length = int(self.headers.get("Content-Length") or 0)
        body = json.loads(self.rfile.read(length)) if length else None
        broker.requests.append((self.command, self.path, body))
        if broker.stall:
            broker.release.wait(30)
            return
        status, reply = broker.answer(self.command, self.path, body)
        data = json.dumps(reply).encode() if reply is not None else b""
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    do_GET = do_POST = do_PUT = do_DELETE = _serve


class _Server(socketserver.ThreadingMixIn, socketserver.UnixStreamServer):
    daemon_threads = True

    def get_request(self):
        conn, _ = self.socket.accept()
        return conn, ("fake", 0)


def error(status, code, message):
    return status, {"error": {"code": code, "message": message, "hint": ""}}


class FakeBroker:
    """routes: {(METHOD, PATH): (status, reply) or callable(body) -> (status, reply)}."""

    def __init__(self, routes=None, stall=False):
        self.dir = tempfile.mkdtemp(prefix="hwbfake-")
        self.path = os.path.join(self.dir, "hwbroker.sock")
        self.routes = dict(routes or {})
        self.requests = []
        self.stall = stall
        self.release = threading.Event()
        self.server = _Server(self.path, _Handler)
        self.server.broker = self
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def answer(self, method, path, body):
        route = self.routes.get((method, path))
        if route is None:
            return error(404, "not_found", "no route %s %s" % (method, path))
        return route(body) if callable(route) else route

    def close(self):
        self.release.set()
        self.server.shutdown()
        self.server.server_close()
        shutil.rmtree(self.dir, ignore_errors=True)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()


def sink():
    """A socket that accepts and never answers (a stalled broker)."""
    d = tempfile.mkdtemp(prefix="hwbstall-")
    path = os.path.join(d, "hwbroker.sock")
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.bind(path)
    s.listen(16)

    def cleanup():
        s.close()
        shutil.rmtree(d, ignore_errors=True)
    return path, cleanup
