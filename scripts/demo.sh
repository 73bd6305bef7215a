#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-or-later
# make demo: runs hwbrokerd on the simulated board in ./.demo, registers an
# example service the way a supervisor would, and talks to it with the CLI and
# curl, including one request that the service's policy refuses. Each command
# is printed after "$ " exactly as a shell would take it, ready to copy.
# Usage: scripts/demo.sh [BUILD_DIR]   (HWB_DEMO_DIR replaces ./.demo)
set -eu
ROOT=$(cd "$(dirname "$0")/.." && pwd)
cd "$ROOT"
BUILD=${1:-build}
DEMO=${HWB_DEMO_DIR:-.demo}
HWBROKERD="$BUILD/daemon/hwbrokerd"
HWBROKER="$BUILD/clients/hwbroker"
RUN="$DEMO/run"

rm -rf "$DEMO"
mkdir -p "$DEMO"
step() { printf '\n\033[1m== %s\033[0m\n' "$*"; }

# Prints its arguments as one command line: words that need it are single-quoted.
quote() {
	sep=""
	for arg in "$@"; do
		case "$arg" in
		"") arg="''" ;;
		*[!A-Za-z0-9_@%+=:,./-]*) arg="'$(printf '%s' "$arg" | sed "s/'/'\\\\''/g")'" ;;
		esac
		printf '%s%s' "$sep" "$arg"
		sep=" "
	done
}
show() {
	printf '$ %s\n' "$(quote "$@")"
	"$@" || printf '(exit status %s)\n' "$?"
}

step "start hwbrokerd on the simulated board"
# The runtime directory must be an absolute path.
RUNTIME=$(cd "$DEMO" && pwd)/run
printf '$ %s &\n' "$(quote "$HWBROKERD" --sim --runtime-dir "$RUNTIME" --state-dir "$DEMO/state" \
	--log-level warn)"
"$HWBROKERD" --sim --runtime-dir "$RUNTIME" --state-dir "$DEMO/state" --log-level warn \
	2>"$DEMO/hwbrokerd.log" &
PID=$!
trap 'kill $PID 2>/dev/null; wait $PID 2>/dev/null || true' EXIT INT TERM
i=0
while [ ! -S "$RUN/admin.sock" ]; do
	i=$((i + 1))
	if [ $i -gt 100 ] || ! kill -0 $PID 2>/dev/null; then
		echo "hwbrokerd did not start:"; cat "$DEMO/hwbrokerd.log"; exit 1
	fi
	sleep 0.1
done
echo "hwbrokerd (pid $PID) is listening on $RUN/admin.sock"

step "the supervisor registers a sensor service from its compose declaration"
cat >"$DEMO/sensor.json" <<'JSON'
{
  "devices": ["/dev/i2c-1", "/dev/gpiochip0"],
  "labels": {
    "io.hwbroker.i2c": "1=0x76",
    "io.hwbroker.gpio": "gpiochip0=17,27"
  }
}
JSON
show cat "$DEMO/sensor.json"
show "$HWBROKER" --admin --socket "$RUN/admin.sock" admin register sensor "$DEMO/sensor.json"
SOCK="$RUN/services/sensor/hwbroker.sock"

step "inside the container the service sees only its own socket"
show "$HWBROKER" --socket "$SOCK" whoami
show curl -s --unix-socket "$SOCK" http://hwbroker/v1/whoami

step "drive GPIO17 (allowed) and read it back"
show "$HWBROKER" --socket "$SOCK" gpio set gpiochip0 17=1
show "$HWBROKER" --socket "$SOCK" gpio get gpiochip0 17
show curl -s --unix-socket "$SOCK" http://hwbroker/v1/gpio/gpiochip0/GPIO17

step "read the BME280's chip id (register 0xD0) on I2C bus 1, address 0x76"
show "$HWBROKER" --socket "$SOCK" i2c get 1 0x76 0xd0
show curl -s --unix-socket "$SOCK" -X POST -H 'Content-Type: application/json' \
	-d '{"op":"read_byte_data","command":208}' http://hwbroker/v1/i2c/1/0x76/smbus

step "refused by policy: GPIO22 was not granted (exit status 3)"
show "$HWBROKER" --socket "$SOCK" gpio set gpiochip0 22=1
show curl -s --unix-socket "$SOCK" -X PUT -d '{"value":1}' \
	http://hwbroker/v1/gpio/gpiochip0/22

step "the supervisor's view"
show "$HWBROKER" --admin --socket "$RUN/admin.sock" admin show sensor
show "$HWBROKER" --admin --socket "$RUN/admin.sock" admin audit --service sensor

step "done; stopping hwbrokerd (the sockets go, the state stays for the next start)"
kill $PID
wait $PID || true
trap - EXIT INT TERM
ls "$RUN"
