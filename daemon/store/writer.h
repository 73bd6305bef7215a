/* SPDX-License-Identifier: GPL-2.0-or-later */
/* One thread for the daemon's disk writes (state file, audit log), so an
 * fsync never stalls the event loop. Jobs run in the order they were
 * queued; each job's done() runs afterwards on the loop thread. Nothing in
 * it is about disks: the admin area runs a second one (its deriver) to
 * derive policies off the loop. */
#pragma once

struct loop;
struct writer;

struct writer_job {
	/* Writer thread: the blocking work. Returns 0 or -errno. */
	int (*run)(struct writer_job *job);
	/* Loop thread, after run(): err is what run() returned. Owns job. */
	void (*done)(struct writer_job *job, int err);
	int err;
	struct writer_job *next;
};

struct writer *writer_new(struct loop *loop);
/* Runs what is queued, then stops (its done() calls run on the loop thread
 * only if the loop still runs; otherwise they run here, after the thread). */
void writer_free(struct writer *w);
/* Queues job (embedded in the caller's struct). 0 or -errno (job untouched). */
int writer_queue(struct writer *w, struct writer_job *job);
/* Waits until everything queued so far has run, then runs their done()
 * here (shutdown, and tests). */
void writer_drain(struct writer *w);
