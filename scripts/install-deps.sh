#!/usr/bin/env bash
# Installs what the tests need on a fresh Debian machine, skipping whatever
# is already there: PostgreSQL's server (tests start a throwaway one),
# Chromium (end-to-end tests), Prometheus (promtool and the live scrape test),
# and the frontend's npm packages. Safe to run repeatedly.
set -euo pipefail

need=()
have_pg() { compgen -G "/usr/lib/postgresql/*/bin/initdb" >/dev/null || command -v initdb >/dev/null; }
have_pg || need+=(postgresql)
command -v chromium >/dev/null || need+=(chromium)
command -v promtool >/dev/null || need+=(prometheus)

if ((${#need[@]})); then
  SUDO=""
  if [[ $(id -u) -ne 0 ]]; then
    if command -v sudo >/dev/null; then SUDO="sudo"; else
      echo "install-deps: missing ${need[*]}; install them (apt-get install ${need[*]}) or run as root" >&2
      exit 1
    fi
  fi
  echo "install-deps: installing ${need[*]}"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
  # Debian starts a cluster and a Prometheus service on install where a
  # service manager runs; tests use their own, so stop those if present.
  $SUDO service prometheus stop >/dev/null 2>&1 || true
fi

scripts/npm-ci.sh
