/* fin-backtest: walk-forward backtest of a training command and fin-predict. */
#include <cjson/cJSON.h>
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/cli.h"
#include "core/command.h"
#include "eval/backtest.h"
#include "eval/trading.h"
#include "features/dict.h"
#include "io/columns.h"
#include "io/json_file.h"
#include "io/numio.h"
#include "io/out_file.h"
#include "nn/model.h"

static const char usage[] =
	"Usage: fin-backtest --train-size N --test-size M [OPTION]... [FILE]... -- fin-train\n"
	"                    [TRAIN OPTION]...\n"
	"Walk-forward backtest: train on the past, predict the next block of rows, move on.\n"
	"The rows are taken in their order, which is time order, and held in memory.\n"
	"\n"
	"  --train-size N         rows before the first test block (required)\n"
	"  --test-size M          rows in each test block (required)\n"
	"  --step S               rows from one test block to the next (default M)\n"
	"  --gap G                rows left out between training and test rows, for\n"
	"                         targets that reach G + 1 rows ahead (default 0)\n"
	"  --expanding            train on every row before the test block (the default)\n"
	"  --rolling              train on the N rows just before the test block\n"
	"  -k, --key LIST         key columns fin-predict passes through (default: the\n"
	"                         model's); the first is the time: a number or an ISO date\n"
	"                         that must never decrease (default: the model's first key)\n"
	"  --unsorted             take the rows as they come: no check of the time order\n"
	"                         (given to a training command that is fin-train too)\n"
	"  --na-values LIST       more spellings of a missing value, comma-separated\n"
	"                         (given to fin-predict, and to a training command\n"
	"                         that is fin-train)\n"
	"Trading the predictions (a regression target that is a return):\n"
	"  --trade                add 'position' and 'pnl' columns; report the strategy\n"
	"                         next to buy-and-hold on standard error\n"
	"  --sizing RULE          sign|scaled (default sign)\n"
	"  --cap C                scaled: the largest |position| (default 1)\n"
	"  --cost BPS             cost per unit of turnover, in basis points (default 0)\n"
	"  --periods-per-year P   rows per year, for annual figures (default 252)\n"
	"  --returns KIND         log|simple: what the target is (default log)\n"
	"  --report FILE          write the report as JSON to FILE\n"
	"Panels (rows of many assets a date, in date order):\n"
	"  --asset COL            the asset of each row: sizes, steps and gaps count dates,\n"
	"                         and folds cut between dates (needs -k, the time first)\n"
	"  --portfolio top:K      --trade: long the K assets of highest prediction each date\n"
	"  --long-short           and short the K of lowest\n"
	"  --weights W            equal|score: 1/K each, or in proportion to |prediction|\n"
	"                         (default equal)\n"
	FIN_HELP_DELIMITER
	FIN_HELP_NO_HEADER
	FIN_HELP_OUTPUT
	"  -q, --quiet            no progress or report on standard error\n"
	"  -v, --verbose          let the tools report too\n"
	FIN_HELP_HELP_VERSION
	"\n"
	"Each fold runs the training command as COMMAND [-q] [--unsorted] [--na-values LIST]\n"
	"-o MODEL TRAIN.csv, then fin-predict on the fold's test rows; their messages name\n"
	"the input's lines.\n"
	"Output: the keys, the model's target, the prediction columns, with --trade\n"
	"'position' and 'pnl', then 'fold'.\n"
	"Exit status: 0 success, 1 data error or a failing fold, 2 usage error,\n"
	"3 unusable model, 4 too few input rows. See fin-backtest(1).\n";

enum { OPT_TRAIN_SIZE = 256, OPT_TEST_SIZE, OPT_STEP, OPT_GAP, OPT_EXPANDING, OPT_ROLLING, OPT_TRADE,
       OPT_SIZING, OPT_CAP, OPT_COST, OPT_PERIODS, OPT_RETURNS, OPT_REPORT, OPT_UNSORTED,
       OPT_ASSET, OPT_PORTFOLIO, OPT_LONG_SHORT, OPT_WEIGHTS };

static const struct option long_options[] = {
	{ "train-size", required_argument, NULL, OPT_TRAIN_SIZE },
	{ "test-size", required_argument, NULL, OPT_TEST_SIZE },
	{ "step", required_argument, NULL, OPT_STEP },
	{ "gap", required_argument, NULL, OPT_GAP },
	{ "expanding", no_argument, NULL, OPT_EXPANDING },
	{ "rolling", no_argument, NULL, OPT_ROLLING },
	{ "unsorted", no_argument, NULL, OPT_UNSORTED },
	{ "trade", no_argument, NULL, OPT_TRADE },
	{ "sizing", required_argument, NULL, OPT_SIZING },
	{ "cap", required_argument, NULL, OPT_CAP },
	{ "cost", required_argument, NULL, OPT_COST },
	{ "periods-per-year", required_argument, NULL, OPT_PERIODS },
	{ "returns", required_argument, NULL, OPT_RETURNS },
	{ "report", required_argument, NULL, OPT_REPORT },
	{ "asset", required_argument, NULL, OPT_ASSET },
	{ "portfolio", required_argument, NULL, OPT_PORTFOLIO },
	{ "long-short", no_argument, NULL, OPT_LONG_SHORT },
	{ "weights", required_argument, NULL, OPT_WEIGHTS },
	{ NULL, 0, NULL, 0 },
};

