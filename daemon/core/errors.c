/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "errors.h"

#include <errno.h>

struct error_kind errors_from_errno(int err)
{
	if (err < 0)
		err = -err;
	switch (err) {
	case EBADMSG:
	case EPROTO:
		return (struct error_kind){400, "bad_request"};
	case EACCES:
	case EPERM:
		return (struct error_kind){403, "forbidden"};
	case ENOENT:
		return (struct error_kind){404, "not_found"};
	case EBUSY:
	case EALREADY:
		return (struct error_kind){409, "conflict"};
	case E2BIG:
	case EMSGSIZE:
	case EFBIG:
		return (struct error_kind){413, "too_large"};
	case EINVAL:
	case EOPNOTSUPP:
	case ERANGE:
	case EDOM:
		return (struct error_kind){422, "invalid"};
	case EAGAIN:
	case EUSERS:
		return (struct error_kind){429, "rate_limited"};
	case EREMOTEIO:
	case ENXIO:
		return (struct error_kind){502, "nack"};
	case ENODEV:
	case ESHUTDOWN:
	case EHOSTDOWN:
	case ECONNREFUSED:
	case ENOTCONN:
	case EMFILE:
		return (struct error_kind){503, "unavailable"};
	case ETIMEDOUT:
		return (struct error_kind){504, "timeout"};
	case ENAMETOOLONG:
		return (struct error_kind){414, "too_large"};
	default:
		return (struct error_kind){500, "internal"};
	}
}
