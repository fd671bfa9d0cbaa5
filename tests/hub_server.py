"""In-memory Hugging Face Hub stand-in for tests (standard library only).

Speaks just enough of the Hub HTTP protocol for the real ``huggingface_hub`` (2.4) and
``datasets`` (5.2) clients to push and pull model and dataset repos with
``HF_ENDPOINT=<HubServer.url>`` and ``HF_HUB_DISABLE_XET=1`` (plain LFS "basic" transfer,
no Xet). Files larger than ``LFS_THRESHOLD`` bytes or with a NUL byte in their first
512 bytes go through LFS, as on the Hub for big/binary files.

Fault injection (``HubServer(fault=...)`` or assign ``server.fault`` at run time):

* ``"hang"``: read the request and answer nothing while the fault lasts: cleared, the requests
  held are answered as usual (a Hub that was stuck comes back); ``stop()`` drops them.
  ``server.held`` counts the requests held now.
* ``"error500"``: every request gets HTTP 500.
* ``"truncate"``: file downloads (``/resolve/``) announce the full Content-Length but the
  connection is closed once the first half of the file (absolute offset) has been sent,
  so resumed ranged requests make no progress and the client gives up.

"Hub down" is a port with nothing listening: see ``free_port()``.
"""

from __future__ import annotations

import argparse
import base64
import contextlib
import hashlib
import json
import os
import re
import socket
import threading
import traceback
from dataclasses import dataclass, field
from datetime import datetime, timezone
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

LFS_THRESHOLD = 10_000
FAULTS = (None, "hang", "error500", "truncate")
_TYPES = {"models": "model", "datasets": "dataset"}
_PREFIX = {"model": "", "dataset": "datasets/"}
# What may follow the repo id in /api/{type}s/{repo_id}/..., to tell "name" from "namespace/name".
_API_ACTIONS = {
    "revision",
    "tree",
    "paths-info",
    "preupload",
    "commit",
    "refs",
    "commits",
    "parquet",
}


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on (for "Hub down" tests)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def client_env(endpoint: str, home: Path) -> dict[str, str]:
    """Environment for a Hub client process using ``endpoint``, with empty caches under ``home``."""
    return {
        **os.environ,
        "HF_ENDPOINT": endpoint,
        "HF_HUB_DISABLE_XET": "1",
        "HF_TOKEN": "dummy",
        "HF_HOME": str(home),
        "HF_HUB_CACHE": str(home / "hub"),
        "HF_DATASETS_CACHE": str(home / "datasets"),
        "HF_HUB_DISABLE_TELEMETRY": "1",
    }


def _now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="milliseconds").replace("+00:00", "Z")


@dataclass(frozen=True)
class Blob:
    """File content plus the hashes the client checks (git oid, LFS sha256)."""

    data: bytes
    lfs: bool

    @property
    def sha256(self) -> str:
        return hashlib.sha256(self.data).hexdigest()

    @property
    def pointer(self) -> bytes:
        """Git LFS pointer file, whose git oid the Hub reports for LFS files."""
        spec = "version https://git-lfs.github.com/spec/v1"
        return f"{spec}\noid sha256:{self.sha256}\nsize {len(self.data)}\n".encode()

    @property
    def git_oid(self) -> str:
        stored = self.pointer if self.lfs else self.data
        return hashlib.sha1(b"blob %d\0" % len(stored) + stored).hexdigest()

    @property
    def etag(self) -> str:
        return self.sha256 if self.lfs else self.git_oid


@dataclass
class Commit:
    sha: str
    title: str
    date: str
    tree: dict[str, Blob]


@dataclass
class Repo:
    repo_type: str
    repo_id: str
    created: str = field(default_factory=_now)
    commits: dict[str, Commit] = field(default_factory=dict)
    head: str = ""

    def commit(self, title: str, tree: dict[str, Blob]) -> Commit:
        sha = os.urandom(20).hex()
        self.commits[sha] = Commit(sha, title, _now(), tree)
        self.head = sha
        return self.commits[sha]

    def resolve(self, revision: str) -> Commit:
        """Branch ``main`` or any commit sha this server made; the Hub's 404 otherwise."""
        sha = self.head if revision == "main" else revision
        if sha not in self.commits:
            raise HubError(404, "RevisionNotFound", f"Invalid rev id: {revision}")
        return self.commits[sha]


