#!/usr/bin/env bash
# bootstrap.sh: from a fresh Debian 12 machine to a working psleak, in one command.
#
#   bash scripts/bootstrap.sh          install what is missing (apt), configure, build,
#                                      and run psleak on the bundled example module
#   bash scripts/bootstrap.sh --test   all of that, then the whole test suite (ctest);
#                                      exits with ctest's status
#
# Environment:
#   BUILD_DIR   build directory (default: build, relative to the repository root)
#   JOBS        parallel build jobs (default: all cores, from nproc)
#
# apt is used only when a package is missing, so a machine that has everything
# bootstraps offline. Not root: apt runs through sudo.

set -euo pipefail

usage() {
  cat <<'EOF'
Usage: bash scripts/bootstrap.sh [--test]

Installs psleak's build dependencies that are missing (Debian 12, apt), configures
and builds psleak in $BUILD_DIR (default: build), then runs psleak on the bundled
example module: psleak_example:leaky (a leak, exit 1) and psleak_example:clean (OK).

Options:
  --test      then run the whole test suite with ctest and exit with its status
  -h, --help  show this help

Environment:
  BUILD_DIR   build directory (default: build, relative to the repository root)
  JOBS        parallel build jobs (default: nproc)
EOF
}

# Debian packages psleak needs to build and test.
readonly PACKAGES=(
  build-essential
  cmake
  libcli11-dev
  libfmt-dev
  nlohmann-json3-dev
  libspdlog-dev
  libgtest-dev
  python3-dev
  python3-venv
  python3-pytest
  binutils        # addr2line: file:line in --trace
  libunwind8      # --trace's fast unwinder (loaded at run time; backtrace() without it)
  librsvg2-bin    # rsvg-convert: the tests render --plot's SVG
  valgrind        # scripts/bench_hooks.py compares --trace with it
)

say() { printf '\n==> %s\n' "$*"; }
note() { printf '    %s\n' "$*"; }
die() {
  printf 'bootstrap.sh: error: %s\n' "$*" >&2
  exit 1
}

# Names the step that failed when a command exits non-zero under `set -e`.
current_step="starting"
trap 'status=$?; printf "bootstrap.sh: error: step \"%s\" failed (exit %d)\n" "$current_step" "$status" >&2' ERR

run_tests=0
for arg in "$@"; do
  case "$arg" in
    --test) run_tests=1 ;;
    -h | --help)
      usage
      exit 0
      ;;
    *)
      printf 'bootstrap.sh: error: unknown argument: %s\n\n' "$arg" >&2
      usage >&2
      exit 2
      ;;
  esac
done

repo_root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$repo_root"
BUILD_DIR="${BUILD_DIR:-build}"
JOBS="${JOBS:-$(nproc 2>/dev/null || echo 2)}"

# --- 1. Dependencies ---------------------------------------------------------------
current_step="check dependencies"
say "Checking build dependencies"
if [[ -r /etc/os-release ]]; then
  # shellcheck disable=SC1091
  os_release="$(. /etc/os-release && echo "${ID:-} ${VERSION_ID:-}")"
  os_id="${os_release%% *}"
  os_version="${os_release#* }"
  if [[ "$os_id" != "debian" || "$os_version" != "12" ]]; then
    note "warning: this script targets Debian 12; found ${os_id:-unknown} ${os_version:-}"
  fi
fi

if ! command -v dpkg-query >/dev/null 2>&1; then
  note "warning: no dpkg-query (not a Debian system?): cannot check packages."
  note "Make sure the equivalents of these are installed: ${PACKAGES[*]}"
else
  missing=()
  for package in "${PACKAGES[@]}"; do
    status="$(dpkg-query -W -f='${db:Status-Status}' "$package" 2>/dev/null || true)"
    [[ "$status" == "installed" ]] || missing+=("$package")
  done

  if ((${#missing[@]} == 0)); then
    note "all ${#PACKAGES[@]} packages are installed; apt is not needed"
  else
    sudo=()
    if [[ "$(id -u)" -ne 0 ]]; then
      command -v sudo >/dev/null 2>&1 ||
        die "not root and no sudo: install these as root, then run this again: ${missing[*]}"
      sudo=(sudo)
    fi
    note "installing ${#missing[@]} missing package(s) with apt-get${sudo:+ (through sudo)}:"
    note "  ${missing[*]}"
    current_step="apt-get update"
    "${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get update
    current_step="apt-get install ${missing[*]}"
    "${sudo[@]}" env DEBIAN_FRONTEND=noninteractive \
      apt-get install -y --no-install-recommends "${missing[@]}"
  fi
fi

# --- 2. Configure and build ----------------------------------------------------------
current_step="configure (cmake)"
say "Configuring in $BUILD_DIR (RelWithDebInfo)"
cmake -S . -B "$BUILD_DIR" -DCMAKE_BUILD_TYPE=RelWithDebInfo

current_step="build"
say "Building with $JOBS parallel jobs"
cmake --build "$BUILD_DIR" --parallel "$JOBS"

# --- 3. The demo ---------------------------------------------------------------------
# psleak puts the current directory first on sys.path (as `python -m` does), so running
# it from the directory that holds the example module finds it.
current_step="demo"
[[ -x "$BUILD_DIR/app/psleak" ]] || die "the build did not produce $BUILD_DIR/app/psleak"
[[ -d "$BUILD_DIR/example" ]] || die "the build did not produce $BUILD_DIR/example"

# Runs `psleak run TARGET` from the example directory and checks its exit code.
demo() {
  local target="$1" expected="$2" meaning="$3" status=0
  printf '    $ cd %s/example && ../app/psleak run %s\n\n' "$BUILD_DIR" "$target"
  (cd "$BUILD_DIR/example" && ../app/psleak run "$target") || status=$?
  if [[ "$status" -ne "$expected" ]]; then
    die "psleak run $target exited with $status; expected $expected ($meaning)"
  fi
  printf '\n    exit code %d: %s, as expected\n' "$status" "$meaning"
}

say "Demo 1/2: psleak_example:leaky mallocs 1 KiB per call and never frees it"
demo psleak_example:leaky 1 "leak found"

say "Demo 2/2: psleak_example:clean does the same work and frees it"
demo psleak_example:clean 0 "no leak"

if ((run_tests == 0)); then
  say "Done. psleak is at $BUILD_DIR/app/psleak"
  note "try: $BUILD_DIR/app/psleak run --help"
  note "run the tests: bash scripts/bootstrap.sh --test"
  exit 0
fi

# --- 4. The test suite ---------------------------------------------------------------
# ctest's summary is the last thing printed, and its status is this script's.
# One test at a time: integration tests measure the RSS of a psleak process, and with
# -j2 another test's process running beside it skewed integration.memory_fixtures'
# leak_mmap bounds in 5 of 12 runs (0 of 8 with -j1, which was no slower).
# --no-tests=error: a suite that registered no tests is a failure, not a pass.
current_step="tests (ctest)"
say "Running the test suite"
trap - ERR
exec ctest --test-dir "$BUILD_DIR" --output-on-failure --no-tests=error -j1
