/* SPDX-License-Identifier: GPL-2.0-or-later */
/* epoll event loop. Timers are a small sorted list checked each turn (the
 * daemon has few: request timeouts, coalesced state writes); the post queue is
 * a mutex-protected list woken through an eventfd. */
#include "loop.h"

#include <errno.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>
#include <sys/eventfd.h>
#include <time.h>
#include <unistd.h>

#define LOOP_MAX_EVENTS 64

struct loop_fd {
	int fd;
	loop_fd_fn fn;
	void *data;
	struct loop_fd *next;
};

struct loop_timer {
	uint64_t due_ms;
	loop_fn fn;
	void *data;
	struct loop_timer *next;
};

struct loop_post_item {
	loop_fn fn;
	void *data;
	struct loop_post_item *next;
};

struct loop {
	int epfd;
	int wakefd;
	bool quit;
	struct loop_fd *fds;
	struct loop_timer *timers; /* sorted by due_ms */
	pthread_mutex_t post_lock;
	struct loop_post_item *posts, *posts_tail;
	struct loop_post_item *defers, *defers_tail; /* loop thread only: no lock, no wakeup */
	uint64_t generation; /* bumped by loop_del_fd so stale epoll events are skipped */
};

uint64_t loop_now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

uint64_t loop_now_ms(void)
{
	return loop_now_ns() / 1000000ull;
}

static void loop_drain_wakefd(void *data, int fd, uint32_t events)
{
	uint64_t v;

	(void)data;
	(void)events;
	while (read(fd, &v, sizeof(v)) == sizeof(v))
		;
}

struct loop *loop_new(void)
{
	struct loop *loop = calloc(1, sizeof(*loop));

	if (!loop)
		return NULL;
	loop->epfd = epoll_create1(EPOLL_CLOEXEC);
	if (loop->epfd < 0)
		goto free_loop;
	loop->wakefd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (loop->wakefd < 0)
		goto close_epoll;
	pthread_mutex_init(&loop->post_lock, NULL);
	if (loop_add_fd(loop, loop->wakefd, EPOLLIN, loop_drain_wakefd, loop) < 0)
		goto close_wakefd;
	return loop;

close_wakefd:
	close(loop->wakefd);
close_epoll:
	close(loop->epfd);
free_loop:
	free(loop);
	return NULL;
}

void loop_free(struct loop *loop)
{
	if (!loop)
		return;
	while (loop->fds) {
		struct loop_fd *f = loop->fds;
		loop->fds = f->next;
		free(f);
	}
	while (loop->timers) {
		struct loop_timer *t = loop->timers;
		loop->timers = t->next;
		free(t);
	}
	while (loop->posts) {
		struct loop_post_item *p = loop->posts;
		loop->posts = p->next;
		free(p);
	}
	while (loop->defers) {
		struct loop_post_item *p = loop->defers;
		loop->defers = p->next;
		free(p);
	}
	pthread_mutex_destroy(&loop->post_lock);
	close(loop->wakefd);
	close(loop->epfd);
	free(loop);
}

static struct loop_fd *loop_find_fd(struct loop *loop, int fd)
{
	for (struct loop_fd *f = loop->fds; f; f = f->next)
		if (f->fd == fd)
			return f;
	return NULL;
}

int loop_add_fd(struct loop *loop, int fd, uint32_t events, loop_fd_fn fn, void *data)
{
	struct epoll_event ev = {.events = events};
	struct loop_fd *f;

	if (loop_find_fd(loop, fd))
		return -EEXIST;
	f = calloc(1, sizeof(*f));
	if (!f)
		return -ENOMEM;
	f->fd = fd;
	f->fn = fn;
	f->data = data;
	ev.data.ptr = f;
	if (epoll_ctl(loop->epfd, EPOLL_CTL_ADD, fd, &ev) < 0) {
		int err = -errno;
		free(f);
		return err;
	}
	f->next = loop->fds;
	loop->fds = f;
	return 0;
}

int loop_mod_fd(struct loop *loop, int fd, uint32_t events)
{
	struct loop_fd *f = loop_find_fd(loop, fd);
	struct epoll_event ev = {.events = events};

	if (!f)
		return -ENOENT;
	ev.data.ptr = f;
	return epoll_ctl(loop->epfd, EPOLL_CTL_MOD, fd, &ev) < 0 ? -errno : 0;
}

void loop_del_fd(struct loop *loop, int fd)
{
	for (struct loop_fd **pp = &loop->fds; *pp; pp = &(*pp)->next) {
		struct loop_fd *f = *pp;
		if (f->fd != fd)
			continue;
		epoll_ctl(loop->epfd, EPOLL_CTL_DEL, fd, NULL);
		*pp = f->next;
		free(f);
		loop->generation++;
		return;
	}
}

