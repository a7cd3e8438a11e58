#include <ctype.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <gsl/gsl_randist.h>

#include "io/numio.h"
#include "nn/net.h"

enum { MAX_ARGS = 6, MAX_UNITS = 1 << 16, MAX_KERNEL = 4096 };

/* One layer of an architecture string: name(arg,...). */
struct spec {
	char text[200]; /* for messages: escaped and cut short */
	char name[32];
	char args[MAX_ARGS][32];
	size_t nargs;
};

static int parse_spec(const char **p, struct spec *s, size_t index, fin_err *err)
{
	const char *q = *p, *start = *p, *end = *p;
	size_t len;

	memset(s, 0, sizeof *s);
	/* The layer's whole text first, so that every message can quote it. */
	while (*end && !isspace((unsigned char)*end) && *end != '(')
		end++;
	if (*end == '(')
		while (*end && *end != ')')
			end++;
	end += *end == ')';
	fin_quote_field(s->text, sizeof s->text, start, (size_t)(end - start));
	while (*q && !isspace((unsigned char)*q) && *q != '(')
		q++;
	len = (size_t)(q - start);
	if (len == 0 || len >= sizeof s->name)
		return fin_fail(err, FIN_EUSAGE, "layer %zu '%s': expected a layer name", index,
				s->text);
	memcpy(s->name, start, len);
	if (*q == '(') {
		const char *arg = ++q;
		for (;; q++) {
			if (*q == ',' || *q == ')') {
				size_t n = (size_t)(q - arg);
				if (s->nargs == MAX_ARGS || n == 0 || n >= sizeof s->args[0])
					return fin_fail(err, FIN_EUSAGE, "layer %zu '%s': bad arguments",
							index, s->text);
				memcpy(s->args[s->nargs++], arg, n);
				arg = q + 1;
				if (*q == ')')
					break;
			} else if (!*q) {
				return fin_fail(err, FIN_EUSAGE, "layer %zu '%s': missing ')'", index,
						s->text);
			} else if (isspace((unsigned char)*q)) {
				return fin_fail(err, FIN_EUSAGE, "layer %zu '%s': blank inside ( )",
						index, s->text);
			}
		}
		q++;
	}
	*p = q;
	return FIN_OK;
}

static int parse_count(const char *s, size_t max, size_t *out)
{
	char *end;
	unsigned long v = strtoul(s, &end, 10);

	if (!isdigit((unsigned char)s[0]) || *end || v < 1 || v > max)
		return -1;
	*out = v;
	return 0;
}

/* An argument of a spec, escaped for a message. */
static const char *shown(char *buf, size_t len, const char *arg)
{
	return fin_quote_field(buf, len, arg, strlen(arg));
}

/* The most values the layer holds for one sample: its output, a conv1d's
 * columns, a recurrent layer's gates at every step. The shape it receives
 * is within FIN_NET_MAX_WIDTH, so none of these products overflows. */
static size_t layer_width(const fin_layer *l)
{
	size_t width = l->out_c * l->out_t;

	if (l->kind == FIN_L_CONV1D && l->out_t * l->in_c * l->kernel > width)
		width = l->out_t * l->in_c * l->kernel;
	if (fin_layer_gates(l) && l->in_t * fin_layer_gates(l) * l->units > width)
		width = l->in_t * fin_layer_gates(l) * l->units;
	if (l->kind == FIN_L_ATTENTION) {
		if (3 * l->in_c * l->in_t > width)
			width = 3 * l->in_c * l->in_t;
		if (l->heads * l->in_t * l->in_t > width)
			width = l->heads * l->in_t * l->in_t;
	}
	if (l->kind == FIN_L_FF && l->units * l->in_t > width)
		width = l->units * l->in_t;
	return width;
}

