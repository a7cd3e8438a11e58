/* The model loader. A model that loads must come from a file every loader
 * accepts (fuzz_json.h); it runs a row of zeros through its network(s), and
 * must save and load again. */
#include <cjson/cJSON.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "io/json_file.h"
#include "nn/model.h"

#include "fuzz_file.h"
#include "fuzz_json.h"

static void forward_zeros(fin_net *net)
{
	float *x = calloc(net->in_c * net->in_t, sizeof *x);

	if (!x || fin_net_reserve(net, 1) != 0)
		abort();
	fin_net_forward(net, x, 1, 0);
	free(x);
}

static void predict_zeros(fin_model *m)
{
	float *raw = calloc(m->nfeat, sizeof *raw), *x = calloc(m->nfeat, sizeof *x);
	double *pred = calloc(m->nlabels > 2 ? m->nlabels : 2, sizeof *pred);
	const float *out;

	if (!raw || !x || !pred || fin_net_reserve(&m->net, 1) != 0)
		abort();
	fin_model_scale(m, raw, 1, x);
	out = fin_net_forward(&m->net, x, 1, 0);
	if (m->task != FIN_TASK_AUTOENCODER)
		fin_model_decode(m, out, 1, pred);
	free(raw);
	free(x);
	free(pred);
}

/* What fin-train --init and the files that embed a model (detectors,
 * segmentations) rely on. */
static void save_and_load(const fin_model *m)
{
	fin_err err;
	fin_json_reader r = { "fuzz", "model", &err };
	fin_model again;
	cJSON *o = fin_model_to_json(m), *back = NULL;
	char *text = o ? cJSON_PrintUnformatted(o) : NULL;

	if (!text || !(back = cJSON_Parse(text))) {
		fprintf(stderr, "fuzz: a model that loaded is not saved as JSON%s%.80s\n",
			text ? ", near: " : "", text ? cJSON_GetErrorPtr() : "");
		__builtin_trap();
	}
	if (fin_model_from_json(&again, back, &r) != FIN_OK) {
		fprintf(stderr, "fuzz: a model that loaded does not load again: %s\n",
			err.msg);
		__builtin_trap();
	}
	fin_model_free(&again);
	cJSON_Delete(back);
	cJSON_free(text);
	cJSON_Delete(o);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char path[64];
	int fd = fuzz_file(data, size, path, sizeof path);
	fin_model m;
	fin_err err;

	if (fin_model_load(&m, path, &err) == FIN_OK) {
		fuzz_json_check(data, size);
		if (m.task == FIN_TASK_GAN) {
			forward_zeros(&m.gan.g);
			forward_zeros(&m.gan.d);
		} else {
			predict_zeros(&m);
		}
		save_and_load(&m);
		fin_model_free(&m);
	}
	close(fd);
	return 0;
}
