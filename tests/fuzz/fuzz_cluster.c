/* The segmentation loader. A segmentation that loads must come from a file
 * every loader accepts (fuzz_json.h); it places a row of zeros in its space
 * and assigns it a cluster. */
#include <stdint.h>
#include <stdlib.h>
#include <unistd.h>

#include "cluster/clusterer.h"

#include "fuzz_file.h"
#include "fuzz_json.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char path[64];
	int fd = fuzz_file(data, size, path, sizeof path);
	fin_clusterer c;
	fin_err err;

	if (fin_clusterer_load(&c, path, &err) == FIN_OK) {
		float *x = calloc(c.nfeat, sizeof *x), *space = calloc(c.dim, sizeof *space);
		int cluster;
		double distance;

		fuzz_json_check(data, size);
		if (!x || !space)
			abort();
		if (fin_clusterer_map(&c, x, 1, space, &err) == FIN_OK)
			fin_kmeans_assign(&c.km, space, 1, &cluster, &distance);
		free(x);
		free(space);
		fin_clusterer_free(&c);
	}
	close(fd);
	return 0;
}
