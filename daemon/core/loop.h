/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The daemon's single event loop: epoll for fds, a timer list, and a
 * thread-safe post queue so worker threads (one per I2C bus, ...) hand
 * completions back to the loop thread. Everything except loop_post() must be
 * called on the loop thread. */
#pragma once

#include <stdint.h>
#include <sys/epoll.h>

struct loop;
struct loop_timer;

/* events: EPOLLIN/EPOLLOUT/EPOLLERR/EPOLLHUP as reported by epoll. */
typedef void (*loop_fd_fn)(void *data, int fd, uint32_t events);
typedef void (*loop_fn)(void *data);

struct loop *loop_new(void);
void loop_free(struct loop *loop);

/* Returns 0 or -errno. One registration per fd. */
int loop_add_fd(struct loop *loop, int fd, uint32_t events, loop_fd_fn fn, void *data);
int loop_mod_fd(struct loop *loop, int fd, uint32_t events);
/* Safe to call from inside that fd's own callback; pending events for it are dropped. */
void loop_del_fd(struct loop *loop, int fd);

/* One-shot timer; the handle is valid until it fires or is cancelled. */
struct loop_timer *loop_add_timer(struct loop *loop, uint64_t delay_ms, loop_fn fn, void *data);
void loop_cancel_timer(struct loop *loop, struct loop_timer *timer);

/* Any thread: run fn(data) on the loop thread soon. Returns 0 or -errno. */
int loop_post(struct loop *loop, loop_fn fn, void *data);
/* Loop thread: run fn(data) once the current turn's callbacks are done
 * (cheaper than loop_post: no lock, no wakeup). Returns 0 or -errno. */
int loop_defer(struct loop *loop, loop_fn fn, void *data);

/* Runs until loop_quit(); returns 0 or -errno. */
int loop_run(struct loop *loop);
/* One turn: waits at most timeout_ms for something to do, does it. For
 * callers that drive the loop themselves (the request fuzzer). 0 or -errno. */
int loop_run_once(struct loop *loop, int timeout_ms);
void loop_quit(struct loop *loop);

/* CLOCK_MONOTONIC */
uint64_t loop_now_ms(void);
uint64_t loop_now_ns(void);
