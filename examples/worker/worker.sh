#!/bin/sh
# Polls the web service by its name; the engine's DNS answers with every replica, round-robin.
set -u
token=$(cat /run/secrets/token)
echo "worker up (token ${#token} bytes), polling ${TARGET} every ${INTERVAL}s"
while :; do
  page=$(wget -q -O - "$TARGET" 2>&1) || echo "request failed: $page"
  echo "$page" | sed -n 's/.*Hello from \([^,]*\),.*/got a page from \1/p'
  sleep "$INTERVAL"
done
