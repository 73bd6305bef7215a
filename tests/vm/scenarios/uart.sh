#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-or-later
# UART on the 16550's ttyS1; the host side echoes (a loopback cable).
. /lib.sh
start_broker
register modem '{"devices":["/dev/ttyS1"]}'
svc modem uart config ttyS1 --baud 115200 --data-bits 7 --parity even --stop-bits 2 || fail "config"
S=$(stty -a -F /dev/ttyS1)
echo "$S" | grep -q "speed 115200" || fail "stty speed: $S"
echo "$S" | grep -q "cs7" || fail "stty cs7: $S"
echo "$S" | grep -q "cstopb" || fail "stty cstopb: $S"
echo "$S" | grep -q -- "-parodd" || fail "stty parity: $S"
echo "$S" | grep -qE "(^| )parenb" || fail "stty parenb: $S"
[ "$(svc modem uart config ttyS1)" = "115200 7 even 2 none" ] || fail "read back"
svc modem uart config ttyS1 --data-bits 8 --parity odd --stop-bits 1 || fail "config 2"
stty -a -F /dev/ttyS1 | grep -qE "(^| )parodd" || fail "odd parity"
svc modem uart config ttyS1 --parity none || fail "config 3"
ok "line configuration visible with stty"

svc modem uart write ttyS1 hello || fail "write"
[ "$(svc modem uart read ttyS1 --max 5 --timeout 3000)" = hello ] || fail "read"
awk 'BEGIN { for (i = 0; i < 256; i++) printf "%c", i }' > /tmp/bytes
[ "$(wc -c < /tmp/bytes)" = 256 ] || fail "awk bytes"
svc modem uart write ttyS1 - < /tmp/bytes || fail "write bytes"
: > /tmp/back
i=0
while [ "$(wc -c < /tmp/back)" -lt 256 ]; do
	i=$((i + 1)); [ $i -gt 20 ] && fail "only $(wc -c < /tmp/back) bytes back"
	svc modem uart read ttyS1 --max 4096 --timeout 1000 >> /tmp/back
done
cmp /tmp/bytes /tmp/back || fail "bytes differ"
ok "write and read, binary safe"

svc modem uart stream ttyS1 > /tmp/stream &
SP=$!
sleep 1
svc modem uart write ttyS1 stream-test || fail "write for stream"
i=0
while ! grep -q stream-test /tmp/stream; do i=$((i + 1)); [ $i -gt 50 ] && fail "stream"; sleep 0.1; done
kill $SP
ok "stream"

(printf 'attach-test'; sleep 2) | svc modem uart attach ttyS1 > /tmp/att
[ "$(cat /tmp/att)" = attach-test ] || fail "attach: $(cat /tmp/att)"
ok "attach"
stop_broker
