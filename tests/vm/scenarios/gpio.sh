#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-or-later
# GPIO on a gpio-sim chip through the libgpiod backend.
. /lib.sh
CFG=/sys/kernel/config/gpio-sim/hwb
mkdir $CFG $CFG/bank0
echo 8 > $CFG/bank0/num_lines
echo 1 > $CFG/live
CHIP=$(cat $CFG/bank0/chip_name)
DEV=$(cat $CFG/dev_name)
SIM=/sys/devices/platform/$DEV/$CHIP
ok "gpio-sim chip $CHIP at $SIM"
start_broker
register blinker "{\"devices\":[\"/dev/$CHIP\"]}"
register other '{"devices":["/dev/i2c-7"]}'

svc blinker gpio set $CHIP 3=1 || fail "set"
[ "$(cat $SIM/sim_gpio3/value)" = 1 ] || fail "the simulator does not see line 3 driven high"
svc blinker gpio set $CHIP 3=0 || fail "set 0"
[ "$(cat $SIM/sim_gpio3/value)" = 0 ] || fail "line 3 not low"
ok "driven lines reach the chip"

svc blinker gpio watch $CHIP 5 --count 1 > /tmp/ev 2>&1 &
W=$!
sleep 1
echo pull-up > $SIM/sim_gpio5/pull
i=0
while kill -0 $W 2>/dev/null; do i=$((i + 1)); [ $i -gt 100 ] && fail "no event: $(cat /tmp/ev; tail -5 /tmp/hwbrokerd.log)"; sleep 0.1; done
# gpiomon's layout: event:  RISING EDGE offset: 5 timestamp: [       4.576164246]
grep -q "RISING EDGE offset: 5 " /tmp/ev || fail "event: $(cat /tmp/ev)"
ts=$(sed -n 's/.*timestamp: \[ *\([0-9.]*\)\].*/\1/p' /tmp/ev)
[ -n "$ts" ] && [ "$ts" != "0.000000000" ] || fail "timestamp: $(cat /tmp/ev)"
ok "edge event with kernel timestamp $ts"

# Lines written together share one kernel request, which the kernel sets
# and frees only as a whole: single writes, releases and revocations must
# still reach exactly their own line.
register second "{\"devices\":[\"/dev/$CHIP\"]}"
v() { cat $SIM/sim_gpio$1/value; }
svc blinker gpio set $CHIP 0=1 1=1 7=0 || fail "group set"
[ "$(v 0)$(v 1)$(v 7)" = 110 ] || fail "group set reached $(v 0)$(v 1)$(v 7)"
svc blinker gpio set $CHIP 1=0 || fail "single write in a group"
[ "$(v 0)$(v 1)$(v 7)" = 100 ] || fail "a single write reached another line: $(v 0)$(v 1)$(v 7)"
svc blinker gpio release $CHIP 0 || fail "release one line of a group"
svc second gpio set $CHIP 0=0 || fail "a released line of a group is still held: $(tail -3 /tmp/hwbrokerd.log)"
svc blinker gpio set $CHIP 7=1 || fail "write after the release"
[ "$(v 0)$(v 1)$(v 7)" = 001 ] || fail "after release: $(v 0)$(v 1)$(v 7)"
register blinker "{\"devices\":[\"/dev/$CHIP\"],\"labels\":{\"io.hwbroker.gpio\":\"$CHIP=3,5,6,7\"}}"
svc second gpio set $CHIP 1=1 || fail "a revoked line of a group is still held"
[ "$(v 1)$(v 7)" = 11 ] || fail "after revocation: $(v 1)$(v 7)"
svc second gpio release $CHIP 0 1 || fail "second release"
ok "group writes, single writes, releases and revocation reach only their lines"

svc other gpio set $CHIP 4=1
[ $? = 3 ] || fail "another service was not refused"
ok "another service is refused"

