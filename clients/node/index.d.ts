// SPDX-License-Identifier: LGPL-2.1-or-later
// Types of the hwbroker client (hand-written; the package is plain JavaScript).
/// <reference types="node" />

export const DEFAULT_SOCKET: '/run/hwbroker/hwbroker.sock';
export const SOCKET_ENV: 'HWBROKER_SOCKET';
/** Milliseconds. */
export const DEFAULT_TIMEOUT: 5000;

/** `path`, else `$HWBROKER_SOCKET`, else DEFAULT_SOCKET. */
export function socketPath(path?: string): string;

export interface ClientOptions {
  /** The broker's socket; `$HWBROKER_SOCKET`, else /run/hwbroker/hwbroker.sock. */
  path?: string;
  /** Milliseconds every call may take unless it says otherwise; null: no limit. Default 5000. */
  timeout?: number | null;
}

/** Options every call takes. */
export interface CallOptions {
  /** Milliseconds for this call (null: no limit); the client's timeout otherwise. */
  timeout?: number | null;
  /** Aborting rejects the call with an AbortError and drops its connection. */
  signal?: AbortSignal;
}

export type Lease = 'persistent' | 'connection';

export interface LeaseOptions extends CallOptions {
  /** "connection": the lease ends with the connection; "persistent" (default) outlives it. */
  lease?: Lease;
}

export interface StreamOptions {
  /** Milliseconds to wait for the broker's answer when opening; the client's timeout otherwise. */
  timeout?: number | null;
  /** Milliseconds without data after which the stream fails with ClientTimeoutError. */
  idleTimeout?: number | null;
  /** Aborting ends the stream with an AbortError. */
  signal?: AbortSignal;
}

export type Bytes = Uint8Array | ArrayLike<number>;

export interface Grant {
  kind: 'gpio' | 'i2c' | 'uart' | 'host' | 'unit';
  resource: string;
  provenance: string;
  broad: boolean;
  access?: 'rw' | 'ro';
  [key: string]: unknown;
}

export interface Whoami {
  service: string;
  grants: Grant[];
  peer: { pid: number; uid: number; gid: number };
  [key: string]: unknown;
}

export interface GpioChip {
  chip: string;
  label: string;
  num_lines: number;
  lines: { line: number; name: string | null; holder: string | null }[];
}

export interface GpioLine {
  chip: string;
  line: number;
  name: string | null;
  value: 0 | 1;
  direction: 'input' | 'output';
  bias: 'as-is' | 'disabled' | 'pull-up' | 'pull-down';
  active_low: boolean;
  drive: 'push-pull' | 'open-drain' | 'open-source';
  used: boolean;
  holder: string | null;
  lease: Lease | null;
  watchers: number;
  [key: string]: unknown;
}

export interface GpioConfig {
  value?: 0 | 1 | boolean;
  direction?: 'input' | 'output';
  bias?: GpioLine['bias'];
  activeLow?: boolean;
  drive?: GpioLine['drive'];
  lease?: Lease;
}

export interface GpioEvent {
  chip: string;
  line: number;
  name: string | null;
  edge: 'rising' | 'falling';
  /** CLOCK_MONOTONIC, from the kernel. */
  timestamp_ns: number;
  /** Counts this watcher's events from 1. */
  seq: number;
}

/** Sent instead of events the broker had to drop because the consumer was too slow. */
export interface GpioDropped {
  dropped: number;
}

export interface I2cBus {
  bus: number;
  addresses: { address: string; access: 'rw' | 'ro' }[];
}

/** A write ({write} or bytes alone) or a read of n bytes ({read} or n alone). */
export type I2cMessage = { write: Bytes } | { read: number } | Uint8Array | number[] | number;

export type SmbusOp =
  | 'quick'
  | 'read_byte'
  | 'write_byte'
  | 'read_byte_data'
  | 'write_byte_data'
  | 'read_word_data'
  | 'write_word_data'
  | 'process_call'
  | 'read_block_data'
  | 'write_block_data'
  | 'read_i2c_block_data'
  | 'write_i2c_block_data';

export interface UartPort {
  port: string;
  holder: string | null;
  open: boolean;
  buffered: number;
  dropped: number;
  streams: number;
}