/* Fills one layer from its spec and the shape it receives. */
static int make_layer(fin_layer *l, const struct spec *s, size_t index, size_t c, size_t t,
		      fin_err *err)
{
	char arg[200];
	size_t i;
	int a;

#define BAD(...) fin_fail(err, FIN_EUSAGE, "layer %zu '%s': " __VA_ARGS__)
	memset(l, 0, sizeof *l);
	l->in_c = c;
	l->in_t = t;
	l->out_c = c;
	l->out_t = t;
	if (strcmp(s->name, "dense") == 0) {
		l->kind = FIN_L_DENSE;
		if (s->nargs < 1 || s->nargs > 3 || parse_count(s->args[0], MAX_UNITS, &l->units))
			return BAD("expected dense(units[,activation][,step]) with 1 to %d units",
				   index, s->text, MAX_UNITS);
		for (i = 1; i < s->nargs; i++) {
			if (strcmp(s->args[i], "step") == 0)
				l->step = 1;
			else if ((a = fin_act_parse(s->args[i])) >= 0)
				l->act = (enum fin_act)a;
			else
				return BAD("unknown activation '%s'", index, s->text,
					   shown(arg, sizeof arg, s->args[i]));
		}
		l->out_c = l->units;
		l->out_t = 1;
		l->nweights = l->units * c * t;
		l->nbiases = l->units;
		if (l->step) {
			/* The same weights at every step: a convolution of width 1. */
			l->kind = FIN_L_CONV1D;
			l->kernel = 1;
			l->out_t = t;
			l->nweights = l->units * c;
		}
	} else if (strcmp(s->name, "conv1d") == 0) {
		l->kind = FIN_L_CONV1D;
		if (s->nargs < 2 || parse_count(s->args[0], MAX_UNITS, &l->units) ||
		    parse_count(s->args[1], MAX_KERNEL, &l->kernel))
			return BAD("expected conv1d(filters,kernel[,activation][,same|valid]) with 1 "
				   "to %d filters and a kernel of 1 to %d", index, s->text, MAX_UNITS,
				   MAX_KERNEL);
		for (i = 2; i < s->nargs; i++) {
			if (strcmp(s->args[i], "same") == 0)
				l->same = 1;
			else if (strcmp(s->args[i], "valid") == 0)
				l->same = 0;
			else if ((a = fin_act_parse(s->args[i])) >= 0)
				l->act = (enum fin_act)a;
			else
				return BAD("unknown option '%s'", index, s->text,
					   shown(arg, sizeof arg, s->args[i]));
		}
		if (l->same && l->kernel % 2 == 0)
			return BAD("'same' padding needs an odd kernel", index, s->text);
		if (!l->same && l->kernel > t)
			return BAD("a kernel of %zu needs at least %zu time steps, and it gets %zu",
				   index, s->text, l->kernel, l->kernel, t);
		l->out_c = l->units;
		l->out_t = l->same ? t : t - l->kernel + 1;
		l->nweights = l->units * c * l->kernel;
		l->nbiases = l->units;
	} else if (strcmp(s->name, "maxpool") == 0 || strcmp(s->name, "avgpool") == 0) {
		l->kind = s->name[0] == 'm' ? FIN_L_MAXPOOL : FIN_L_AVGPOOL;
		l->kernel = 2;
		if (s->nargs > 1 || (s->nargs == 1 && parse_count(s->args[0], MAX_KERNEL, &l->kernel)))
			return BAD("expected %s(width) with a width of 1 to %d", index, s->text, s->name,
				   MAX_KERNEL);
		if (l->kernel > t)
			return BAD("a width of %zu needs at least %zu time steps, and it gets %zu",
				   index, s->text, l->kernel, l->kernel, t);
		l->out_t = t / l->kernel;
	} else if (strcmp(s->name, "lstm") == 0 || strcmp(s->name, "gru") == 0) {
		l->kind = s->name[0] == 'l' ? FIN_L_LSTM : FIN_L_GRU;
		if (s->nargs < 1 || s->nargs > 2 || parse_count(s->args[0], MAX_UNITS, &l->units) ||
		    (s->nargs == 2 && strcmp(s->args[1], "seq") != 0))
			return BAD("expected %s(units[,seq]) with 1 to %d units", index, s->text, s->name,
				   MAX_UNITS);
		l->seq = s->nargs == 2;
		l->out_c = l->units;
		l->out_t = l->seq ? t : 1;
		l->nweights = fin_layer_gates(l) * l->units * (c + l->units);
		l->nbiases = 2 * fin_layer_gates(l) * l->units;
	} else if (strcmp(s->name, "flatten") == 0) {
		l->kind = FIN_L_FLATTEN;
		if (s->nargs)
			return BAD("flatten takes no arguments", index, s->text);
		l->out_c = c * t;
		l->out_t = 1;
	} else if (strcmp(s->name, "layernorm") == 0) {
		/* Over the channels at each step: a weight (gamma) and a bias
		 * (beta) per channel. */
		l->kind = FIN_L_LAYERNORM;
		if (s->nargs)
			return BAD("layernorm takes no arguments", index, s->text);
		l->nweights = c;
		l->nbiases = c;
	} else if (strcmp(s->name, "attention") == 0 || strcmp(s->name, "ff") == 0) {
		int att = s->name[0] == 'a';
		l->kind = att ? FIN_L_ATTENTION : FIN_L_FF;
		l->act = att ? FIN_ACT_LINEAR : FIN_ACT_RELU;
		if (s->nargs < 1 || parse_count(s->args[0], MAX_UNITS, att ? &l->heads : &l->units)) {
			if (att)
				return BAD("expected attention(heads[,causal][,residual][,norm]) "
					   "with 1 to %d heads", index, s->text, MAX_UNITS);
			return BAD("expected ff(units[,activation][,residual][,norm]) with 1 to %d "
				   "units", index, s->text, MAX_UNITS);
		}
		for (i = 1; i < s->nargs; i++) {
			if (strcmp(s->args[i], "residual") == 0)
				l->residual = 1;
			else if (strcmp(s->args[i], "norm") == 0)
				l->norm = 1;
			else if (att && strcmp(s->args[i], "causal") == 0)
				l->causal = 1;
			else if (!att && (a = fin_act_parse(s->args[i])) >= 0)
				l->act = (enum fin_act)a;
			else
				return BAD("unknown option '%s'", index, s->text,
					   shown(arg, sizeof arg, s->args[i]));
		}
		if (att && c % l->heads)
			return BAD("the heads (%zu) do not divide the channels (%zu)", index, s->text,
				   l->heads, c);
		l->nweights = (l->norm ? c : 0) + (att ? 4 * c * c : 2 * l->units * c);
		l->nbiases = (l->norm ? c : 0) + (att ? 4 * c : l->units + c);
	} else if (strcmp(s->name, "posenc") == 0) {
		l->kind = FIN_L_POSENC;
		if (s->nargs != 1 ||
		    (strcmp(s->args[0], "sin") != 0 && strcmp(s->args[0], "learned") != 0))
			return BAD("expected posenc(sin) or posenc(learned)", index, s->text);
		l->learned = s->args[0][0] == 'l';
		l->nweights = l->learned ? c * t : 0;
	} else if (strcmp(s->name, "patch") == 0) {
		l->kind = FIN_L_PATCH;
		if (s->nargs < 1 || s->nargs > 2 || parse_count(s->args[0], MAX_KERNEL, &l->kernel) ||
		    parse_count(s->args[s->nargs - 1], MAX_KERNEL, &l->stride))
			return BAD("expected patch(length[,stride]) with a length and stride of 1 to %d",
				   index, s->text, MAX_KERNEL);
		if (l->kernel > t)
			return BAD("a patch of %zu steps needs at least %zu time steps, and it gets %zu",
				   index, s->text, l->kernel, l->kernel, t);
		l->out_c = c * l->kernel;
		l->out_t = (t - l->kernel) / l->stride + 1;
	} else if (strcmp(s->name, "pool") == 0) {
		l->kind = FIN_L_SEQPOOL;
		if (s->nargs != 1 || (strcmp(s->args[0], "last") != 0 && strcmp(s->args[0], "mean") != 0))
			return BAD("expected pool(last) or pool(mean)", index, s->text);
		l->mean = s->args[0][0] == 'm';
		l->out_t = 1;
	} else if (strcmp(s->name, "dropout") == 0) {
		char *end;
		l->kind = FIN_L_DROPOUT;
		l->rate = s->nargs == 1 ? strtof(s->args[0], &end) : -1;
		if (s->nargs != 1 || *end || !(l->rate >= 0 && l->rate < 1))
			return BAD("expected dropout(p) with 0 <= p < 1", index, s->text);
	} else if ((a = fin_act_parse(s->name)) >= 0) {
		l->kind = FIN_L_ACT;
		l->act = (enum fin_act)a;
		if (s->nargs)
			return BAD("an activation takes no arguments", index, s->text);
	} else {
		return BAD("unknown layer", index, s->text);
	}
	if (l->act == FIN_ACT_SOFTMAX && l->kind != FIN_L_FF && l->out_t != 1)
		return BAD("softmax needs a flat input (add flatten before it)", index, s->text);
	if (layer_width(l) > FIN_NET_MAX_WIDTH)
		return BAD("%zu values per sample, more than %zu", index, s->text, layer_width(l),
			   FIN_NET_MAX_WIDTH);
#undef BAD
	return FIN_OK;
}

