#!/usr/bin/env bash
# kintsugi's set-up on Debian 12: installs what the build needs, builds, then runs the bot or every test.
#   bash deploy/setup.sh run [kintsugi args…]   build (Release) and start kintsugi (no config: the console)
#   bash deploy/setup.sh test                   build (warnings as errors) and run every test, then the
#                                               same suite again under AddressSanitizer + UBSan
# Needs root or sudo for apt-get the first time; later runs skip what is installed.
set -euo pipefail
cd "$(dirname "$0")/.."

packages=(
  build-essential cmake ninja-build pkg-config ccache tzdata ca-certificates
  libboost1.81-dev libboost-url1.81-dev libssl-dev nlohmann-json3-dev libsqlitecpp-dev libsqlite3-dev
  libspdlog-dev doctest-dev libcli11-dev libhowardhinnant-date-dev libcmark-gfm-dev libcmark-gfm-extensions-dev
)

install_packages() {
  local missing=()
  for p in "${packages[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
  done
  [ ${#missing[@]} -eq 0 ] && return 0
  echo "setup: installing ${missing[*]}"
  local sudo=()
  [ "$(id -u)" -eq 0 ] || sudo=(sudo)
  "${sudo[@]}" apt-get update -q
  DEBIAN_FRONTEND=noninteractive "${sudo[@]}" apt-get install -y -q --no-install-recommends "${missing[@]}"
}

build() {
  local preset=$1
  cmake --preset "$preset" >/dev/null
  cmake --build --preset "$preset"
}

mode=${1:-}
[ $# -gt 0 ] && shift
case "$mode" in
  run)
    install_packages
    build release
    exec ./build/release/bot/app/kintsugi "$@"
    ;;
  test)
    install_packages
    build ci
    ctest --preset ci -j "$(nproc)"
    if [ "${KINTSUGI_SKIP_ASAN:-0}" != 1 ]; then
      build asan
      ctest --preset asan -j "$(nproc)"
    fi
    ;;
  *)
    echo "usage: bash deploy/setup.sh run [kintsugi args…] | test" >&2
    exit 2
    ;;
esac
