/* libhwbroker: C client library for hwbrokerd.
 *
 * Conventions (docs/client-library.md):
 *  - Every call that can fail returns an int: 0 (or a non-negative count) on
 *    success, a negative errno on failure. A refusal by the broker maps its
 *    HTTP status to an errno: 400 -EBADMSG, 403 -EACCES, 404 -ENOENT,
 *    409 -EBUSY, 413 -E2BIG, 422 -EINVAL, 429 -EAGAIN, 502 -EREMOTEIO (I2C
 *    NACK), 503 -ENODEV, 504 -ETIMEDOUT, other 5xx -EIO; connection failures
 *    keep their own errno (-ECONNREFUSED, -ENOENT for a missing socket...).
 *    hwb_error_code()/hwb_error_message()/hwb_error_hint() then describe the
 *    last failure on that handle ("forbidden", the broker's message...).
 *  - Types are opaque. Every returned pointer says who owns it: "caller
 *    frees with X" or "borrowed, valid until Y".
 *  - A struct hwb is one keep-alive connection; use it from one thread at a
 *    time.
 */
#ifndef HWBROKER_H
#define HWBROKER_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#ifdef __cplusplus
extern "C" {
#endif

#define HWB_API __attribute__((visibility("default")))

struct hwb;

/* Connects to path; NULL means $HWBROKER_SOCKET, else
 * /run/hwbroker/hwbroker.sock. Returns NULL with errno set on failure.
 * Caller frees with hwb_close(). */
HWB_API struct hwb *hwb_connect(const char *path);
HWB_API void hwb_close(struct hwb *h);

/* Last failure on h: machine code ("forbidden", "conflict", ... or
 * "transport" for connection errors), message and hint ("" when none).
 * Borrowed, valid until the next call on h. */
HWB_API const char *hwb_error_code(const struct hwb *h);
HWB_API const char *hwb_error_message(const struct hwb *h);
HWB_API const char *hwb_error_hint(const struct hwb *h);
/* HTTP status of the last reply (0 if none). */
HWB_API int hwb_last_status(const struct hwb *h);

/* Generic request: method/path, optional JSON body text (NULL for none).
 * On success *reply (NUL-terminated body, may be NULL) is caller-owned: free().
 * Returns the HTTP status (2xx) or a negative errno as above. */
HWB_API int hwb_request(struct hwb *h, const char *method, const char *path, const char *json_body,
			char **reply);

/* --- identity --- */
/* Service name of this socket; caller frees *service with free(). *grants_json
 * (may be NULL to skip) is the grants array as JSON text, caller frees. */
HWB_API int hwb_whoami(struct hwb *h, char **service, char **grants_json);

/* --- GPIO (section owned by the GPIO area) --- */

/* --- I2C (section owned by the I2C area) --- */

/* --- UART (section owned by the UART area) --- */

/* --- host actions (section owned by the host area) --- */

#ifdef __cplusplus
}
#endif

#endif /* HWBROKER_H */
