/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "writer.h"

#include <errno.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>

#include "loop.h"

struct writer {
	struct loop *loop;
	pthread_t thread;
	pthread_mutex_t lock;
	pthread_cond_t cond;
	pthread_cond_t idle;
	struct writer_job *head, *tail;           /* to run */
	struct writer_job *done_head, *done_tail; /* ran; done() not called yet */
	bool running;                             /* a job is being run */
	bool posted;                              /* writer_complete is queued on the loop */
	bool stop;
};

static void writer_complete(void *data)
{
	struct writer *w = data;
	struct writer_job *list;

	pthread_mutex_lock(&w->lock);
	list = w->done_head;
	w->done_head = w->done_tail = NULL;
	w->posted = false;
	pthread_mutex_unlock(&w->lock);
	while (list) {
		struct writer_job *job = list;
		list = job->next;
		job->done(job, job->err);
	}
}

static void *writer_main(void *data)
{
	struct writer *w = data;

	pthread_mutex_lock(&w->lock);
	for (;;) {
		struct writer_job *job;
		while (!w->head && !w->stop)
			pthread_cond_wait(&w->cond, &w->lock);
		if (!w->head)
			break;
		job = w->head;
		w->head = job->next;
		if (!w->head)
			w->tail = NULL;
		w->running = true;
		pthread_mutex_unlock(&w->lock);
		job->err = job->run(job);
		pthread_mutex_lock(&w->lock);
		w->running = false;
		job->next = NULL;
		if (w->done_tail)
			w->done_tail->next = job;
		else
			w->done_head = job;
		w->done_tail = job;
		if (!w->posted && !w->stop && loop_post(w->loop, writer_complete, w) == 0)
			w->posted = true;
		pthread_cond_broadcast(&w->idle);
	}
	pthread_mutex_unlock(&w->lock);
	return NULL;
}

struct writer *writer_new(struct loop *loop)
{
	struct writer *w = calloc(1, sizeof(*w));

	if (!w)
		return NULL;
	w->loop = loop;
	pthread_mutex_init(&w->lock, NULL);
	pthread_cond_init(&w->cond, NULL);
	pthread_cond_init(&w->idle, NULL);
	if (pthread_create(&w->thread, NULL, writer_main, w) != 0) {
		pthread_mutex_destroy(&w->lock);
		pthread_cond_destroy(&w->cond);
		pthread_cond_destroy(&w->idle);
		free(w);
		return NULL;
	}
	return w;
}

int writer_queue(struct writer *w, struct writer_job *job)
{
	job->next = NULL;
	pthread_mutex_lock(&w->lock);
	if (w->stop) {
		pthread_mutex_unlock(&w->lock);
		return -ESHUTDOWN;
	}
	if (w->tail)
		w->tail->next = job;
	else
		w->head = job;
	w->tail = job;
	pthread_mutex_unlock(&w->lock);
	/* After the unlock: the woken thread does not block again on the lock
	 * we hold (a second system call on the loop). */
	pthread_cond_signal(&w->cond);
	return 0;
}

void writer_drain(struct writer *w)
{
	pthread_mutex_lock(&w->lock);
	while (w->head || w->running)
		pthread_cond_wait(&w->idle, &w->lock);
	pthread_mutex_unlock(&w->lock);
	/* A completion posted to the loop finds nothing left: harmless. */
	writer_complete(w);
}

void writer_free(struct writer *w)
{
	if (!w)
		return;
	writer_drain(w);
	pthread_mutex_lock(&w->lock);
	w->stop = true;
	pthread_cond_signal(&w->cond);
	pthread_mutex_unlock(&w->lock);
	pthread_join(w->thread, NULL);
	writer_complete(w);
	pthread_mutex_destroy(&w->lock);
	pthread_cond_destroy(&w->cond);
	pthread_cond_destroy(&w->idle);
	free(w);
}
