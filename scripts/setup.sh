#!/usr/bin/env bash
# One-command set-up on a fresh machine: fetch the embedding model, build Clerk, and
# index the sample knowledge base.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/fetch-model.sh
cargo build --release
target/release/clerk ingest
echo
echo "Ready. Try:  target/release/clerk search \"robot vacuum E04\""
