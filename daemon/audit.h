/* Audit log: JSON lines in STATE/audit.log, size-rotated (audit.log.1), each
 * record flushed (fdatasync) before audit_record() returns, so a host action
 * is on disk before it is performed. */
#pragma once

#include <jansson.h>

struct audit;
struct request;
struct policy_decision;

struct audit *audit_open(const char *state_dir, size_t max_bytes);
void audit_close(struct audit *a);

/* Adds "time" (RFC 3339 UTC) and writes one line. rec is borrowed. 0 or -errno. */
int audit_record(struct audit *a, json_t *rec);

/* Convenience: record with service, peer pid/uid/gid, request (method path),
 * action, args (borrowed, may be NULL), decision ("allow"/"deny") and result. */
int audit_request(struct audit *a, struct request *req, const char *action, json_t *args,
                  const char *decision, const char *result);

/* Newest-last records matching the filters (service may be NULL, since_us 0,
 * limit 0 = 100). New reference. */
json_t *audit_query(struct audit *a, const char *service, long long since_us, size_t limit);