/* Above any input held in memory. */
#define MAX_ROWS ((size_t)1 << 40)

static const char *const sizing_words[] = { "sign", "scaled" };
static const char *const returns_words[] = { "simple", "log" };
static const char *const weights_words[] = { "equal", "score" };

/* A panel's portfolio (--portfolio top:K, --long-short, --weights). */
struct portfolio {
	size_t k;
	int long_short, score;
};

/* The out-of-sample rows: fin-predict's output of every fold, and for each
 * row its fold and the input row it came from. */
struct results {
	fin_rowset pred;
	size_t *fold, *row;
	double *scale;      /* per fold: what --sizing scaled divides by */
	double *pos, *pnl;  /* with --trade */
	size_t ycol, pcol;  /* the target and the prediction in pred */
};

static void results_free(struct results *r)
{
	fin_rowset_free(&r->pred);
	free(r->fold);
	free(r->row);
	free(r->scale);
	free(r->pos);
	free(r->pnl);
}

/* Notes the fold and input row of the rows fold k added to the results. */
static int note_rows(struct results *res, size_t from, const fin_fold *f, size_t k, fin_err *err)
{
	size_t n = res->pred.rows, i, *fold, *row;

	if (n - from != f->test_to - f->test_from)
		return fin_fail(err, FIN_EDATA, "fin-predict wrote %zu rows for %zu test rows",
				n - from, f->test_to - f->test_from);
	if (!(fold = realloc(res->fold, n * sizeof *fold)))
		return fin_fail(err, FIN_EDATA, "out of memory");
	res->fold = fold;
	if (!(row = realloc(res->row, n * sizeof *row)))
		return fin_fail(err, FIN_EDATA, "out of memory");
	res->row = row;
	for (i = from; i < n; i++) {
		res->fold[i] = k;
		res->row[i] = f->test_from + (i - from);
	}
	return FIN_OK;
}

/* Trading needs returns to trade: a regression target, in the input. */
static int check_tradable(const fin_model *m, const fin_rowset *rows, fin_err *err)
{
	if (m->task != FIN_TASK_REGRESSION)
		return fin_fail(err, FIN_EUSAGE,
				"--trade needs a regression model of returns, not a %s model",
				fin_task_name(m->task));
	if (fin_column_find(rows->names, rows->ncols, m->target) < 0)
		return fin_fail(err, FIN_EUSAGE, "--trade: the target '%s' is not in the input",
				m->target);
	return FIN_OK;
}

static void seconds_since(const struct timespec *t0, double *s)
{
	struct timespec t1;

	clock_gettime(CLOCK_MONOTONIC, &t1);
	*s = (double)(t1.tv_sec - t0->tv_sec) + (double)(t1.tv_nsec - t0->tv_nsec) / 1e9;
}

/* The return result row i trades, its target. */
static int trade_return(const struct results *res, const fin_rowset *rows, size_t i, double *r,
			fin_err *err)
{
	const char *y = fin_rowset_field(&res->pred, i, res->ycol);
	char shown[200];
	long line;
	const char *file;

	if (fin_parse_double(y, strlen(y), r) == FIN_NUM_OK)
		return FIN_OK;
	file = fin_rowset_source_of(rows, res->row[i], &line);
	return fin_fail(err, FIN_EDATA, "%s:%ld: column '%s': no return to trade: '%s'", file, line,
			res->pred.names[res->ycol], fin_quote_field(shown, sizeof shown, y, strlen(y)));
}

/* Positions from the predictions, then the strategy's and buy-and-hold's
 * returns over the same rows. */
static int trade(struct results *res, const fin_rowset *rows, const fin_trade_opts *o,
		 fin_trade_report *strategy, fin_trade_report *hold, fin_err *err)
{
	size_t n = res->pred.rows, i;
	double *r = malloc(n * sizeof *r), *ones = malloc(n * sizeof *ones), v;
	int rc = FIN_OK;

	res->pos = malloc(n * sizeof *res->pos);
	res->pnl = malloc(n * sizeof *res->pnl);
	if (!r || !ones || !res->pos || !res->pnl) {
		rc = fin_fail(err, FIN_EDATA, "out of memory");
		goto done;
	}
	for (i = 0; i < n; i++) {
		const char *p = fin_rowset_field(&res->pred, i, res->pcol);
		if ((rc = trade_return(res, rows, i, &r[i], err)) != FIN_OK)
			goto done;
		/* A missing prediction asks for no position. */
		if (fin_parse_double(p, strlen(p), &v) != FIN_NUM_OK)
			v = NAN;
		res->pos[i] = fin_trade_position(o, v, res->scale[res->fold[i]]);
		ones[i] = 1;
	}
	if ((rc = fin_trade_run(o, res->pos, r, n, res->pnl, strategy, err)) == FIN_OK)
		rc = fin_trade_run(o, ones, r, n, NULL, hold, err);
done:
	free(r);
	free(ones);
	return rc;
}

