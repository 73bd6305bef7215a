# SPDX-License-Identifier: GPL-2.0-or-later
# Shared by the scenarios (sourced inside the VM).
RUN=/run/hwbroker
fail() { echo "FAIL: $*"; exit 1; }
ok() { echo "ok: $*"; }

start_broker() {
	mkdir -p /var/lib/hwbroker
	hwbrokerd --runtime-dir $RUN --state-dir /var/lib/hwbroker --host sim --log-level ${HWB_LOG:-info} \
		>/tmp/hwbrokerd.log 2>&1 &
	BROKER=$!
	i=0
	while [ ! -S $RUN/admin.sock ]; do
		i=$((i + 1))
		[ $i -gt 100 ] && { cat /tmp/hwbrokerd.log; fail "hwbrokerd did not start"; }
		sleep 0.1
	done
}

# register NAME JSON
register() {
	echo "$2" > /tmp/$1.json
	hwbroker admin register "$1" /tmp/$1.json >/dev/null || fail "register $1"
}

svc() { # svc NAME ARGS...: the CLI on that service's socket
	n=$1
	shift
	hwbroker --socket $RUN/services/$n/hwbroker.sock "$@"
}

stop_broker() {
	kill $BROKER
	wait $BROKER
	[ ! -e $RUN/admin.sock ] || fail "admin socket left behind"
}