# Direct mode: a kernel line handle passed to the service, which then drives
# the line itself; the broker keeps the line from everyone else meanwhile.
SOCK_FAST=$RUN/services/fast/hwbroker.sock
register fast "{\"devices\":[\"/dev/$CHIP\"],\"labels\":{\"io.hwbroker.gpio.direct\":\"1\"}}"
direct_probe check $RUN/services/second/hwbroker.sock $CHIP 4 $SIM/sim_gpio4/value 2>/tmp/err
[ $? = 2 ] && grep -q "io.hwbroker.gpio.direct" /tmp/err || fail "direct without the label: $(cat /tmp/err)"
[ "$(v 4)" = 0 ] || fail "a refused direct request drove line 4"
svc second gpio info $CHIP | grep -q "line *4:.*unused" || fail "a refused direct request left line 4 used: $(svc second gpio info $CHIP)"
direct_probe check $SOCK_FAST $CHIP 4 $SIM/sim_gpio4/value || fail "direct writes did not reach the chip"
ok "direct handles need the label; their writes reach the chip"

direct_probe hold $SOCK_FAST $CHIP 4 1 > /tmp/held &
H=$!
i=0
until grep -q held /tmp/held; do i=$((i + 1)); [ $i -gt 50 ] && fail "no handle: $(tail -3 /tmp/hwbrokerd.log)"; sleep 0.1; done
[ "$(v 4)" = 1 ] || fail "the held handle's value did not reach line 4"
svc second gpio set $CHIP 4=0 2>/tmp/err && fail "another service drove a line held directly"
grep -q "driven directly by service fast" /tmp/err || fail "conflict: $(cat /tmp/err)"
[ "$(v 4)" = 1 ] || fail "a refused write changed line 4"
svc fast gpio release $CHIP 4 2>/tmp/err && fail "a line held by a direct handle was released through the API"
grep -q "driven directly" /tmp/err || fail "release of a direct line: $(cat /tmp/err)"
svc second gpio set $CHIP 4=0 2>/dev/null && fail "after a refused release, the line was given away"
[ "$(v 4)" = 1 ] || fail "a refused release changed line 4"
hwbroker admin audit --service fast > /tmp/audit
grep -q " direct " /tmp/audit || fail "no audit record of the handle: $(cat /tmp/audit)"
stop_broker
start_broker
[ "$(v 4)" = 1 ] || fail "a broker restart changed a line held directly"
svc second gpio set $CHIP 4=0 2>/dev/null && fail "after a restart, a line held directly was given away"
[ "$(v 4)" = 1 ] || fail "after a restart, a refused write changed line 4"
echo "{\"devices\":[\"/dev/$CHIP\"],\"labels\":{\"io.hwbroker.gpio\":\"$CHIP=3\"}}" > /tmp/narrow.json
hwbroker admin register fast /tmp/narrow.json > /tmp/reply || fail "narrowing fast"
grep -q "open: *gpio:$CHIP:4 " /tmp/reply || fail "the reply does not list the open handle: $(cat /tmp/reply)"
kill $H
wait $H
svc second gpio set $CHIP 4=0 || fail "a closed handle's line is still held: $(tail -3 /tmp/hwbrokerd.log)"
[ "$(v 4)" = 0 ] || fail "line 4 not driven after the handle closed"
svc second gpio release $CHIP 4
hwbroker admin register fast /tmp/narrow.json > /tmp/reply || fail "re-applying fast"
grep -q "open:" /tmp/reply && fail "a closed handle is still listed: $(cat /tmp/reply)"
ok "a held line is nobody else's, survives a restart, is listed when revoked, and comes back when closed"

svc blinker gpio watch $CHIP 6 > /tmp/ev6 2>&1 &
W=$!
sleep 1
echo 0 > $CFG/live
i=0
while kill -0 $W 2>/dev/null; do i=$((i + 1)); [ $i -gt 100 ] && fail "stream did not end"; sleep 0.1; done
grep -q "went away" /tmp/ev6 || fail "stream end: $(cat /tmp/ev6)"
svc blinker gpio get $CHIP 3 2>/tmp/err
grep -q "not present\|no such" /tmp/err || fail "chip gone: $(cat /tmp/err)"
ok "chip removal ends the stream"

echo 1 > $CFG/live
CHIP2=$(cat $CFG/bank0/chip_name)
[ "$CHIP2" = "$CHIP" ] || register blinker "{\"devices\":[\"/dev/$CHIP2\"]}"
DEV=$(cat $CFG/dev_name)
svc blinker gpio set $CHIP2 2=1 || fail "set after return: $(cat /tmp/hwbrokerd.log | tail -5)"
[ "$(cat /sys/devices/platform/$DEV/$CHIP2/sim_gpio2/value)" = 1 ] || fail "not driven after return"
ok "the chip works again without a restart"
stop_broker
