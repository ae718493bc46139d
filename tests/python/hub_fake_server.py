"""A Hugging Face hub on loopback, for download tests: it serves repositories the way the hub's
API and file endpoints answer huggingface_hub and our tool.

- GET  /api/models/{repo}/revision/{rev}     the commit and its files (siblings; size, blobId and
                                              lfs {sha256, size} with ?blobs=true)
- GET  /api/models/{repo}/tree/{rev}          the same files as huggingface_hub's tree listing
- HEAD/GET /{repo}/resolve/{rev}/{path}       a small file: 200 with ETag (git blob sha1) and
                                              X-Repo-Commit; an LFS file: 302 to /lfs/... on another
                                              host name (localhost rather than 127.0.0.1, as the hub
                                              redirects to its CDN) with X-Linked-Etag (sha256),
                                              X-Linked-Size and X-Repo-Commit
- GET  /lfs/{sha256}                          the bytes, with Range requests (206)

Errors carry X-Error-Code as the hub's do (RepoNotFound, RevisionNotFound, EntryNotFound,
GatedRepo). A gated repository's files answer 401 without `Authorization: Bearer <its token>`;
a private repository answers 401 RepoNotFound to everything without it, as the hub does.

Faults for tests: `pause_after[sha256] = n` sends n bytes of that blob and then waits until
`release` is set before the rest, so a test can kill the client mid-file; `cut_after[sha256] = n` closes the
connection after n bytes, once; `corrupt` (a set of sha256) flips a byte of what is sent;
`busy_once` (a set of sha256) answers the first GET with 503.
Every request is logged in `requests` as (method, path, headers).
"""
import hashlib
import http.server
import json
import threading
import urllib.parse


def git_blob_sha1(data):
    return hashlib.sha1(b"blob %d\0" % len(data) + data).hexdigest()


class Repo:
    def __init__(self, repo_id, files, revisions=("main",), lfs_suffixes=(".safetensors", ".gguf", ".bin"), token=None,
                 private=False):
        self.repo_id = repo_id
        # A gated repository (token set) is described to anyone but serves files only with the
        # token, as on the hub; a private one (private=True) answers nothing without it.
        self.private = private
        self.listed_size = {}  # path -> the size the API claims instead of the real one
        self.files = dict(files)  # path -> bytes
        self.lfs = {p for p in self.files if p.endswith(tuple(lfs_suffixes))}
        self.token = token
        # Hashed once: a listing or a HEAD must not cost the server a pass over a large file.
        self._sha256 = {p: hashlib.sha256(d).hexdigest() for p, d in self.files.items()}
        self._sha1 = {p: git_blob_sha1(d) for p, d in self.files.items()}
        # One commit per revision name; a commit hash also works as a revision.
        self.commits = {rev: hashlib.sha1(f"{repo_id}@{rev}".encode()).hexdigest() for rev in revisions}

    def commit_for(self, revision):
        if revision in self.commits:
            return self.commits[revision]
        if revision in self.commits.values():
            return revision
        return None

    def sha256(self, path):
        return self._sha256[path]

    def blob_id(self, path):
        return self._sha1[path]

    def siblings(self, blobs):
        out = []
        for path in sorted(self.files):
            entry = {"rfilename": path}
            if blobs:
                data = self.files[path]
                size = self.listed_size.get(path, len(data))
                entry["size"] = size
                entry["blobId"] = self.blob_id(path)
                if path in self.lfs:
                    entry["lfs"] = {"sha256": self.sha256(path), "size": size, "pointerSize": 134}
            out.append(entry)
        return out

    def tree(self):
        out = []
        for path in sorted(self.files):
            data = self.files[path]
            entry = {"type": "file", "path": path, "size": len(data), "oid": self.blob_id(path)}
            if path in self.lfs:
                entry["lfs"] = {"oid": self.sha256(path), "size": len(data), "pointerSize": 134}
            out.append(entry)
        return out