def _repo_of(segs: list[str]) -> tuple[str, str]:
    """``(repo_type, repo_id)`` of a web path prefix such as ``datasets/u/d`` or ``u/m``."""
    if segs[0] == "datasets":
        return "dataset", "/".join(segs[1:])
    return "model", "/".join(segs)


class HubError(Exception):
    """An error answer; ``code`` goes to ``X-Error-Code``, which the client maps to an exception."""

    def __init__(
        self, status: int, code: str | None, message: str, headers: dict[str, str] | None = None
    ) -> None:
        super().__init__(message)
        self.status, self.code, self.message, self.headers = status, code, message, headers or {}


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    block_on_close = False
    hub: HubServer


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: _Server
    body: bytes
    query: dict[str, str]

    def log_message(self, format: str, *args: Any) -> None:  # keep test output quiet
        pass

    def do_GET(self) -> None:
        self._dispatch()

    do_HEAD = do_POST = do_PUT = do_GET

    # -- plumbing -----------------------------------------------------------------------------

    def _read_body(self) -> bytes:
        if self.headers.get("Transfer-Encoding", "").lower() != "chunked":
            return self.rfile.read(int(self.headers.get("Content-Length") or 0))
        chunks = []
        while size := int(self.rfile.readline().split(b";")[0], 16):
            chunks.append(self.rfile.read(size))
            self.rfile.readline()
        while self.rfile.readline() not in (b"\r\n", b"\n", b""):  # trailers
            pass
        return b"".join(chunks)

    def _send(
        self,
        status: int,
        body: bytes = b"",
        headers: dict[str, str] | None = None,
        cut: int | None = None,
    ) -> None:
        """Answer with ``body``; with ``cut``, send only ``body[:cut]`` and drop the connection."""
        headers = {
            "Content-Type": "application/json",
            "Content-Length": str(len(body)),
            **(headers or {}),
        }
        try:
            self.send_response(status)
            for key, value in headers.items():
                self.send_header(key, value)
            self.end_headers()
            if self.command == "HEAD":  # no body to cut: the connection stays usable
                return
            self.wfile.write(body[:cut])
        except (BrokenPipeError, ConnectionResetError):  # the client left, e.g. a held request's
            cut = 0
        self.close_connection = self.close_connection or cut is not None

    def _json(self, obj: Any, status: int = 200, headers: dict[str, str] | None = None) -> None:
        self._send(status, json.dumps(obj).encode(), headers)

    def _error(self, err: HubError) -> None:
        headers = {"X-Error-Message": err.message, **err.headers}
        if err.code:
            headers["X-Error-Code"] = err.code
        self._json({"error": err.message}, err.status, headers)

    def _dispatch(self) -> None:
        hub = self.server.hub
        self.body = self._read_body()
        if hub.fault == "hang":
            with hub._lock:
                hub.held += 1
            try:
                while hub.fault == "hang":
                    if hub._stopping.wait(0.05):
                        self.close_connection = True
                        return
            finally:
                with hub._lock:
                    hub.held -= 1
        try:
            if hub.fault == "error500":
                raise HubError(500, None, "Internal Error (injected fault)")
            self._route(hub)
        except HubError as err:
            self._error(err)
        except Exception as exc:
            traceback.print_exc()  # a bug here: show it, and answer so the client fails fast
            self._error(HubError(500, None, f"hub_server bug: {exc!r}"))

    # -- routing ------------------------------------------------------------------------------

    def _route(self, hub: HubServer) -> None:
        url = urlsplit(self.path)
        self.query = {k: v[-1] for k, v in parse_qs(url.query).items()}
        # Split before unquoting: revisions and tree paths arrive with "/" encoded as %2F.
        segs = [unquote(s) for s in url.path.strip("/").split("/")]
        method = self.command
        if segs[:2] == ["api", "whoami-v2"]:
            return self._whoami()
        if segs[:3] == ["api", "repos", "create"] and method == "POST":
            return self._create_repo(hub)
        if segs[:2] == ["api", "agent-harnesses"]:  # fetched by huggingface_hub to detect AI agents
            return self._json({"standardEnvVars": [], "harnesses": {}})
        if segs[:2] == ["api", "validate-yaml"]:
            return self._json({"errors": [], "warnings": []})
        if segs[0] == "lfs-objects":
            return self._lfs_object(hub, segs[1], verify=len(segs) > 2)
        if segs[0] == "api" and len(segs) > 2 and segs[1] in _TYPES:
            return self._api(hub, _TYPES[segs[1]], segs[2:])
        if "resolve" in segs and method in ("GET", "HEAD"):
            return self._resolve(hub, segs)
        if url.path.endswith(".git/info/lfs/objects/batch") and method == "POST":
            return self._lfs_batch(hub, segs)
        raise HubError(404, None, f"Not found: {method} {url.path}")

    def _api(self, hub: HubServer, repo_type: str, segs: list[str]) -> None:
        split = 2 if len(segs) > 1 and segs[1] not in _API_ACTIONS else 1
        repo = hub._repo(repo_type, "/".join(segs[:split]))
        action, args = (
            (segs[split], segs[split + 1 :]) if len(segs) > split else ("revision", ["main"])
        )
        method = self.command
        if action == "revision" and method == "GET":
            return self._json(self._repo_info(repo, repo.resolve(args[0])))
        if action == "tree" and method == "GET":
            commit = repo.resolve(args[0])
            recursive = self.query.get("recursive", "").lower() == "true"
            return self._json(self._tree(commit, "/".join(args[1:]).strip("/"), recursive))
        if action == "paths-info" and method == "POST":
            return self._paths_info(repo.resolve(args[0]))
        if action == "preupload" and method == "POST":
            return self._preupload(repo.resolve(args[0]))
        if action == "commit" and method == "POST":
            return self._commit(hub, repo, args[0])
        if action == "refs" and method == "GET":
            ref = {"name": "main", "ref": "refs/heads/main", "targetCommit": repo.head}
            return self._json({"branches": [ref], "converts": [], "tags": [], "pullRequests": []})
        raise HubError(404, None, f"Not found: {method} {self.path}")

    # -- endpoints ----------------------------------------------------------------------------

    def _whoami(self) -> None:
        if not self.headers.get("Authorization", "").startswith("Bearer "):
            raise HubError(401, None, "Invalid credentials in Authorization header")
        token = {"displayName": "test", "role": "write"}
        self._json(
            {
                "type": "user",
                "name": "u",
                "fullname": "Test User",
                "orgs": [],
                "auth": {"accessToken": token},
            }
        )

    def _create_repo(self, hub: HubServer) -> None:
        payload = json.loads(self.body)
        repo_type = payload.get("type") or "model"
        repo_id = "/".join(p for p in (payload.get("organization"), payload["name"]) if p)
        url = f"{hub.url}/{_PREFIX[repo_type]}{repo_id}"
        with hub._lock:
            if (repo_type, repo_id) in hub._repos:
                return self._json({"error": "You already created this repo", "url": url}, 409)
            repo = hub._repos[(repo_type, repo_id)] = Repo(repo_type, repo_id)
            repo.commit("initial commit", {})
        self._json({"url": url, "name": repo_id, "id": repo_id})

    def _repo_info(self, repo: Repo, commit: Commit) -> dict[str, Any]:
        siblings = []
        for path, blob in sorted(commit.tree.items()):
            sibling: dict[str, Any] = {
                "rfilename": path,
                "size": len(blob.data),
                "blobId": blob.git_oid,
            }
            if blob.lfs:
                sibling["lfs"] = {
                    "sha256": blob.sha256,
                    "size": len(blob.data),
                    "pointerSize": len(blob.pointer),
                }
            siblings.append(sibling)
        return {
            "id": repo.repo_id,
            "author": repo.repo_id.split("/")[0],
            "sha": commit.sha,
            "private": False,
            "gated": False,
            "disabled": False,
            "downloads": 0,
            "likes": 0,
            "tags": [],
            "createdAt": repo.created,
            "lastModified": commit.date,
            "siblings": siblings,
        }

    def _entry(self, commit: Commit, path: str) -> dict[str, Any]:
        """A tree / paths-info entry for a file or (if ``path`` is not a file) a folder."""
        entry: dict[str, Any]
        if blob := commit.tree.get(path):
            entry = {"type": "file", "oid": blob.git_oid, "size": len(blob.data), "path": path}
            if blob.lfs:
                entry["lfs"] = {
                    "oid": blob.sha256,
                    "size": len(blob.data),
                    "pointerSize": len(blob.pointer),
                }
        else:
            entry = {
                "type": "directory",
                "oid": hashlib.sha1(f"{commit.sha}:{path}".encode()).hexdigest(),
            }
            entry.update(size=0, path=path)
        if self.query.get("expand", "").lower() == "true":
            entry["lastCommit"] = {"id": commit.sha, "title": commit.title, "date": commit.date}
        return entry

    def _tree(self, commit: Commit, base: str, recursive: bool) -> list[dict[str, Any]]:
        prefix = f"{base}/" if base else ""
        paths: set[str] = set()
        for path in commit.tree:
            if not path.startswith(prefix):
                continue
            parts = path[len(prefix) :].split("/")
            if recursive:
                paths.update(prefix + "/".join(parts[:i]) for i in range(1, len(parts) + 1))
            else:
                paths.add(prefix + parts[0])
        if base and not paths:
            raise HubError(
                404, "EntryNotFound", f"{base} does not exist", {"X-Repo-Commit": commit.sha}
            )
        return [self._entry(commit, path) for path in sorted(paths)]

    def _paths_info(self, commit: Commit) -> None:
        form = parse_qs(self.body.decode())
        self.query["expand"] = form.get("expand", ["false"])[-1]
        found = [
            p
            for p in (p.strip("/") for p in form.get("paths", []))
            if p in commit.tree or any(f.startswith(f"{p}/") for f in commit.tree)
        ]
        self._json([self._entry(commit, path) for path in found])

    def _preupload(self, commit: Commit) -> None:
        files = []
        for f in json.loads(self.body)["files"]:
            binary = b"\0" in base64.b64decode(f.get("sample", ""))
            mode = "lfs" if f["size"] > LFS_THRESHOLD or binary else "regular"
            old = commit.tree.get(f["path"])
            oid = None if old is None else old.etag
            files.append({"path": f["path"], "uploadMode": mode, "shouldIgnore": False, "oid": oid})
        self._json({"files": files})

    def _commit(self, hub: HubServer, repo: Repo, revision: str) -> None:
        if revision != "main":
            raise HubError(
                404, "RevisionNotFound", f"Only branch 'main' can be committed to, not {revision}"
            )
        ops = [json.loads(line) for line in self.body.splitlines() if line.strip()]
        with hub._lock:
            tree = dict(repo.commits[repo.head].tree)
            header = next(op["value"] for op in ops if op["key"] == "header")
            if header.get("parentCommit") not in (None, repo.head):
                raise HubError(
                    412, None, "A commit has happened since. Please refresh and try again."
                )
            for op in ops:
                key, value = op["key"], op["value"]
                path = value.get("path", "")
                if key == "file":
                    tree[path] = Blob(base64.b64decode(value["content"]), lfs=False)
                elif key == "lfsFile":
                    if value["oid"] not in hub._lfs:
                        raise HubError(
                            400, None, f"LFS object {value['oid']} of {path} was never uploaded"
                        )
                    tree[path] = Blob(hub._lfs[value["oid"]], lfs=True)
                elif key == "deletedFile":
                    if tree.pop(path, None) is None:
                        raise HubError(
                            404, "EntryNotFound", f"A file with this name doesn't exist: {path}"
                        )
                elif key == "deletedFolder":
                    folder = path.rstrip("/") + "/"
                    tree = {
                        name: blob for name, blob in tree.items() if not name.startswith(folder)
                    }
                elif key != "header":
                    raise HubError(400, None, f"Unsupported commit operation {key}")
            sha = repo.commit(header.get("summary", ""), tree).sha
        commit_url = f"{hub.url}/{_PREFIX[repo.repo_type]}{repo.repo_id}/commit/{sha}"
        self._json(
            {"success": True, "commitOid": sha, "commitUrl": commit_url, "pullRequestUrl": None}
        )

    def _lfs_batch(self, hub: HubServer, segs: list[str]) -> None:
        segs = segs[:-4]  # "[datasets/]{repo}.git/info/lfs/objects/batch"
        segs[-1] = segs[-1].removesuffix(".git")
        hub._repo(*_repo_of(segs))
        objects = []
        for obj in json.loads(self.body)["objects"]:
            if obj["oid"] not in hub._lfs:
                href = f"{hub.url}/lfs-objects/{obj['oid']}"
                obj = {
                    **obj,
                    "actions": {"upload": {"href": href}, "verify": {"href": f"{href}/verify"}},
                }
            objects.append({**obj, "authenticated": True})
        self._json(
            {"transfer": "basic", "objects": objects},
            headers={"Content-Type": "application/vnd.git-lfs+json"},
        )

    def _lfs_object(self, hub: HubServer, oid: str, verify: bool) -> None:
        if verify:
            if oid not in hub._lfs:
                raise HubError(404, None, f"LFS object {oid} not found")
            return self._json({"success": True})
        if self.command != "PUT" or hashlib.sha256(self.body).hexdigest() != oid:
            raise HubError(400, None, f"Bad upload of LFS object {oid}")
        with hub._lock:
            hub._lfs[oid] = self.body
        self._send(200)

    def _resolve(self, hub: HubServer, segs: list[str]) -> None:
        at = segs.index("resolve")
        repo = hub._repo(*_repo_of(segs[:at]))
        rev_len = 3 if segs[at + 1] == "refs" else 1  # HfFileSystem sends "refs/x/y" unquoted
        commit = repo.resolve("/".join(segs[at + 1 : at + 1 + rev_len]))
        path = "/".join(segs[at + 1 + rev_len :])
        if (blob := commit.tree.get(path)) is None:
            raise HubError(
                404, "EntryNotFound", f"Entry not found: {path}", {"X-Repo-Commit": commit.sha}
            )
        size = len(blob.data)
        headers = {
            "Content-Type": "application/octet-stream",
            "X-Repo-Commit": commit.sha,
            "ETag": f'"{blob.etag}"',
            "Accept-Ranges": "bytes",
        }
        if blob.lfs:
            headers.update({"X-Linked-Etag": f'"{blob.sha256}"', "X-Linked-Size": str(size)})
        start, end, status = 0, size - 1, 200
        if match := re.fullmatch(r"bytes=(\d*)-(\d*)", self.headers.get("Range", "").strip()):
            first, last = match.groups()
            start = int(first) if first else max(size - int(last or 0), 0)
            end = min(int(last), size - 1) if first and last else size - 1
            if start >= size or start > end:
                raise HubError(
                    416, None, "Range Not Satisfiable", {"Content-Range": f"bytes */{size}"}
                )
            status = 206
            headers["Content-Range"] = f"bytes {start}-{end}/{size}"
        cut = max(size // 2 - start, 0) if hub.fault == "truncate" else None
        self._send(status, blob.data[start : end + 1], headers, cut)


class HubServer:
    """In-memory Hub on 127.0.0.1; the port is bound in ``__init__``, so ``url`` is known early."""

    def __init__(self, fault: str | None = None, port: int = 0) -> None:
        if fault not in FAULTS:
            raise ValueError(f"fault must be one of {FAULTS}, got {fault!r}")
        self.fault = fault
        self.held = 0  # requests the "hang" fault is holding now
        self._repos: dict[tuple[str, str], Repo] = {}
        self._lfs: dict[str, bytes] = {}
        self._lock = threading.Lock()
        self._stopping = threading.Event()
        self._httpd = _Server(("127.0.0.1", port), _Handler)
        self._httpd.hub = self
        self._thread: threading.Thread | None = None
        self.url = f"http://127.0.0.1:{self._httpd.server_address[1]}"

    def start(self) -> HubServer:
        self._thread = threading.Thread(
            target=self._httpd.serve_forever, name="hub-server", daemon=True
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        """Release hanging handlers, stop serving and free the port."""
        self._stopping.set()
        if self._thread is not None:
            self._httpd.shutdown()
            self._thread.join()
        self._httpd.server_close()

    def __enter__(self) -> HubServer:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    def files(self, repo_id: str, repo_type: str = "model") -> dict[str, bytes]:
        """Current tree of ``main``, for assertions."""
        repo = self._repo(repo_type, repo_id)
        return {path: blob.data for path, blob in repo.commits[repo.head].tree.items()}

    def commit_titles(self, repo_id: str, repo_type: str = "model") -> set[str]:
        """Titles of every commit the repo has received, for assertions."""
        return {c.title for c in list(self._repo(repo_type, repo_id).commits.values())}

    def _repo(self, repo_type: str, repo_id: str) -> Repo:
        with self._lock:
            repo = self._repos.get((repo_type, repo_id))
        if repo is None:
            raise HubError(
                404, "RepoNotFound", f"Repository not found: {_PREFIX[repo_type]}{repo_id}"
            )
        return repo


if __name__ == "__main__":
    parser = argparse.ArgumentParser(
        description="Run the in-memory Hub test server in the foreground."
    )
    parser.add_argument("--port", type=int, default=8999)
    parser.add_argument("--fault", choices=[f for f in FAULTS if f], default=None)
    args = parser.parse_args()
    with HubServer(fault=args.fault, port=args.port) as server:
        print(
            f"Hub test server: HF_ENDPOINT={server.url} HF_HUB_DISABLE_XET=1 (Ctrl-C stops)",
            flush=True,
        )
        with contextlib.suppress(KeyboardInterrupt):
            threading.Event().wait()
