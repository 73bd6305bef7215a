#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-or-later
# Blinks an LED until a button is pressed, then reboots the device: a shell
# script in an unprivileged container, through hwbrokerd and the hwbroker CLI.
# Its service needs the two lines and the reboot action, nothing else (see
# hwbroker-release.yml); HWBROKER_SOCKET names the service's socket.
#
# Usage: blink-and-reboot.sh [BLINKS]
#   BLINKS   stop blinking after this many blinks (default 0: blink until the press)
# Environment (defaults): LED_CHIP (gpiochip0), LED_LINE (17), BUTTON_CHIP
# (gpiochip0), BUTTON_LINE (27; pressed pulls it high), BLINK_INTERVAL (0.5
# seconds on, as many off), HWBROKER (hwbroker, the CLI).
set -eu

HWBROKER=${HWBROKER:-hwbroker}
LED_CHIP=${LED_CHIP:-gpiochip0}
LED_LINE=${LED_LINE:-17}
BUTTON_CHIP=${BUTTON_CHIP:-gpiochip0}
BUTTON_LINE=${BUTTON_LINE:-27}
BLINK_INTERVAL=${BLINK_INTERVAL:-0.5}
BLINKS=${1:-0}

blink() {
	# Stopped with TERM: the shell runs the trap once the command under way
	# returns, so the LED is never left to a set still in flight.
	trap 'exit 0' TERM
	n=0
	while [ "$BLINKS" -eq 0 ] || [ "$n" -lt "$BLINKS" ]; do
		"$HWBROKER" gpio set "$LED_CHIP" "$LED_LINE=1"
		echo "led on"
		sleep "$BLINK_INTERVAL"
		"$HWBROKER" gpio set "$LED_CHIP" "$LED_LINE=0"
		echo "led off"
		sleep "$BLINK_INTERVAL"
		n=$((n + 1))
	done
}

blink &
blinker=$!
trap 'kill "$blinker" 2>/dev/null || true' EXIT

# The button pulls the line high when pressed; the SoC's pull-down holds it
# low otherwise. The line stays this service's input, and the watch returns
# at the first press, or fails: refused, chip gone, broker stopped.
"$HWBROKER" gpio input "$BUTTON_CHIP" "$BUTTON_LINE" --bias pull-down
"$HWBROKER" gpio watch "$BUTTON_CHIP" "$BUTTON_LINE" --edge rising --count 1 >/dev/null

kill "$blinker" 2>/dev/null || true
wait "$blinker" 2>/dev/null || true
trap - EXIT
"$HWBROKER" gpio set "$LED_CHIP" "$LED_LINE=0"
echo "button pressed: rebooting"
exec "$HWBROKER" host reboot --reason "button pressed"