/* encoder(heads,ff[,activation][,norm_first][,causal]) is PyTorch's
 * TransformerEncoderLayer in fin's layers: post-norm, the default,
 * attention(heads,residual) layernorm ff(ff,activation,residual) layernorm;
 * norm_first, attention(heads,residual,norm) ff(ff,activation,residual,norm).
 * Any other spec is itself. */
static int expand(const struct spec *s, struct spec *out, size_t *count, size_t index,
		  fin_err *err)
{
	const char *act = "relu";
	int norm_first = 0, causal = 0;
	size_t i, k = 0;
	char arg[200];

	if (strcmp(s->name, "encoder") != 0) {
		out[0] = *s;
		*count = 1;
		return FIN_OK;
	}
	if (s->nargs < 2 || parse_count(s->args[0], MAX_UNITS, &i) ||
	    parse_count(s->args[1], MAX_UNITS, &i))
		return fin_fail(err, FIN_EUSAGE,
				"layer %zu '%s': expected encoder(heads,ff[,activation][,norm_first]"
				"[,causal]) with 1 to %d heads and feed-forward units",
				index, s->text, MAX_UNITS);
	for (i = 2; i < s->nargs; i++) {
		if (strcmp(s->args[i], "norm_first") == 0)
			norm_first = 1;
		else if (strcmp(s->args[i], "causal") == 0)
			causal = 1;
		else if (fin_act_parse(s->args[i]) >= 0)
			act = s->args[i];
		else
			return fin_fail(err, FIN_EUSAGE, "layer %zu '%s': unknown option '%s'",
					index, s->text, shown(arg, sizeof arg, s->args[i]));
	}
	for (i = 0; i < 4; i++) {
		memset(&out[i], 0, sizeof out[i]);
		memcpy(out[i].text, s->text, sizeof s->text);
	}
	strcpy(out[k].name, "attention");
	strcpy(out[k].args[out[k].nargs++], s->args[0]);
	strcpy(out[k].args[out[k].nargs++], "residual");
	if (norm_first)
		strcpy(out[k].args[out[k].nargs++], "norm");
	if (causal)
		strcpy(out[k].args[out[k].nargs++], "causal");
	if (!norm_first)
		strcpy(out[++k].name, "layernorm");
	strcpy(out[++k].name, "ff");
	strcpy(out[k].args[out[k].nargs++], s->args[1]);
	strcpy(out[k].args[out[k].nargs++], act);
	strcpy(out[k].args[out[k].nargs++], "residual");
	if (norm_first)
		strcpy(out[k].args[out[k].nargs++], "norm");
	else
		strcpy(out[++k].name, "layernorm");
	*count = k + 1;
	return FIN_OK;
}

