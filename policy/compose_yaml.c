/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Compose YAML -> JSON with libyaml's document API (anchors and aliases are
 * node references there; merge keys "<<" are applied here). Scalars follow
 * YAML 1.2's core schema as compose does: plain true/false, null, integers
 * and floats are typed, everything quoted is a string. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <yaml.h>

#include "policy.h"

/* Aliases can make a small file expand enormously ("billion laughs"). */
#define YAML_MAX_NODES_VISITED 200000
#define YAML_MAX_DEPTH         64
#define YAML_MAX_FILE          (4u << 20)

struct yaml_ctx {
	yaml_document_t *doc;
	size_t visited;
	const char *path;
	char *err;
	size_t errlen;
};

static json_t *yaml_scalar(const yaml_node_t *n)
{
	const char *s = (const char *)n->data.scalar.value;
	size_t len = n->data.scalar.length;
	char *end;

	if (n->data.scalar.style != YAML_PLAIN_SCALAR_STYLE)
		return json_stringn(s, len);
	if (!len || !strcmp(s, "~") || !strcasecmp(s, "null"))
		return json_null();
	if (!strcmp(s, "true") || !strcmp(s, "True") || !strcmp(s, "TRUE"))
		return json_true();
	if (!strcmp(s, "false") || !strcmp(s, "False") || !strcmp(s, "FALSE"))
		return json_false();
	errno = 0;
	long long v = strtoll(s, &end, 0);
	if (!*end && !errno && (s[0] != '0' || len == 1 || s[1] == 'x' || s[1] == 'X'))
		return json_integer(v);
	double d = strtod(s, &end);
	if (!*end && strspn(s, "0123456789.-+eE") == len)
		return json_real(d);
	return json_stringn(s, len);
}

static json_t *yaml_convert(struct yaml_ctx *c, yaml_node_t *n, int depth);

static int yaml_fail(struct yaml_ctx *c, const yaml_node_t *n, const char *msg)
{
	snprintf(c->err, c->errlen, "%s:%zu:%zu: %s", c->path, n ? n->start_mark.line + 1 : 0,
	         n ? n->start_mark.column + 1 : 0, msg);
	return -EINVAL;
}

static int yaml_merge_into(struct yaml_ctx *c, json_t *obj, yaml_node_t *src, int depth)
{
	json_t *m = yaml_convert(c, src, depth + 1);
	const char *k;
	json_t *v;

	if (!json_is_object(m)) {
		json_decref(m);
		return yaml_fail(c, src, "merge key '<<' needs a mapping");
	}
	json_object_foreach(m, k, v)
	{
		if (!json_object_get(obj, k)) /* explicit keys win over merged ones */
			json_object_set(obj, k, v);
	}
	json_decref(m);
	return 0;
}

static json_t *yaml_mapping(struct yaml_ctx *c, yaml_node_t *n, int depth)
{
	json_t *obj = json_object();

	for (yaml_node_pair_t *p = n->data.mapping.pairs.start; p < n->data.mapping.pairs.top;
	     p++) {
		yaml_node_t *k = yaml_document_get_node(c->doc, p->key);
		yaml_node_t *v = yaml_document_get_node(c->doc, p->value);
		if (!k || !v || k->type != YAML_SCALAR_NODE) {
			yaml_fail(c, k, "mapping keys must be scalars");
			goto fail;
		}
		const char *key = (const char *)k->data.scalar.value;
		if (!strcmp(key, "<<") && k->data.scalar.style == YAML_PLAIN_SCALAR_STYLE) {
			if (v->type == YAML_SEQUENCE_NODE) {
				for (yaml_node_item_t *i = v->data.sequence.items.start;
				     i < v->data.sequence.items.top; i++)
					if (yaml_merge_into(c, obj,
					                    yaml_document_get_node(c->doc, *i),
					                    depth) < 0)
						goto fail;
			} else if (yaml_merge_into(c, obj, v, depth) < 0) {
				goto fail;
			}
			continue;
		}
		json_t *jv = yaml_convert(c, v, depth + 1);
		if (!jv)
			goto fail;
		json_object_set_new(obj, key, jv);
	}
	return obj;
fail:
	json_decref(obj);
	return NULL;
}

static json_t *yaml_convert(struct yaml_ctx *c, yaml_node_t *n, int depth)
{
	if (!n)
		return NULL;
	if (depth > YAML_MAX_DEPTH || ++c->visited > YAML_MAX_NODES_VISITED) {
		yaml_fail(c, n, "document too deep or expands too much (aliases)");
		return NULL;
	}
	switch (n->type) {
	case YAML_SCALAR_NODE:
		return yaml_scalar(n);
	case YAML_SEQUENCE_NODE: {
		json_t *arr = json_array();
		for (yaml_node_item_t *i = n->data.sequence.items.start;
		     i < n->data.sequence.items.top; i++) {
			json_t *v = yaml_convert(c, yaml_document_get_node(c->doc, *i), depth + 1);
			if (!v) {
				json_decref(arr);
				return NULL;
			}
			json_array_append_new(arr, v);
		}
		return arr;
	}
	case YAML_MAPPING_NODE:
		return yaml_mapping(c, n, depth);
	default:
		yaml_fail(c, n, "unexpected YAML node");
		return NULL;
	}
}

int compose_load_yaml(const char *path, json_t **out, char *err, size_t errlen)
{
	yaml_parser_t parser;
	yaml_document_t doc;
	struct yaml_ctx c = {&doc, 0, path, err, errlen};
	FILE *f;
	json_t *root = NULL, *services;
	int r = -EINVAL;

	*out = NULL;
	f = fopen(path, "re");
	if (!f) {
		r = -errno;
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		return r;
	}
	if (fseek(f, 0, SEEK_END) == 0 && ftell(f) > (long)YAML_MAX_FILE) {
		snprintf(err, errlen, "%s: larger than %u bytes", path, YAML_MAX_FILE);
		fclose(f);
		return -EFBIG;
	}
	rewind(f);
	yaml_parser_initialize(&parser);
	yaml_parser_set_input_file(&parser, f);
	if (!yaml_parser_load(&parser, &doc)) {
		snprintf(err, errlen, "%s:%zu:%zu: %s%s%s", path, parser.problem_mark.line + 1,
		         parser.problem_mark.column + 1, parser.problem ? parser.problem : "error",
		         parser.context ? " " : "", parser.context ? parser.context : "");
		goto close_parser;
	}
	yaml_node_t *top = yaml_document_get_root_node(&doc);
	if (!top) {
		snprintf(err, errlen, "%s:1:1: empty document", path);
		goto delete_doc;
	}
	root = yaml_convert(&c, top, 0);
	if (!root)
		goto delete_doc;
	services = json_object_get(root, "services");
	if (!json_is_object(root) || !json_is_object(services)) {
		yaml_fail(&c, top, "no 'services:' mapping");
		json_decref(root);
		goto delete_doc;
	}
	*out = json_pack("{s:O}", "services", services);
	json_decref(root);
	r = 0;
delete_doc:
	yaml_document_delete(&doc);
close_parser:
	yaml_parser_delete(&parser);
	fclose(f);
	return r;
}
