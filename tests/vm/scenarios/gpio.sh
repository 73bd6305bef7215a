#!/bin/sh
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
read -r line edge ts < /tmp/ev || fail "no event line: $(cat /tmp/ev)"
[ "$line $edge" = "5 rising" ] || fail "event: $(cat /tmp/ev)"
[ "$ts" -gt 0 ] || fail "timestamp $ts"
ok "edge event with kernel timestamp $ts"

svc other gpio set $CHIP 4=1
[ $? = 3 ] || fail "another service was not refused"
ok "another service is refused"

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
