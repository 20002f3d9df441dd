"""Build the Go interop programs (gohost, goplugin) offline from Debian's Go packages.

The Go stubs for proto/ are generated at build time into a throw-away GOPATH entry with Debian's
protoc-gen-go 1.3.5 in its old `plugins=grpc` mode: go-plugin 1.0.1 and grpc-go 1.33 from Debian are
built against github.com/golang/protobuf 1.3 (APIv1), and the newer protoc-gen-go/protoc-gen-go-grpc pair
would need google.golang.org/protobuf, which Debian's GOPATH does not have. Nothing generated is committed.

    python tests/interop/interop_build.py OUT_DIR     # build OUT_DIR/gohost and OUT_DIR/goplugin
"""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent.parent
PROTO_DIR = ROOT / "proto"
GO_SRC = HERE / "go"
DEBIAN_GOPATH = Path("/usr/share/gocode")
APT_PACKAGES = (
    "golang-go golang-github-hashicorp-go-plugin-dev golang-google-grpc-dev "
    "golang-goprotobuf-dev protoc-gen-go-grpc protobuf-compiler"
)
# protoc 3.21's well-known types name APIv2 Go packages; map them to golang/protobuf 1.3's ptypes.
_WKT = {
    "google/protobuf/timestamp.proto": "github.com/golang/protobuf/ptypes/timestamp",
    "google/protobuf/duration.proto": "github.com/golang/protobuf/ptypes/duration",
    "google/protobuf/empty.proto": "github.com/golang/protobuf/ptypes/empty",
}
PROTO_PACKAGES = ("generated", "v1", "v2")  # one protoc run per Go package
PROGRAMS = ("gohost", "goplugin")


class GoBuildError(RuntimeError):
    """The Go interop programs could not be built; the message says what is missing."""


def _need(path: Path | None, what: str) -> Path:
    if path is None or not path.exists():
        raise GoBuildError(f"{what} not found; install the Debian packages: apt-get install {APT_PACKAGES}")
    return path


def _which(name: str, preferred: str) -> Path | None:
    if Path(preferred).exists():
        return Path(preferred)
    found = shutil.which(name)
    return Path(found) if found else None


def _cache_dir(name: str) -> Path:
    """A persistent cache directory under XDG_CACHE_HOME (~/.cache); a temp dir if that is read-only."""
    base = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache")
    cache = base / name
    try:
        cache.mkdir(parents=True, exist_ok=True)
        return cache
    except OSError:
        return Path(tempfile.mkdtemp(prefix=f"{name}-"))


def _go_cache() -> Path:
    """Go's build cache (GOCACHE if set): a cold build of grpc and go-plugin takes ~10 s, a warm one ~1 s."""
    return Path(os.environ["GOCACHE"]) if os.environ.get("GOCACHE") else _cache_dir("veloro-interop-go-build")


def go_env(gen_gopath: Path) -> dict[str, str]:
    """The environment every go command of the interop tests runs with (GOPATH mode, offline)."""
    env = dict(os.environ)
    env.update(
        GOPATH=os.pathsep.join([str(gen_gopath), str(GO_SRC), str(DEBIAN_GOPATH)]),
        GO111MODULE="off",
        GOFLAGS="",
        GOPROXY="off",
        GOCACHE=str(_go_cache()),
        CGO_ENABLED="0",
    )
    return env


def _run(cmd: list[str], env: dict[str, str] | None = None, cwd: Path | None = None) -> None:
    proc = subprocess.run(cmd, env=env, cwd=cwd, capture_output=True, text=True, timeout=300, check=False)
    if proc.returncode != 0:
        raise GoBuildError(f"{' '.join(cmd)} failed ({proc.returncode}):\n{proc.stdout}{proc.stderr}")


