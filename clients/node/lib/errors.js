// SPDX-License-Identifier: LGPL-2.1-or-later
// Errors: the broker's {"error":{"code","message","hint"}} with the HTTP status.

const CODE_BY_STATUS = {
  400: 'bad_request',
  403: 'forbidden',
  404: 'not_found',
  405: 'method_not_allowed',
  409: 'conflict',
  413: 'too_large',
  422: 'invalid',
  429: 'rate_limited',
  500: 'internal',
  502: 'nack',
  503: 'unavailable',
  504: 'timeout',
};

/** An error the broker answered, or (code "transport"/"timeout", status null) one of the client. */
export class HwbrokerError extends Error {
  constructor(message, { code = 'error', hint = '', status = null, details, cause } = {}) {
    super(message, cause === undefined ? undefined : { cause });
    this.name = 'HwbrokerError';
    this.code = code;
    this.hint = hint || '';
    this.status = status;
    if (details !== undefined) this.details = details;
  }

  toString() {
    return `${this.name}: ${this.code}: ${this.message}${this.hint ? ` (hint: ${this.hint})` : ''}`;
  }

  /** The error of a reply: its JSON error if it has one, else one chosen by the status. */
  static fromReply(status, body) {
    let err;
    try {
      const doc = JSON.parse(body.toString('utf8'));
      if (doc && typeof doc === 'object') err = doc.error;
    } catch {
      // not the broker's JSON: the status says it all
    }
    return HwbrokerError.fromJSON(err, status);
  }

  static fromJSON(err, status = null) {
    const e = err && typeof err === 'object' ? err : {};
    const str = (v) => (typeof v === 'string' ? v : undefined);
    const code = str(e.code) ?? CODE_BY_STATUS[status] ?? 'error';
    if (status === null) status = statusOfCode(code);
    return new HwbrokerError(str(e.message) ?? `HTTP status ${status}`, {
      code,
      hint: str(e.hint) ?? '',
      status,
      details: e.details,
    });
  }
}

function statusOfCode(code) {
  for (const [status, c] of Object.entries(CODE_BY_STATUS)) if (c === code) return Number(status);
  return null;
}

/** The broker could not be reached, or the connection broke: no reply. */
export class TransportError extends HwbrokerError {
  constructor(message, opts = {}) {
    super(message, { code: 'transport', ...opts });
    this.name = 'TransportError';
  }
}

/** No reply within the call's timeout (the client gave up). Its code is "timeout", as a 504's. */
export class ClientTimeoutError extends TransportError {
  constructor(message, opts = {}) {
    super(message, { ...opts, code: 'timeout' });
    this.name = 'ClientTimeoutError';
  }
}

/** The call's AbortSignal fired. Like Node's own: name "AbortError", code "ABORT_ERR". */
export class AbortError extends Error {
  constructor(message = 'The operation was aborted', opts = undefined) {
    super(message, opts);
    this.name = 'AbortError';
    this.code = 'ABORT_ERR';
  }
}

export function abortError(signal) {
  return new AbortError('The operation was aborted', { cause: signal?.reason });
}
