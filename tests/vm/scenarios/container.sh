#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-or-later
# A client as a container runs it: unprivileged, in its own mount namespace
# where only its service directory is mounted at /run/hwbroker.
. /lib.sh
CFG=/sys/kernel/config/gpio-sim/c
mkdir $CFG $CFG/bank0
echo 4 > $CFG/bank0/num_lines
echo 1 > $CFG/live
CHIP=$(cat $CFG/bank0/chip_name)
start_broker
register sensor "{\"devices\":[\"/dev/$CHIP\"]}"
register other '{"privileged":true}'
mkdir -p /mnt/stage
cat > /tmp/inside.sh <<'IN'
set -u
mount --bind /run/hwbroker/services/sensor /mnt/stage || exit 10
mount -t tmpfs tmpfs /run || exit 11
mkdir /run/hwbroker
mount --bind /mnt/stage /run/hwbroker || exit 12
umount /mnt/stage
exec /usr/bin/setpriv --reuid 1000 --regid 1000 --clear-groups --inh-caps=-all sh /tmp/client.sh
IN
cat > /tmp/client.sh <<IN
export HWBROKER_SOCKET=/run/hwbroker/hwbroker.sock
[ "\$(id -u)" = 1000 ] || exit 20
[ "\$(hwbroker whoami)" = sensor ] || exit 21
hwbroker gpio set $CHIP 1=1 || exit 22
[ "\$(ls /run/hwbroker)" = hwbroker.sock ] || exit 23
hwbroker --socket /run/hwbroker/admin.sock admin services 2>/dev/null && exit 24
ls /run/hwbroker/services 2>/dev/null && exit 25
[ -e /dev/$CHIP ] && [ -w /dev/$CHIP ] && exit 26
exit 0
IN
/usr/bin/unshare -m sh /tmp/inside.sh
r=$?
[ $r = 0 ] || fail "inside the namespace: step $r"
[ "$(hwbroker --socket $RUN/services/other/hwbroker.sock gpio get $CHIP 1)" = 1 ] || fail "value"
ok "an unprivileged client in its own mount namespace works and sees only its socket"
stop_broker
