/* The architecture parser and the shapes it computes. The input's first
 * line is the input shape, channels and steps (each taken modulo 64, plus
 * 1); the second an architecture; a third line, if any, makes the second
 * and third a GAN's generator and discriminator. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "nn/gan.h"
#include "nn/net.h"

/* Networks up to this many parameters, and values of activations a
 * sample, are run; bigger ones are allowed (up to 2^24 parameters) but
 * would only slow the search. */
enum { LATENT = 8, SMALL = 1 << 16 };

static int small(const fin_net *net)
{
	size_t i, values = 0;

	for (i = 0; i < net->nlayers; i++)
		values += net->layers[i].out_c * net->layers[i].out_t;
	return net->nparams <= SMALL && values <= SMALL;
}

/* Builds arch for samples [c][t]; a small network takes a batch of two
 * samples of zeros forward and back. The canonical form, as model files
 * store it, must build the same network. Returns 1 for a small network. */
static int check(const char *arch, size_t c, size_t t)
{
	fin_net net, again;
	fin_err err;
	char canon[8192];
	int ok;

	if (fin_net_build(&net, arch, c, t, &err) != FIN_OK)
		return 0;
	if ((ok = small(&net))) {
		float *x = calloc(2 * c * t, sizeof *x), *dx = calloc(2 * c * t, sizeof *dx);
		float *dout = calloc(2 * net.out_size, sizeof *dout);
		if (!x || !dx || !dout || fin_net_reserve(&net, 2) != 0)
			abort();
		fin_net_forward(&net, x, 2, 1);
		fin_net_backward(&net, dout, dx, 2);
		free(x);
		free(dx);
		free(dout);
	}
	if (fin_net_arch(&net, canon, sizeof canon) == 0) {
		if (fin_net_build(&again, canon, c, t, &err) != FIN_OK ||
		    again.nparams != net.nparams || again.out_size != net.out_size) {
			fprintf(stderr, "fuzz: '%s' builds a different network than '%s'\n", canon,
				arch);
			__builtin_trap();
		}
		fin_net_free(&again);
	}
	fin_net_free(&net);
	return ok;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *text = strndup((const char *)data, size), *arch, *arch_d, dropout[8192];
	unsigned long c = 0, t = 0;
	fin_gan gan;
	fin_err err;

	if (!text)
		abort();
	sscanf(text, "%lu %lu", &c, &t);
	c = 1 + c % 64;
	t = 1 + t % 64;
	arch = strchr(text, '\n');
	arch = arch ? arch + 1 : text + strlen(text);
	arch_d = strchr(arch, '\n');
	if (arch_d)
		*arch_d++ = '\0';
	check(arch, c, t);
	if (fin_net_with_dropout(arch, 0.25f, dropout, sizeof dropout) == 0)
		check(dropout, c, t);
	if (arch_d && check(arch, LATENT, 1) && check(arch_d, c, t) &&
	    fin_gan_build(&gan, arch, arch_d, LATENT, c, t, 1, &err) == FIN_OK)
		fin_gan_free(&gan);
	free(text);
	return 0;
}
