#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-or-later
# Runs inside the test VM (bench/vm-direct): direct mode against libgpiod 1.6
# on one gpio-sim line, ROUNDS times, N writes each way per round.
. /lib.sh
N=@N@
ROUNDS=@ROUNDS@
CFG=/sys/kernel/config/gpio-sim/bench
mkdir $CFG $CFG/bank0
echo 8 > $CFG/bank0/num_lines
echo 1 > $CFG/live
CHIP=$(cat $CFG/bank0/chip_name)
HWB_LOG=warn start_broker
register fast "{\"devices\":[\"/dev/$CHIP\"],\"labels\":{\"io.hwbroker.gpio.direct\":\"1\"}}"
r=0
while [ $r -lt $ROUNDS ]; do
	direct_probe bench $RUN/services/fast/hwbroker.sock $CHIP 2 $N || fail "round $r"
	r=$((r + 1))
done
stop_broker
