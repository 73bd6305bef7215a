#include "log.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

static enum log_level log_level = LOG_LEVEL_INFO;
static int log_journal = -1; /* lazily detected: stderr connected to journald */

static const struct {
	const char *name;
	const char *tag;
	int syslog_prio;
} log_levels[] = {
        [LOG_LEVEL_ERROR] = {"error", "ERROR", 3},
        [LOG_LEVEL_WARN] = {"warn", "WARN", 4},
        [LOG_LEVEL_INFO] = {"info", "INFO", 6},
        [LOG_LEVEL_DEBUG] = {"debug", "DEBUG", 7},
};

void log_set_level(enum log_level level)
{
	log_level = level;
}

enum log_level log_get_level(void)
{
	return log_level;
}

int log_parse_level(const char *name, enum log_level *out)
{
	for (size_t i = 0; i < sizeof(log_levels) / sizeof(log_levels[0]); i++) {
		if (strcasecmp(name, log_levels[i].name) == 0) {
			*out = (enum log_level)i;
			return 0;
		}
	}
	if (strcasecmp(name, "warning") == 0) {
		*out = LOG_LEVEL_WARN;
		return 0;
	}
	return -EINVAL;
}

/* systemd sets JOURNAL_STREAM=dev:ino for a stderr connected to the journal;
 * then "<N>" prefixes carry the priority and the timestamp is the journal's. */
static int log_detect_journal(void)
{
	const char *js = getenv("JOURNAL_STREAM");
	struct stat st;
	unsigned long long dev, ino;

	if (!js || sscanf(js, "%llu:%llu", &dev, &ino) != 2 || fstat(STDERR_FILENO, &st) < 0)
		return 0;
	return (unsigned long long)st.st_dev == dev && (unsigned long long)st.st_ino == ino;
}

void log_msg(enum log_level level, const char *ctx, const char *fmt, ...)
{
	char msg[1024];
	va_list ap;
	int saved = errno;

	if (level > log_level)
		return;
	if (log_journal < 0)
		log_journal = log_detect_journal();
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	/* Keep one record per line whatever the message holds. */
	for (char *p = msg; *p; p++)
		if (*p == '\n' || *p == '\r')
			*p = ' ';
	if (log_journal)
		fprintf(stderr, "<%d>%s%s%s\n", log_levels[level].syslog_prio, ctx ? ctx : "",
		        ctx ? ": " : "", msg);
	else
		fprintf(stderr, "hwbrokerd %s %s%s%s\n", log_levels[level].tag, ctx ? ctx : "",
		        ctx ? ": " : "", msg);
	errno = saved;
}
