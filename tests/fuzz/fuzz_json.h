/* What every loader of the fin family promises (fin(7), fin-model(5)): a
 * file with a duplicate key, or with anything after its JSON value, is
 * refused. The targets call fuzz_json_check on each file that loaded. */
#ifndef FUZZ_JSON_H
#define FUZZ_JSON_H

#include <cjson/cJSON.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int fuzz_json_duplicates(const cJSON *v)
{
	const cJSON *a, *b;

	for (a = v->child; a; a = a->next) {
		for (b = a->next; cJSON_IsObject(v) && b; b = b->next)
			if (strcmp(a->string, b->string) == 0)
				return 1;
		if (fuzz_json_duplicates(a))
			return 1;
	}
	return 0;
}

static void fuzz_json_check(const uint8_t *data, size_t size)
{
	const char *text = (const char *)data, *end = NULL;
	cJSON *v = cJSON_ParseWithLengthOpts(text, size, &end, 0);

	if (!v || !end)
		abort();
	while (end < text + size && *end && strchr(" \t\r\n", *end))
		end++;
	if (end != text + size) {
		fprintf(stderr, "fuzz: loaded a file with %zu bytes after its JSON value\n",
			(size_t)(text + size - end));
		__builtin_trap();
	}
	if (fuzz_json_duplicates(v)) {
		fprintf(stderr, "fuzz: loaded a file with a duplicate key\n");
		__builtin_trap();
	}
	cJSON_Delete(v);
}

#endif
