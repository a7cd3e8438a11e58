#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "cluster/cluster_eval.h"
#include "cluster/kmeans.h"

static double distance(const double *u, const double *v, size_t d)
{
	double s = 0;
	size_t j;

	for (j = 0; j < d; j++)
		s += (u[j] - v[j]) * (u[j] - v[j]);
	return sqrt(s);
}

int fin_davies_bouldin(const double *x, size_t n, size_t d, const int *assign, size_t k,
		       double *out, fin_err *err)
{
	double *centroid = calloc(k && d ? k * d : 1, sizeof *centroid);
	double *spread = calloc(k ? k : 1, sizeof *spread), sum = 0;
	size_t *size = calloc(k ? k : 1, sizeof *size), i, j;
	int any_spread = 0, any_apart = 0;

	*out = NAN;
	if (!centroid || !spread || !size) {
		free(centroid);
		free(spread);
		free(size);
		return fin_fail(err, FIN_EDATA, "out of memory");
	}
	for (i = 0; i < n; i++) {
		size[assign[i]]++;
		for (j = 0; j < d; j++)
			centroid[assign[i] * d + j] += x[i * d + j];
	}
	for (i = 0; i < k && size[i]; i++)
		for (j = 0; j < d; j++)
			centroid[i * d + j] /= (double)size[i];
	if (k < 2 || i < k)
		goto done;
	for (i = 0; i < n; i++)
		spread[assign[i]] += distance(x + i * d, centroid + assign[i] * d, d);
	for (i = 0; i < k; i++) {
		spread[i] /= (double)size[i];
		any_spread |= spread[i] > 0;
	}
	for (i = 0; i < k; i++) {
		double worst = 0;
		for (j = 0; j < k; j++) {
			double apart = j == i ? 0 : distance(centroid + i * d, centroid + j * d, d);
			any_apart |= apart > 0;
			/* scikit-learn sets a distance of 0 to infinity: the pair adds 0 */
			if (apart > 0 && (spread[i] + spread[j]) / apart > worst)
				worst = (spread[i] + spread[j]) / apart;
		}
		sum += worst;
	}
	*out = any_spread && any_apart ? sum / (double)k : 0;
done:
	free(centroid);
	free(spread);
	free(size);
	return FIN_OK;
}

int fin_cluster_evaluate(const double *x, size_t n, size_t d, const int *assign, size_t k,
			 size_t sample, unsigned long seed, fin_cluster_eval *ev, fin_err *err)
{
	float *xf = malloc(n && d ? n * d * sizeof *xf : 1);
	size_t i;
	int rc;

	memset(ev, 0, sizeof *ev);
	ev->n = n;
	ev->k = k;
	ev->sizes = calloc(k ? k : 1, sizeof *ev->sizes);
	if (!xf || !ev->sizes) {
		free(xf);
		fin_cluster_eval_free(ev);
		return fin_fail(err, FIN_EDATA, "out of memory");
	}
	for (i = 0; i < n; i++)
		ev->sizes[assign[i]]++;
	/* fin_silhouette works in float32, as fin-cluster scores its fits. */
	for (i = 0; i < n * d; i++)
		xf[i] = (float)x[i];
	ev->silhouette = fin_silhouette(xf, n, d, assign, k, sample, seed);
	ev->silhouette_rows = n < sample ? n : sample;
	free(xf);
	rc = fin_davies_bouldin(x, n, d, assign, k, &ev->davies_bouldin, err);
	if (rc != FIN_OK)
		fin_cluster_eval_free(ev);
	return rc;
}

void fin_cluster_eval_free(fin_cluster_eval *ev)
{
	free(ev->sizes);
	ev->sizes = NULL;
}