export interface UartConfig {
  baud: number;
  data_bits: 5 | 6 | 7 | 8;
  parity: 'none' | 'even' | 'odd' | 'mark' | 'space';
  stop_bits: 1 | 2;
  flow: 'none' | 'rtscts' | 'xonxoff';
}

export interface UartConfigInput {
  baud?: number;
  dataBits?: UartConfig['data_bits'];
  parity?: UartConfig['parity'];
  stopBits?: UartConfig['stop_bits'];
  flow?: UartConfig['flow'];
}

export interface UartReadOptions extends CallOptions {
  /** At most this many bytes (1-65536); default 4096. */
  max?: number;
  /** How long the broker waits for bytes (0-60000 ms); default 1000. Added to the call's timeout. */
  timeoutMs?: number;
}

export interface HostTime {
  timezone: string;
  ntp: boolean;
  ntp_synchronized: boolean;
  time_usec: number;
}

export interface RequestOptions extends CallOptions {
  /** Sent as JSON. */
  body?: unknown;
  /** Sent raw (application/octet-stream). */
  data?: Uint8Array | string;
  query?: Record<string, string | number | undefined>;
}

export class Client {
  constructor(options?: ClientOptions | string);
  readonly path: string;
  timeout: number | null;
  readonly gpio: Gpio;
  readonly i2c: I2c;
  readonly uart: Uart;
  readonly host: Host;
  /** Closes the keep-alive connection; a later call opens a new one. */
  close(): void;
  whoami(opts?: CallOptions): Promise<Whoami>;
  /** Any endpoint: resolves the decoded JSON, a Buffer for other replies, null when empty. */
  request(method: string, path: string, opts?: RequestOptions): Promise<any>;
}

/** A client of the broker; no I/O happens until the first call. */
export function connect(options?: ClientOptions | string): Client;

declare abstract class Stream<T> implements AsyncIterable<T> {
  /** Resolves once the broker answered: the watch or stream is in place. */
  open(): Promise<this>;
  /** Ends the stream. */
  close(): void;
  readonly closed: boolean;
  idleTimeout: number | null;
  [Symbol.asyncIterator](): AsyncIterator<T>;
}

/** Edge events; a stream the broker ends with an error (chip gone, policy changed) rejects with it. */
export class GpioEvents extends Stream<GpioEvent | GpioDropped> {
  /** Events the broker dropped so far (the sum of the {dropped} markers). */
  readonly dropped: number;
}

/** Bytes as they arrive; a port that goes away ends it with an "unavailable" HwbrokerError. */
export class UartStream extends Stream<Buffer> {}

export interface Gpio {
  list(opts?: CallOptions): Promise<GpioChip[]>;
  get(chip: string | number, line: string | number, opts?: CallOptions): Promise<GpioLine>;
  /** Configures the line and takes its lease. */
  configure(chip: string | number, line: string | number, config: GpioConfig, opts?: LeaseOptions): Promise<GpioLine>;
  /** Drives the line as an output and takes its lease. */
  set(
    chip: string | number,
    line: string | number,
    value: 0 | 1 | boolean,
    opts?: LeaseOptions & { activeLow?: boolean; drive?: GpioLine['drive'] },
  ): Promise<GpioLine>;
  input(
    chip: string | number,
    line: string | number,
    bias?: GpioLine['bias'],
    opts?: LeaseOptions & { activeLow?: boolean },
  ): Promise<GpioLine>;
  /** Several lines of one chip in one kernel call; every line is checked before any is driven. */
  setMany(
    chip: string | number,
    values: Record<string, 0 | 1 | boolean> | Map<string | number, 0 | 1 | boolean>,
    opts?: LeaseOptions,
  ): Promise<Record<string, 0 | 1>>;
  release(chip: string | number, line: string | number, opts?: CallOptions): Promise<void>;
  events(
    chip: string | number,
    line: string | number,
    opts?: StreamOptions & { edge?: 'rising' | 'falling' | 'both' },
  ): GpioEvents;
}

