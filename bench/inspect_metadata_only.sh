#!/usr/bin/env bash
# Shows that `inspect` reads a multi-GB model's header and nothing else: the file is evicted
# from the page cache, inspected, and `fincore` then counts how much of it was read in.
# gguf-py's GGUFReader (llama.cpp's Python reader) runs on the same file for comparison.
#   bench/inspect_metadata_only.sh [FILE]   (default: a Llama-3.1-8B-shaped Q4_0 file it writes)
set -euo pipefail
cd "$(dirname "$0")/.."
BIN=build/src/llama-pajamas
FILE="${1:-${TMPDIR:-/tmp}/lp-bench/llama-3.1-8b-shape-q4_0.gguf}"
if [ ! -f "$FILE" ]; then
  mkdir -p "$(dirname "$FILE")"
  echo "writing $FILE ..."
  build/bench/lp_make_large_gguf "$FILE"
fi
evict() { python3 -c "import os,sys; fd=os.open(sys.argv[1], os.O_RDONLY); os.fsync(fd); os.posix_fadvise(fd, 0, 0, os.POSIX_FADV_DONTNEED)" "$FILE"; }
resident() { fincore -b -n -o RES "$FILE" | tr -d ' '; }

size=$(stat -c %s "$FILE")
echo "file: $FILE ($size bytes)"
echo "machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs)"

evict
echo "resident before: $(resident) bytes"
/usr/bin/time -f "llama-pajamas inspect --json: %e s wall, max RSS %M KiB, %F major faults" "$BIN" inspect --json "$FILE" >/dev/null
echo "resident after llama-pajamas inspect: $(resident) bytes"

evict
/usr/bin/time -f "gguf-py GGUFReader: %e s wall, max RSS %M KiB, %F major faults" \
  python3 -c "import sys, gguf; r = gguf.GGUFReader(sys.argv[1]); print(len(r.tensors), 'tensors', file=sys.stderr)" "$FILE"
echo "resident after gguf-py: $(resident) bytes"
