#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-or-later
# Boots the test VM with one scenario and returns the scenario's exit status.
# Usage: run-vm.sh OUT SCENARIO.sh [TIMEOUT_S]
# The VM's ttyS1 is a unix socket on the host; uart_peer.py sits on its far
# end and echoes what the VM sends (a loopback cable).
set -eu
OUT=$1
SCEN=$2
LIMIT=${3:-150}
HERE=$(cd "$(dirname "$0")" && pwd)
[ -s "$OUT/base.cpio.gz" ] || { echo "vm: $OUT/base.cpio.gz missing: run prepare.sh" >&2; exit 1; }
work=$(mktemp -d "$OUT/run.XXXXXX")
trap 'kill $qpid $ppid 2>/dev/null || true; rm -rf "$work"' EXIT
mkdir "$work/ov"
cp "$SCEN" "$work/ov/scenario.sh"
chmod +x "$work/ov/scenario.sh"
(cd "$work/ov" && echo scenario.sh | cpio -o -H newc --quiet | gzip -1) > "$work/ov.cpio.gz"
# Concatenated archives unpack in order: the scenario overlays the base.
cat "$OUT/base.cpio.gz" "$work/ov.cpio.gz" > "$work/initrd.gz"
accel=tcg
if [ -n "${HWB_VM_INTERACTIVE:-}" ]; then
	# A console on this terminal; ttyS1 goes nowhere. Quit with Ctrl-A X.
	exec qemu-system-x86_64 -nodefaults -no-user-config -display none -no-reboot -accel $accel \
		-cpu max -m 384M -kernel "$OUT/vmlinux" -initrd "$work/initrd.gz" \
		-append "console=ttyS0 panic=-1" -serial mon:stdio
fi
qemu-system-x86_64 -nodefaults -no-user-config -display none -no-reboot -accel $accel -cpu max \
	-m 384M -smp 1 -kernel "$OUT/vmlinux" -initrd "$work/initrd.gz" \
	-append "console=ttyS0 panic=-1 quiet" \
	-chardev stdio,id=con,signal=off -serial chardev:con \
	-chardev socket,id=s1,path="$work/ttyS1.sock",server=on,wait=on -serial chardev:s1 \
	</dev/null >"$work/console.log" 2>&1 &
qpid=$!
i=0
while [ ! -S "$work/ttyS1.sock" ]; do
	i=$((i + 1))
	if [ $i -gt 200 ] || ! kill -0 $qpid 2>/dev/null; then
		cat "$work/console.log" >&2
		echo "vm: QEMU did not start" >&2
		exit 1
	fi
	sleep 0.05
done
/usr/bin/python3 "$HERE/uart_peer.py" "$work/ttyS1.sock" &
ppid=$!
start=$(date +%s)
while kill -0 $qpid 2>/dev/null; do
	if [ $(($(date +%s) - start)) -gt "$LIMIT" ]; then
		kill -9 $qpid 2>/dev/null || true
		cat "$work/console.log"
		echo "vm: scenario $(basename "$SCEN") timed out after ${LIMIT}s" >&2
		exit 1
	fi
	sleep 0.2
done
cat "$work/console.log"
status=$(sed -n 's/.*HWB-VM-RESULT \([0-9]*\).*/\1/p' "$work/console.log" | tail -1)
[ -n "$status" ] || { echo "vm: no result line from the VM" >&2; exit 1; }
echo "vm: $(basename "$SCEN") finished with status $status in $(($(date +%s) - start))s"
exit "$status"
