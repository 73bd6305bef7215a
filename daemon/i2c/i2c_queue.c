/* SPDX-License-Identifier: GPL-2.0-or-later */
/* One worker thread per bus (a bus is serial anyway), so a slow or stuck bus
 * never stalls the loop, other buses, GPIO or UART. Each bus queues jobs per
 * caller and serves the callers round-robin, one job each: a service that
 * keeps re-submitting large transfers delays the others by one transfer, not
 * by a queue. A job that has not started when its request times out, or
 * whose grant is revoked, is dropped, never run. */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "area.h"
#include "config.h"
#include "i2c_private.h"
#include "log.h"
#include "loop.h"

struct i2c_worker {
	struct i2c_area *area;
	unsigned bus;
	pthread_t thread;
	pthread_mutex_t lock;
	pthread_cond_t cond;
	struct i2c_job *head; /* in arrival order; taken round-robin by caller */
	char last_caller[64]; /* served last: the next job goes to someone else if possible */
	size_t queued;
	bool stop;
	struct i2c_worker *next;
};

void i2c_job_free(struct i2c_job *j)
{
	free(j->buffer);
	free(j);
}

static size_t i2c_queued_for(const struct i2c_worker *w, const char *caller)
{
	size_t n = 0;

	for (const struct i2c_job *j = w->head; j; j = j->next)
		if (!strcmp(j->caller, caller))
			n++;
	return n;
}

static void i2c_unlink(struct i2c_worker *w, struct i2c_job *j)
{
	for (struct i2c_job **pp = &w->head; *pp; pp = &(*pp)->next) {
		if (*pp == j) {
			*pp = j->next;
			w->queued--;
			return;
		}
	}
}

/* The oldest job of the first caller after the one served last. */
static struct i2c_job *i2c_pick(struct i2c_worker *w)
{
	for (struct i2c_job *j = w->head; j; j = j->next)
		if (strcmp(j->caller, w->last_caller))
			return j;
	return w->head;
}

/* Loop thread: the worker finished j. */
static void i2c_job_done(void *data)
{
	struct i2c_job *j = data;

	if (j->req) {
		loop_cancel_timer(j->area->d->loop, j->timer);
		j->answer(j);
	}
	i2c_job_free(j);
}

static void *i2c_worker_main(void *data)
{
	struct i2c_worker *w = data;
	const struct i2c_ops *ops = w->area->ops;

	for (;;) {
		struct i2c_job *j;
		pthread_mutex_lock(&w->lock);
		while (!w->head && !w->stop)
			pthread_cond_wait(&w->cond, &w->lock);
		if (!w->head) {
			pthread_mutex_unlock(&w->lock);
			break;
		}
		j = i2c_pick(w);
		i2c_unlink(w, j);
		j->state = I2C_JOB_RUNNING;
		snprintf(w->last_caller, sizeof(w->last_caller), "%s", j->caller);
		pthread_mutex_unlock(&w->lock);
		if (j->kind == I2C_JOB_TRANSFER)
			j->result = ops->transfer(w->area->be, j->bus, j->addr, j->msgs, j->n_msgs,
			                          &j->status);
		else
			j->result = ops->smbus(w->area->be, j->bus, j->addr, &j->smbus, &j->status);
		pthread_mutex_lock(&w->lock);
		j->state = I2C_JOB_DONE;
		bool stopping = w->stop;
		pthread_mutex_unlock(&w->lock);
		/* Shutting down, the loop runs no more: nobody waits for the answer. */
		if (stopping)
			i2c_job_free(j);
		/* Out of memory: the job leaks rather than racing its timeout. */
		else if (loop_post(w->area->d->loop, i2c_job_done, j) < 0)
			log_error("i2c", "bus %u: a finished job could not be handed back", j->bus);
	}
	return NULL;
}

static struct i2c_worker *i2c_worker_get(struct i2c_area *a, unsigned bus)
{
	struct i2c_worker *w;

	for (w = a->workers; w; w = w->next)
		if (w->bus == bus)
			return w;
	w = calloc(1, sizeof(*w));
	if (!w)
		return NULL;
	w->area = a;
	w->bus = bus;
	pthread_mutex_init(&w->lock, NULL);
	pthread_cond_init(&w->cond, NULL);
	if (pthread_create(&w->thread, NULL, i2c_worker_main, w) != 0) {
		pthread_mutex_destroy(&w->lock);
		pthread_cond_destroy(&w->cond);
		free(w);
		return NULL;
	}
	w->next = a->workers;
	a->workers = w;
	return w;
}

/* Loop thread. A job still queued never runs; one running is answered now
 * and freed when the worker hands it back. */
