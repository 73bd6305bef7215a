// SPDX-License-Identifier: LGPL-2.1-or-later
// The client: promises for calls, async iterators for event and UART streams.
import { AbortError, ClientTimeoutError, HwbrokerError, TransportError } from './errors.js';
import { Transport } from './http.js';

export const DEFAULT_SOCKET = '/run/hwbroker/hwbroker.sock';
export const SOCKET_ENV = 'HWBROKER_SOCKET';
export const DEFAULT_TIMEOUT = 5000;

/** The socket to use: path, else $HWBROKER_SOCKET, else the default. */
export function socketPath(path) {
  return path || process.env[SOCKET_ENV] || DEFAULT_SOCKET;
}

/** A client of the broker; see Client. No I/O happens until the first call. */
export function connect(options = {}) {
  return new Client(options);
}

function seg(value) {
  if (typeof value === 'number') {
    if (!Number.isInteger(value) || value < 0) throw new TypeError(`not a line, bus or port: ${value}`);
    return String(value);
  }
  if (typeof value !== 'string' || value === '') throw new TypeError(`not a line, bus or port: ${value}`);
  return encodeURIComponent(value);
}

function addrSeg(value) {
  return typeof value === 'number' && Number.isInteger(value) ? `0x${value.toString(16).padStart(2, '0')}` : seg(value);
}

function dropUndefined(obj) {
  const out = {};
  for (const [k, v] of Object.entries(obj)) if (v !== undefined && v !== null) out[k] = v;
  return out;
}

function leaseQuery(lease) {
  if (lease === undefined || lease === null) return undefined;
  if (lease !== 'persistent' && lease !== 'connection') {
    throw new TypeError('lease must be "persistent" or "connection"');
  }
  return { lease };
}

function byteArray(data, what) {
  if (typeof data === 'string') throw new TypeError(`${what} must be bytes or an array of integers`);
  return Array.from(data);
}

function toBuffer(data) {
  if (typeof data === 'string') return Buffer.from(data, 'utf8');
  if (Buffer.isBuffer(data)) return data;
  if (ArrayBuffer.isView(data)) return Buffer.from(data.buffer, data.byteOffset, data.byteLength);
  if (data instanceof ArrayBuffer) return Buffer.from(data);
  return Buffer.from(data);
}

function parseJSON(body) {
  try {
    return JSON.parse(body.toString('utf8'));
  } catch (e) {
    throw new TransportError(`malformed JSON reply: ${body.subarray(0, 80).toString()}`, { cause: e });
  }
}

/**
 * One keep-alive HTTP/1.1 connection to a hwbroker socket (calls are sent
 * in order on it), plus a connection of its own for each stream.
 */
export class Client {
  constructor(options = {}) {
    const opts = typeof options === 'string' ? { path: options } : options;
    this.path = socketPath(opts.path);
    this.timeout = opts.timeout === undefined ? DEFAULT_TIMEOUT : opts.timeout;
    this._transport = new Transport(this.path);
    this.gpio = new Gpio(this);
    this.i2c = new I2c(this);
    this.uart = new Uart(this);
    this.host = new Host(this);
  }

  /** Closes the connection; calls after this open a new one. */
  close() {
    this._transport.close();
  }

  _timeout(opts) {
    return opts && opts.timeout !== undefined ? opts.timeout : this.timeout;
  }

  /** One request; resolves the raw reply of a success, rejects with HwbrokerError otherwise. */
  async call(method, path, { body, data, query, timeout, signal, extraTime = 0 } = {}) {
    const headers = {};
    let payload;
    if (body !== undefined) {
      payload = Buffer.from(JSON.stringify(body));
      headers['Content-Type'] = 'application/json';
    } else if (data !== undefined) {
      payload = toBuffer(data);
      headers['Content-Type'] = 'application/octet-stream';
    }
    const q = query ? new URLSearchParams(dropUndefined(query)).toString() : '';
    let t = timeout === undefined ? this.timeout : timeout;
    if (t !== null) t += extraTime;
    const reply = await this._transport.request({
      method,
      path: q ? `${path}?${q}` : path,
      headers,
      body: payload,
      timeout: t,
      signal,
    });
    if (reply.status >= 300) throw HwbrokerError.fromReply(reply.status, reply.body);
    return reply;
  }

