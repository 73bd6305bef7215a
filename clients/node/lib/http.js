// SPDX-License-Identifier: LGPL-2.1-or-later
// HTTP/1.1 over the broker's unix socket: one keep-alive connection for calls,
// a connection of its own for each stream.
import http from 'node:http';

import { AbortError, ClientTimeoutError, HwbrokerError, TransportError, abortError } from './errors.js';

const USER_AGENT = 'hwbroker-node';
// A keep-alive connection the broker closed while idle fails like this before
// any byte of the reply arrives; the request is then sent again, once.
const STALE_CODES = new Set(['ECONNRESET', 'EPIPE']);

function wrapError(e, what) {
  if (e instanceof HwbrokerError || e instanceof AbortError) return e;
  if (e && (e.code === 'ENOENT' || e.code === 'ECONNREFUSED' || e.code === 'EACCES')) {
    return new TransportError(`${what}: cannot connect: ${e.message}`, { cause: e });
  }
  return new TransportError(`${what}: ${e && e.message ? e.message : e}`, { cause: e });
}

function timeLeft(deadline) {
  return deadline === null ? null : Math.max(0, deadline - Date.now());
}

export class Transport {
  constructor(path) {
    this.path = path;
    // One socket: calls are answered in the order they were made, and a
    // lease=connection belongs to a single connection.
    this.agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
  }

  close() {
    this.agent.destroy();
  }

  /** One request; resolves {status, headers, body, trailers} for any status. */
  async request({ method, path, headers = {}, body, timeout = null, signal }) {
    const deadline = timeout === null || timeout === undefined ? null : Date.now() + timeout;
    for (let attempt = 0; ; attempt++) {
      try {
        return await this._once({ method, path, headers, body, signal, deadline, timeout });
      } catch (e) {
        if (attempt === 0 && e.retryable) continue;
        delete e.retryable;
        throw e;
      }
    }
  }

  _once({ method, path, headers, body, signal, deadline, timeout }) {
    return new Promise((resolve, reject) => {
      if (signal?.aborted) {
        reject(abortError(signal));
        return;
      }
      const what = `${method} ${path}`;
      const hdrs = { 'User-Agent': USER_AGENT, ...headers };
      if (body !== undefined || method === 'POST' || method === 'PUT') {
        hdrs['Content-Length'] = String(body ? body.length : 0);
      }
      const req = http.request({ socketPath: this.path, agent: this.agent, method, path, headers: hdrs });
      let done = false;
      let gotResponse = false;
      let timer = null;
      const onAbort = () => {
        const e = abortError(signal);
        req.destroy(e);
        finish(e);
      };
      const finish = (err, value) => {
        if (done) return;
        done = true;
        if (timer) clearTimeout(timer);
        signal?.removeEventListener('abort', onAbort);
        if (err) reject(err);
        else resolve(value);
      };
      const left = timeLeft(deadline);
      if (left !== null) {
        timer = setTimeout(() => {
          // The connection goes: a late reply could still come on it.
          const e = new ClientTimeoutError(`${what}: no reply within ${timeout} ms`);
          req.destroy(e);
          finish(e);
        }, left);
      }
      signal?.addEventListener('abort', onAbort, { once: true });
      req.on('response', (res) => {
        gotResponse = true;
        const chunks = [];
        res.on('data', (c) => chunks.push(c));
        res.on('end', () =>
          finish(null, {
            status: res.statusCode,
            headers: res.headers,
            trailers: res.trailers,
            body: Buffer.concat(chunks),
          }),
        );
        res.on('error', (e) => finish(wrapError(e, what)));
        res.on('close', () => {
          if (!res.complete) finish(new TransportError(`${what}: the broker closed the connection in the reply`));
        });
      });
      req.on('error', (e) => {
        if (done) return;
        const err = wrapError(e, what);
        if (req.reusedSocket && !gotResponse && STALE_CODES.has(e.code)) err.retryable = true;
        finish(err);
      });
      req.end(body);
    });
  }

  /**
   * Opens a streaming GET on a new connection. Resolves {req, res} once a 200
   * head arrived; rejects with the broker's error otherwise. The signal, if
   * any, keeps watching: aborting later destroys the stream with an AbortError.
   */
  openStream({ path, timeout = null, signal }) {
    return new Promise((resolve, reject) => {
      if (signal?.aborted) {
        reject(abortError(signal));
        return;
      }
      const what = `GET ${path}`;
      const req = http.request({
        socketPath: this.path,
        agent: false,
        method: 'GET',
        path,
        headers: { 'User-Agent': USER_AGENT },
      });
      let settled = false;
      let response = null;
      let timer = null;
      const onAbort = () => {
        const e = abortError(signal);
        if (response) response.destroy(e);
        req.destroy(e);
        fail(e);
      };
      const fail = (e) => {
        if (timer) clearTimeout(timer);
        if (!settled) {
          settled = true;
          signal?.removeEventListener('abort', onAbort);
          reject(e);
        }
      };
      if (timeout !== null && timeout !== undefined) {
        timer = setTimeout(() => {
          const e = new ClientTimeoutError(`${what}: no reply within ${timeout} ms`);
          req.destroy(e);
          fail(e);
        }, timeout);
      }
      signal?.addEventListener('abort', onAbort, { once: true });
      req.on('error', (e) => fail(wrapError(e, what)));
      req.on('response', (res) => {
        if (timer) clearTimeout(timer);
        if (res.statusCode !== 200) {
          const chunks = [];
          res.on('data', (c) => chunks.push(c));
          res.on('end', () => {
            req.destroy();
            fail(HwbrokerError.fromReply(res.statusCode, Buffer.concat(chunks)));
          });
          res.on('error', (e) => fail(wrapError(e, what)));
          return;
        }
        response = res;
        res.on('close', () => signal?.removeEventListener('abort', onAbort));
        settled = true;
        resolve({ req, res });
      });
      req.end();
    });
  }
}
