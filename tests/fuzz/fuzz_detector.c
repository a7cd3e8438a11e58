/* The detector loader. A detector that loads must come from a file every
 * loader accepts (fuzz_json.h); it scores a row of zeros. */
#include <stdint.h>
#include <stdlib.h>
#include <unistd.h>

#include "detect/detector.h"

#include "fuzz_file.h"
#include "fuzz_json.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char path[64];
	int fd = fuzz_file(data, size, path, sizeof path);
	fin_detector d;
	fin_err err;

	if (fin_detector_load(&d, path, &err) == FIN_OK) {
		float *x = calloc(d.nfeat, sizeof *x);
		double score;

		fuzz_json_check(data, size);
		if (!x)
			abort();
		fin_detector_score(&d, x, 1, &score, &err);
		free(x);
		fin_detector_free(&d);
	}
	close(fd);
	return 0;
}