/* An attention layer whose output reaches a pool(last) through layers
 * that work at each step on its own (layernorm, ff, dense at each step,
 * activations, dropout) gives the network only its newest step: it computes
 * that step's query alone, and the layers after it work on one step. The
 * outputs are those of the whole computation; a transformer's last layer
 * costs about a quarter as much. */
static void read_last_step_only(fin_net *net)
{
	size_t i, j, k;

	for (i = 0; i < net->nlayers; i++) {
		if (net->layers[i].kind != FIN_L_ATTENTION)
			continue;
		for (j = i + 1; j < net->nlayers; j++) {
			const fin_layer *l = &net->layers[j];
			if (l->kind != FIN_L_LAYERNORM && l->kind != FIN_L_FF &&
			    l->kind != FIN_L_ACT && l->kind != FIN_L_DROPOUT &&
			    !(l->kind == FIN_L_CONV1D && l->step))
				break;
		}
		if (j == net->nlayers || net->layers[j].kind != FIN_L_SEQPOOL || net->layers[j].mean)
			continue;
		net->layers[i].last = 1;
		net->layers[i].out_t = 1;
		for (k = i + 1; k <= j; k++)
			net->layers[k].in_t = net->layers[k].out_t = 1;
	}
}

void fin_net_read_every_step(fin_net *net)
{
	size_t i, k, t;

	for (i = 0; i < net->nlayers; i++) {
		if (!net->layers[i].last)
			continue;
		t = net->layers[i].in_t;
		net->layers[i].last = 0;
		net->layers[i].out_t = t;
		for (k = i + 1; net->layers[k].kind != FIN_L_SEQPOOL; k++)
			net->layers[k].in_t = net->layers[k].out_t = t;
		net->layers[k].in_t = t;
	}
}

