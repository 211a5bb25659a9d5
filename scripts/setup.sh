#!/usr/bin/env bash
# Installs what tsbgp's demo and tests need, or says exactly what is missing.
#   scripts/setup.sh         install missing pieces (Debian packages need root)
#   scripts/setup.sh --check report only
# Debian packages: bird2 (bird, birdc), frr (bgpd, zebra, vtysh), gobgpd (gobgpd, gobgp),
# iproute2 (ip), iputils-ping (ping), procps; npm packages from package-lock.json.
set -euo pipefail
cd "$(dirname "$0")/.."
check_only=0
[ "${1:-}" = "--check" ] && check_only=1

declare -A need=(
  [bird]=bird2 [birdc]=bird2 [vtysh]=frr [gobgpd]=gobgpd [gobgp]=gobgpd
  [ip]=iproute2 [ping]=iputils-ping [pgrep]=procps
)
missing=()
for tool in "${!need[@]}"; do
  command -v "$tool" >/dev/null 2>&1 || missing+=("${need[$tool]}")
done
[ -x /usr/lib/frr/bgpd ] || missing+=(frr)
mapfile -t missing < <(printf '%s\n' "${missing[@]}" | sort -u | sed '/^$/d')

if [ "${#missing[@]}" -gt 0 ]; then
  if [ "$check_only" = 1 ] || [ "$(id -u)" -ne 0 ] || ! command -v apt-get >/dev/null; then
    echo "tsbgp: missing Debian packages: ${missing[*]}" >&2
    echo "       install them with: sudo apt-get install -y ${missing[*]}" >&2
    echo "       (interop tests and the demo skip or stop without them)" >&2
  else
    echo "tsbgp: installing ${missing[*]}"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq
    apt-get install -y -qq --no-install-recommends "${missing[@]}"
    # The packages' own services must not run: they would take port 179.
    for svc in bird frr; do
      if command -v systemctl >/dev/null && [ -d /run/systemd/system ]; then systemctl disable --now "$svc" 2>/dev/null || true; fi
    done
  fi
fi

if [ ! -f node_modules/.package-lock.json ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  if [ "$check_only" = 1 ]; then
    echo "tsbgp: npm packages not installed: run npm ci" >&2
  else
    npm ci --no-audit --no-fund
  fi
fi
