#include "core/version.h"
#include "io/json_file.h"
#include "privacy/mask_report.h"

static const char *const unit_names[] = { "day", "month", "year" };

static cJSON *op_object(const fin_mask_plan *p, const fin_mask_column *c, enum fin_mask_op op)
{
	cJSON *o = cJSON_CreateObject();
	int ok;

	if (!o)
		return NULL;
	/* The option's name without its dashes. */
	ok = cJSON_AddStringToObject(o, "op", fin_mask_op_option(op) + 2) != NULL;
	switch (op) {
	case FIN_MASK_PSEUDONYMIZE:
		ok = ok && cJSON_AddStringToObject(o, "hash", "HMAC-SHA-256") &&
		     cJSON_AddNumberToObject(o, "length", (double)p->length);
		break;
	case FIN_MASK_MASK:
		ok = ok && cJSON_AddNumberToObject(o, "keep", (double)c->keep);
		break;
	case FIN_MASK_DATE:
		ok = ok && cJSON_AddStringToObject(o, "unit", unit_names[c->unit]);
		break;
	case FIN_MASK_NOISE:
		ok = ok && cJSON_AddStringToObject(o, "distribution", "laplace") &&
		     fin_json_add_exact(o, "scale", c->noise_scale) &&
		     cJSON_AddNumberToObject(o, "seed", (double)p->seed);
		break;
	case FIN_MASK_BOTTOM_CODE:
		ok = ok && fin_json_add_exact(o, "value", c->bottom);
		break;
	case FIN_MASK_TOP_CODE:
		ok = ok && fin_json_add_exact(o, "value", c->top);
		break;
	case FIN_MASK_ROUND:
		ok = ok && cJSON_AddNumberToObject(o, "digits", c->digits);
		break;
	case FIN_MASK_BUCKET: {
		double scale = 1;
		int d;
		for (d = 0; d < c->decimals; d++)
			scale *= 10;
		/* units / 10^d is the double nearest the width as written */
		ok = ok && fin_json_add_exact(o, "width", (double)c->width / scale);
		break;
	}
	default:
		break;
	}
	if (!ok) {
		cJSON_Delete(o);
		return NULL;
	}
	return o;
}

static cJSON *columns_object(const fin_mask_plan *p)
{
	cJSON *cols = cJSON_CreateObject();
	size_t i;

	for (i = 0; cols && i < p->n; i++) {
		const fin_mask_column *c = &p->col[i];
		cJSON *ops;
		int op;

		if (!c->ops)
			continue;
		ops = cJSON_AddArrayToObject(cols, p->names[i]);
		if (!ops)
			goto fail;
		for (op = 0; op < FIN_MASK_NOPS; op++) {
			cJSON *o;
			if (!(c->ops & (1u << op)))
				continue;
			if (!(o = op_object(p, c, (enum fin_mask_op)op)))
				goto fail;
			cJSON_AddItemToArray(ops, o);
		}
	}
	return cols;
fail:
	cJSON_Delete(cols);
	return NULL;
}

/* A count that is 0 when nothing was there to count: null. */
static int add_count_or_null(cJSON *o, const char *key, size_t v)
{
	return (v ? cJSON_AddNumberToObject(o, key, (double)v) : cJSON_AddNullToObject(o, key)) ? 0
												: -1;
}

static int add_anonymity(cJSON *r, const fin_mask_plan *p, const fin_mask_outcome *o)
{
	const fin_anonymity *a = o->anon;
	const fin_anonymity_summary *s = o->summary;
	cJSON *quasi, *sizes, *l;
	size_t i;

	if (!(quasi = cJSON_AddArrayToObject(r, "quasi")))
		return -1;
	for (i = 0; i < a->nquasi; i++) {
		cJSON *name = cJSON_CreateString(p->names[a->quasi[i]]);
		if (!name)
			return -1;
		cJSON_AddItemToArray(quasi, name);
	}
	if (!cJSON_AddNumberToObject(r, "classes", (double)s->classes) ||
	    !cJSON_AddNumberToObject(r, "classes_suppressed", (double)s->classes_suppressed) ||
	    !(sizes = cJSON_AddArrayToObject(r, "group_sizes")))
		return -1;
	for (i = 0; i < s->nsizes; i++) {
		cJSON *g = cJSON_CreateObject();
		if (!g)
			return -1;
		cJSON_AddItemToArray(sizes, g);
		if (!cJSON_AddNumberToObject(g, "size", (double)s->sizes[i]) ||
		    !cJSON_AddNumberToObject(g, "classes", (double)s->count[i]))
			return -1;
	}
	if (add_count_or_null(r, "k", o->check ? s->k_all : s->k_kept) != 0)
		return -1;
	if (o->k_target && !cJSON_AddNumberToObject(r, "k_target", (double)o->k_target))
		return -1;
	if (a->sensitive < 0)
		return 0;
	if (!(l = cJSON_AddObjectToObject(r, "l_diverse")) ||
	    !cJSON_AddStringToObject(l, "column", p->names[a->sensitive]) ||
	    add_count_or_null(l, "l", o->check ? s->l_all : s->l_kept) != 0 ||
	    !cJSON_AddNumberToObject(l, "l_target", (double)o->l_target))
		return -1;
	return 0;
}

cJSON *fin_mask_report(const fin_mask_plan *p, const fin_mask_outcome *o)
{
	cJSON *r = cJSON_CreateObject(), *cols = columns_object(p);

	if (!r || !cols)
		goto fail;
	if (!cJSON_AddStringToObject(r, "format", "fin-mask-report") ||
	    !cJSON_AddNumberToObject(r, "schema_version", 1) ||
	    !cJSON_AddStringToObject(r, "tool_version", FIN_VERSION) ||
	    !cJSON_AddBoolToObject(r, "check", o->check))
		goto fail;
	cJSON_AddItemToObject(r, "columns", cols);
	cols = NULL;
	if (!cJSON_AddNumberToObject(r, "rows_read", (double)o->rows_read) ||
	    !cJSON_AddNumberToObject(r, "rows_suppressed", (double)o->rows_suppressed) ||
	    !cJSON_AddNumberToObject(r, "rows_written", (double)o->rows_written))
		goto fail;
	if (o->anon && add_anonymity(r, p, o) != 0)
		goto fail;
	return r;
fail:
	cJSON_Delete(cols);
	cJSON_Delete(r);
	return NULL;
}
