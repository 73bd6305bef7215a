# SPDX-License-Identifier: GPL-2.0-or-later
"""Shared harness for the Python test layers: starts the real hwbrokerd on a
temporary runtime directory and talks HTTP/1.1 to it over unix sockets.

Environment (set by ctest, see tests/CMakeLists.txt): HWBROKERD, HWBROKER_CLI,
HWB_BIN_DIR, HWB_BUILD_DIR, HWB_SOURCE_DIR.
"""
import atexit
import fcntl
import http.client
import json
import os
import shutil
import signal
import socket
import struct
import subprocess
import tempfile
import termios
import time
import unittest
import warnings

# Tests open many short-lived sockets on purpose.
warnings.simplefilter("ignore", ResourceWarning)

HWBROKERD = os.environ.get("HWBROKERD", "hwbrokerd")
HWBROKER_CLI = os.environ.get("HWBROKER_CLI", "hwbroker")
BIN_DIR = os.environ.get("HWB_BIN_DIR", ".")
SOURCE_DIR = os.environ.get("HWB_SOURCE_DIR", os.path.join(os.path.dirname(__file__), "..", ".."))


_TMP_DIRS = []


@atexit.register
def _remove_tmp_dirs():
    # HWB_KEEP_TMP=1 keeps runtime dirs and daemon logs for debugging.
    if os.environ.get("HWB_KEEP_TMP"):
        return
    for d in _TMP_DIRS:
        shutil.rmtree(d, ignore_errors=True)


class UnixHTTPConnection(http.client.HTTPConnection):
    def __init__(self, path, timeout=10):
        super().__init__("localhost", timeout=timeout)
        self.unix_path = path

    def connect(self):
        s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        s.settimeout(self.timeout)
        s.connect(self.unix_path)
        self.sock = s


def send_request(path, method, url, body=None, timeout=60):
    """Sends a request (body: JSON, or already encoded) on a connection of its
    own; returns that connection once the daemon has read all of it (nothing
    left unread in the socket: the daemon handles a request in the loop turn
    that reads its last byte), without waiting for the reply (reply_of)."""
    conn = UnixHTTPConnection(path, timeout=timeout)
    data = body if body is None or isinstance(body, bytes) else json.dumps(body).encode()
    conn.request(method, url, body=data, headers={"Content-Type": "application/json"})
    deadline = time.monotonic() + 30
    while True:
        unread = struct.unpack("i", fcntl.ioctl(conn.sock.fileno(), termios.TIOCOUTQ,
                                                struct.pack("i", 0)))[0]
        if unread == 0:
            return conn
        if time.monotonic() > deadline:
            raise AssertionError("the daemon did not read the request")
        time.sleep(0.0005)


def reply_of(conn):
    """(status, JSON body or None) of a request sent with send_request."""
    r = conn.getresponse()
    data = r.read()
    conn.close()
    return r.status, json.loads(data.decode()) if data else None


class Reply:
    def __init__(self, status, headers, data):
        self.status = status
        self.headers = headers
        self.data = data

    @property
    def json(self):
        return json.loads(self.data.decode()) if self.data else None

    @property
    def error_code(self):
        j = self.json
        return j["error"]["code"] if isinstance(j, dict) and "error" in j else None

    def __repr__(self):
        return "Reply(%d, %r)" % (self.status, self.data[:300])


class BoardChanged(AssertionError):
    pass


