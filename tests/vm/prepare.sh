#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-or-later
# Builds what the kernel-device tests boot, cached in OUT (the build tree):
#   vmlinux          Debian's kernel, uncompressed (TCG boots it faster)
#   gpio-sim.ko      gpio-sim + irq_sim as one out-of-tree module (Debian's
#                    kernel has neither)
#   base.cpio.gz     busybox, the modules, hwbrokerd, the CLI, direct_probe,
#                    the tools the scenarios use, and their shared libraries
# Usage: prepare.sh OUT HWBROKERD HWBROKER_CLI DIRECT_PROBE
# A missing package is an error that names it; nothing is skipped.
set -eu
OUT=$1
HWBROKERD=$2
CLI=$3
PROBE=$4
HERE=$(cd "$(dirname "$0")" && pwd)
mkdir -p "$OUT"
cd "$OUT"

need() { # need FILE PACKAGE
	[ -e "$1" ] || { echo "vm: missing $1: install the Debian package $2 (scripts/install-deps)" >&2; exit 1; }
}
for tool in qemu-system-x86_64:qemu-system-x86 cpio:cpio xz:xz-utils modinfo:kmod; do
	command -v "${tool%%:*}" >/dev/null || { echo "vm: missing ${tool%%:*}: install ${tool#*:}" >&2; exit 1; }
done
need /bin/busybox busybox-static
need /usr/src/linux-source-6.1.tar.xz linux-source-6.1
need /usr/bin/gpioset gpiod
need /usr/sbin/i2cget i2c-tools

# The kernel that boots must match the headers the module is built against.
ABI=""
for k in /boot/vmlinuz-*-amd64; do
	a=${k#/boot/vmlinuz-}
	if [ -d "/lib/modules/$a/build" ] && [ -d "/lib/modules/$a/kernel" ]; then ABI=$a; fi
done
[ -n "$ABI" ] || { echo "vm: no /boot/vmlinuz-*-amd64 with matching headers: install linux-image-amd64 and linux-headers-<its version>" >&2; exit 1; }
echo "$ABI" > abi.txt

# 1. Uncompressed kernel: the xz stream inside the bzImage.
if [ ! -s vmlinux ] || [ "$(cat vmlinux.abi 2>/dev/null)" != "$ABI" ]; then
	off=$(LC_ALL=C grep -obUaP '\xFD7zXZ\x00' "/boot/vmlinuz-$ABI" | head -1 | cut -d: -f1)
	[ -n "$off" ] || { echo "vm: no xz stream in /boot/vmlinuz-$ABI" >&2; exit 1; }
	tail -c +$((off + 1)) "/boot/vmlinuz-$ABI" | xz -dc 2>/dev/null > vmlinux.tmp || true
	[ "$(head -c 4 vmlinux.tmp | od -An -c | tr -d ' ')" = "177ELF" ] || { echo "vm: kernel extraction failed" >&2; exit 1; }
	mv vmlinux.tmp vmlinux
	echo "$ABI" > vmlinux.abi
fi

# 2. gpio-sim as a module, with irq_sim linked in.
if [ ! -s gpio-sim.ko ] || [ "$(cat gpio-sim.abi 2>/dev/null)" != "$ABI" ]; then
	rm -rf mod && mkdir -p mod/src
	tar -xJf /usr/src/linux-source-6.1.tar.xz -C mod/src --wildcards \
		'*/drivers/gpio/gpio-sim.c' '*/drivers/gpio/gpiolib.h' '*/kernel/irq/irq_sim.c'
	cp mod/src/*/drivers/gpio/gpio-sim.c mod/gpio-sim-main.c
	cp mod/src/*/drivers/gpio/gpiolib.h mod/gpiolib.h
	# irq_to_desc() is not exported to modules; generic_handle_irq() does the
	# same here (irq_sim installs handle_simple_irq as the handler).
	sed 's/handle_simple_irq(irq_to_desc(irqnum))/generic_handle_irq(irqnum)/' \
		mod/src/*/kernel/irq/irq_sim.c > mod/irq_sim.c
	grep -q 'generic_handle_irq(irqnum)' mod/irq_sim.c || { echo "vm: irq_sim.c patch did not apply" >&2; exit 1; }
	printf 'obj-m := gpio-sim.o\ngpio-sim-y := gpio-sim-main.o irq_sim.o\n' > mod/Kbuild
	make -s -C "/lib/modules/$ABI/build" M="$OUT/mod" modules >mod/build.log 2>&1 || { cat mod/build.log >&2; exit 1; }
	cp mod/gpio-sim.ko gpio-sim.ko
	echo "$ABI" > gpio-sim.abi
fi

# 3. The base initramfs (rebuilt each time: the binaries under test change).
rm -rf root && mkdir -p root/bin root/sbin root/lib/modules root/etc root/tmp root/proc root/sys \
	root/dev root/run root/mnt root/var/lib root/usr/bin root/usr/sbin
cp /bin/busybox root/bin/busybox
copy_bin() { # copy_bin FILE DEST_DIR: the binary and every library it loads
	cp "$1" "root/$2/"
	ldd "$1" 2>/dev/null | awk '/=>/ {print $3} !/=>/ && /^\t\// {print $1}' | while read -r lib; do
		[ -n "$lib" ] && [ -e "$lib" ] || continue
		mkdir -p "root$(dirname "$lib")"
		cp -L "$lib" "root$lib"
	done
}
copy_bin "$HWBROKERD" usr/sbin
copy_bin "$CLI" usr/bin
copy_bin "$PROBE" usr/bin
for t in /usr/bin/gpioset /usr/bin/gpioget /usr/bin/gpiomon /usr/sbin/i2cget /usr/sbin/i2cset /usr/sbin/i2cdetect \
	/usr/bin/unshare /usr/bin/setpriv; do
	copy_bin "$t" usr/bin
done
mods=""
add_mod() { # add_mod NAME: the module and what it depends on, dependencies first
	local name file dep # the recursion below must not overwrite them (dash and bash have local)
	name=$1
	case " $mods " in *" $name "*) return ;; esac
	file=$(modinfo -k "$ABI" -n "$name" 2>/dev/null) || { echo "vm: module $name not found" >&2; exit 1; }
	for dep in $(modinfo -k "$ABI" -F depends "$name" | tr ',' ' '); do add_mod "$dep"; done
	case "$file" in (builtin) return ;; esac
	cp "$file" root/lib/modules/
	mods="$mods $name"
	echo "$(basename "$file")" >> root/lib/modules/order
}
: > root/lib/modules/order
add_mod configfs
add_mod i2c-dev
add_mod i2c-stub
# i2c-stub needs its chip addresses: the I2C scenario loads it itself.
grep -v '^i2c-stub' root/lib/modules/order > root/lib/modules/order.tmp
mv root/lib/modules/order.tmp root/lib/modules/order
cp gpio-sim.ko root/lib/modules/
echo gpio-sim.ko >> root/lib/modules/order
cp "$HERE/init" root/init
cp "$HERE/scenarios/lib.sh" root/lib.sh
chmod +x root/init
echo "root:x:0:0::/:/bin/sh" > root/etc/passwd
echo "svc:x:1000:1000::/tmp:/bin/sh" >> root/etc/passwd
echo "root:x:0:" > root/etc/group
echo "svc:x:1000:" >> root/etc/group
(cd root && find . | cpio -o -H newc --quiet | gzip -1) > base.cpio.gz
echo "vm: ready ($ABI, $(du -k base.cpio.gz | cut -f1) KiB initramfs)"
