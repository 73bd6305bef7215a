/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Listening unix sockets, created with their final mode. */
#include "unix_socket.h"

#include <errno.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

int unix_socket_listen(const char *path, mode_t mode)
{
	struct sockaddr_un addr = {.sun_family = AF_UNIX};
	mode_t old_mask;
	int fd, r;

	if (strlen(path) >= sizeof(addr.sun_path))
		return -ENAMETOOLONG;
	strcpy(addr.sun_path, path);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	if (unlink(path) < 0 && errno != ENOENT)
		goto fail;
	/* The socket is created with its final mode: no moment in which a
	 * broader one could be connected to (the loop thread is the only one
	 * creating files while the umask is narrowed). */
	old_mask = umask(~mode & 0777);
	r = bind(fd, (struct sockaddr *)&addr, sizeof(addr));
	umask(old_mask);
	if (r < 0)
		goto fail;
	if (listen(fd, 64) < 0)
		goto unlink_path;
	return fd;

unlink_path:
	unlink(path);
fail:;
	int err = -errno;
	close(fd);
	return err;
}