int fin_net_build(fin_net *net, const char *arch, size_t in_c, size_t in_t, fin_err *err)
{
	const char *p = arch;
	size_t c = in_c, t = in_t, cap = 0, written = 0, nsub = 0, k;
	int rc;

	memset(net, 0, sizeof *net);
	if (in_c == 0 || in_t == 0 || in_c > FIN_NET_MAX_WIDTH / in_t)
		return fin_fail(err, FIN_EUSAGE, "a sample of [%zu][%zu] values: a network takes 1 to %zu",
				in_c, in_t, FIN_NET_MAX_WIDTH);
	net->in_c = in_c;
	net->in_t = in_t;
	for (;;) {
		struct spec s, sub[4];
		fin_layer *l;

		while (isspace((unsigned char)*p))
			p++;
		if (!*p)
			break;
		if ((rc = parse_spec(&p, &s, ++written, err)) != FIN_OK ||
		    (rc = expand(&s, sub, &nsub, written, err)) != FIN_OK)
			goto fail;
		for (k = 0; k < nsub; k++) {
			if (net->nlayers == cap) {
				fin_layer *grown =
					realloc(net->layers, (cap = cap ? 2 * cap : 8) * sizeof *grown);
				if (!grown) {
					rc = fin_fail(err, FIN_EUSAGE, "out of memory");
					goto fail;
				}
				net->layers = grown;
			}
			l = &net->layers[net->nlayers];
			if ((rc = make_layer(l, &sub[k], written, c, t, err)) != FIN_OK)
				goto fail;
			net->nlayers++;
			if (l->nweights + l->nbiases > FIN_NET_MAX_PARAMS - net->nparams) {
				rc = fin_fail(err, FIN_EUSAGE,
					      "layer %zu '%s': the network has more than %zu parameters",
					      written, s.text, FIN_NET_MAX_PARAMS);
				goto fail;
			}
			l->w = net->nparams;
			l->b = l->w + l->nweights;
			net->nparams += l->nweights + l->nbiases;
			c = l->out_c;
			t = l->out_t;
		}
	}
	if (net->nlayers == 0) {
		rc = fin_fail(err, FIN_EUSAGE, "the architecture has no layers");
		goto fail;
	}
	read_last_step_only(net);
	net->out_size = c * t;
	net->params = calloc(net->nparams ? net->nparams : 1, sizeof *net->params);
	net->grads = calloc(net->nparams ? net->nparams : 1, sizeof *net->grads);
	net->act = calloc(net->nlayers + 1, sizeof *net->act);
	net->out = calloc(net->nlayers, sizeof *net->out);
	net->rng = gsl_rng_alloc(gsl_rng_mt19937);
	if (!net->params || !net->grads || !net->act || !net->out || !net->rng) {
		rc = fin_fail(err, FIN_EUSAGE, "out of memory");
		goto fail;
	}
	return FIN_OK;
fail:
	fin_net_free(net);
	return rc;
}

void fin_net_free(fin_net *net)
{
	size_t i;

	for (i = 0; i < net->nlayers; i++) {
		fin_layer_release(&net->layers[i]);
		if (net->out)
			free(net->out[i]);
	}
	free(net->out);
	free(net->layers);
	if (!net->borrowed)
		free(net->params);
	free(net->grads);
	free(net->act);
	free(net->dbuf[0]);
	free(net->dbuf[1]);
	if (net->rng)
		gsl_rng_free(net->rng);
	memset(net, 0, sizeof *net);
}

const char *fin_net_preset(const char *name, size_t outputs, size_t bottleneck, char *buf,
			   size_t len)
{
	if (strcmp(name, "autoencoder") == 0)
		snprintf(buf, len, "dense(32,relu) dense(%zu) dense(32,relu) dense(%zu)", bottleneck,
			 outputs);
	else if (strcmp(name, "cnn") == 0)
		snprintf(buf, len, "conv1d(64,3,relu) maxpool(2) flatten dense(64,relu) dense(%zu)", outputs);
	else if (strcmp(name, "mlp") == 0)
		snprintf(buf, len, "dense(64,relu) dense(64,relu) dense(%zu)", outputs);
	else if (strcmp(name, "transformer") == 0)
		snprintf(buf, len,
			 "dense(64,linear,step) posenc(sin) encoder(4,128) encoder(4,128) pool(last) "
			 "dense(%zu)",
			 outputs);
	else if (strcmp(name, "patchtst") == 0)
		snprintf(buf, len,
			 "patch(8,4) dense(64,linear,step) posenc(learned) encoder(4,128) "
			 "encoder(4,128) encoder(4,128) flatten dense(%zu)",
			 outputs);
	else if (strcmp(name, "lstm") == 0 || strcmp(name, "gru") == 0)
		snprintf(buf, len, "%s(64) dense(%zu)", name, outputs);
	else if (strcmp(name, "linear") == 0 || strcmp(name, "logistic") == 0 ||
		 strcmp(name, "softmax") == 0)
		snprintf(buf, len, "dense(%zu)", outputs);
	else
		return NULL;
	return buf;
}

