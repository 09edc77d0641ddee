"""Two small state servers speaking Terraform's http backend protocol, each following one
reference exactly, to test crmform's http backend against (no real one installs here).

- TerraformServer follows Terraform's own test server for its http backend
  (internal/backend/remote-state/http/server_test.go, `httpServer`): states under
  /state/<name>; GET answers the state or 404; POST stores the body and answers 200 (it
  ignores ?ID); DELETE removes it; LOCK stores the body as the lock and answers 200, or
  answers 423 with the held lock's body; UNLOCK reads the ID from the JSON body and
  answers 409 (with the held lock's body) when it differs, 409 when nothing is locked,
  else removes the lock and answers 200.
- GitLabServer follows GitLab's Terraform state API (lib/api/terraform/state.rb and
  app/services/terraform/remote_state_handler.rb): /api/v4/projects/<id>/terraform/state/
  <name>[/lock], HTTP basic auth (any user name, the token as password; else 401). GET: 404
  for a state never created, 204 for one without content, else 200. POST stores the body
  (204 for an empty one) if the lock matches: no lock and no ?ID, or ?ID equal to the lock's
  id, else 409. POST .../lock needs the seven LockInfo strings (else 400); a held lock gives
  409; either way the answer is the lock as GitLab builds it: the asker's Operation, Info,
  Version and Path, with the holder's ID, Who (the holder's user name) and Created.
  DELETE .../lock without an ID unlocks whatever is held (force-unlock); with one, only a
  matching lock (else 409); 200 on success. The ID is read from the query or the JSON body
  (Grape merges both).

Both listen on 127.0.0.1 at a free port, in a thread, until stop(). `fail_next(method,
how)` injects one fault into the next request of that method: "drop" closes the connection
without an answer and without doing anything, "drop-after" does the work and then closes
the connection without an answer, "500" answers 500 without doing anything.
"""

from __future__ import annotations

import base64
import json
import threading
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

LOCK_KEYS = ("ID", "Operation", "Info", "Who", "Version", "Created", "Path")


class _Server(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, handler: type[BaseHTTPRequestHandler]) -> None:
        super().__init__(("127.0.0.1", 0), handler)
        self.data: dict[str, bytes | None] = {}  # None: the state exists without content
        self.locks: dict[str, bytes] = {}
        self.faults: dict[str, list[str]] = {}
        self.requests: list[tuple[str, str, dict[str, str]]] = []
        self.mutex = threading.Lock()
        self._thread = threading.Thread(target=self.serve_forever, kwargs={"poll_interval": 0.05})
        self._thread.daemon = True

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}"

    def start(self) -> _Server:
        self._thread.start()
        return self

    def stop(self) -> None:
        self.shutdown()
        self.server_close()
        self._thread.join(10)

    def fail_next(self, method: str, how: str, times: int = 1) -> None:
        with self.mutex:
            self.faults.setdefault(method, []).extend([how] * times)


class _Handler(BaseHTTPRequestHandler):
    server: _Server
    protocol_version = "HTTP/1.1"

    def log_message(self, format: str, *args: object) -> None:  # quiet
        pass

    def _body(self) -> bytes:
        length = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(length) if length else b""

    def _answer(self, status: int, body: bytes = b"") -> None:
        self.send_response(status)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if body:
            self.wfile.write(body)

    def _dispatch(self) -> None:
        body = self._body()
        with self.server.mutex:
            self.server.requests.append((self.command, self.path, dict(self.headers)))
            faults = self.server.faults.get(self.command) or []
            fault = faults.pop(0) if faults else None
        if fault == "drop":
            self.close_connection = True
            self.connection.close()
            return
        if fault == "500":
            self._answer(500)
            return
        with self.server.mutex:
            status, answer = self.handle_state(self.command, urlsplit(self.path), body)
        if fault == "drop-after":
            self.close_connection = True
            self.connection.close()
            return
        self._answer(status, answer)

    def handle_state(self, method, url, body) -> tuple[int, bytes]:
        raise NotImplementedError

    do_GET = do_POST = do_PUT = do_DELETE = do_LOCK = do_UNLOCK = _dispatch