static void i2c_job_timeout(void *data)
{
	struct i2c_job *j = data;
	struct i2c_worker *w = j->worker;
	struct request *req = j->req;
	bool queued;

	j->timer = NULL;
	pthread_mutex_lock(&w->lock);
	queued = j->state == I2C_JOB_QUEUED;
	if (queued)
		i2c_unlink(w, j);
	pthread_mutex_unlock(&w->lock);
	j->req = NULL;
	req_complete(req, req_fail(req, -ETIMEDOUT,
	                           queued ? "the bus is busy with other requests; retry"
	                                  : "the device may hold the bus (clock stretching) "
	                                    "or be stuck",
	                           "bus %u address 0x%02x: %s within %u ms", j->bus, j->addr,
	                           queued ? "not started" : "no answer",
	                           j->area->d->cfg->i2c_timeout_ms));
	if (queued)
		i2c_job_free(j);
}

int i2c_queue_submit(struct request *req, struct i2c_job *j)
{
	struct i2c_area *a = j->area;
	struct i2c_worker *w = i2c_worker_get(a, j->bus);
	int r = 0;

	if (!w) {
		i2c_job_free(j);
		return req_fail(req, -ENOMEM, NULL, "out of memory");
	}
	pthread_mutex_lock(&w->lock);
	if (w->queued >= I2C_QUEUE_MAX)
		r = req_fail(req, -EAGAIN, "retry later", "bus %u has %d requests waiting", j->bus,
		             I2C_QUEUE_MAX);
	else if (i2c_queued_for(w, j->caller) >= I2C_QUEUE_PER_CALLER)
		r = req_fail(req, -EAGAIN, "wait for the answers before sending more",
		             "%s has %d requests waiting on bus %u", j->caller,
		             I2C_QUEUE_PER_CALLER, j->bus);
	if (r < 0) {
		pthread_mutex_unlock(&w->lock);
		i2c_job_free(j);
		return r;
	}
	j->req = req;
	j->worker = w;
	j->state = I2C_JOB_QUEUED;
	j->timer = loop_add_timer(a->d->loop, a->d->cfg->i2c_timeout_ms, i2c_job_timeout, j);
	struct i2c_job **pp = &w->head;
	while (*pp)
		pp = &(*pp)->next;
	*pp = j;
	w->queued++;
	pthread_cond_signal(&w->cond);
	pthread_mutex_unlock(&w->lock);
	return REQ_ASYNC;
}

void i2c_queue_drop(struct i2c_area *a, const char *caller,
                    bool (*still_allowed)(const struct i2c_job *j, void *data), void *data)
{
	for (struct i2c_worker *w = a->workers; w; w = w->next) {
		struct i2c_job *dropped = NULL, **pp;
		pthread_mutex_lock(&w->lock);
		pp = &w->head;
		while (*pp) {
			struct i2c_job *j = *pp;
			if (strcmp(j->caller, caller) ||
			    (still_allowed && still_allowed(j, data))) {
				pp = &j->next;
				continue;
			}
			*pp = j->next;
			w->queued--;
			j->next = dropped;
			dropped = j;
		}
		pthread_mutex_unlock(&w->lock);
		while (dropped) {
			struct i2c_job *j = dropped;
			struct request *req = j->req;
			dropped = j->next;
			loop_cancel_timer(a->d->loop, j->timer);
			req_complete(req, still_allowed ? req_fail(req, -EACCES, NULL,
			                                           "revoked before it started: the "
			                                           "service's policy changed")
			                                : req_fail(req, -ESHUTDOWN, NULL,
			                                           "dropped before it started: the "
			                                           "service was removed"));
			i2c_job_free(j);
		}
	}
}

void i2c_queue_fini(struct i2c_area *a)
{
	if (a->ops->interrupt)
		a->ops->interrupt(a->be);
	while (a->workers) {
		struct i2c_worker *w = a->workers;
		a->workers = w->next;
		pthread_mutex_lock(&w->lock);
		w->stop = true;
		/* Jobs not started are dropped: their clients are gone with the transport. */
		while (w->head) {
			struct i2c_job *j = w->head;
			w->head = j->next;
			loop_cancel_timer(a->d->loop, j->timer);
			i2c_job_free(j);
		}
		pthread_cond_signal(&w->cond);
		pthread_mutex_unlock(&w->lock);
		/* A job in progress finishes first (a transfer is bounded by the
		 * adapter's own timeout). */
		pthread_join(w->thread, NULL);
		pthread_mutex_destroy(&w->lock);
		pthread_cond_destroy(&w->cond);
		free(w);
	}
}
