#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-or-later
# The packaged systemd unit under systemd, on kernel devices: boots the VM of
# tests/vm (its kernel and gpio-sim module, from prepare.sh) with this
# machine's own root file system as a read-only 9p share under a tmpfs
# overlay, starts systemd, and runs scenario.sh as a service. It checks that
# the sandbox the unit declares is one the daemon works in.
# Usage: run.sh VM_OUT HWBROKERD HWBROKER_CLI UNIT [TIMEOUT_S]
set -eu
OUT=$(cd "$1" && pwd)
HWBROKERD=$2
CLI=$3
UNIT=$4
LIMIT=${5:-300}
HERE=$(cd "$(dirname "$0")" && pwd)
[ -s "$OUT/vmlinux" ] && [ -s "$OUT/gpio-sim.ko" ] ||
	{ echo "systemd-vm: $OUT has no vmlinux or gpio-sim.ko: run tests/vm/prepare.sh" >&2; exit 1; }
ABI=$(cat "$OUT/abi.txt")
for f in /lib/systemd/systemd /usr/bin/curl /usr/sbin/i2cset /usr/bin/setpriv /usr/bin/dbus-daemon; do
	[ -e "$f" ] || { echo "systemd-vm: the guest boots this machine's root: $f is missing (scripts/install-deps)" >&2; exit 1; }
done

WORK="$OUT/systemd-vm"
rm -rf "$WORK"
mkdir -p "$WORK/stage" "$WORK/root/bin" "$WORK/root/lib/modules"
for d in proc sys dev lower upper newroot; do mkdir "$WORK/root/$d"; done

# What the guest needs from the build, copied so that it does not depend on
# where the build tree is (the guest's /tmp is its own).
cp "$HWBROKERD" "$CLI" "$UNIT" "$OUT/gpio-sim.ko" "$HERE/scenario.sh" "$WORK/stage/"
cat >"$WORK/stage/hwb-test.service" <<'UNIT'
[Unit]
Description=hwbroker: the packaged unit under systemd
Requires=dbus.socket systemd-logind.service
After=dbus.socket basic.target systemd-logind.service
# A scenario that cannot start or dies ends the VM at once.
FailureAction=poweroff-force

[Service]
Type=oneshot
ExecStart=/bin/sh /var/lib/hwb-vm/scenario.sh
StandardOutput=tty
StandardError=tty
TTYPath=/dev/ttyS0
UNIT

# The initramfs: busybox and the modules for the 9p root and the overlay.
cp /bin/busybox "$WORK/root/bin/"
: >"$WORK/root/lib/modules/order"
mods=" "
add_mod() { # add_mod NAME: dependencies first; recursion-safe (no shared variables)
	case "$mods" in *" $1 "*) return ;; esac
	set -- "$1" "$(modinfo -k "$ABI" -n "$1")" "$(modinfo -k "$ABI" -F depends "$1" | tr ',' ' ')"
	for dep in $3; do add_mod "$dep"; done
	mods="$mods$1 "
	[ "$2" = builtin ] && return
	cp "$2" "$WORK/root/lib/modules/"
	basename "$2" >>"$WORK/root/lib/modules/order"
}
for m in virtio_pci 9pnet_virtio 9p overlay; do add_mod "$m"; done
cat >"$WORK/root/init" <<'INIT'
#!/bin/busybox sh
/bin/busybox --install -s /bin
mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev
while read -r m; do insmod "/lib/modules/$m" || echo "init: insmod $m failed"; done </lib/modules/order
for x in $(cat /proc/cmdline); do case $x in hwb.stage=*) STAGE=${x#hwb.stage=} ;; esac; done
fail() { echo "init: $*"; echo "HWB-VM-RESULT 1"; poweroff -f; }
mount -t 9p -o trans=virtio,version=9p2000.L,ro,msize=262144,cache=loose hostroot /lower ||
	fail "9p mount"
mount -t tmpfs -o mode=0755 tmpfs /upper
mkdir /upper/u /upper/w
mount -t overlay overlay -o lowerdir=/lower,upperdir=/upper/u,workdir=/upper/w /newroot ||
	fail "overlay mount"
mkdir -p /newroot/var/lib/hwb-vm
cp "/lower$STAGE"/* /newroot/var/lib/hwb-vm/ || fail "no stage directory $STAGE"
cp /newroot/var/lib/hwb-vm/hwb-test.service /newroot/etc/systemd/system/ || fail "no test unit"
# The host may be a container image: systemd must see a VM, not a container.
rm -f /newroot/.dockerenv /newroot/run/.containerenv
umount /proc /sys
mount --move /dev /newroot/dev
exec switch_root /newroot /lib/systemd/systemd --unit=hwb-test.service
INIT
chmod +x "$WORK/root/init"
(cd "$WORK/root" && find . | cpio -o -H newc --quiet | gzip -1) >"$WORK/initrd.gz"

# TCG, like tests/vm (KVM is not usable on every host); ttyS1 is the UART under test.
qemu-system-x86_64 -nodefaults -no-user-config -display none -no-reboot -accel tcg -cpu max \
	-m 1024 -smp 1 -kernel "$OUT/vmlinux" -initrd "$WORK/initrd.gz" \
	-append "console=ttyS0 panic=-1 quiet hwb.stage=$WORK/stage" \
	-virtfs local,path=/,mount_tag=hostroot,security_model=none,readonly=on,multidevs=remap \
	-serial file:"$WORK/console.log" -serial null </dev/null >"$WORK/qemu.log" 2>&1 &
qpid=$!
trap 'kill $qpid 2>/dev/null || true' EXIT
start=$(date +%s)
while kill -0 $qpid 2>/dev/null; do
	if [ $(($(date +%s) - start)) -gt "$LIMIT" ]; then
		kill -9 $qpid 2>/dev/null || true
		echo "systemd-vm: timed out after ${LIMIT}s" >&2
		break
	fi
	sleep 1
done
# The console without systemd's status lines and colours.
sed 's/\x1b\[[0-9;]*[A-Za-z]//g' "$WORK/console.log" | tr -d '\r' | grep -a -v '^\[\|^ *$\|Job .* running' || true
cat "$WORK/qemu.log"
status=$(sed -n 's/.*HWB-VM-RESULT \([0-9]*\).*/\1/p' "$WORK/console.log" | tail -n 1)
[ "$status" = 0 ] || { echo "systemd-vm: the scenario failed" >&2; exit 1; }
sed -n '/HWB-REBOOT-REQUESTED/,$p' "$WORK/console.log" | grep -q "reboot: Restarting system" ||
	{ echo "systemd-vm: the reboot through logind did not happen" >&2; exit 1; }
echo "systemd-vm: ok in $(($(date +%s) - start))s (the reboot through logind restarted the VM)"
