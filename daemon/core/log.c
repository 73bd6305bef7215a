/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "log.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>

static enum log_level log_level = LOG_LEVEL_INFO;
static enum log_format log_format = LOG_FORMAT_TEXT;
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

int log_set_format(const char *name)
{
	if (!strcmp(name, "text"))
		log_format = LOG_FORMAT_TEXT;
	else if (!strcmp(name, "json"))
		log_format = LOG_FORMAT_JSON;
	else
		return -EINVAL;
	return 0;
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

/* ISO 8601, UTC, microseconds: the journal adds its own, stderr needs one. */
static const char *log_now(void)
{
	static char buf[40];
	struct timespec ts;
	struct tm tm;

	clock_gettime(CLOCK_REALTIME, &ts);
	gmtime_r(&ts.tv_sec, &tm);
	strftime(buf, sizeof(buf), "%Y-%m-%dT%H:%M:%S", &tm);
	snprintf(buf + 19, sizeof(buf) - 19, ".%06ldZ", ts.tv_nsec / 1000);
	return buf;
}

/* One JSON object per line: time, level, context, message (and the
 * journal's priority prefix under journald, which keeps the level). */
static void log_write_json(enum log_level level, const char *ctx, const char *msg)
{
	json_t *o = json_pack("{s:s,s:s,s:s,s:s}", "time", log_now(), "level",
	                      log_levels[level].name, "ctx", ctx ? ctx : "", "msg", msg);
	char *text = o ? json_dumps(o, JSON_COMPACT | JSON_ENSURE_ASCII) : NULL;

	if (text) {
		if (log_journal)
			fprintf(stderr, "<%d>%s\n", log_levels[level].syslog_prio, text);
		else
			fprintf(stderr, "%s\n", text);
	}
	free(text);
	json_decref(o);
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
	if (log_format == LOG_FORMAT_JSON)
		log_write_json(level, ctx, msg);
	else if (log_journal)
		fprintf(stderr, "<%d>%s%s%s\n", log_levels[level].syslog_prio, ctx ? ctx : "",
		        ctx ? ": " : "", msg);
	else
		fprintf(stderr, "%s hwbrokerd %s %s%s%s\n", log_now(), log_levels[level].tag,
		        ctx ? ctx : "", ctx ? ": " : "", msg);
	errno = saved;
}