class _TerraformHandler(_Handler):
    """Terraform's server_test.go `httpServer`, request for request (see the module)."""

    def handle_state(self, method, url, body):
        parts = url.path.split("/", 2)
        resource = parts[2] if len(parts) == 3 and parts[1] == "state" else ""
        data, locks = self.server.data, self.server.locks
        if method == "GET":
            state = data.get(resource)
            return (200, state or b"") if resource in data else (404, b"")
        if method == "POST":
            data[resource] = body
            return 200, b""
        if method == "DELETE":
            data.pop(resource, None)
            return 200, b""
        if method == "LOCK":
            if resource in locks:
                return 423, locks[resource]
            locks[resource] = body
            return 200, b""
        if method == "UNLOCK":
            try:
                asked = json.loads(body)["ID"]
            except (ValueError, KeyError, TypeError):
                return 500, b""
            if resource not in locks:
                return 409, b""
            existing = locks[resource]
            if json.loads(existing)["ID"] != asked:
                return 409, existing
            del locks[resource]
            return 200, existing
        return 200, b""  # server_test.go's switch has no default: other methods get 200


class _GitLabHandler(_Handler):
    """GitLab's Terraform state API (see the module)."""

    token = "glpat-test-token"

    def handle_state(self, method, url, body):
        user = self._user()
        if user is None:
            return 401, b'{"message":"401 Unauthorized"}'
        path = url.path.rstrip("/")
        is_lock = path.endswith("/lock")
        name = (path[: -len("/lock")] if is_lock else path).rsplit("/terraform/state/", 1)[-1]
        params = {k: v[-1] for k, v in parse_qs(url.query).items()}
        if body and self.headers.get("Content-Type", "").startswith("application/json"):
            try:
                doc = json.loads(body)
            except ValueError:
                doc = None
            if isinstance(doc, dict):
                params.update({k: v for k, v in doc.items() if isinstance(v, str)})
        lock_id = params.get("ID")
        data, locks = self.server.data, self.server.locks
        if not is_lock:
            if method == "GET":
                if name not in data:
                    return 404, b'{"message":"404 Not Found"}'
                return (200, data[name] or b"") if data[name] else (204, b"")
            if method == "POST":
                if not body:
                    return 204, b""
                if not self._lock_matches(name, lock_id):
                    return 409, b'{"message":"409 Conflict"}'
                data[name] = body
                return 200, b""
            if method == "DELETE":
                if not self._lock_matches(name, lock_id):
                    return 409, b'{"message":"409 Conflict"}'
                data.pop(name, None)
                locks.pop(name, None)
                return 200, b""
            return 405, b""
        if method == "POST":
            if any(not isinstance(params.get(k), str) for k in LOCK_KEYS):
                keys = ", ".join(LOCK_KEYS)
                missing = json.dumps({"error": f"{keys} are missing"}).encode()
                return 400, missing
            data.setdefault(name, None)  # create_or_find!
            status = 409 if name in locks else 200
            if status == 200:
                now = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.000Z")
                locks[name] = json.dumps({"ID": lock_id, "Who": user, "Created": now}).encode()
            held = json.loads(locks[name])
            answer = {k: params[k] for k in ("Operation", "Info", "Version", "Path")}
            answer.update(ID=held["ID"], Who=held["Who"], Created=held["Created"])
            return status, json.dumps(answer).encode()
        if method == "DELETE":
            if name not in data:
                return 404, b'{"message":"404 Not Found"}'
            if lock_id is not None and not self._lock_matches(name, lock_id):
                return 409, b""
            locks.pop(name, None)
            return 200, b""
        return 405, b""

    def _user(self) -> str | None:
        scheme, _, value = (self.headers.get("Authorization") or "").partition(" ")
        if scheme != "Basic":
            return None
        try:
            user, _, password = base64.b64decode(value).decode().partition(":")
        except ValueError:
            return None
        return user if password == self.token else None

    def _lock_matches(self, name: str, lock_id: str | None) -> bool:
        held = json.loads(self.server.locks[name])["ID"] if name in self.server.locks else None
        if held is None and lock_id is None:
            return True
        return (held or "") == (lock_id or "")


def terraform_server() -> _Server:
    return _Server(_TerraformHandler).start()


def gitlab_server() -> _Server:
    return _Server(_GitLabHandler).start()
