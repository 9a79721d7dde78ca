#!/usr/bin/env bash
# build.sh builds a real `vault` binary (HashiCorp Vault 1.21.0) from the Go
# module proxy into a per-user cache, once, and prints its path.
#
#   tools/vault/build.sh            # build if missing, print the path
#   VAULT_BUILD_FORCE=1 tools/vault/build.sh   # rebuild
#
# The first build takes about six minutes on two cores (most of it compiling
# Vault's dependency tree); later calls return at once. `go install
# github.com/hashicorp/vault@v1.21.0` does not work because Vault's own go.mod
# has replace directives, hence this tiny module that requires Vault and calls
# its command package.
set -euo pipefail

version=1.21.0
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
cache="${XDG_CACHE_HOME:-$HOME/.cache}/cityops/vault-${version}"
bin="$cache/vault"

if [[ -x "$bin" && -z "${VAULT_BUILD_FORCE:-}" ]]; then
	echo "$bin"
	exit 0
fi

if ! command -v go >/dev/null 2>&1; then
	echo "build.sh: the Go toolchain (go 1.26+) is needed to build vault; install it or put a vault ${version} binary on PATH" >&2
	exit 1
fi

mkdir -p "$cache"
lock="$cache/.build.lock"
# Serialise concurrent builds (parallel test binaries may all ask at once).
exec 9>"$lock"
if command -v flock >/dev/null 2>&1; then
	flock 9
fi
if [[ -x "$bin" && -z "${VAULT_BUILD_FORCE:-}" ]]; then
	echo "$bin"
	exit 0
fi

echo "build.sh: building vault ${version} into $cache (takes several minutes the first time)" >&2
tmp="$cache/vault.tmp.$$"
trap 'rm -f "$tmp"' EXIT
(
	cd "$here"
	# GOFLAGS from the caller (e.g. -race) must not leak into this build.
	GOFLAGS=-buildvcs=false CGO_ENABLED=0 go build -trimpath -ldflags "-s -w" -o "$tmp" .
)
mv -f "$tmp" "$bin"
echo "$bin"
