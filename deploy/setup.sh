#!/usr/bin/env bash
# kintsugi's set-up on Debian 12: installs what the build needs, builds, then runs the bot or every test.
#   bash deploy/setup.sh run [kintsugi args…]   build (Release) and start kintsugi (no config: the console)
#   bash deploy/setup.sh test                   build (warnings as errors) and run every test, then the
#                                               same suite again under AddressSanitizer + UBSan
#   bash deploy/setup.sh bench [--quick …]      build (Release), install the Bolt peer, run the benchmark
#                                               (what bench/run does; see bench/README.md)
# Needs root or sudo for apt-get the first time; later runs skip what is installed.
set -euo pipefail
cd "$(dirname "$0")/.."

packages=(
  build-essential cmake ninja-build pkg-config ccache tzdata ca-certificates
  libboost1.81-dev libboost-url1.81-dev libssl-dev nlohmann-json3-dev libsqlitecpp-dev libsqlite3-dev
  libspdlog-dev doctest-dev libcli11-dev libhowardhinnant-date-dev libcmark-gfm-dev libcmark-gfm-extensions-dev
  libsimdjson-dev
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
# The tests reach their fake servers as "localhost" as well as 127.0.0.1 (TLS host-name checks need a name). Every
# installed Debian has it in /etc/hosts; a bare chroot or a minimal image may not, so add the standard line there.
ensure_localhost() {
  getent hosts localhost >/dev/null 2>&1 && return 0
  if [ "$(id -u)" = 0 ]; then
    echo "127.0.0.1 localhost" >>/etc/hosts
    echo "setup: 'localhost' did not resolve; added '127.0.0.1 localhost' to /etc/hosts for the tests"
  else
    echo "setup: 'localhost' does not resolve here; add '127.0.0.1 localhost' to /etc/hosts, then run again" >&2
    exit 1
  fi
}

# The Bolt for JavaScript peer of the benchmark: Node.js with its headers (better-sqlite3 is built from source against
# them), then its packages from the lock file.
install_peer() {
  if ! command -v node >/dev/null 2>&1 || ! command -v npm >/dev/null 2>&1 || [ ! -f /usr/include/node/node.h ]; then
    packages=(nodejs npm libnode-dev python3)
    install_packages
  fi
  if [ ! -f bench/peer/node_modules/better-sqlite3/build/Release/better_sqlite3.node ] ||
     [ ! -d bench/peer/node_modules/@slack/bolt ]; then
    echo "setup: installing the Bolt peer's packages (better-sqlite3 is compiled: about 2 minutes)"
    if ! (cd bench/peer && npm_config_build_from_source=true npm_config_nodedir=/usr npm ci --no-audit --no-fund); then
      echo "setup: npm could not install the peer's packages (see its error above: network, proxy or CA)." >&2
      echo "setup: to measure kintsugi alone, run: bench/run --bots kintsugi" >&2
      exit 1
    fi
  fi
}

# bench/run --bots kintsugi (the peer left out) needs neither Node.js nor npm.
wants_peer() {
  local previous=""
  for arg in "$@"; do
    if [ "$previous" = --bots ]; then
      case ",$arg," in *,peer,*) return 0 ;; *) return 1 ;; esac
    fi
    previous=$arg
  done
  return 0
}

case "$mode" in
  run)
    install_packages
    build release
    exec ./build/release/bot/app/kintsugi "$@"
    ;;
  test)
    install_packages
    ensure_localhost
    build ci
    ctest --preset ci -j "$(nproc)"
    if [ "${KINTSUGI_SKIP_ASAN:-0}" != 1 ]; then
      build asan
      ctest --preset asan -j "$(nproc)"
    fi
    ;;
  bench)
    install_packages
    ensure_localhost
    if wants_peer "$@"; then install_peer; fi
    cmake --preset release >/dev/null
    cmake --build --preset release --target kintsugi_bench
    exec ./build/release/bench/kintsugi_bench --out bench/results/latest.json "$@"
    ;;
  *)
    echo "usage: bash deploy/setup.sh run [kintsugi args…] | test | bench [--quick]" >&2
    exit 2
    ;;
esac