/* Layers with weights, after which --dropout goes. */
static int has_weights(const char *s)
{
	return strncmp(s, "dense(", 6) == 0 || strncmp(s, "conv1d(", 7) == 0 ||
	       strncmp(s, "lstm(", 5) == 0 || strncmp(s, "gru(", 4) == 0;
}

int fin_net_with_dropout(const char *arch, float p, char *buf, size_t len)
{
	const char *s, *last = NULL;
	size_t at = 0;

	for (s = arch; *s; s++)
		if ((s == arch || s[-1] == ' ') && has_weights(s))
			last = s;
	buf[0] = '\0';
	for (s = arch; *s;) {
		const char *end = strchr(s, ' ');
		size_t n = end ? (size_t)(end - s) : strlen(s);
		int w = snprintf(buf + at, len - at, "%s%.*s", at ? " " : "", (int)n, s);
		if (w < 0 || (size_t)w >= len - at)
			return -1;
		at += (size_t)w;
		if (s != last && has_weights(s)) {
			w = snprintf(buf + at, len - at, " dropout(%g)", (double)p);
			if (w < 0 || (size_t)w >= len - at)
				return -1;
			at += (size_t)w;
		}
		s += n;
		while (*s == ' ')
			s++;
	}
	return 0;
}

int fin_net_arch(const fin_net *net, char *buf, size_t len)
{
	size_t i, at = 0;

	buf[0] = '\0';
	for (i = 0; i < net->nlayers; i++) {
		const fin_layer *l = &net->layers[i];
		const char *sep = i ? " " : "";
		int n = 0;
		switch (l->kind) {
		case FIN_L_DENSE:
			n = snprintf(buf + at, len - at, "%sdense(%zu,%s)", sep, l->units,
				     fin_act_name(l->act));
			break;
		case FIN_L_CONV1D:
			if (l->step)
				n = snprintf(buf + at, len - at, "%sdense(%zu,%s,step)", sep, l->units,
					     fin_act_name(l->act));
			else
				n = snprintf(buf + at, len - at, "%sconv1d(%zu,%zu,%s,%s)", sep,
					     l->units, l->kernel, fin_act_name(l->act),
					     l->same ? "same" : "valid");
			break;
		case FIN_L_ATTENTION:
			n = snprintf(buf + at, len - at, "%sattention(%zu%s%s%s)", sep, l->heads,
				     l->causal ? ",causal" : "", l->residual ? ",residual" : "",
				     l->norm ? ",norm" : "");
			break;
		case FIN_L_FF:
			n = snprintf(buf + at, len - at, "%sff(%zu,%s%s%s)", sep, l->units,
				     fin_act_name(l->act), l->residual ? ",residual" : "",
				     l->norm ? ",norm" : "");
			break;
		case FIN_L_POSENC:
			n = snprintf(buf + at, len - at, "%sposenc(%s)", sep,
				     l->learned ? "learned" : "sin");
			break;
		case FIN_L_PATCH:
			n = snprintf(buf + at, len - at, "%spatch(%zu,%zu)", sep, l->kernel, l->stride);
			break;
		case FIN_L_SEQPOOL:
			n = snprintf(buf + at, len - at, "%spool(%s)", sep, l->mean ? "mean" : "last");
			break;
		case FIN_L_MAXPOOL:
		case FIN_L_AVGPOOL:
			n = snprintf(buf + at, len - at, "%s%s(%zu)", sep,
				     l->kind == FIN_L_MAXPOOL ? "maxpool" : "avgpool", l->kernel);
			break;
		case FIN_L_LSTM:
		case FIN_L_GRU:
			n = snprintf(buf + at, len - at, "%s%s(%zu%s)", sep,
				     l->kind == FIN_L_LSTM ? "lstm" : "gru", l->units, l->seq ? ",seq" : "");
			break;
		case FIN_L_FLATTEN:
			n = snprintf(buf + at, len - at, "%sflatten", sep);
			break;
		case FIN_L_LAYERNORM:
			n = snprintf(buf + at, len - at, "%slayernorm", sep);
			break;
		case FIN_L_DROPOUT: {
			char rate[FIN_NUM_MAX];
			fin_format_float(rate, l->rate);
			n = snprintf(buf + at, len - at, "%sdropout(%s)", sep, rate);
			break;
		}
		case FIN_L_ACT:
			n = snprintf(buf + at, len - at, "%s%s", sep, fin_act_name(l->act));
			break;
		}
		if (n < 0 || (size_t)n >= len - at)
			return -1;
		at += (size_t)n;
	}
	return 0;
}