  /**
   * Any endpoint: opts.body is sent as JSON, opts.data as raw bytes. Resolves
   * the decoded JSON reply, a Buffer for a non-JSON one, or null when empty.
   */
  async request(method, path, opts = {}) {
    const reply = await this.call(method, path, opts);
    if (!reply.body.length) return null;
    if ((reply.headers['content-type'] || '').includes('json')) return parseJSON(reply.body);
    return reply.body;
  }

  async _json(method, path, opts) {
    const reply = await this.call(method, path, opts);
    return reply.body.length ? parseJSON(reply.body) : null;
  }

  /** {service, grants, peer}. */
  whoami(opts = {}) {
    return this._json('GET', '/v1/whoami', opts);
  }
}

/** A streaming reply on its own connection; async iterable. */
class Stream {
  constructor(client, path, opts = {}) {
    this._client = client;
    this._path = path;
    this._signal = opts.signal;
    this._timeout = client._timeout(opts);
    this.idleTimeout = opts.idleTimeout ?? null;
    this._opening = null;
    this._req = null;
    this._res = null;
    this.closed = false;
  }

  /** Resolves once the broker answered (the watch or stream is in place). */
  open() {
    if (!this._opening) {
      this._opening = this._client._transport
        .openStream({ path: this._path, timeout: this._timeout, signal: this._signal })
        .then(({ req, res }) => {
          this._req = req;
          this._res = res;
          if (this.closed) res.destroy();
          return this;
        });
      this._opening.catch(() => {
        this.closed = true;
      });
    }
    return this._opening;
  }

  /** Ends the stream (the broker notices the closed connection). */
  close() {
    this.closed = true;
    if (this._res) this._res.destroy();
    if (this._req) this._req.destroy();
  }

  /** The body's chunks as they come, then the error of its trailer, if any. */
  async *_chunks() {
    await this.open();
    const res = this._res;
    let timer = null;
    const arm = () => {
      if (this.idleTimeout === null) return;
      timer = setTimeout(() => {
        res.destroy(new ClientTimeoutError(`nothing arrived within ${this.idleTimeout} ms`));
      }, this.idleTimeout);
    };
    try {
      arm();
      for await (const chunk of res) {
        clearTimeout(timer);
        yield chunk;
        arm();
      }
      const trailer = res.trailers['x-hwbroker-error'];
      if (trailer) {
        const i = trailer.indexOf(':');
        throw HwbrokerError.fromJSON(
          i < 0
            ? { code: 'unavailable', message: trailer }
            : { code: trailer.slice(0, i).trim(), message: trailer.slice(i + 1).trim() },
        );
      }
    } catch (e) {
      if (e instanceof HwbrokerError || e instanceof AbortError) throw e;
      if (this.closed) return; // closed by our side: just the end
      throw new TransportError(`stream ${this._path}: ${e.message}`, { cause: e });
    } finally {
      clearTimeout(timer);
      this.close();
    }
  }
}

/**
 * Edge events of one line: async iterable of objects like
 * {chip, line, name, edge, timestamp_ns, seq}, and {dropped: N} when the
 * broker dropped events for a slow consumer (this.dropped adds them up).
 */
export class GpioEvents extends Stream {
  constructor(client, path, opts) {
    super(client, path, opts);
    this.dropped = 0;
  }

  async *[Symbol.asyncIterator]() {
    let buf = '';
    const decoder = new TextDecoder();
    for await (const chunk of this._chunks()) {
      buf += decoder.decode(chunk, { stream: true });
      let nl;
      while ((nl = buf.indexOf('\n')) >= 0) {
        const line = buf.slice(0, nl).trim();
        buf = buf.slice(nl + 1);
        if (!line) continue;
        let ev;
        try {
          ev = JSON.parse(line);
        } catch (e) {
          this.close();
          throw new TransportError(`malformed event line: ${line.slice(0, 80)}`, { cause: e });
        }
        if (ev && ev.error) {
          this.close(); // an error line is the stream's last
          throw HwbrokerError.fromJSON(ev.error);
        }
        if (typeof ev.dropped === 'number') this.dropped += ev.dropped;
        yield ev;
      }
    }
  }
}

/** Bytes from a port as they arrive: async iterable of Buffers. */
export class UartStream extends Stream {
  [Symbol.asyncIterator]() {
    return this._chunks();
  }
}

class Area {
  constructor(client) {
    this._c = client;
  }
}

