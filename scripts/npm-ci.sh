#!/usr/bin/env bash
# Runs npm ci in frontend/ only when package-lock.json changed since the
# last install, so make run stays fast.
set -euo pipefail
cd "$(dirname "$0")/../frontend"
stamp=node_modules/.taskmind-lock.sha256
sum=$(sha256sum package-lock.json | cut -d' ' -f1)
if [[ -f $stamp && $(cat "$stamp") == "$sum" ]]; then
  exit 0
fi
npm ci --no-audit --no-fund --loglevel=error
echo "$sum" >"$stamp"
