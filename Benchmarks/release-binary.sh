# Sourced by the benchmark scripts, from the repository root: `pgadvise_binary [PATH]` prints PATH when
# given, else builds pgadvise in release mode (the default scratch path) and prints the binary's path.
pgadvise_binary() {
  if [ -n "${1:-}" ]; then echo "$1"; return; fi
  if ! command -v swift >/dev/null 2>&1; then export PATH="/opt/swift/usr/bin:$PATH"; fi
  swift build -c release --product pgadvise >&2
  echo "$(swift build -c release --show-bin-path)/pgadvise"
}
