#!/bin/sh
# with-mock.sh MOCK_BINARY COMMAND [ARGS...]
# Starts the mock server on a free port, exports PARSEC_BASE_URL, PARSEC_API_KEY,
# PARSEC_TEAM_ID, PARSEC_ADMIN_BASE_URL and PARSEC_ADMIN_TOKEN from the JSON
# line it prints, runs COMMAND, stops the mock and exits with COMMAND's status.
set -eu
mock=$1; shift
fifo=$(mktemp -u); mkfifo "$fifo"
"$mock" --port 0 > "$fifo" &
mock_pid=$!
trap 'kill "$mock_pid" 2>/dev/null || true; rm -f "$fifo"' EXIT INT TERM
exec 3< "$fifo"
read -r line <&3
field() { printf '%s' "$line" | sed -n "s/.*\"$1\": *\"\([^\"]*\)\".*/\1/p"; }
PARSEC_BASE_URL=$(field base_url)
PARSEC_API_KEY=$(field api_key)
PARSEC_TEAM_ID=$(field team_id)
PARSEC_ADMIN_BASE_URL=$PARSEC_BASE_URL
PARSEC_ADMIN_TOKEN=$(field admin_token)
export PARSEC_BASE_URL PARSEC_API_KEY PARSEC_TEAM_ID PARSEC_ADMIN_BASE_URL PARSEC_ADMIN_TOKEN
[ -n "$PARSEC_BASE_URL" ] || { echo "with-mock.sh: no base_url in: $line" >&2; exit 1; }
status=0
"$@" || status=$?
exit $status