export interface I2c {
  list(opts?: CallOptions): Promise<I2cBus[]>;
  /** One combined transaction; one Buffer per read message, in order. */
  transfer(bus: number | string, addr: number | string, messages: I2cMessage[], opts?: CallOptions): Promise<Buffer[]>;
  smbus(
    bus: number | string,
    addr: number | string,
    op: SmbusOp,
    fields?: { command?: number; value?: number; length?: number; data?: number[]; read?: boolean },
    opts?: CallOptions,
  ): Promise<{ value?: number; data?: number[] }>;
  quick(bus: number | string, addr: number | string, opts?: CallOptions & { read?: boolean }): Promise<void>;
  readByte(bus: number | string, addr: number | string, opts?: CallOptions): Promise<number>;
  writeByte(bus: number | string, addr: number | string, value: number, opts?: CallOptions): Promise<void>;
  readByteData(bus: number | string, addr: number | string, command: number, opts?: CallOptions): Promise<number>;
  writeByteData(bus: number | string, addr: number | string, command: number, value: number, opts?: CallOptions): Promise<void>;
  readWordData(bus: number | string, addr: number | string, command: number, opts?: CallOptions): Promise<number>;
  writeWordData(bus: number | string, addr: number | string, command: number, value: number, opts?: CallOptions): Promise<void>;
  processCall(bus: number | string, addr: number | string, command: number, value: number, opts?: CallOptions): Promise<number>;
  readBlockData(bus: number | string, addr: number | string, command: number, opts?: CallOptions): Promise<Buffer>;
  writeBlockData(bus: number | string, addr: number | string, command: number, data: Bytes, opts?: CallOptions): Promise<void>;
  readI2cBlockData(bus: number | string, addr: number | string, command: number, length: number, opts?: CallOptions): Promise<Buffer>;
  writeI2cBlockData(bus: number | string, addr: number | string, command: number, data: Bytes, opts?: CallOptions): Promise<void>;
}

export interface Uart {
  list(opts?: CallOptions): Promise<UartPort[]>;
  getConfig(port: string, opts?: CallOptions): Promise<UartConfig>;
  /** Resolves the configuration the port now has; a setting it did not take rejects (422). */
  configure(port: string, config: UartConfigInput, opts?: LeaseOptions): Promise<UartConfig>;
  write(port: string, data: Uint8Array | string, opts?: LeaseOptions): Promise<number>;
  read(port: string, opts?: UartReadOptions): Promise<Buffer & { dropped: number }>;
  stream(port: string, opts?: StreamOptions): UartStream;
  release(port: string, opts?: CallOptions): Promise<void>;
}

export interface Host {
  reboot(reason?: string, opts?: CallOptions): Promise<{ action: 'reboot'; status: string }>;
  poweroff(reason?: string, opts?: CallOptions): Promise<{ action: 'poweroff'; status: string }>;
  hostname(opts?: CallOptions): Promise<string>;
  setHostname(hostname: string, opts?: CallOptions): Promise<string>;
  time(opts?: CallOptions): Promise<HostTime>;
  restartUnit(unit: string, opts?: CallOptions): Promise<{ unit: string; job: string }>;
}

export type ErrorCode =
  | 'bad_request'
  | 'forbidden'
  | 'not_found'
  | 'method_not_allowed'
  | 'conflict'
  | 'too_large'
  | 'invalid'
  | 'rate_limited'
  | 'internal'
  | 'nack'
  | 'unavailable'
  | 'timeout'
  | 'transport'
  | (string & {});

/** What the broker answered ({code, message, hint} and the HTTP status), or a client-side failure. */
export class HwbrokerError extends Error {
  constructor(
    message: string,
    options?: { code?: ErrorCode; hint?: string; status?: number | null; details?: unknown; cause?: unknown },
  );
  code: ErrorCode;
  hint: string;
  /** The HTTP status; null when no reply came back. */
  status: number | null;
  /** Extra detail some errors carry (e.g. every bad label of a declaration). */
  details?: unknown;
  static fromReply(status: number, body: Buffer): HwbrokerError;
  static fromJSON(error: unknown, status?: number | null): HwbrokerError;
}

/** The broker could not be reached or the connection broke (code "transport", status null). */
export class TransportError extends HwbrokerError {}

/** No reply within the call's timeout (code "timeout", status null). */
export class ClientTimeoutError extends TransportError {}

/** The call's AbortSignal fired (name "AbortError", code "ABORT_ERR"). */
export class AbortError extends Error {
  code: 'ABORT_ERR';
}
