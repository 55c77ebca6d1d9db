#!/usr/bin/env bash
# Installs what pgadvise needs to build, test and demo on Debian 12, then builds it.
# Idempotent; runs as root or through sudo. Usage: scripts/setup.sh [--release]
set -euo pipefail
cd "$(dirname "$0")/.."

SUDO=""
if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi

packages=(
  postgresql-15 postgresql-client-15 postgresql-15-hypopg postgresql-15-pg-qualstats pgbouncer
  libpq-dev libpg-query-dev pkg-config
  gzip bzip2 xz-utils zstd ca-certificates
  libsqlite3-dev sqlite3
  chromium-headless-shell
)
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ "${#missing[@]}" -gt 0 ]; then
  echo "==> installing: ${missing[*]}" >&2
  export DEBIAN_FRONTEND=noninteractive
  $SUDO apt-get update -qq
  # Debian's postgresql package would start a cluster of its own on 5432; pgadvise's scripts start
  # their own throwaway servers, so the packaged cluster is neither needed nor touched.
  $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >&2
fi

if ! command -v swift >/dev/null 2>&1; then
  if [ -x /opt/swift/usr/bin/swift ]; then
    export PATH="/opt/swift/usr/bin:$PATH"
  else
    echo "Swift 6 is not installed: get the toolchain for Debian 12 from swift.org and put it on PATH." >&2
    exit 2
  fi
fi

config=debug
if [ "${1:-}" = "--release" ]; then config=release; fi
echo "==> building pgadvise ($config)" >&2
swift build -c "$config" --product pgadvise >&2