class Client:
    """One keep-alive HTTP connection to a broker socket.

    With a guard (a Daemon on the simulated board), every refused or failed
    request (4xx, 5xx) is checked to have left the board as it was: line
    values, directions and holders, EEPROM bytes, UART settings and bytes,
    host actions. A status alone once hid a 404 that drove the wrong line."""

    def __init__(self, path, timeout=10, guard=None):
        self.path = path
        self.conn = UnixHTTPConnection(path, timeout)
        self.guard = guard

    def request(self, method, url, body=None, raw=None, headers=None):
        before = self.guard.board() if self.guard is not None else None
        if before is None:
            return self._request(method, url, body, raw, headers)
        r = self._request(method, url, body, raw, headers)
        if r.status >= 400:
            after = self.guard.board()
            if after != before:
                raise BoardChanged("%s %s answered %d but changed the board:\n%s" % (
                    method, url, r.status, board_diff(before, after)))
        return r

    def _request(self, method, url, body=None, raw=None, headers=None):
        hdrs = dict(headers or {})
        data = None
        if body is not None:
            data = json.dumps(body).encode()
            hdrs.setdefault("Content-Type", "application/json")
        elif raw is not None:
            data = raw
            hdrs.setdefault("Content-Type", "application/octet-stream")
        self.conn.request(method, url, body=data, headers=hdrs)
        r = self.conn.getresponse()
        return Reply(r.status, dict(r.getheaders()), r.read())

    def get(self, url, **kw):
        return self.request("GET", url, **kw)

    def put(self, url, body=None, **kw):
        return self.request("PUT", url, body=body, **kw)

    def post(self, url, body=None, **kw):
        return self.request("POST", url, body=body, **kw)

    def delete(self, url, **kw):
        return self.request("DELETE", url, **kw)

    def stream(self, url, timeout=10):
        """Starts a streaming GET; returns the HTTPResponse to read lines from."""
        self.conn.timeout = timeout
        self.conn.request("GET", url)
        self.stream_sock = self.conn.sock
        return self.conn.getresponse()

    def abort(self):
        """Drops the connection at once, even while another thread reads a stream."""
        sock = getattr(self, "stream_sock", None) or self.conn.sock
        if sock is not None:
            try:
                sock.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
        self.conn.close()

    def close(self):
        self.conn.close()


def board_diff(before, after, where=""):
    """The paths where two board snapshots differ, one per line."""
    if isinstance(before, dict) and isinstance(after, dict):
        out = []
        for k in sorted(set(before) | set(after)):
            out += board_diff(before.get(k), after.get(k), where + "/" + str(k)).splitlines()
        return "\n".join(out)
    if isinstance(before, list) and isinstance(after, list) and len(before) == len(after):
        out = []
        for i, (b, a) in enumerate(zip(before, after)):
            out += board_diff(b, a, "%s[%d]" % (where, i)).splitlines()
        return "\n".join(out)
    return "" if before == after else "%s: %r -> %r" % (where, before, after)


def raw_exchange(path, payload, timeout=5):
    """Sends raw bytes on a fresh connection; returns everything read until close or timeout."""
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.settimeout(timeout)
    s.connect(path)
    try:
        s.sendall(payload)
    except (BrokenPipeError, ConnectionResetError):
        pass  # refused before it read the request: its answer is still there to read
    out = b""
    try:
        while True:
            chunk = s.recv(65536)
            if not chunk:
                break
            out += chunk
            if b"\r\n\r\n" in out and _complete(out):
                break
    except socket.timeout:
        pass
    finally:
        s.close()
    return out


def _complete(out):
    head, _, body = out.partition(b"\r\n\r\n")
    for line in head.split(b"\r\n"):
        if line.lower().startswith(b"content-length:"):
            return len(body) >= int(line.split(b":")[1])
    return False


