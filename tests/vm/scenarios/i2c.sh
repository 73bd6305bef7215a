#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-or-later
# I2C on i2c-stub through the i2c-dev backend; i2c-tools read what we wrote.
. /lib.sh
insmod /lib/modules/i2c-stub.ko chip_addr=0x48,0x50 functionality=0xffffffff || fail "i2c-stub"
BUS=""
for d in /sys/class/i2c-dev/*; do
	grep -q "SMBus stub" $d/name && BUS=${d##*/i2c-}
done
[ -n "$BUS" ] || fail "no i2c-stub bus"
ok "i2c-stub is bus $BUS"
start_broker
register sensor "{\"devices\":[\"/dev/i2c-$BUS\"],\"labels\":{\"io.hwbroker.i2c\":\"$BUS=0x48,0x30\"}}"

svc sensor i2c set $BUS 0x48 0x10 0xab || fail "set"
[ "$(i2cget -y $BUS 0x48 0x10)" = 0xab ] || fail "i2cget does not see 0xab"
i2cset -y $BUS 0x48 0x11 0xcd || fail "i2cset"
[ "$(svc sensor i2c get $BUS 0x48 0x11)" = 0xcd ] || fail "the broker does not see 0xcd"
svc sensor i2c set $BUS 0x48 0x20 0xbeef w || fail "word"
[ "$(i2cget -y $BUS 0x48 0x20 w)" = 0xbeef ] || fail "word read back"
ok "SMBus through the broker matches i2c-tools both ways"

svc sensor i2c get $BUS 0x50 0x00
[ $? = 3 ] || fail "address outside the policy not refused"
ok "address outside the policy refused"
svc sensor i2c get $BUS 0x30 2>/tmp/err
[ $? = 1 ] && grep -q "did not answer" /tmp/err || fail "NACK: $(cat /tmp/err)"
ok "missing device gives the NACK error"
stop_broker
