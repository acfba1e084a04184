#!/usr/bin/env bash
# package_deb.sh: build psleak's Debian package (.deb) with CPack.
#
#   bash scripts/package_deb.sh
#
# Configures a build directory of its own (prefix /usr, no tests, RelWithDebInfo, Debian's
# hardening flags; CPack strips the binaries), builds, runs `cpack -G DEB` and prints the
# path of the .deb (the last line of output).
# Install it with: sudo apt-get install ./psleak_<version>_<arch>.deb
#
# Environment:
#   BUILD_DIR   build directory (default: build-deb, relative to the repository root)
#   JOBS        parallel build jobs (default: nproc)
#
# Needs what scripts/bootstrap.sh installs (build-essential brings dpkg-dev, whose
# dpkg-shlibdeps computes the package's library dependencies).

set -euo pipefail

die() {
  printf 'package_deb.sh: error: %s\n' "$*" >&2
  exit 1
}

case "${1:-}" in
  "") ;;
  -h | --help)
    sed -n '2,16p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'
    exit 0
    ;;
  *) die "unknown argument: $1 (try --help)" ;;
esac

repo_root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$repo_root"
BUILD_DIR="${BUILD_DIR:-build-deb}"
JOBS="${JOBS:-$(nproc 2>/dev/null || echo 2)}"

for tool in cmake cpack dpkg dpkg-buildflags dpkg-shlibdeps gzip; do
  command -v "$tool" >/dev/null 2>&1 ||
    die "$tool not found (Debian: apt-get install build-essential cmake dpkg-dev)"
done

# Debian's compiler and linker flags, as a package built with debhelper gets them:
# -fstack-protector-strong, -D_FORTIFY_SOURCE=2, -Wl,-z,relro (dpkg-buildflags; tune with
# DEB_BUILD_MAINT_OPTIONS, e.g. hardening=+all). Passed as cache variables, not as
# CFLAGS in the environment, which CMake reads only when it creates a build directory.
buildflag() { dpkg-buildflags --get "$1"; }
cflags="$(buildflag CPPFLAGS) $(buildflag CFLAGS)"
cxxflags="$(buildflag CPPFLAGS) $(buildflag CXXFLAGS)"
ldflags="$(buildflag LDFLAGS)"

printf '==> Configuring %s (prefix /usr, RelWithDebInfo, no tests)\n' "$BUILD_DIR"
cmake -S . -B "$BUILD_DIR" \
  -DCMAKE_INSTALL_PREFIX=/usr \
  -DPSLEAK_BUILD_TESTS=OFF \
  -DCMAKE_BUILD_TYPE=RelWithDebInfo \
  -DCMAKE_C_FLAGS="$cflags" \
  -DCMAKE_CXX_FLAGS="$cxxflags" \
  -DCMAKE_EXE_LINKER_FLAGS="$ldflags" \
  -DCMAKE_SHARED_LINKER_FLAGS="$ldflags" \
  -DCMAKE_MODULE_LINKER_FLAGS="$ldflags"

printf '==> Building with %s parallel jobs\n' "$JOBS"
cmake --build "$BUILD_DIR" --parallel "$JOBS"

printf '==> Packaging (cpack -G DEB)\n'
rm -f "$BUILD_DIR"/psleak_*.deb
(cd "$BUILD_DIR" && cpack -G DEB)

shopt -s nullglob
debs=("$BUILD_DIR"/psleak_*.deb)
((${#debs[@]} == 1)) || die "expected one psleak_*.deb in $BUILD_DIR, found ${#debs[@]}"
deb="$(cd "$(dirname "${debs[0]}")" && pwd)/$(basename "${debs[0]}")"

printf '\n==> Package: %s\n' "$deb"
dpkg-deb --field "$deb" Package Version Architecture Depends Recommends
printf '%s\n' "$deb"
