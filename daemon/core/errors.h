/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The one error convention (docs/architecture.md, "Errors"):
 *   inside the daemon, functions return 0 (or a count) on success and a
 *   negative errno on failure; on a request, req_fail() also records the
 *   message and hint the client reads (request.h). The core alone renders
 *   replies, converting the errno to an HTTP status and a JSON error code
 *   with errors_from_errno(). Nothing else invents status codes.
 *
 *   errno                          status  code
 *   EBADMSG, EPROTO                400     bad_request   (malformed: JSON, path number, query)
 *   EACCES, EPERM                  403     forbidden
 *   ENOENT                         404     not_found
 *   EBUSY, EALREADY                409     conflict
 *   E2BIG, EMSGSIZE, EFBIG         413     too_large
 *   EINVAL, EOPNOTSUPP, ERANGE,    422     invalid       (well-formed but not acceptable)
 *   EDOM
 *   EAGAIN, EUSERS                 429     rate_limited
 *   EREMOTEIO, ENXIO               502     nack          (I2C device did not answer)
 *   ENODEV, ESHUTDOWN, EHOSTDOWN,  503     unavailable   (device gone, D-Bus peer missing)
 *   ECONNREFUSED, ENOTCONN, EMFILE
 *   ETIMEDOUT                      504     timeout
 *   ENAMETOOLONG                   414     too_large     (request path)
 *   anything else                  500     internal
 */
#pragma once

struct error_kind {
	unsigned status;
	const char *code;
};

/* err may be positive or negative. Never returns NULL fields. */
struct error_kind errors_from_errno(int err);