/* The weights of one side of a date's portfolio: the rows sorted[0..k)
 * (row numbers of res), 1/k each or in proportion to |prediction|, their
 * signs side (1 long, -1 short). */
static void side_weights(const size_t *sorted, size_t k, const double *p, int score, double side,
			 double *w)
{
	double total = 0;
	size_t i;

	for (i = 0; score && i < k; i++)
		total += fabs(p[sorted[i]]);
	for (i = 0; i < k; i++)
		w[sorted[i]] = side * (score && total > 0 ? fabs(p[sorted[i]]) / total
							  : 1 / (double)k);
}

/* Highest prediction (of the array p) first, no prediction last; ties in
 * row order. */
static int by_prediction(const void *a, const void *b, void *p)
{
	size_t i = *(const size_t *)a, j = *(const size_t *)b;
	double x = ((const double *)p)[i], y = ((const double *)p)[j];

	if (isnan(x) != isnan(y))
		return isnan(x) ? 1 : -1;
	if (!isnan(x) && x != y)
		return x > y ? -1 : 1;
	return (i > j) - (i < j);
}

/* A panel's portfolio, rebalanced each date of the results (in order):
 * per row its weight and its return after the costs of its own trades;
 * per date the portfolio's return, with the costs of selling what is no
 * longer held too, next to an equal weight in every asset of the date. */
static int trade_panel(struct results *res, const fin_rowset *rows, const size_t *date_of,
		       size_t acol, const struct portfolio *pf, const fin_trade_opts *o,
		       fin_trade_report *strategy, fin_trade_report *ew, fin_err *err)
{
	size_t n = res->pred.rows, i, j, t = 0, nheld = 0;
	double cost = o->cost_bps / 10000;
	double *r = malloc((n ? n : 1) * sizeof *r), *p = malloc((n ? n : 1) * sizeof *p);
	double *gross = malloc((n ? n : 1) * sizeof *gross), *turn = malloc((n ? n : 1) * sizeof *turn);
	double *bench = malloc((n ? n : 1) * sizeof *bench), *zero = calloc(n ? n : 1, sizeof *zero);
	double *last = malloc((n ? n : 1) * sizeof *last);
	size_t *order = malloc((n ? n : 1) * sizeof *order), *id = malloc((n ? n : 1) * sizeof *id);
	size_t *held = malloc((n ? n : 1) * sizeof *held), *seen = malloc((n ? n : 1) * sizeof *seen);
	unsigned char *any = malloc(n ? n : 1), *all = malloc(n ? n : 1);
	fin_dict assets = { 0 };
	int rc = FIN_OK;

	res->pos = malloc((n ? n : 1) * sizeof *res->pos);
	res->pnl = malloc((n ? n : 1) * sizeof *res->pnl);
	if (!r || !p || !gross || !turn || !bench || !zero || !last || !order || !id || !held ||
	    !seen || !any || !all || !res->pos || !res->pnl) {
		rc = fin_fail(err, FIN_EDATA, "out of memory");
		goto done;
	}
	for (i = 0; i < n; i++) {
		const char *q = fin_rowset_field(&res->pred, i, res->pcol);
		const char *a = fin_rowset_field(&res->pred, i, acol);
		long code = fin_dict_code(&assets, a, strlen(a));
		if (code < 0) {
			rc = fin_fail(err, FIN_EDATA, "out of memory");
			goto done;
		}
		id[i] = (size_t)code;
		if ((rc = trade_return(res, rows, i, &r[i], err)) != FIN_OK)
			goto done;
		if (o->log_returns)
			r[i] = expm1(r[i]);
		if (fin_parse_double(q, strlen(q), &p[i]) != FIN_NUM_OK)
			p[i] = NAN;
		res->pos[i] = 0;
	}
	for (i = 0; i < assets.n; i++) {
		last[i] = 0;
		seen[i] = SIZE_MAX;
	}
	for (i = 0; i < n; i = j, t++) {
		size_t m, valid = 0, room, k;
		double sum = 0;
		for (j = i; j < n && date_of[res->row[j]] == date_of[res->row[i]]; j++)
			order[j - i] = j;
		m = j - i;
		qsort_r(order, m, sizeof *order, by_prediction, p);
		while (valid < m && !isnan(p[order[valid]]))
			valid++;
		room = pf->long_short ? valid / 2 : valid;
		k = pf->k < room ? pf->k : room;
		side_weights(order, k, p, pf->score, 1, res->pos);
		if (pf->long_short)
			side_weights(order + valid - k, k, p, pf->score, -1, res->pos);
		gross[t] = turn[t] = 0;
		any[t] = k > 0;
		all[t] = 1;
		/* last[a] is asset a's weight since the previous date: 0 unless it
		 * is among the held. */
		for (j = i; j < i + m; j++) {
			double change = fabs(res->pos[j] - last[id[j]]);
			res->pnl[j] = res->pos[j] * r[j] - cost * change;
			gross[t] += res->pos[j] * r[j];
			turn[t] += change;
			sum += r[j];
			seen[id[j]] = t;
		}
		bench[t] = sum / (double)m;
		/* What was held and is not on this date is sold. */
		for (k = 0; k < nheld; k++)
			if (seen[held[k]] != t) {
				turn[t] += fabs(last[held[k]]);
				last[held[k]] = 0;
			}
		for (nheld = 0, j = i; j < i + m; j++) {
			last[id[j]] = res->pos[j];
			if (res->pos[j] != 0)
				held[nheld++] = id[j];
		}
	}
	if ((rc = fin_trade_periods(o, gross, turn, any, t, NULL, strategy, err)) == FIN_OK)
		rc = fin_trade_periods(o, bench, zero, all, t, NULL, ew, err);
done:
	fin_dict_free(&assets);
	free(r);
	free(p);
	free(gross);
	free(turn);
	free(bench);
	free(zero);
	free(last);
	free(order);
	free(id);
	free(held);
	free(seen);
	free(any);
	free(all);
	return rc;
}