/** client.gpio: chip is a name, number or label; line an offset or a line name. */
class Gpio extends Area {
  async list(opts = {}) {
    return (await this._c._json('GET', '/v1/gpio', opts)).chips;
  }

  get(chip, line, opts = {}) {
    return this._c._json('GET', `/v1/gpio/${seg(chip)}/${seg(line)}`, opts);
  }

  configure(chip, line, config = {}, opts = {}) {
    const { value, direction, bias, activeLow, drive } = config;
    const body = dropUndefined({
      value: value === undefined || value === null ? undefined : Number(value),
      direction,
      bias,
      active_low: activeLow,
      drive,
    });
    return this._c._json('PUT', `/v1/gpio/${seg(chip)}/${seg(line)}`, {
      ...opts,
      body,
      query: leaseQuery(config.lease ?? opts.lease),
    });
  }

  set(chip, line, value, opts = {}) {
    const { activeLow, drive, lease, ...rest } = opts;
    return this.configure(chip, line, { value, activeLow, drive, lease }, rest);
  }

  input(chip, line, bias, opts = {}) {
    const { activeLow, lease, ...rest } = opts;
    return this.configure(chip, line, { direction: 'input', bias, activeLow, lease }, rest);
  }

  async setMany(chip, values, opts = {}) {
    const { lease, ...rest } = opts;
    const body = { values: {} };
    const entries = values instanceof Map ? values.entries() : Object.entries(values);
    for (const [k, v] of entries) body.values[String(k)] = Number(v);
    const reply = await this._c._json('PUT', `/v1/gpio/${seg(chip)}`, { ...rest, body, query: leaseQuery(lease) });
    return reply.values;
  }

  async release(chip, line, opts = {}) {
    await this._c.call('DELETE', `/v1/gpio/${seg(chip)}/${seg(line)}`, opts);
  }

  /** Watches the line; iterate the returned GpioEvents (await .open() to know the watch is in place). */
  events(chip, line, opts = {}) {
    const edge = opts.edge ?? 'both';
    const path = `/v1/gpio/${seg(chip)}/${seg(line)}/events?${new URLSearchParams({ edge })}`;
    return new GpioEvents(this._c, path, opts);
  }
}

/** client.i2c: devices on I2C buses; addr a 7-bit address. */
class I2c extends Area {
  async list(opts = {}) {
    return (await this._c._json('GET', '/v1/i2c', opts)).buses;
  }

  /**
   * One combined transaction. Messages: {write: bytes} or {read: n}; bytes
   * alone mean a write, a number alone a read. Resolves one Buffer per read.
   */
  async transfer(bus, addr, messages, opts = {}) {
    const msgs = messages.map((m) => {
      if (typeof m === 'number') return { read: m };
      if (ArrayBuffer.isView(m) || Array.isArray(m)) return { write: byteArray(m, 'write') };
      if (m && m.write !== undefined) return { write: byteArray(m.write, 'write') };
      if (m && m.read !== undefined) return { read: m.read };
      throw new TypeError(`a message is {write: bytes} or {read: n}, not ${JSON.stringify(m)}`);
    });
    const reply = await this._c._json('POST', `/v1/i2c/${seg(bus)}/${addrSeg(addr)}/transfer`, {
      ...opts,
      body: { messages: msgs },
    });
    return reply.reads.map((r) => Buffer.from(r));
  }

  /** Any SMBus operation by name; resolves the reply ({value}, {data} or {}). */
  smbus(bus, addr, op, fields = {}, opts = {}) {
    return this._c._json('POST', `/v1/i2c/${seg(bus)}/${addrSeg(addr)}/smbus`, {
      ...opts,
      body: { op, ...dropUndefined(fields) },
    });
  }

  async quick(bus, addr, opts = {}) {
    const { read = false, ...rest } = opts;
    await this.smbus(bus, addr, 'quick', { read: Boolean(read) }, rest);
  }

  async readByte(bus, addr, opts) {
    return (await this.smbus(bus, addr, 'read_byte', {}, opts)).value;
  }

  async writeByte(bus, addr, value, opts) {
    await this.smbus(bus, addr, 'write_byte', { value }, opts);
  }

  async readByteData(bus, addr, command, opts) {
    return (await this.smbus(bus, addr, 'read_byte_data', { command }, opts)).value;
  }

  async writeByteData(bus, addr, command, value, opts) {
    await this.smbus(bus, addr, 'write_byte_data', { command, value }, opts);
  }

