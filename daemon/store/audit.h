/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The audit log: one JSON object per line, written on the writer thread
 * (never on the event loop) and flushed (fdatasync) before a record counts
 * as written. Two logs, so that a flood of denials can never push host
 * actions and admin changes out:
 *
 *   STATE/audit.log    host actions (allowed, done, failed, refused), admin
 *                      changes (registered, updated, removed)
 *   STATE/denials.log  policy denials, at most --audit-denials per second
 *                      per service (more are counted: the next record says
 *                      how many were not written one by one)
 *
 * Each rotates past --audit-max-bytes and keeps --audit-generations old
 * files (audit.log.1 is the newest). docs/security.md has the format. */
#pragma once

#include <jansson.h>
#include <stdint.h>

struct audit;
struct loop;
struct writer;

/* Who asked, for every record: the record stands on its own. */
struct audit_origin {
	char service[64];
	int pid, uid, gid;
	uint64_t request;
	char method[16];
	char path[256];
};

struct audit_options {
	const char *state_dir;
	size_t max_bytes;         /* per file, before it rotates */
	unsigned generations;     /* rotated files kept per log */
	unsigned denials_per_sec; /* per service; more are counted, not written */
};

struct audit *audit_open(const struct audit_options *opt, struct loop *loop, struct writer *w);
/* Waits until every record written so far is on disk (and its done ran). */
void audit_flush(struct audit *a);
/* Writes what is queued first. */
void audit_close(struct audit *a);

/* One record: origin, the event ("deny", "allow", "done", "failed",
 * "refused", "registered", "updated", "removed") and fields (stolen, may be
 * NULL). done(data, err), if given, runs on the loop thread once the record
 * is on disk (err 0) or could not be written (-errno), after audit_write has
 * returned. A denial over the rate is counted instead (its done, if any,
 * runs at once with 0). Returns 0, or -errno when nothing was queued (done
 * is not called then). */
int audit_write(struct audit *a, const struct audit_origin *o, const char *event, json_t *fields,
                void (*done)(void *data, int err), void *data);

/* Read-your-writes for audit_query(): 1 when every record written so far is
 * on disk; 0 when done(data, err) will say so later (as audit_write's
 * does); -errno when it cannot wait. */
int audit_sync(struct audit *a, void (*done)(void *data, int err), void *data);

/* Records of both logs, oldest first, the newest limit of them (service may
 * be NULL, since_us 0, limit 0 = 100). New reference. */
json_t *audit_query(struct audit *a, const char *service, long long since_us, size_t limit);