def generate(gen_gopath: Path) -> None:
    """Generate the Go stubs of proto/{generated,v1,v2} into gen_gopath/src/veloro.io/interop/..."""
    protoc = _which("protoc", "/usr/bin/protoc")
    plugin = _need(_which("protoc-gen-go", "/usr/bin/protoc-gen-go"), "protoc-gen-go (golang-goprotobuf-dev)")
    import grpc_tools  # the well-known .proto files ship with grpcio-tools (a test dependency)

    wkt_include = Path(grpc_tools.__file__).parent / "_proto"
    base = [str(protoc)] if protoc else [sys.executable, "-m", "grpc_tools.protoc"]
    mapping = ",".join(f"M{proto}={pkg}" for proto, pkg in _WKT.items())
    out = gen_gopath / "src"
    out.mkdir(parents=True, exist_ok=True)
    for package in PROTO_PACKAGES:
        files = sorted(str(p.relative_to(PROTO_DIR)) for p in (PROTO_DIR / package).glob("*.proto"))
        _run(
            [
                *base,
                f"--plugin=protoc-gen-go={plugin}",
                f"-I{PROTO_DIR}",
                f"-I{wkt_include}",
                f"--go_out=plugins=grpc,{mapping}:{out}",
                *files,
            ],
            cwd=PROTO_DIR,
        )


def _inputs_digest(go: Path) -> str:
    """A digest of everything the binaries are built from: proto/, the Go sources, this script, the Go
    toolchain and protoc-gen-go, and the Debian go-plugin/grpc sources."""
    digest = hashlib.sha256()
    files = [Path(__file__).resolve(), *sorted(GO_SRC.rglob("*.go"))]
    files += [p for package in PROTO_PACKAGES for p in sorted((PROTO_DIR / package).glob("*.proto"))]
    for path in files:
        digest.update(str(path.relative_to(ROOT)).encode() + b"\0" + path.read_bytes())
    version = subprocess.run([str(go), "version"], capture_output=True, text=True, check=False).stdout
    digest.update(version.encode())
    for dep in (
        _which("protoc-gen-go", "/usr/bin/protoc-gen-go"),
        DEBIAN_GOPATH / "src/github.com/hashicorp/go-plugin/client.go",
        DEBIAN_GOPATH / "src/google.golang.org/grpc/version.go",
    ):
        if dep is not None and dep.exists():
            stat = dep.stat()
            digest.update(f"{dep}:{stat.st_size}:{stat.st_mtime_ns}".encode())
    return digest.hexdigest()[:20]


def build_cached() -> dict[str, Path]:
    """build() into a cache directory keyed by the inputs' digest: re-runs with unchanged inputs cost
    ~0.1 s instead of the ~4 s of regenerating, recompiling and relinking."""
    go = _need(_which("go", "/usr/bin/go"), "the go command")
    target = _cache_dir("veloro-interop-go-bin") / _inputs_digest(go)
    paths = {name: target / name for name in PROGRAMS}
    if all(os.access(p, os.X_OK) for p in paths.values()):
        return paths
    _prune(target.parent, keep=target.name)
    staging = Path(tempfile.mkdtemp(prefix="staging-", dir=target.parent))
    built = build(staging)
    try:
        staging.rename(target)  # atomic: a concurrent session sees all or nothing
    except OSError:
        if not all(os.access(p, os.X_OK) for p in paths.values()):
            return built  # could not publish to the cache; use the fresh build as is
        shutil.rmtree(staging, ignore_errors=True)
    return paths


def _prune(cache: Path, keep: str, max_age_s: float = 3600) -> None:
    """Drop builds of older inputs (~25 MB each) once they are an hour old: another session may still be
    using a recent one."""
    now = time.time()
    for entry in cache.iterdir():
        try:
            if entry.name != keep and now - entry.stat().st_mtime > max_age_s:
                shutil.rmtree(entry, ignore_errors=True)
        except OSError:
            continue


def build(out_dir: Path) -> dict[str, Path]:
    """Generate the stubs and build gohost and goplugin into out_dir; returns name -> path."""
    go = _need(_which("go", "/usr/bin/go"), "the go command")
    _need(DEBIAN_GOPATH / "src/github.com/hashicorp/go-plugin/client.go", "HashiCorp go-plugin sources")
    out_dir.mkdir(parents=True, exist_ok=True)
    gen_gopath = out_dir / "gopath"
    generate(gen_gopath)
    env = go_env(gen_gopath)
    packages = [f"veloro.io/interop/cmd/{name}" for name in PROGRAMS]
    _run([str(go), "build", "-o", str(out_dir) + os.sep, *packages], env=env, cwd=out_dir)
    return {name: out_dir / name for name in PROGRAMS}


if __name__ == "__main__":
    if len(sys.argv) != 2:
        sys.exit(__doc__)
    for name, path in build(Path(sys.argv[1]).resolve()).items():
        print(f"{name}: {path}")
