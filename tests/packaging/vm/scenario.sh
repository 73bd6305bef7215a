#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-or-later
# Runs as a oneshot service in the systemd-booted VM (see run.sh): the unit as
# packaged, sandbox and all, on kernel devices. Every step prints "ok: ..." or
# fails with "FAIL: ..."; the last one reboots the VM through the daemon.
set -u
STAGE=/var/lib/hwb-vm
HWB=$STAGE/hwbroker
RUN=/run/hwbroker
ok() { echo "ok: $*"; }
fail() {
	echo "FAIL: $*"
	journalctl -u hwbrokerd --no-pager -q | tail -30
	echo "HWB-VM-RESULT 1"
	systemctl poweroff -ff
	exit 1
}
as_user() { setpriv --reuid 1000 --regid 1000 --clear-groups "$@"; }

modprobe i2c-dev || fail "modprobe i2c-dev"
modprobe i2c-stub chip_addr=0x48 || fail "modprobe i2c-stub"
insmod $STAGE/gpio-sim.ko || fail "insmod gpio-sim"
CFG=/sys/kernel/config/gpio-sim/hwb
mkdir $CFG $CFG/bank0 && echo 8 >$CFG/bank0/num_lines && echo 1 >$CFG/live || fail "gpio-sim"
CHIP=$(cat $CFG/bank0/chip_name)
SIM=/sys/devices/platform/$(cat $CFG/dev_name)/$CHIP
BUS=""
for d in /sys/class/i2c-dev/*; do grep -q "SMBus stub" $d/name && BUS=${d##*/i2c-}; done
[ -n "$BUS" ] || fail "no i2c-stub bus"
ok "devices: $CHIP, i2c-$BUS, ttyS1"

# The unit as installed; the drop-in runs this build's daemon with a test
# configuration. polkit is masked: host actions must work without it.
cp $STAGE/hwbrokerd.service /etc/systemd/system/
mkdir -p /etc/hwbroker /etc/systemd/system/hwbrokerd.service.d
groupadd -r hwbadm || fail "groupadd"
printf 'admin-group = hwbadm\nlog-level = debug\n' >/etc/hwbroker/test.conf
printf '[Service]\nExecStart=\nExecStart=%s --config /etc/hwbroker/test.conf\n' $STAGE/hwbrokerd \
	>/etc/systemd/system/hwbrokerd.service.d/test.conf
systemctl mask --now polkit.service >/dev/null 2>&1
systemctl daemon-reload
systemctl start hwbrokerd || fail "systemctl start hwbrokerd"
ok "started (Type=notify): $(systemctl show -p ActiveState --value hwbrokerd)"
[ "$(stat -c '%G %a' $RUN/admin.sock)" = "hwbadm 660" ] ||
	fail "admin.sock is $(stat -c '%U %G %a' $RUN/admin.sock)"
ok "admin.sock given to the admin group (CAP_CHOWN)"

curl -sf --unix-socket $RUN/admin.sock -X PUT http://hwbroker/v1/services/dev -d \
	"{\"devices\":[\"/dev/$CHIP\",\"/dev/i2c-$BUS\",\"/dev/ttyS1\"],\"labels\":{\"io.hwbroker.host\":\"hostname,reboot\"}}" \
	>/dev/null || fail "register"
S=$RUN/services/dev/hwbroker.sock
as_user $HWB --socket $S gpio set $CHIP 3=1 || fail "gpio set"
[ "$(cat $SIM/sim_gpio3/value)" = 1 ] || fail "gpio-sim does not see line 3 high"
ok "GPIO (char-gpiochip)"
i2cset -y $BUS 0x48 0x10 0xab || fail "i2cset"
[ "$(as_user $HWB --socket $S i2c get $BUS 0x48 0x10)" = 0xab ] || fail "i2c get"
ok "I2C (char-i2c)"
as_user $HWB --socket $S uart config ttyS1 --baud 9600 || fail "uart config"
stty -F /dev/ttyS1 | grep -q "speed 9600" || fail "stty: $(stty -F /dev/ttyS1 | head -1)"
ok "UART (char-ttyS)"
as_user $HWB --socket $S host hostname kiosk-7 || fail "set hostname"
[ "$(hostname)" = kiosk-7 ] || fail "hostname is $(hostname)"
ok "hostname through hostnamed, without polkit or CAP_SYS_ADMIN"

# container_id: only processes in the named container's cgroup are served.
ID=0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef
curl -sf --unix-socket $RUN/admin.sock -X PUT http://hwbroker/v1/services/dev \
	-d "{\"devices\":[\"/dev/$CHIP\"],\"container_id\":\"$ID\"}" >/dev/null || fail "container_id"
as_user $HWB --socket $S whoami >/dev/null 2>&1 && fail "a peer outside the container was served"
systemd-run --quiet --scope --unit=docker-$ID.scope setpriv --reuid 1000 --regid 1000 \
	--clear-groups $HWB --socket $S whoami >/tmp/who 2>&1 || fail "container peer refused: $(cat /tmp/who)"
ok "container_id: another user's /proc/PID/cgroup is read (no CAP_SYS_PTRACE, ProcSubset=pid)"

systemctl reload hwbrokerd && sleep 1 && systemctl is-active -q hwbrokerd || fail "reload"
ok "reload (SIGHUP)"
INODE=$(stat -c %i $RUN/services/dev)
systemctl restart hwbrokerd || fail "restart"
[ -S $S ] || fail "the service socket is not back after a restart"
# Containers have the directory bind-mounted: it must be the same one.
[ "$(stat -c %i $RUN/services/dev)" = "$INODE" ] ||
	fail "the service directory was replaced ($INODE -> $(stat -c %i $RUN/services/dev))"
ok "restart: services restored in the same directories"
systemd-analyze security --no-pager hwbrokerd.service | tail -n 1
WARN=$(journalctl -u hwbrokerd -p warning --no-pager -q | grep -v '^-- ')
[ -z "$WARN" ] || fail "the daemon logged warnings: $WARN"
ok "no warnings from the daemon"

curl -sf --unix-socket $RUN/admin.sock -X PUT http://hwbroker/v1/services/dev \
	-d "{\"devices\":[\"/dev/$CHIP\"],\"labels\":{\"io.hwbroker.host\":\"reboot\"}}" >/dev/null ||
	fail "register for the reboot"
echo "HWB-VM-RESULT 0"
# Last: a reboot through logind, without polkit or CAP_SYS_BOOT. The VM
# restarting is the success (QEMU runs with -no-reboot and exits).
echo "HWB-REBOOT-REQUESTED"
# The shutdown stops this service: that is the expected end, not a failure.
trap 'exit 0' TERM
as_user $HWB --socket $S host reboot --reason "vm test" || fail "reboot refused"
sleep 120 &
wait $!
fail "no reboot after 120 s"
