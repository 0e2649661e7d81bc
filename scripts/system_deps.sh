#!/usr/bin/env bash
# Install the Debian packages the test suite drives for real, when missing.
set -euo pipefail
need=()
command -v chromium >/dev/null 2>&1 || need+=(chromium)
command -v chromedriver >/dev/null 2>&1 || need+=(chromium-driver)
command -v redis-server >/dev/null 2>&1 || need+=(redis-server)
[ ${#need[@]} -eq 0 ] && exit 0
if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
  echo "installing ${need[*]} (Debian packages)"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
  exit 0
fi
if [ "${CI:-}" = "true" ]; then
  echo "missing ${need[*]} and cannot install them (not root or no apt-get)" >&2
  exit 1
fi
echo "warning: missing ${need[*]}; the browser or scale-out tests will be skipped" >&2