static void write_output(fin_out *out, const struct results *res, int trading)
{
	const fin_rowset *p = &res->pred;
	char num[32];
	size_t i, j;

	for (j = 0; j < p->ncols; j++) {
		fin_out_field(out, p->names[j], strlen(p->names[j]));
		fin_out_char(out, ',');
	}
	if (trading)
		fin_out_bytes(out, "position,pnl,", 13);
	fin_out_bytes(out, "fold\n", 5);
	for (i = 0; i < p->rows; i++) {
		fin_out_fields(out, p->text + p->at[i], p->ncols);
		if (trading) {
			fin_out_double(out, res->pos[i]);
			fin_out_char(out, ',');
			fin_out_double(out, res->pnl[i]);
			fin_out_char(out, ',');
		}
		fin_out_bytes(out, num, (size_t)snprintf(num, sizeof num, "%zu\n", res->fold[i] + 1));
	}
}

/* The figures of a report, in the order they are shown. */
static const char *const figure_names[] = { "total_return", "annual_return", "annual_vol", "sharpe",
					    "max_drawdown", "hit_rate", "turnover", "costs" };
enum { NFIGURES = sizeof figure_names / sizeof *figure_names };

static void figures(const fin_trade_report *r, double *v)
{
	v[0] = r->total_return;
	v[1] = r->annual_return;
	v[2] = r->annual_vol;
	v[3] = r->sharpe;
	v[4] = r->max_drawdown;
	v[5] = r->hit_rate;
	v[6] = r->turnover;
	v[7] = r->costs;
}

static void print_cell(double v)
{
	if (isnan(v))
		fprintf(stderr, "  %12s", "NA");
	else
		fprintf(stderr, "  %12.6g", v);
}

static void print_report(const fin_trade_report *strategy, const fin_trade_report *hold,
			 const fin_trade_opts *o, const struct portfolio *pf, size_t nfolds)
{
	double s[NFIGURES], h[NFIGURES];
	size_t i;

	figures(strategy, s);
	figures(hold, h);
	if (pf)
		fprintf(stderr,
			"fin-backtest: %zu out-of-sample dates in %zu folds, long the top %zu%s, %s "
			"weights, cost %g bps, %g periods a year:\n",
			strategy->n, nfolds, pf->k, pf->long_short ? " and short the bottom" : "",
			weights_words[pf->score], o->cost_bps, o->periods_per_year);
	else
		fprintf(stderr,
			"fin-backtest: %zu out-of-sample rows in %zu folds, %s sizing, cost %g bps, "
			"%g periods a year:\n",
			strategy->n, nfolds, sizing_words[o->sizing], o->cost_bps,
			o->periods_per_year);
	fprintf(stderr, "%-13s  %12s  %12s\n", "figure", "strategy",
		pf ? "equal_weight" : "buy_and_hold");
	for (i = 0; i < NFIGURES; i++) {
		fprintf(stderr, "%-13s", figure_names[i]);
		print_cell(s[i]);
		print_cell(h[i]);
		fputc('\n', stderr);
	}
	fprintf(stderr, "%-13s  %12zu  %12zu\n", "n", strategy->n, hold->n);
}

static cJSON *report_json(const fin_trade_report *r)
{
	cJSON *o = cJSON_CreateObject();
	double v[NFIGURES];
	size_t i;
	int ok = o != NULL;

	figures(r, v);
	for (i = 0; ok && i < NFIGURES; i++)
		ok = fin_json_add_exact(o, figure_names[i], v[i]);
	if (!ok || !cJSON_AddNumberToObject(o, "n", (double)r->n)) {
		cJSON_Delete(o);
		return NULL;
	}
	return o;
}

