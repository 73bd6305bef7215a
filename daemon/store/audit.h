/* Audit log: JSON lines in STATE/audit.log, size-rotated (audit.log.1), each
 * record flushed (fdatasync) before audit_record() returns, so a host action
 * is on disk before it is performed. */
#pragma once

#include <jansson.h>
#include <stdint.h>

struct audit;

/* Who asked, for every record: the record stands on its own. */
struct audit_origin {
	char service[64];
	int pid, uid, gid;
	uint64_t request;
	char method[16];
	char path[256];
};

struct audit *audit_open(const char *state_dir, size_t max_bytes);
void audit_close(struct audit *a);

/* Adds "time" (RFC 3339 UTC) and writes one line. rec is borrowed. 0 or -errno. */
int audit_record(struct audit *a, json_t *rec);

/* One record: origin (service, peer, request id, method, path), the event
 * ("deny", "allow", "done", "failed", "registered", ...) and fields
 * (stolen, may be NULL). 0 or -errno. */
int audit_write(struct audit *a, const struct audit_origin *o, const char *event, json_t *fields);

/* Newest-last records matching the filters (service may be NULL, since_us 0,
 * limit 0 = 100). New reference. */
json_t *audit_query(struct audit *a, const char *service, long long since_us, size_t limit);