/* v[0..n) from U(-a, a) */
static void uniform(fin_net *net, float *v, size_t n, double a)
{
	size_t i;

	for (i = 0; i < n; i++)
		v[i] = (float)gsl_ran_flat(net->rng, -a, a);
}

/* As PyTorch's TransformerEncoderLayer: attention's input projection
 * Glorot-uniform with zero biases, its output projection U(+-1/sqrt(C))
 * with a zero bias; ff's two linear layers, weights and biases, from
 * U(+-1/sqrt(fan-in)); a normalisation's gamma 1 and beta 0. */
static void init_transformer(fin_net *net, const fin_layer *l)
{
	size_t C = l->in_c, pre = l->norm ? C : 0, j;
	float *w = net->params + l->w, *b = net->params + l->b;

	for (j = 0; j < pre; j++) {
		w[j] = 1;
		b[j] = 0;
	}
	w += pre;
	b += pre;
	if (l->kind == FIN_L_ATTENTION) {
		uniform(net, w, 3 * C * C, sqrt(6.0 / (double)(4 * C)));
		uniform(net, w + 3 * C * C, C * C, 1 / sqrt((double)C));
		memset(b, 0, 4 * C * sizeof *b);
	} else {
		uniform(net, w, l->units * C, 1 / sqrt((double)C));
		uniform(net, w + l->units * C, C * l->units, 1 / sqrt((double)l->units));
		uniform(net, b, l->units, 1 / sqrt((double)C));
		uniform(net, b + l->units, C, 1 / sqrt((double)l->units));
	}
}

int fin_net_init(fin_net *net, unsigned long seed)
{
	size_t i, j;

	gsl_rng_set(net->rng, seed);
	for (i = 0; i < net->nlayers; i++) {
		const fin_layer *l = &net->layers[i];
		size_t per_unit = l->nweights / (l->units ? l->units : 1);
		double fan_in = (double)per_unit;
		double fan_out = (double)l->units * (l->kind == FIN_L_CONV1D ? (double)l->kernel : 1);
		int he = l->act == FIN_ACT_RELU || l->act == FIN_ACT_LEAKY_RELU;

		if (l->kind == FIN_L_ATTENTION || l->kind == FIN_L_FF) {
			init_transformer(net, l);
			continue;
		}
		if (l->kind == FIN_L_POSENC) {
			for (j = 0; j < l->nweights; j++)
				net->params[l->w + j] = (float)gsl_ran_flat(net->rng, -0.02, 0.02);
			continue;
		}
		if (l->kind == FIN_L_LAYERNORM) {
			/* As PyTorch: gamma 1, beta 0. */
			for (j = 0; j < l->nweights; j++)
				net->params[l->w + j] = 1;
			for (j = 0; j < l->nbiases; j++)
				net->params[l->b + j] = 0;
			continue;
		}
		if (fin_layer_gates(l)) {
			/* As PyTorch: every weight and bias from U(-1/sqrt(H), 1/sqrt(H)). */
			double a = 1 / sqrt((double)l->units);
			for (j = 0; j < l->nweights + l->nbiases; j++)
				net->params[l->w + j] = (float)gsl_ran_flat(net->rng, -a, a);
			continue;
		}
		for (j = 0; j < l->nweights; j++)
			net->params[l->w + j] =
				he ? (float)gsl_ran_gaussian(net->rng, sqrt(2 / fan_in))
				   : (float)gsl_ran_flat(net->rng, -sqrt(6 / (fan_in + fan_out)),
							 sqrt(6 / (fan_in + fan_out)));
		for (j = 0; j < l->nbiases; j++)
			net->params[l->b + j] = 0;
	}
	return 0;
}

