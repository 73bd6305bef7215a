// SPDX-License-Identifier: GPL-2.0-or-later
// Shared harness for the Node client tests: starts the real hwbrokerd --sim
// on private runtime and state directories, waits until its admin socket
// answers, and talks to it.
//
// ctest sets HWBROKERD (tests/CMakeLists.txt); by hand:
// HWBROKERD=build/daemon/hwbrokerd node --test tests/node/test_gpio.mjs
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
export const SOURCE_DIR = process.env.HWB_SOURCE_DIR || path.resolve(here, '..', '..');
export const NODE_CLIENT = path.join(SOURCE_DIR, 'clients', 'node');
const HWBROKERD = process.env.HWBROKERD || 'hwbrokerd';

/** One HTTP exchange on a fresh connection; resolves {status, headers, body, json}. */
export function exchange(socketPath, method, url, body) {
  return new Promise((resolve, reject) => {
    const data = body === undefined ? undefined : Buffer.from(JSON.stringify(body));
    const req = http.request(
      {
        socketPath,
        method,
        path: url,
        agent: false,
        headers: data ? { 'Content-Type': 'application/json', 'Content-Length': data.length } : {},
      },
      (res) => {
        const chunks = [];
        res.on('data', (c) => chunks.push(c));
        res.on('end', () => {
          const buf = Buffer.concat(chunks);
          let json = null;
          try {
            json = buf.length ? JSON.parse(buf) : null;
          } catch {
            // not JSON
          }
          resolve({ status: res.statusCode, headers: res.headers, body: buf, json });
        });
        res.on('error', reject);
      },
    );
    req.on('error', reject);
    req.end(data);
  });
}

export class Daemon {
  constructor(args = []) {
    this.tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'hwbtest-node-'));
    this.runtime = path.join(this.tmp, 'run');
    this.state = path.join(this.tmp, 'state');
    this.logPath = path.join(this.tmp, 'hwbrokerd.log');
    this.args = ['--sim', ...args];
    this.proc = null;
  }

  get adminPath() {
    return path.join(this.runtime, 'admin.sock');
  }

  socketPath(service) {
    return path.join(this.runtime, 'services', service, 'hwbroker.sock');
  }

  async start(timeoutMs = 15000) {
    const log = fs.openSync(this.logPath, 'a');
    this.proc = spawn(
      HWBROKERD,
      ['--runtime-dir', this.runtime, '--state-dir', this.state, '--log-level', 'debug', ...this.args],
      { stdio: ['ignore', log, log] },
    );
    fs.closeSync(log);
    this.exited = new Promise((resolve) => {
      this.proc.on('exit', (code, signal) => resolve({ code, signal }));
      this.proc.on('error', (error) => resolve({ code: null, signal: null, error }));
    });
    this.exitStatus = null;
    this.exited.then((s) => {
      this.exitStatus = s;
    });
    // Ready when the admin socket answers.
    const deadline = Date.now() + timeoutMs;
    while (Date.now() < deadline) {
      if (this.exitStatus) break;
      try {
        const r = await exchange(this.adminPath, 'GET', '/v1/health');
        if (r.status === 200) return this;
      } catch {
        // not listening yet
      }
      await sleep(20);
    }
    this.proc.kill('SIGKILL');
    await this.exited;
    const why = this.exitStatus?.error ? `${this.exitStatus.error.message}\n` : '';
    throw new Error(`hwbrokerd (${HWBROKERD}) did not become ready:\n${why}${this.log()}`);
  }

  log() {
    try {
      return fs.readFileSync(this.logPath, 'utf8');
    } catch {
      return '';
    }
  }

  alive() {
    return this.proc !== null && this.exitStatus === null;
  }

  /** Removes the directories (HWB_KEEP_TMP=1 keeps them, and the daemon's log). */
  cleanup() {
    if (!process.env.HWB_KEEP_TMP) fs.rmSync(this.tmp, { recursive: true, force: true });
  }

  /** Stops the daemon; throws if it had died, failed to stop, or a sanitizer complained. */
  async stop() {
    if (!this.proc) return;
    const wasAlive = this.alive();
    if (wasAlive) this.proc.kill('SIGTERM');
    const timer = setTimeout(() => this.proc.kill('SIGKILL'), 10000);
    const { code, signal } = await this.exited;
    clearTimeout(timer);
    this.proc = null;
    const log = this.log();
    if (!wasAlive) throw new Error(`hwbrokerd died during the test:\n${log.slice(-4000)}`);
    if (code !== 0 || log.includes('ERROR: AddressSanitizer') || log.includes('runtime error:')) {
      throw new Error(`hwbrokerd exited with ${code ?? signal}:\n${log.slice(-4000)}`);
    }
  }

  async admin(method, url, body) {
    const r = await exchange(this.adminPath, method, url, body);
    if (r.status >= 300) throw new Error(`admin ${method} ${url}: ${r.status} ${r.body}`);
    return r.json;
  }

  async register(name, compose) {
    await this.admin('PUT', `/v1/services/${name}`, compose);
    return this.socketPath(name);
  }

  line(chip, line) {
    return this.admin('GET', `/v1/gpio/${chip}/${line}`);
  }

  pull(chip, line, level) {
    return this.admin('POST', `/v1/sim/gpio/${chip}/${line}`, { pull: level });
  }

  async port(name) {
    return (await this.admin('GET', '/v1/uart')).ports.find((p) => p.port === name);
  }

  async hostActions() {
    return (await this.admin('GET', '/v1/sim/host/actions')).actions;
  }

  i2cDelay(bus, ms) {
    return this.admin('POST', `/v1/sim/i2c/${bus}`, { delay_ms: ms });
  }

  /**
   * Waits until the bus has served every queued transfer: a new one (through
   * the admin socket) then succeeds. Use after a slowed bus.
   */
  async waitI2cIdle(bus = 1, timeoutMs = 30000) {
    await this.i2cDelay(bus, 0);
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const r = await exchange(this.adminPath, 'POST', `/v1/i2c/${bus}/0x76/smbus`, { op: 'read_byte_data', command: 0xd0 });
      if (r.status === 200) return;
      if (Date.now() > deadline) throw new Error(`bus ${bus} still busy: ${r.status} ${r.body}`);
    }
  }

  async connections(name) {
    return (await this.admin('GET', `/v1/services/${name}`)).connections;
  }

  /** Waits until the service has n connections open, on the broker's own count. */
  async waitConnections(name, n, timeoutMs = 30000) {
    const deadline = Date.now() + timeoutMs;
    while ((await this.connections(name)) !== n && Date.now() < deadline) await sleep(20);
    const now = await this.connections(name);
    if (now !== n) throw new Error(`service ${name} has ${now} connections, not ${n}`);
  }
}

/** Runs fn(daemon) against a fresh daemon, and stops it whatever happens. */
export async function withDaemon(args, fn) {
  if (typeof args === 'function') {
    fn = args;
    args = [];
  }
  const d = await new Daemon(args).start();
  let failed = false;
  try {
    return await fn(d);
  } catch (e) {
    failed = true;
    throw e;
  } finally {
    try {
      await d.stop();
    } catch (e) {
      if (!failed) throw e; // eslint-disable-line no-unsafe-finally
    } finally {
      d.cleanup();
    }
  }
}

/** What the "sensor" service of most tests declares: all it needs for every call. */
export const EVERYTHING = {
  devices: ['/dev/gpiochip0', '/dev/i2c-1', '/dev/ttyS0', '/dev/ttyACM0'],
  labels: { 'io.hwbroker.host': 'reboot,poweroff,hostname,time', 'io.hwbroker.units': 'my-agent.service' },
};