class Daemon:
    """A real hwbrokerd process on a private runtime and state directory."""

    def __init__(self, args=("--sim",), runtime=None, state=None, env=None, log_level="debug"):
        self.tmp = tempfile.mkdtemp(prefix="hwbtest-")
        _TMP_DIRS.append(self.tmp)
        self.runtime = runtime or os.path.join(self.tmp, "run")
        self.state = state or os.path.join(self.tmp, "state")
        self.args = list(args)
        self.env = env
        self.log_level = log_level
        self.proc = None
        self.log_path = os.path.join(self.tmp, "hwbrokerd.log")
        self._board_client = None
        self.guard_board = "--sim" in self.args

    @property
    def admin_path(self):
        return os.path.join(self.runtime, "admin.sock")

    def socket_path(self, service):
        return os.path.join(self.runtime, "services", service, "hwbroker.sock")

    def start(self, timeout=15):
        notify_path = os.path.join(self.tmp, "notify.sock")
        if os.path.exists(notify_path):
            os.unlink(notify_path)
        notify = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        notify.bind(notify_path)
        notify.settimeout(timeout)
        env = dict(os.environ)
        env["NOTIFY_SOCKET"] = notify_path
        if self.env:
            env.update(self.env)
        cmd = [HWBROKERD, "--runtime-dir", self.runtime, "--state-dir", self.state,
               "--log-level", self.log_level] + self.args
        self.log = open(self.log_path, "ab")
        self.proc = subprocess.Popen(cmd, stdout=self.log, stderr=self.log, env=env)
        try:
            deadline = time.monotonic() + timeout
            while time.monotonic() < deadline:
                msg = notify.recv(4096).decode()
                if "READY=1" in msg:
                    return self
            raise RuntimeError("hwbrokerd did not become ready")
        except Exception:
            self.proc.kill()
            raise RuntimeError("hwbrokerd did not become ready:\n" + self.read_log())
        finally:
            notify.close()

    def read_log(self):
        try:
            with open(self.log_path, "rb") as f:
                return f.read().decode(errors="replace")
        except OSError:
            return ""

    def alive(self):
        return self.proc is not None and self.proc.poll() is None

    def stop(self, sig=signal.SIGTERM, timeout=10):
        """Stops the daemon; returns its exit status."""
        if self.proc is None:
            return None
        if self.proc.poll() is None:
            self.proc.send_signal(sig)
        try:
            rc = self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            rc = self.proc.wait()
        self.proc = None
        self.log.close()
        if self._board_client:
            self._board_client.close()
            self._board_client = None
        return rc

    def board(self):
        """The simulated board as GET /v1/sim/board shows it (None without --sim)."""
        if not self.guard_board or not self.alive():
            return None
        if self._board_client is None:
            self._board_client = Client(self.admin_path)
        try:
            r = self._board_client.get("/v1/sim/board")
        except (OSError, http.client.HTTPException):
            self._board_client.close()
            self._board_client = Client(self.admin_path)
            r = self._board_client.get("/v1/sim/board")
        assert r.status == 200, r
        return r.json

    def admin(self):
        return Client(self.admin_path, guard=self)

    def service(self, name):
        return Client(self.socket_path(name), guard=self)

    def register(self, name, compose):
        c = self.admin()
        try:
            r = c.put("/v1/services/" + name, body=compose)
        finally:
            c.close()
        if r.status not in (200, 201):
            raise AssertionError("register %s failed: %r" % (name, r))
        return r.json

    def cli(self, *args, service=None, admin=False, input=None, check=False, timeout=30):
        cmd = [HWBROKER_CLI]
        if admin:
            cmd += ["--socket", self.admin_path, "--admin"]
        elif service:
            cmd += ["--socket", self.socket_path(service)]
        cmd += list(args)
        return subprocess.run(cmd, input=input, capture_output=True, timeout=timeout, check=check)


class DaemonTestCase(unittest.TestCase):
    """Starts one daemon per test; fails the test if the daemon died or leaked (ASan)."""

    daemon_args = ("--sim",)

    def setUp(self):
        self.daemon = Daemon(self.daemon_args).start()

    def tearDown(self):
        alive = self.daemon.alive()
        rc = self.daemon.stop()
        log = self.daemon.read_log()
        if not alive:
            self.fail("hwbrokerd died during the test:\n" + log[-4000:])
        if rc != 0 or "ERROR: AddressSanitizer" in log or "runtime error:" in log:
            self.fail("hwbrokerd exited with %r:\n%s" % (rc, log[-4000:]))
