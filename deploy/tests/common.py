"""Shared by deploy/tests/*.py: collecting failures, reading YAML, free ports, plain HTTP.

Each check script appends what broke to `Failures` and exits 1 with the whole list at once,
so one run of deploy/test.sh names every broken file.
"""

import os
import socket
import sys
import urllib.error
import urllib.request
from pathlib import Path

import yaml

DEPLOY = Path(__file__).resolve().parent.parent
ROOT = DEPLOY.parent

# Host features the deploy files rely on that other branches are still adding
# (deploy/test.sh sets PLUE_DEPLOY_PENDING): missing ones are reported, not failed.
PENDING = set(os.environ.get("PLUE_DEPLOY_PENDING", "").split())


class Failures:
    def __init__(self, name: str):
        self.name = name
        self.items: list[str] = []
        self.pending: dict[str, list[str]] = {}

    def add(self, message: str) -> None:
        self.items.append(message)

    def check(self, ok: bool, message: str) -> bool:
        if not ok:
            self.add(message)
        return ok

    def missing_feature(self, feature: str, message: str) -> None:
        """A host feature is absent: a failure, unless deploy/test.sh lists it as pending."""
        if feature in PENDING:
            self.pending.setdefault(feature, []).append(message)
        else:
            self.add(message)

    def finish(self, summary: str) -> None:
        for feature, where in sorted(self.pending.items()):
            print(f"  ! NOT CHECKED, pending host feature `{feature}` ({len(where)}×), e.g. {where[0]}")
        if self.items:
            print("\n".join(f"  - {e}" for e in self.items), file=sys.stderr)
            sys.exit(1)
        print(f"  {summary}")


def rel(path: Path) -> str:
    """PATH relative to the repository root, when it is inside it."""
    path = Path(path).resolve()
    return str(path.relative_to(ROOT)) if path.is_relative_to(ROOT) else str(path)


def load_yaml_docs(path: Path) -> list:
    return [d for d in yaml.safe_load_all(Path(path).read_text()) if d is not None]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def http(url: str, data: bytes | None = None, headers: dict | None = None, timeout: float = 10):
    """(status, headers, body) of one request; connection errors give status 0."""
    req = urllib.request.Request(url, data=data, headers=headers or {})
    try:
        with urllib.request.urlopen(req, timeout=timeout) as r:
            return r.status, dict(r.headers), r.read().decode(errors="replace")
    except urllib.error.HTTPError as e:
        return e.code, dict(e.headers), e.read().decode(errors="replace")
    except (urllib.error.URLError, OSError) as e:
        return 0, {}, str(e)