static int write_report(fin_out_file *f, const fin_trade_report *strategy,
			const fin_trade_report *hold, const fin_trade_opts *o,
			const struct portfolio *pf, size_t nfolds, fin_err *err)
{
	cJSON *j = cJSON_CreateObject();
	int ok, rc;

	ok = j && cJSON_AddItemToObject(j, "strategy", report_json(strategy)) &&
	     cJSON_AddItemToObject(j, pf ? "equal_weight" : "buy_and_hold", report_json(hold));
	if (ok && pf)
		ok = cJSON_AddNumberToObject(j, "top", (double)pf->k) &&
		     cJSON_AddBoolToObject(j, "long_short", pf->long_short) &&
		     cJSON_AddStringToObject(j, "weights", weights_words[pf->score]);
	else if (ok)
		ok = cJSON_AddStringToObject(j, "sizing", sizing_words[o->sizing]) &&
		     fin_json_add_exact(j, "cap", o->cap);
	ok = ok && fin_json_add_exact(j, "cost_bps", o->cost_bps) &&
	     fin_json_add_exact(j, "periods_per_year", o->periods_per_year) &&
	     cJSON_AddStringToObject(j, "returns", returns_words[o->log_returns]) &&
	     cJSON_AddNumberToObject(j, "folds", (double)nfolds);
	rc = ok ? fin_json_save(j, f, err) : fin_fail(err, FIN_EDATA, "out of memory");
	cJSON_Delete(j);
	return rc;
}

/* --asset: the date of each row (a new one where the time, column tcol,
 * differs from the row's before; the rows are in time order), into
 * *date_of, and the asset column acol, added to the keys fin-predict
 * passes through unless among them. */
static int panel_dates(const fin_rowset *rows, size_t tcol, const char *asset, char ***keys,
		       size_t *nkeys, size_t *acol, size_t **date_of, size_t *ndates, fin_err *err)
{
	long a = fin_column_find(rows->names, rows->ncols, asset);
	size_t i;
	char **k;

	if (a < 0)
		return fin_fail(err, FIN_EUSAGE, "--asset: no column '%s' in the input", asset);
	if ((size_t)a == tcol)
		return fin_fail(err, FIN_EUSAGE, "--asset: '%s' is the time, the first -k column",
				asset);
	*acol = (size_t)a;
	for (i = 0; i < *nkeys && strcmp((*keys)[i], rows->names[a]) != 0; i++)
		;
	if (i == *nkeys) {
		if (!(k = realloc(*keys, (*nkeys + 1) * sizeof *k)))
			return fin_fail(err, FIN_EDATA, "out of memory");
		k[(*nkeys)++] = rows->names[a];
		*keys = k;
	}
	if (!(*date_of = malloc((rows->rows ? rows->rows : 1) * sizeof **date_of)))
		return fin_fail(err, FIN_EDATA, "out of memory");
	*ndates = 0;
	for (i = 0; i < rows->rows; i++) {
		if (i && strcmp(fin_rowset_field(rows, i, tcol), fin_rowset_field(rows, i - 1, tcol)))
			++*ndates;
		(*date_of)[i] = *ndates;
	}
	if (rows->rows)
		++*ndates;
	return FIN_OK;
}

/* Folds planned over dates, moved to the rows those dates begin at. */
static int folds_to_rows(fin_fold *folds, size_t nfolds, const size_t *date_of, size_t rows,
			 fin_err *err)
{
	size_t i, k, d = 0, *start = malloc((rows + 2) * sizeof *start);

	if (!start)
		return fin_fail(err, FIN_EDATA, "out of memory");
	for (i = 0; i < rows; i++)
		if (i == 0 || date_of[i] != date_of[i - 1])
			start[d++] = i;
	start[d] = rows;
	for (k = 0; k < nfolds; k++) {
		folds[k].train_from = start[folds[k].train_from];
		folds[k].train_to = start[folds[k].train_to];
		folds[k].test_from = start[folds[k].test_from];
		folds[k].test_to = start[folds[k].test_to];
	}
	free(start);
	return FIN_OK;
}

/* An interrupted run removes its files, then ends by the signal, as it
 * would have without them. */
static void stop_if_interrupted(const char *dir)
{
	int sig = fin_command_interrupted();

	if (!sig)
		return;
	if (dir[0])
		fin_tempdir_remove(dir);
	fin_out_file_on_signal(sig);
}

static void on_signal(int sig)
{
	fin_command_interrupt(sig);
}

/* Catches the signals that end a run, unless they were ignored when we
 * started (as for a background job). */
static void catch_signals(void (*handler)(int))
{
	static const int sigs[] = { SIGINT, SIGTERM, SIGHUP };
	struct sigaction sa = { 0 }, old;
	size_t i;

	sa.sa_handler = handler;
	sigemptyset(&sa.sa_mask);
	for (i = 0; i < sizeof sigs / sizeof *sigs; i++)
		if (sigaction(sigs[i], NULL, &old) == 0 && old.sa_handler != SIG_IGN)
			sigaction(sigs[i], &sa, NULL);
}

