/* Reading a committed JSON fixture (tests/fixtures/, made by the scripts
 * there) in a unit test; the tests run from the repository root. Include
 * after cmocka.h. */
#ifndef FIN_TEST_FIXTURE_H
#define FIN_TEST_FIXTURE_H

#include <cjson/cJSON.h>
#include <stdio.h>
#include <stdlib.h>

/* The parsed fixture at path; fails the test when it cannot be read. */
static cJSON *fixture_load(const char *path)
{
	FILE *f = fopen(path, "rb");
	char *text;
	long len;
	cJSON *o;

	if (!f) {
		print_error("%s: cannot open (run from the repository root)\n", path);
		fail();
	}
	fseek(f, 0, SEEK_END);
	len = ftell(f);
	rewind(f);
	text = malloc((size_t)len + 1);
	assert_non_null(text);
	assert_int_equal(fread(text, 1, (size_t)len, f), (size_t)len);
	text[len] = '\0';
	fclose(f);
	o = cJSON_Parse(text);
	free(text);
	assert_non_null(o);
	return o;
}

#endif