struct loop_timer *loop_add_timer(struct loop *loop, uint64_t delay_ms, loop_fn fn, void *data)
{
	struct loop_timer *t = calloc(1, sizeof(*t)), **pp;

	if (!t)
		return NULL;
	t->due_ms = loop_now_ms() + delay_ms;
	t->fn = fn;
	t->data = data;
	for (pp = &loop->timers; *pp && (*pp)->due_ms <= t->due_ms; pp = &(*pp)->next)
		;
	t->next = *pp;
	*pp = t;
	return t;
}

void loop_cancel_timer(struct loop *loop, struct loop_timer *timer)
{
	for (struct loop_timer **pp = &loop->timers; *pp; pp = &(*pp)->next) {
		if (*pp == timer) {
			*pp = timer->next;
			free(timer);
			return;
		}
	}
}

int loop_post(struct loop *loop, loop_fn fn, void *data)
{
	struct loop_post_item *p = calloc(1, sizeof(*p));
	uint64_t one = 1;

	if (!p)
		return -ENOMEM;
	p->fn = fn;
	p->data = data;
	pthread_mutex_lock(&loop->post_lock);
	if (loop->posts_tail)
		loop->posts_tail->next = p;
	else
		loop->posts = p;
	loop->posts_tail = p;
	pthread_mutex_unlock(&loop->post_lock);
	if (write(loop->wakefd, &one, sizeof(one)) < 0 && errno != EAGAIN)
		return -errno;
	return 0;
}

static void loop_run_posts(struct loop *loop)
{
	struct loop_post_item *list;

	pthread_mutex_lock(&loop->post_lock);
	list = loop->posts;
	loop->posts = loop->posts_tail = NULL;
	pthread_mutex_unlock(&loop->post_lock);
	while (list) {
		struct loop_post_item *p = list;
		list = p->next;
		p->fn(p->data);
		free(p);
	}
}

int loop_defer(struct loop *loop, loop_fn fn, void *data)
{
	struct loop_post_item *p = calloc(1, sizeof(*p));

	if (!p)
		return -ENOMEM;
	p->fn = fn;
	p->data = data;
	if (loop->defers_tail)
		loop->defers_tail->next = p;
	else
		loop->defers = p;
	loop->defers_tail = p;
	return 0;
}

/* What is deferred while these run waits for the next turn. */
static void loop_run_defers(struct loop *loop)
{
	struct loop_post_item *list = loop->defers;

	loop->defers = loop->defers_tail = NULL;
	while (list) {
		struct loop_post_item *p = list;
		list = p->next;
		p->fn(p->data);
		free(p);
	}
}

static void loop_run_timers(struct loop *loop)
{
	uint64_t now = loop_now_ms();

	/* Re-read the head each time: a callback may add or cancel timers. */
	while (loop->timers && loop->timers->due_ms <= now) {
		struct loop_timer *t = loop->timers;
		loop->timers = t->next;
		loop_fn fn = t->fn;
		void *data = t->data;
		free(t);
		fn(data);
	}
}

static int loop_next_timeout(struct loop *loop)
{
	uint64_t now;

	if (loop->defers)
		return 0;
	if (!loop->timers)
		return -1;
	now = loop_now_ms();
	if (loop->timers->due_ms <= now)
		return 0;
	uint64_t d = loop->timers->due_ms - now;
	return d > 60000 ? 60000 : (int)d;
}

static int loop_turn(struct loop *loop, int timeout)
{
	struct epoll_event events[LOOP_MAX_EVENTS];
	int n = epoll_wait(loop->epfd, events, LOOP_MAX_EVENTS, timeout);

	if (n < 0 && errno != EINTR)
		return -errno;
	uint64_t gen = loop->generation;
	for (int i = 0; i < n; i++) {
		struct loop_fd *f = events[i].data.ptr;
		/* A callback may have removed other fds: check the pointer still lives. */
		if (gen != loop->generation) {
			struct loop_fd *g = loop->fds;
			while (g && g != f)
				g = g->next;
			if (!g)
				continue;
		}
		f->fn(f->data, f->fd, events[i].events);
	}
	loop_run_posts(loop);
	loop_run_defers(loop);
	loop_run_timers(loop);
	return 0;
}

int loop_run(struct loop *loop)
{
	int r = 0;

	loop->quit = false;
	while (!loop->quit && r == 0)
		r = loop_turn(loop, loop_next_timeout(loop));
	return r;
}

int loop_run_once(struct loop *loop, int timeout_ms)
{
	int next = loop_next_timeout(loop);

	return loop_turn(loop, next >= 0 && next < timeout_ms ? next : timeout_ms);
}

void loop_quit(struct loop *loop)
{
	loop->quit = true;
}
