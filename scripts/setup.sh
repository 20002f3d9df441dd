#!/usr/bin/env bash
# Install everything veloro's demo and tests need on a fresh Debian machine (idempotent).
#   - Debian packages: restic (file-level volume backup), Go + HashiCorp go-plugin 1.0.1 and the gRPC/protobuf
#     Go sources (interoperability tests build a go-plugin host and plugin offline, GO111MODULE=off).
#   - A virtualenv in .venv with veloro, veloro-plugin-sdk and the example plugin installed editable.
# kubectl is expected on PATH (it is preinstalled on the project's machines).
set -euo pipefail
cd "$(dirname "$0")/.."

APT_PACKAGES=(restic golang-go golang-github-hashicorp-go-plugin-dev golang-google-grpc-dev
              protoc-gen-go-grpc golang-goprotobuf-dev protobuf-compiler)

missing=()
for p in "${APT_PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  SUDO=""; [ "$(id -u)" -eq 0 ] || SUDO="sudo"
  echo "setup: installing Debian packages: ${missing[*]}"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

PY="${PYTHON:-python3}"
if [ ! -x .venv/bin/python ]; then
  echo "setup: creating .venv"
  "$PY" -m venv .venv
fi
# shellcheck disable=SC1091
. .venv/bin/activate
stamp=.venv/.veloro-installed
if [ ! -f "$stamp" ] || [ pyproject.toml -nt "$stamp" ] || [ plugin-sdk/pyproject.toml -nt "$stamp" ]; then
  echo "setup: installing Python packages into .venv"
  python -m pip install -q --upgrade pip >/dev/null
  python -m pip install -q -e ./plugin-sdk -e '.[test]'
  for ex in examples/*/; do
    [ -f "$ex/pyproject.toml" ] && python -m pip install -q -e "$ex"
  done
  touch "$stamp"
fi
command -v kubectl >/dev/null || echo "setup: warning: kubectl not found on PATH; the kubectl-driven tests and the quickstart need it" >&2
echo "setup: done"
