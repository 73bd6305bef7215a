#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""Writes the seed corpora of the fuzz targets (corpus/NAME/), from the
routes, bodies and labels the documentation shows. Run it again after a
change of the API; the files are committed."""
import hashlib
import json
import os

HERE = os.path.dirname(os.path.abspath(__file__))


def put(target, data):
    d = os.path.join(HERE, "corpus", target)
    os.makedirs(d, exist_ok=True)
    name = hashlib.sha1(data).hexdigest()[:16]
    with open(os.path.join(d, name), "wb") as f:
        f.write(data)


def http(method, path, body=None, raw=None, headers=()):
    data = b""
    if body is not None:
        data = json.dumps(body).encode()
    elif raw is not None:
        data = raw
    head = "%s %s HTTP/1.1\r\nHost: hwbroker\r\n" % (method, path)
    for h in headers:
        head += h + "\r\n"
    if data:
        head += "Content-Length: %d\r\nContent-Type: application/json\r\n" % len(data)
    return head.encode() + b"\r\n" + data


SERVICE = [
    ("GET", "/v1/whoami", None), ("GET", "/v1/gpio", None),
    ("GET", "/v1/gpio/gpiochip0/17", None), ("GET", "/v1/gpio/0/GPIO17", None),
    ("PUT", "/v1/gpio/gpiochip0/17", {"value": 1}),
    ("PUT", "/v1/gpio/gpiochip0/999", {"value": 1}),
    ("PUT", "/v1/gpio/gpiochip0/4?lease=connection",
     {"direction": "input", "bias": "pull-up"}),
    ("PUT", "/v1/gpio/gpiochip0/18", {"value": 0, "drive": "open-drain", "active_low": True}),
    ("DELETE", "/v1/gpio/gpiochip0/17", None),
    ("PUT", "/v1/gpio/gpiochip0", {"values": {"17": 1, "GPIO22": 0, "0x12": 1}}),
    ("GET", "/v1/gpio/gpiochip0/4/events?edge=rising", None),
    ("GET", "/v1/i2c", None),
    ("POST", "/v1/i2c/1/0x76/smbus", {"op": "read_byte_data", "command": 208}),
    ("POST", "/v1/i2c/1/0x50/smbus", {"op": "write_i2c_block_data", "command": 0,
                                      "data": [1, 2, 3]}),
    ("POST", "/v1/i2c/1/0x50/smbus", {"op": "read_i2c_block_data", "command": 0, "length": 8}),
    ("POST", "/v1/i2c/1/0x50/transfer", {"messages": [{"write": [0]}, {"read": 16}]}),
    ("POST", "/v1/i2c/9/0x3ff/transfer", {"messages": [{"read": 1}]}),
    ("GET", "/v1/uart", None), ("GET", "/v1/uart/ttyS0/config", None),
    ("PUT", "/v1/uart/ttyS0/config", {"baud": 115200, "data_bits": 7, "parity": "even",
                                      "stop_bits": 2, "flow": "rtscts"}),
    ("GET", "/v1/uart/ttyS0/read?max=16&timeout_ms=0", None),
    ("GET", "/v1/uart/ttyACM0/stream", None),
    ("DELETE", "/v1/uart/ttyS0", None),
    ("GET", "/v1/uart/serial!by-id!usb-x/config", None),
    ("GET", "/v1/host/hostname", None), ("GET", "/v1/host/time", None),
    ("PUT", "/v1/host/hostname", {"hostname": "kiosk-7"}),
    ("POST", "/v1/host/reboot", {"reason": "fuzz"}),
    ("POST", "/v1/host/units/my-agent.service/restart", None),
]
ADMIN = [
    ("GET", "/v1/services", None), ("GET", "/v1/services/all", None),
    ("PUT", "/v1/services/extra", {"devices": ["/dev/gpiochip1"],
                                   "labels": {"io.hwbroker.gpio": "gpiochip1=1-3"}}),
    ("DELETE", "/v1/services/extra", None),
    ("PUT", "/v1/state", {"services": {"all": {"privileged": True}}}),
    ("GET", "/v1/health", None), ("GET", "/metrics", None),
    ("GET", "/v1/audit?limit=5&service=all", None),
    ("POST", "/v1/sim/gpio/gpiochip0/4", {"pull": "up"}),
    ("POST", "/v1/sim/gpio/gpiochip1", {"present": False}),
    ("POST", "/v1/sim/i2c/1", {"fault": {"address": "0x50", "error": "nack", "count": 2}}),
    ("POST", "/v1/sim/uart/ttyACM0", {"present": True}),
    ("GET", "/v1/sim/board", None), ("GET", "/v1/sim/host/actions", None),
]

for selector in (0, 1):
    for method, path, body in SERVICE:
        put("fuzz_request", bytes([selector]) + http(method, path, body))
for method, path, body in ADMIN + SERVICE:
    put("fuzz_request", bytes([2]) + http(method, path, body))
put("fuzz_request", bytes([0]) + http("POST", "/v1/uart/ttyS0/write", raw=b"hello\x00\xff"))
put("fuzz_request", bytes([0]) + http("GET", "/v1/uart/ttyS0/attach", headers=(
    "Connection: Upgrade", "Upgrade: hwbroker-uart")) + b"raw bytes after")
put("fuzz_request", bytes([0]) + http("POST", "/v1/direct/gpio/gpiochip0", body={
    "lines": [17, "GPIO22"], "direction": "output", "values": [1, 0]}, headers=(
    "Connection: Upgrade", "Upgrade: hwbroker-fd")))
put("fuzz_request", bytes([0]) + http("PUT", "/v1/gpio/gpiochip0/27", body={
    "direction": "input", "bias": "pull-down"}) + http("GET", "/v1/gpio/gpiochip0/27/events"))
put("fuzz_request", bytes([0]) + http("GET", "/v1/whoami") + http("GET", "/v1/gpio/gpiochip0/1"))
put("fuzz_request", bytes([1]) + b"GARBAGE / HTTP/1.1\r\n\r\n")
# The HTTP edge: pipelining, 100-continue, HTTP/1.0, a refused head after a good one.
put("fuzz_request", bytes([0]) + b"PUT /v1/gpio/gpiochip0/5 HTTP/1.1\r\nHost: x\r\n"
    b"Expect: 100-continue\r\nContent-Length: 11\r\n\r\n{\"value\":1}")
put("fuzz_request", bytes([0]) + b"GET /v1/whoami HTTP/1.0\r\nConnection: keep-alive\r\n\r\n"
    b"GET /v1/whoami HTTP/1.0\r\n\r\n")
put("fuzz_request", bytes([0]) + http("GET", "/v1/whoami") +
    b"PUT /v1/gpio/gpiochip0/5 HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n")
put("fuzz_request", bytes([2]) + b"HEAD /v1/health HTTP/1.1\r\nHost: x\r\n\r\n" +
    http("GET", "/v1/audit?limit=5&service=a%2Fb"))

HTTP_HEADS = [
    b"GET /v1/gpio/gpiochip0/5?lease=connection HTTP/1.1\r\nHost: x\r\n\r\n",
    b"PUT /v1/gpio/gpiochip0 HTTP/1.1\r\nHost: x\r\nContent-Length: 30\r\n"
    b"Content-Type: application/json\r\nConnection: close\r\n\r\n{}",
    b"GET /v1/uart/serial!by-id!usb%2Dx/read?max=16&timeout_ms=0 HTTP/1.0\n\n",
    b"GET /v1/uart/ttyS0/attach HTTP/1.1\r\nHost: x\r\nUpgrade: hwbroker-uart\r\n"
    b"Connection: Upgrade\r\nExpect: 100-continue\r\n\r\n",
]
for h in HTTP_HEADS:
    put("fuzz_http", h)

LABELS = [
    (0, "gpiochip0=17,18,22-27;gpiochip1=*"), (0, "pinctrl-bcm2711=GPIO17,0x11"),
    (1, "1=0x48,0x76;0=*"), (1, "1=0x00-0x7f"), (2, "ttyACM0,/dev/serial/by-id/usb-x"),
    (3, "reboot,hostname,time"), (4, "my-agent.service,backup@1.timer"),
]
for k, v in LABELS:
    put("fuzz_labels", bytes([k]) + v.encode())

COMPOSE = [
    """version: "2.1"
services:
  sensor:
    image: sensor
    devices:
      - /dev/i2c-1:/dev/i2c-1:r
      - "/dev/gpiochip0"
    cap_add: [SYS_BOOT]
    labels:
      io.hwbroker.i2c: "1=0x76"
      io.balena.features.dbus: "1"
  kiosk: &base
    privileged: true
    labels: ["io.hwbroker.units=my-agent.service"]
  copy: *base
""",
    '{"services": {"a": {"devices": [{"source": "/dev/ttyUSB0", "permissions": "r"}]}}}',
]
for c in COMPOSE:
    put("fuzz_compose", c.encode())

ROUTER = [b"\x00/v1/gpio/gpiochip0/17", b"\x01/v1/services/x", b"\x82/v1/sim/board",
          b'{"value":1,"messages":[1,2],"hostname":"h"}']
for r in ROUTER:
    put("fuzz_router", r)
