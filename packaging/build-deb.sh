#!/usr/bin/env bash
# Builds the Debian package: the release binary, its man page and shell completions generated
# from the command definitions, then cargo-deb (installed here if missing). Prints the path.
set -euo pipefail
cd "$(dirname "$0")/.."
if ! cargo deb --version >/dev/null 2>&1; then
  cargo install cargo-deb --locked --quiet
fi
cargo build --release --quiet
assets=target/assets
rm -rf "$assets" && mkdir -p "$assets/completions"
target/release/noticed man | gzip -9n > "$assets/noticed.1.gz"
target/release/noticed completions bash > "$assets/completions/noticed"
target/release/noticed completions zsh > "$assets/completions/_noticed"
target/release/noticed completions fish > "$assets/completions/noticed.fish"
cargo deb --no-build --quiet --output target/debian/ >/dev/null
ls target/debian/*.deb | tail -1
