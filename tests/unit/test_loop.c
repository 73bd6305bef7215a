/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Event loop: fds, timers in order, cancellation, cross-thread posts. */
#include <errno.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <unistd.h>

#include <cmocka.h>

#include "loop.h"

struct ctx {
	struct loop *loop;
	int order[8];
	int n;
	int fd_reads;
};

struct tagged {
	struct ctx *c;
	int tag;
};

static void tagged_fire(void *data)
{
	struct tagged *t = data;
	t->c->order[t->c->n++] = t->tag;
	if (t->tag == 3)
		loop_quit(t->c->loop);
}

static void test_timers_fire_in_order_and_cancel(void **state)
{
	struct ctx c = {.loop = loop_new()};
	struct tagged t1 = {&c, 1}, t2 = {&c, 2}, t3 = {&c, 3}, t9 = {&c, 9};

	assert_non_null(c.loop);
	loop_add_timer(c.loop, 30, tagged_fire, &t3);
	loop_add_timer(c.loop, 0, tagged_fire, &t1);
	struct loop_timer *cancelled = loop_add_timer(c.loop, 10, tagged_fire, &t9);
	loop_add_timer(c.loop, 10, tagged_fire, &t2);
	loop_cancel_timer(c.loop, cancelled);
	assert_int_equal(loop_run(c.loop), 0);
	assert_int_equal(c.n, 3);
	assert_int_equal(c.order[0], 1);
	assert_int_equal(c.order[1], 2);
	assert_int_equal(c.order[2], 3);
	loop_free(c.loop);
}

static void on_readable(void *data, int fd, uint32_t events)
{
	struct ctx *c = data;
	char b;
	assert_true(events & EPOLLIN);
	assert_int_equal(read(fd, &b, 1), 1);
	c->fd_reads++;
	loop_del_fd(c->loop, fd); /* removing itself from its own callback is allowed */
	loop_quit(c->loop);
}

static void test_fd_callback_and_self_removal(void **state)
{
	struct ctx c = {.loop = loop_new()};
	int p[2];

	assert_int_equal(pipe(p), 0);
	assert_int_equal(loop_add_fd(c.loop, p[0], EPOLLIN, on_readable, &c), 0);
	assert_int_equal(loop_add_fd(c.loop, p[0], EPOLLIN, on_readable, &c), -EEXIST);
	assert_int_equal(write(p[1], "x", 1), 1);
	assert_int_equal(loop_run(c.loop), 0);
	assert_int_equal(c.fd_reads, 1);
	close(p[0]);
	close(p[1]);
	loop_free(c.loop);
}

static void posted(void *data)
{
	struct ctx *c = data;
	if (++c->n == 100)
		loop_quit(c->loop);
}

static void *poster(void *data)
{
	struct ctx *c = data;
	for (int i = 0; i < 50; i++)
		loop_post(c->loop, posted, c);
	return NULL;
}

static void test_posts_from_threads(void **state)
{
	struct ctx c = {.loop = loop_new()};
	pthread_t a, b;

	pthread_create(&a, NULL, poster, &c);
	pthread_create(&b, NULL, poster, &c);
	assert_int_equal(loop_run(c.loop), 0);
	pthread_join(a, NULL);
	pthread_join(b, NULL);
	assert_int_equal(c.n, 100);
	loop_free(c.loop);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test(test_timers_fire_in_order_and_cancel),
	        cmocka_unit_test(test_fd_callback_and_self_removal),
	        cmocka_unit_test(test_posts_from_threads),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