int fin_net_replica(fin_net *rep, const fin_net *net, unsigned long seed)
{
	size_t i;

	memset(rep, 0, sizeof *rep);
	rep->in_c = net->in_c;
	rep->in_t = net->in_t;
	rep->out_size = net->out_size;
	rep->nparams = net->nparams;
	rep->params = net->params;
	rep->borrowed = 1;
	rep->layers = calloc(net->nlayers, sizeof *rep->layers);
	rep->grads = calloc(net->nparams ? net->nparams : 1, sizeof *rep->grads);
	rep->act = calloc(net->nlayers + 1, sizeof *rep->act);
	rep->out = calloc(net->nlayers, sizeof *rep->out);
	rep->rng = gsl_rng_alloc(gsl_rng_mt19937);
	if (!rep->layers || !rep->grads || !rep->act || !rep->out || !rep->rng) {
		fin_net_free(rep);
		return -1;
	}
	rep->nlayers = net->nlayers;
	for (i = 0; i < net->nlayers; i++)
		rep->layers[i] = fin_layer_shape(&net->layers[i]);
	gsl_rng_set(rep->rng, seed);
	return 0;
}

int fin_net_reserve(fin_net *net, size_t cap)
{
	size_t i, widest = net->in_c * net->in_t;

	if (cap <= net->cap)
		return 0;
	for (i = 0; i < net->nlayers; i++) {
		fin_layer *l = &net->layers[i];
		size_t out = l->out_c * l->out_t;
		if (l->kind != FIN_L_FLATTEN) {
			float *a = realloc(net->out[i], cap * out * sizeof *a);
			if (!a)
				return -1;
			net->out[i] = a;
		}
		if (fin_layer_reserve(l, cap) != 0)
			return -1;
		widest = out > widest ? out : widest;
	}
	for (i = 0; i < 2; i++) {
		float *d = realloc(net->dbuf[i], cap * widest * sizeof *d);
		if (!d)
			return -1;
		net->dbuf[i] = d;
	}
	net->cap = cap;
	return 0;
}

const float *fin_net_forward(fin_net *net, const float *x, size_t n, int training)
{
	size_t i;

	net->act[0] = x;
	for (i = 0; i < net->nlayers; i++) {
		/* Flattening keeps every value where it is: [n][c][t] is [n][c * t]. */
		if (net->layers[i].kind == FIN_L_FLATTEN) {
			net->act[i + 1] = net->act[i];
			continue;
		}
		fin_layer_forward(&net->layers[i], net->params, net->act[i], net->out[i], n, training,
				  net->rng);
		net->act[i + 1] = net->out[i];
	}
	return net->act[net->nlayers];
}

void fin_net_backward(fin_net *net, const float *dout, float *dx, size_t n)
{
	float *dy = net->dbuf[0], *next = net->dbuf[1];
	size_t i = net->nlayers;

	memcpy(dy, dout, n * net->out_size * sizeof *dy);
	while (i-- > 0) {
		float *dst = i ? next : dx, *swap;
		/* Through a flatten layer the gradient stays as it is. */
		if (net->layers[i].kind == FIN_L_FLATTEN) {
			const fin_layer *l = &net->layers[i];
			if (!i && dx)
				memcpy(dx, dy, n * l->in_c * l->in_t * sizeof *dx);
			continue;
		}
		fin_layer_backward(&net->layers[i], net->params, net->grads, net->act[i],
				   net->act[i + 1], dy, dst, n);
		swap = dy;
		dy = next;
		next = swap;
	}
}

void fin_net_backward_rows(fin_net *net, const float *dout, size_t n, float *grads, float *work,
			   double *sq)
{
	float *dy = net->dbuf[0], *next = net->dbuf[1];
	size_t i = net->nlayers;

	memcpy(dy, dout, n * net->out_size * sizeof *dy);
	while (i-- > 0) {
		fin_layer *l = &net->layers[i];
		float *swap;
		if (l->kind == FIN_L_FLATTEN)
			continue;
		fin_layer_backward(l, net->params, grads, net->act[i], net->act[i + 1], dy,
				   i ? next : NULL, n);
		/* dy now holds the gradient at the layer's output before its
		 * activation, which the layer's weights produced. */
		fin_layer_row_sq_norms(l, net->act[i], dy, n, work, sq);
		swap = dy;
		dy = next;
		next = swap;
	}
}

size_t fin_net_row_work(const fin_net *net)
{
	size_t most = 1, i;

	for (i = 0; i < net->nlayers; i++) {
		size_t w = fin_layer_row_work(&net->layers[i]);
		most = w > most ? w : most;
	}
	return most;
}