  async readWordData(bus, addr, command, opts) {
    return (await this.smbus(bus, addr, 'read_word_data', { command }, opts)).value;
  }

  async writeWordData(bus, addr, command, value, opts) {
    await this.smbus(bus, addr, 'write_word_data', { command, value }, opts);
  }

  async processCall(bus, addr, command, value, opts) {
    return (await this.smbus(bus, addr, 'process_call', { command, value }, opts)).value;
  }

  async readBlockData(bus, addr, command, opts) {
    return Buffer.from((await this.smbus(bus, addr, 'read_block_data', { command }, opts)).data);
  }

  async writeBlockData(bus, addr, command, data, opts) {
    await this.smbus(bus, addr, 'write_block_data', { command, data: byteArray(data, 'data') }, opts);
  }

  async readI2cBlockData(bus, addr, command, length, opts) {
    return Buffer.from((await this.smbus(bus, addr, 'read_i2c_block_data', { command, length }, opts)).data);
  }

  async writeI2cBlockData(bus, addr, command, data, opts) {
    await this.smbus(bus, addr, 'write_i2c_block_data', { command, data: byteArray(data, 'data') }, opts);
  }
}

/** client.uart: serial ports ("ttyS0", "ttyUSB0", ...). */
class Uart extends Area {
  async list(opts = {}) {
    return (await this._c._json('GET', '/v1/uart', opts)).ports;
  }

  getConfig(port, opts = {}) {
    return this._c._json('GET', `/v1/uart/${seg(port)}/config`, opts);
  }

  /** Applies {baud, dataBits, parity, stopBits, flow}; resolves what the port now has. */
  configure(port, config = {}, opts = {}) {
    const body = dropUndefined({
      baud: config.baud,
      data_bits: config.dataBits ?? config.data_bits,
      parity: config.parity,
      stop_bits: config.stopBits ?? config.stop_bits,
      flow: config.flow,
    });
    const { lease, ...rest } = opts;
    return this._c._json('PUT', `/v1/uart/${seg(port)}/config`, {
      ...rest,
      body,
      query: leaseQuery(lease ?? config.lease),
    });
  }

  /** Writes bytes (a string as UTF-8); resolves how many were written. */
  async write(port, data, opts = {}) {
    const { lease, ...rest } = opts;
    const reply = await this._c._json('POST', `/v1/uart/${seg(port)}/write`, {
      ...rest,
      data: toBuffer(data),
      query: leaseQuery(lease),
    });
    return reply.written;
  }

  /**
   * What arrives (up to opts.max bytes, 4096) within opts.timeoutMs (1000):
   * a Buffer whose .dropped says how many bytes the broker dropped before it.
   */
  async read(port, opts = {}) {
    const { max = 4096, timeoutMs = 1000, ...rest } = opts;
    const reply = await this._c.call('GET', `/v1/uart/${seg(port)}/read`, {
      ...rest,
      query: { max, timeout_ms: timeoutMs },
      extraTime: timeoutMs,
    });
    const out = reply.body;
    out.dropped = Number(reply.headers['x-hwbroker-dropped'] || 0);
    return out;
  }

  /** Bytes as they arrive: iterate the returned UartStream. */
  stream(port, opts = {}) {
    return new UartStream(this._c, `/v1/uart/${seg(port)}/stream`, opts);
  }

  async release(port, opts = {}) {
    await this._c.call('DELETE', `/v1/uart/${seg(port)}`, opts);
  }
}

/** client.host: host actions. */
class Host extends Area {
  reboot(reason, opts = {}) {
    return this._c._json('POST', '/v1/host/reboot', { ...opts, body: dropUndefined({ reason }) });
  }

  poweroff(reason, opts = {}) {
    return this._c._json('POST', '/v1/host/poweroff', { ...opts, body: dropUndefined({ reason }) });
  }

  async hostname(opts = {}) {
    return (await this._c._json('GET', '/v1/host/hostname', opts)).hostname;
  }

  async setHostname(hostname, opts = {}) {
    return (await this._c._json('PUT', '/v1/host/hostname', { ...opts, body: { hostname } })).hostname;
  }

  time(opts = {}) {
    return this._c._json('GET', '/v1/host/time', opts);
  }

  restartUnit(unit, opts = {}) {
    return this._c._json('POST', `/v1/host/units/${seg(unit)}/restart`, opts);
  }
}