class FakeHub:
    def __init__(self):
        self.repos = {}
        self.requests = []
        self.pause_after = {}
        self.cut_after = {}
        self.corrupt = set()
        self.busy_once = set()  # sha256 of blobs answered once with 503 (Retry-After: 0)
        self.release = threading.Event()
        self.lock = threading.Lock()
        hub = self

        class Handler(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args):
                pass

            def do_HEAD(self):
                hub._handle(self, head=True)

            def do_GET(self):
                hub._handle(self, head=False)

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.port = self.server.server_address[1]
        self.endpoint = f"http://127.0.0.1:{self.port}"
        # A short poll interval: shutdown() waits for it, once per test.
        self.thread = threading.Thread(target=self.server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)

    def add(self, repo):
        self.repos[repo.repo_id] = repo
        return repo

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.release.set()
        self.server.shutdown()
        self.server.server_close()

    def requests_for(self, fragment, method=None):
        with self.lock:
            return [r for r in self.requests if fragment in r[1] and (method is None or r[0] == method)]

    # --- request handling -------------------------------------------------------------------

    def _error(self, h, status, code, message, head):
        body = json.dumps({"error": message}).encode()
        h.send_response(status)
        h.send_header("Content-Type", "application/json")
        h.send_header("X-Error-Code", code)
        h.send_header("X-Error-Message", message)
        h.send_header("Content-Length", str(len(body)))
        h.end_headers()
        if not head:
            h.wfile.write(body)

    def _json(self, h, value, head):
        body = json.dumps(value).encode()
        h.send_response(200)
        h.send_header("Content-Type", "application/json")
        h.send_header("Content-Length", str(len(body)))
        h.end_headers()
        if not head:
            h.wfile.write(body)

    def _find_repo(self, parts):
        """(repo, rest of the path) for a path starting with org/name."""
        if len(parts) < 2:
            return None, []
        return self.repos.get(f"{parts[0]}/{parts[1]}"), parts[2:]

    def _authorized(self, h, repo):
        return repo.token is None or h.headers.get("Authorization") == f"Bearer {repo.token}"

    def _handle(self, h, head):
        url = urllib.parse.urlsplit(h.path)
        with self.lock:
            self.requests.append((h.command, url.path, dict(h.headers)))
        parts = [urllib.parse.unquote(p) for p in url.path.split("/")[1:]]
        if parts[:2] == ["api", "models"]:
            return self._api(h, parts[2:], urllib.parse.parse_qs(url.query), head)
        if parts[:1] == ["lfs"] and len(parts) == 2:
            return self._lfs(h, parts[1], head)
        repo, rest = self._find_repo(parts)
        if repo is None:
            return self._error(h, 404, "RepoNotFound", "Repository not found", head)
        if not self._authorized(h, repo):
            return self._error(h, 401, "GatedRepo", f"Access to model {repo.repo_id} is restricted", head)
        if len(rest) < 3 or rest[0] != "resolve":
            return self._error(h, 404, "EntryNotFound", "Not found", head)
        commit = repo.commit_for(rest[1])
        if commit is None:
            return self._error(h, 404, "RevisionNotFound", "Revision not found", head)
        path = "/".join(rest[2:])
        if path not in repo.files:
            return self._error(h, 404, "EntryNotFound", "Entry not found", head)
        data = repo.files[path]
        if path in repo.lfs:
            sha = repo.sha256(path)
            h.send_response(302)
            h.send_header("Location", f"http://localhost:{self.port}/lfs/{sha}")
            h.send_header("X-Repo-Commit", commit)
            h.send_header("X-Linked-Etag", f'"{sha}"')
            h.send_header("X-Linked-Size", str(len(data)))
            h.send_header("ETag", f'"{repo.blob_id(path)}"')
            h.send_header("Content-Length", "0")
            h.end_headers()
            return
        self._send_bytes(h, data, repo.blob_id(path), head, extra={"X-Repo-Commit": commit})

    def _api(self, h, parts, query, head):
        repo, rest = self._find_repo(parts)
        if repo is None or (repo.private and not self._authorized(h, repo)):
            return self._error(h, 401 if repo else 404, "RepoNotFound", "Repository not found", head)
        if len(rest) < 2 or rest[0] not in ("revision", "tree"):
            return self._error(h, 404, "EntryNotFound", "Not found", head)
        commit = repo.commit_for(rest[1])
        if commit is None:
            return self._error(h, 404, "RevisionNotFound", "Revision not found", head)
        if rest[0] == "tree":
            return self._json(h, repo.tree(), head)
        blobs = query.get("blobs", ["false"])[0].lower() == "true"
        return self._json(h, {"_id": "0", "id": repo.repo_id, "modelId": repo.repo_id, "sha": commit,
                              "private": repo.token is not None, "gated": "manual" if repo.token else False,
                              "disabled": False, "tags": [], "siblings": repo.siblings(blobs)}, head)

    def _lfs(self, h, sha, head):
        if sha in self.busy_once and not head:
            self.busy_once.discard(sha)
            h.send_response(503)
            h.send_header("Retry-After", "0")
            h.send_header("Content-Length", "0")
            h.end_headers()
            return
        for repo in self.repos.values():
            for path in repo.lfs:
                if repo.sha256(path) == sha:
                    return self._send_bytes(h, repo.files[path], sha, head)
        return self._error(h, 404, "EntryNotFound", "Not found", head)

    def _send_bytes(self, h, data, etag, head, extra=None):
        start = 0
        status = 200
        rng = h.headers.get("Range")
        if rng and rng.startswith("bytes=") and rng.endswith("-"):
            start = int(rng[len("bytes="):-1])
            if start >= len(data):
                h.send_response(416)
                h.send_header("Content-Range", f"bytes */{len(data)}")
                h.send_header("Content-Length", "0")
                h.end_headers()
                return
            status = 206
        body = data[start:]
        if etag in self.corrupt and body:
            body = bytes([body[0] ^ 0xFF]) + body[1:]
        h.send_response(status)
        h.send_header("ETag", f'"{etag}"')
        h.send_header("Accept-Ranges", "bytes")
        h.send_header("Content-Length", str(len(body)))
        if status == 206:
            h.send_header("Content-Range", f"bytes {start}-{len(data) - 1}/{len(data)}")
        for k, v in (extra or {}).items():
            h.send_header(k, v)
        h.end_headers()
        if head:
            return
        pause = self.pause_after.get(etag)
        cut = self.cut_after.pop(etag, None)
        try:
            if pause is not None and start < pause:
                h.wfile.write(body[:pause - start])
                h.wfile.flush()
                self.release.wait(30)
                body = body[pause - start:]
            if cut is not None:
                h.wfile.write(body[:cut])
                h.wfile.flush()
                h.close_connection = True
                return
            for i in range(0, len(body), 1 << 20):
                h.wfile.write(body[i:i + (1 << 20)])
        except (BrokenPipeError, ConnectionResetError):  # the client was killed
            h.close_connection = True