int main(int argc, char **argv)
{
	fin_fold_spec spec = { 0 };
	fin_trade_opts topt = { .sizing = FIN_SIZE_SIGN, .cap = 1, .periods_per_year = 252,
				.log_returns = 1 };
	fin_trade_report strategy, hold;
	fin_err err = { 0 };
	fin_model m = { 0 };
	fin_rowset rows = { 0 };
	struct results res = { 0 };
	fin_backtest bt = { 0 };
	fin_fold *folds = NULL;
	fin_input *in = NULL;
	fin_out_file *out = NULL, *report_out = NULL;
	char *report = NULL, *predict = NULL, **cmd = NULL, dir[4096] = "";
	char **keys = NULL, **na_values = NULL;
	size_t *key = NULL, nkeys = 0, nna_values = 0;
	const char *trade_only = NULL, *asset = NULL, *sized = NULL;
	struct portfolio pf = { 0 };
	size_t *date_of = NULL, ndates = 0, acol = 0;
	size_t nfolds = 0, ncmd = 0, k;
	int nopts = argc, opt, word, trading = 0;
	int check_model_key = 1;
	long time_key;
	fin_cli cli;
	int rc = fin_cli_init(&cli, "fin-backtest", usage,
			      FIN_CLI_KEY | FIN_CLI_NA_VALUES | FIN_CLI_DELIMITER | FIN_CLI_NO_HEADER |
				      FIN_CLI_OUTPUT | FIN_CLI_QUIET | FIN_CLI_VERBOSE,
			      long_options, &err);

	/* The training command is everything after the first "--"; getopt
	 * never sees it. */
	for (k = 1; k < (size_t)argc; k++)
		if (strcmp(argv[k], "--") == 0) {
			nopts = (int)k;
			ncmd = (size_t)argc - k - 1;
			break;
		}
	while (rc == FIN_OK && (opt = fin_cli_next(&cli, nopts, argv)) != -1) {
		switch (opt) {
		case OPT_TRAIN_SIZE:
			rc = fin_cli_size("--train-size", optarg, 1, MAX_ROWS, &spec.train_size, &err);
			break;
		case OPT_TEST_SIZE:
			rc = fin_cli_size("--test-size", optarg, 1, MAX_ROWS, &spec.test_size, &err);
			break;
		case OPT_STEP: rc = fin_cli_size("--step", optarg, 1, MAX_ROWS, &spec.step, &err); break;
		case OPT_GAP: rc = fin_cli_size("--gap", optarg, 0, MAX_ROWS, &spec.gap, &err); break;
		case OPT_EXPANDING: spec.rolling = 0; break;
		case OPT_ROLLING: spec.rolling = 1; break;
		case OPT_UNSORTED: bt.unsorted = 1; break;
		case OPT_TRADE: trading = 1; break;
		case OPT_SIZING:
			trade_only = sized = "--sizing";
			rc = fin_cli_word("--sizing", optarg, fin_word_index(optarg, sizing_words, 2), &word,
					  &err);
			topt.sizing = (enum fin_sizing)word;
			break;
		case OPT_CAP:
			trade_only = sized = "--cap";
			rc = fin_cli_number("--cap", optarg, 1e-9, 1e9, &topt.cap, &err);
			break;
		case OPT_COST:
			trade_only = "--cost";
			rc = fin_cli_number("--cost", optarg, 0, 10000, &topt.cost_bps, &err);
			break;
		case OPT_PERIODS:
			trade_only = "--periods-per-year";
			rc = fin_cli_number("--periods-per-year", optarg, 1e-6, 1e9, &topt.periods_per_year,
					  &err);
			break;
		case OPT_RETURNS:
			trade_only = "--returns";
			rc = fin_cli_word("--returns", optarg, fin_word_index(optarg, returns_words, 2), &word,
					  &err);
			topt.log_returns = word;
			break;
		case OPT_REPORT: trade_only = "--report"; report = optarg; break;
		case OPT_ASSET: asset = optarg; break;
		case OPT_PORTFOLIO:
			trade_only = "--portfolio";
			if (strncmp(optarg, "top:", 4) != 0)
				rc = fin_fail(&err, FIN_EUSAGE, "--portfolio: expected top:K, not '%s'",
					      optarg);
			else
				rc = fin_cli_size("--portfolio top:", optarg + 4, 1, MAX_ROWS, &pf.k, &err);
			break;
		case OPT_LONG_SHORT: trade_only = "--long-short"; pf.long_short = 1; break;
		case OPT_WEIGHTS:
			trade_only = "--weights";
			rc = fin_cli_word("--weights", optarg, fin_word_index(optarg, weights_words, 2),
					  &word, &err);
			pf.score = word;
			break;
		case FIN_OPT_NA_VALUES:
			if ((rc = fin_cli_option(&cli, opt, optarg, &err)) == FIN_OK)
				rc = fin_cli_append(&na_values, &nna_values, optarg, &err);
			break;
		default: rc = fin_cli_option(&cli, opt, optarg, &err); break;
		}
	}
	if (rc == FIN_CLI_EXIT)
		return 0;
	if (rc != FIN_OK)
		goto fail;
	if (!spec.train_size || !spec.test_size)
		rc = fin_fail(&err, FIN_EUSAGE, "--train-size and --test-size are required");
	else if (ncmd == 0)
		rc = fin_fail(&err, FIN_EUSAGE,
			      "no training command: end the options with -- fin-train [OPTION]...");
	else if (trade_only && !trading)
		rc = fin_fail(&err, FIN_EUSAGE, "%s applies to --trade", trade_only);
	else if (asset && trading && !pf.k)
		rc = fin_fail(&err, FIN_EUSAGE, "--trade on a panel (--asset) needs --portfolio top:K");
	else if (!asset && (pf.k || pf.long_short))
		rc = fin_fail(&err, FIN_EUSAGE, "%s trades a panel: give --asset",
			      pf.k ? "--portfolio" : "--long-short");
	else if (asset && sized)
		rc = fin_fail(&err, FIN_EUSAGE, "%s sizes one asset's position; a panel's portfolio "
			      "takes --portfolio and --weights", sized);
	else if (asset && !cli.nkeys)
		rc = fin_fail(&err, FIN_EUSAGE, "--asset needs -k naming the time first (-k date,%s)",
			      asset);
	else if (trading && spec.step && spec.step < spec.test_size)
		rc = fin_fail(&err, FIN_EUSAGE,
			      "--trade: a --step below --test-size would trade a row once per fold "
			      "that tests it");
	if (rc != FIN_OK)
		goto fail;
	if (!spec.step)
		spec.step = spec.test_size;

	in = fin_input_open(argv + optind, (size_t)(nopts - optind), &cli.csv, &err);
	/* The outputs once the input is open (neither may be it), before
	 * any fold. */
	if (!in || !(out = fin_out_file_open(cli.output, in, NULL, 0, &err)) ||
	    (report && !(report_out = fin_out_file_open(report, in, NULL, 0, &err)))) {
		rc = err.code;
		goto fail;
	}
	if (!cli.quiet && fin_input_is_tty(in))
		fputs("fin-backtest: reading CSV from the terminal (end with Ctrl-D)\n", stderr);
	if ((rc = fin_rowset_read(&rows, in, &err)) != FIN_OK)
		goto fail;
	if (rows.rows == 0) {
		rc = fin_fail(&err, FIN_ENOROWS, "%s: no input rows", fin_input_name(in));
		goto fail;
	}
	if (cli.nkeys) {
		if ((rc = fin_columns_select(cli.keys, cli.nkeys, rows.names, rows.ncols, &key,
					     &nkeys, &err)) != FIN_OK)
			goto fail;
		if (!(keys = malloc((nkeys ? nkeys : 1) * sizeof *keys))) {
			rc = fin_fail(&err, FIN_EDATA, "out of memory");
			goto fail;
		}
		for (k = 0; k < nkeys; k++)
			keys[k] = rows.names[key[k]];
		if (nkeys && !bt.unsorted &&
		    (rc = fin_backtest_check_order(&rows, key[0], &err)) != FIN_OK)
			goto fail;
	}
	if (asset && (rc = panel_dates(&rows, key[0], asset, &keys, &nkeys, &acol, &date_of,
				       &ndates, &err)) != FIN_OK)
		goto fail;
	if ((rc = fin_folds_plan(&spec, asset ? ndates : rows.rows, &folds, &nfolds, &err)) !=
	    FIN_OK) {
		fin_err why = err;
		fin_fail(&err, rc, "%s: %s%s", fin_input_name(in), why.msg,
			 asset ? " (sizes count dates with --asset)" : "");
		goto fail;
	}
	if (asset && (rc = folds_to_rows(folds, nfolds, date_of, rows.rows, &err)) != FIN_OK)
		goto fail;
	fin_input_close(in);
	in = NULL;

	cmd = calloc(ncmd, sizeof *cmd);
	res.scale = malloc(nfolds * sizeof *res.scale);
	if (!cmd || !res.scale || !(cmd[0] = fin_command_find(argv[nopts + 1])) ||
	    !(predict = fin_command_find("fin-predict"))) {
		rc = fin_fail(&err, FIN_EDATA, "out of memory");
		goto fail;
	}
	for (k = 1; k < ncmd; k++)
		cmd[k] = argv[nopts + 1 + k];
	catch_signals(on_signal);
	if ((rc = fin_tempdir_make(dir, sizeof dir, "fin-backtest", &err)) != FIN_OK) {
		dir[0] = '\0';
		goto fail;
	}
	bt.rows = &rows;
	bt.train_cmd = cmd;
	bt.ntrain_cmd = ncmd;
	bt.predict = predict;
	bt.dir = dir;
	bt.quiet = !cli.verbose;
	bt.keys = keys;
	bt.nkeys = nkeys;
	bt.na_values = na_values;
	bt.nna_values = nna_values;
	bt.messages = stderr;
	/* A training command told the rows are unsorted tells us too. */
	for (k = 1; k < ncmd; k++)
		check_model_key = check_model_key && strcmp(cmd[k], "--unsorted") != 0;
	check_model_key = check_model_key && !bt.unsorted && !cli.nkeys;

	for (k = 0; k < nfolds; k++) {
		const fin_fold *f = &folds[k];
		size_t from = res.pred.rows;
		struct timespec t0;
		double secs;

		clock_gettime(CLOCK_MONOTONIC, &t0);
		rc = fin_backtest_fold(&bt, f, &m, &res.pred, &err);
		stop_if_interrupted(dir);
		if (rc == FIN_OK)
			rc = note_rows(&res, from, f, k, &err);
		if (rc == FIN_OK && trading)
			rc = check_tradable(&m, &rows, &err);
		res.scale[k] = NAN;
		/* What scaled positions are divided by is known before the
		 * fold: the spread of the targets it was trained on. */
		if (rc == FIN_OK && trading && topt.sizing == FIN_SIZE_SCALED) {
			long y = fin_column_find(rows.names, rows.ncols, m.target);
			rc = fin_rowset_sd(&rows, (size_t)y, f->train_from, f->train_to, &res.scale[k],
					   &err);
			if (rc == FIN_OK && !cli.quiet && !(res.scale[k] > 0))
				fprintf(stderr, "fin-backtest: fold %zu/%zu: the training targets do not "
					"vary: no positions in this fold\n", k + 1, nfolds);
		}
		if (rc != FIN_OK) {
			fin_err why = err;
			fin_fail(&err, rc, "fold %zu/%zu: %s", k + 1, nfolds, why.msg);
			goto fail;
		}
		/* Without -k, the time is the first key of the model, known
		 * once the first fold has trained it: every row is checked
		 * then, the first fold's training rows having been checked by
		 * fin-train. */
		if (k == 0 && check_model_key && m.nkeys &&
		    (time_key = fin_column_find(rows.names, rows.ncols, m.keys[0])) >= 0 &&
		    (rc = fin_backtest_check_order(&rows, (size_t)time_key, &err)) != FIN_OK)
			goto fail;
		if (k == 0 && trading) {
			long y = fin_column_find(res.pred.names, res.pred.ncols, m.target);
			res.ycol = (size_t)y;
			res.pcol = res.pred.ncols - 1;
		}
		seconds_since(&t0, &secs);
		if (!cli.quiet)
			fprintf(stderr,
				"fin-backtest: fold %zu/%zu: train rows %zu-%zu, test rows %zu-%zu "
				"(%.1f s)\n",
				k + 1, nfolds, f->train_from + 1, f->train_to, f->test_from + 1,
				f->test_to, secs);
	}
	/* The files go before any output: a reader closing the pipe ends
	 * the process where it writes. A signal from here on has only the
	 * outputs' temporary files to remove. */
	fin_tempdir_remove(dir);
	dir[0] = '\0';
	catch_signals(fin_out_file_on_signal);
	stop_if_interrupted(dir);

	if (trading && asset) {
		long a = fin_column_find(res.pred.names, res.pred.ncols, asset);
		if (a < 0)
			rc = fin_fail(&err, FIN_EDATA, "fin-predict did not pass '%s' through", asset);
		else
			rc = trade_panel(&res, &rows, date_of, (size_t)a, &pf, &topt, &strategy, &hold,
					 &err);
		if (rc != FIN_OK)
			goto fail;
	} else if (trading && (rc = trade(&res, &rows, &topt, &strategy, &hold, &err)) != FIN_OK) {
		goto fail;
	}
	write_output(fin_out_file_writer(out), &res, trading);
	if (report_out && (rc = write_report(report_out, &strategy, &hold, &topt,
					     asset ? &pf : NULL, nfolds, &err)) != FIN_OK)
		goto fail;
	rc = fin_out_file_commit(out, &err);
	out = NULL;
	if (rc == FIN_OK && report_out) {
		rc = fin_out_file_commit(report_out, &err);
		report_out = NULL;
	}
	if (rc != FIN_OK)
		goto fail;
	if (trading && !cli.quiet)
		print_report(&strategy, &hold, &topt, asset ? &pf : NULL, nfolds);
fail:
	if (rc != FIN_OK && err.msg[0])
		fin_report("fin-backtest", err.msg);
	if (dir[0])
		fin_tempdir_remove(dir);
	fin_out_file_discard(report_out);
	fin_out_file_discard(out);
	fin_input_close(in);
	fin_model_free(&m);
	fin_rowset_free(&rows);
	results_free(&res);
	free(folds);
	if (cmd)
		free(cmd[0]);
	free(cmd);
	free(predict);
	fin_cli_free(&cli);
	free(na_values);
	free(keys);
	free(key);
	free(date_of);
	return rc;
}
