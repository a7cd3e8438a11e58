#include <math.h>
#include <plplot.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "plot/plot.h"

/* ---- colours ----
 *
 * PLplot's map 0: the background, the ink, the grey of reference lines,
 * the grid, then the data colours opaque and translucent. */

enum { BACKGROUND, INK, GREY, GRID, DATA, DATA_TRANSLUCENT = DATA + FIN_PLOT_COLOURS,
       NCOLOURS = DATA_TRANSLUCENT + FIN_PLOT_COLOURS };

static const unsigned char data_colours[FIN_PLOT_COLOURS][3] = {
	{ 0x1f, 0x77, 0xb4 }, { 0xff, 0x7f, 0x0e }, { 0x2c, 0xa0, 0x2c }, { 0xd6, 0x27, 0x28 },
	{ 0x94, 0x67, 0xbd }, { 0x8c, 0x56, 0x4b }, { 0xe3, 0x77, 0xc2 }, { 0x7f, 0x7f, 0x7f },
	{ 0xbc, 0xbd, 0x22 }, { 0x17, 0xbe, 0xcf },
};

#define TRANSLUCENT 0.45

static int colour_index(const fin_plot_pen *pen)
{
	if (pen->colour == FIN_PLOT_INK)
		return INK;
	if (pen->colour < 0)
		return GREY;
	return (pen->translucent ? DATA_TRANSLUCENT : DATA) + pen->colour % FIN_PLOT_COLOURS;
}

static void set_palette(void)
{
	int i;

	plscmap0n(NCOLOURS);
	plscol0a(BACKGROUND, 255, 255, 255, 1);
	plscol0a(INK, 0x22, 0x22, 0x22, 1);
	plscol0a(GREY, 0x70, 0x70, 0x70, 1);
	plscol0a(GRID, 0xe4, 0xe4, 0xe4, 1);
	for (i = 0; i < FIN_PLOT_COLOURS; i++) {
		const unsigned char *c = data_colours[i];
		plscol0a(DATA + i, c[0], c[1], c[2], 1);
		plscol0a(DATA_TRANSLUCENT + i, c[0], c[1], c[2], TRANSLUCENT);
	}
}

/* ---- sizes, in PLplot's units: character heights and millimetres ---- */

#define TEXT_SCALE 0.85   /* of PLplot's default character height */
#define LINE_WIDTH 1.5    /* data lines */
#define FRAME_WIDTH 0.8
#define DOT_RADIUS 0.7    /* mm */
#define DASH_MARK 3000    /* micrometres */
#define DASH_SPACE 2000
/* Characters of a name shown at most, and the width of a character in
 * character heights, for the room names take. */
#define TEXT_MAX 120
#define CATEGORY_MAX 40
#define CHAR_WIDTH 0.75
/* Digits of a tick label before PLplot writes it as a multiple of a power
 * of ten; its default, 4, drops the decimals of 1990.5. */
#define LABEL_DIGITS 8

/* ---- the page ---- */

/* The bytes PLplot writes, gathered in memory. */
struct sink {
	char *buf;
	size_t len, cap;
	int failed, closed;
};

struct fin_plot {
	fin_plot_page page;
	struct sink sink;
	FILE *file;
	int started;  /* PLplot was called: plend ends it */
	int ended;    /* plend ran */
	int broken;   /* PLplot failed: nothing more is drawn */
	int framed;   /* fin_plot_axes ran */
	enum fin_plot_scale xscale, yscale;
	double wxmin, wxmax, wymin, wymax; /* the window, in plotting units */
	double mm_x, mm_y;                 /* plotting units in a millimetre */
	PLINT plerr;
	char plmsg[1024];
	double *scratch;                   /* mapped coordinates */
	size_t scratch_cap;
};

/* PLplot's fatal errors call the exit handler, then print and end the
 * process unless the handler does not return: it jumps back to the call
 * into PLplot under way. */
static jmp_buf *plplot_guard;
static char plplot_fatal[1024];

static int on_plplot_exit(const char *msg)
{
	snprintf(plplot_fatal, sizeof plplot_fatal, "%s", msg ? msg : "");
	if (plplot_guard)
		longjmp(*plplot_guard, 1);
	return 1;
}

static ssize_t sink_write(void *cookie, const char *buf, size_t n)
{
	struct sink *s = cookie;

	if (s->len + n > s->cap) {
		size_t cap = 2 * (s->len + n) + 65536;
		char *b = realloc(s->buf, cap);
		if (!b) {
			s->failed = 1;
			return 0;
		}
		s->buf = b;
		s->cap = cap;
	}
	memcpy(s->buf + s->len, buf, n);
	s->len += n;
	return (ssize_t)n;
}

/* PLplot closes the file when the page ends: the bytes stay here. */
static int sink_close(void *cookie)
{
	((struct sink *)cookie)->closed = 1;
	return 0;
}

static int broken(fin_plot *p, fin_err *err)
{
	plplot_guard = NULL;
	p->broken = 1;
	return fin_fail(err, FIN_EDATA, "cannot draw the plot: PLplot: %s",
			plplot_fatal[0] ? plplot_fatal : "failed");
}

/* A PLplot call that failed without ending the process (plabort) says so
 * in p->plerr and p->plmsg. */
static int checked(fin_plot *p, fin_err *err)
{
	char *m = p->plmsg;
	size_t len;

	plplot_guard = NULL;
	if (!p->plerr)
		return FIN_OK;
	p->broken = 1;
	while (*m == '\n' || *m == '*' || *m == ' ')
		m++;
	len = strlen(m);
	while (len && (m[len - 1] == '\n' || m[len - 1] == ' '))
		m[--len] = '\0';
	return fin_fail(err, FIN_EDATA, "cannot draw the plot: PLplot: %s", *m ? m : "failed");
}

/* Runs draw(p, arg), the calls into PLplot of one operation: a page that
 * failed takes nothing more, and PLplot's fatal errors come back here. */
static int guarded(fin_plot *p, void (*draw)(fin_plot *, const void *), const void *arg,
		   fin_err *err)
{
	jmp_buf jump;

	if (p->broken)
		return fin_fail(err, FIN_EDATA, "cannot draw the plot: PLplot failed before");
	if (setjmp(jump))
		return broken(p, err);
	plplot_guard = &jump;
	draw(p, arg);
	return checked(p, err);
}

static const char *const device_names[] = { "svg", "pngcairo", "pdfcairo" };
static const char *const format_names[] = { "svg", "png", "pdf" };

int fin_plot_format_parse(const char *word)
{
	int i;

	for (i = 0; i < 3; i++)
		if (strcmp(word, format_names[i]) == 0)
			return i;
	return -1;
}

int fin_plot_format_of(const char *path)
{
	const char *slash = strrchr(path, '/'), *dot = strrchr(path, '.');
	int i;

	if (!dot || (slash && dot < slash) || dot == path || dot[-1] == '/')
		return -1;
	for (i = 0; i < 3; i++)
		if (strcasecmp(dot + 1, format_names[i]) == 0)
			return i;
	return -1;
}

/* True when PLplot has the device name: its drivers are loaded at run
 * time, and a missing one makes PLplot print and end the process. */
static int has_device(const char *name)
{
	enum { MAX_DEVICES = 256 };
	const char *menus[MAX_DEVICES], *devices[MAX_DEVICES], **m = menus, **d = devices;
	int n = MAX_DEVICES, i;

	plgDevs(&m, &d, &n);
	for (i = 0; i < n; i++)
		if (strcmp(devices[i], name) == 0)
			return 1;
	return 0;
}

static void start_page(fin_plot *p, const void *unused)
{
	const char *device = device_names[p->page.format];

	(void)unused;
	p->started = 1;
	plsexit(on_plplot_exit);
	plsError(&p->plerr, p->plmsg);
	if (!has_device(device)) {
		p->plerr = 1;
		snprintf(p->plmsg, sizeof p->plmsg, "no %s device (Debian's package of it: %s)",
			 device, p->page.format == FIN_PLOT_SVG ? "libplplot17" : "plplot-driver-cairo");
		return;
	}
	plsdev(device);
	plsfile(p->file);
	plspage(0, 0, p->page.width, p->page.height, 0, 0);
	plspause(0);
	set_palette();
	plinit();
	if (!p->plerr) {
		plschr(0, TEXT_SCALE);
		pladv(0);
	}
}

int fin_plot_open(fin_plot **out, const fin_plot_page *page, fin_err *err)
{
	static const cookie_io_functions_t sink_io = { .write = sink_write, .close = sink_close };
	fin_plot *p;

	*out = NULL;
	if (page->width < FIN_PLOT_MIN_SIDE || page->width > FIN_PLOT_MAX_SIDE ||
	    page->height < FIN_PLOT_MIN_SIDE || page->height > FIN_PLOT_MAX_SIDE)
		return fin_fail(err, FIN_EUSAGE, "the page must be %d to %d wide and high, not %dx%d",
				FIN_PLOT_MIN_SIDE, FIN_PLOT_MAX_SIDE, page->width, page->height);
	if (!(p = calloc(1, sizeof *p)))
		return fin_fail(err, FIN_EDATA, "out of memory");
	p->page = *page;
	if (!(p->file = fopencookie(&p->sink, "w", sink_io))) {
		free(p);
		return fin_fail(err, FIN_EDATA, "out of memory");
	}
	*out = p;
	return guarded(p, start_page, NULL, err);
}

/* ---- text ---- */

/* The length of the UTF-8 sequence at s (of at most n bytes), 0 when it
 * is not one. */
static size_t utf8_length(const unsigned char *s, size_t n)
{
	size_t len = s[0] < 0x80 ? 1 : (s[0] & 0xe0) == 0xc0 ? 2 : (s[0] & 0xf0) == 0xe0 ? 3
		     : (s[0] & 0xf8) == 0xf0 ? 4 : 0, i;
	unsigned long cp;

	if (len == 0 || len > n)
		return 0;
	cp = len == 1 ? s[0] : s[0] & (0x7f >> len);
	for (i = 1; i < len; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return 0;
		cp = cp << 6 | (s[i] & 0x3f);
	}
	/* overlong forms, surrogates and what lies beyond Unicode */
	if ((len == 2 && cp < 0x80) || (len == 3 && cp < 0x800) || (len == 4 && cp < 0x10000) ||
	    (cp >= 0xd800 && cp <= 0xdfff) || cp > 0x10ffff)
		return 0;
	return len;
}

/* s made for PLplot to draw as it is written: valid UTF-8 (a byte that is
 * not becomes U+FFFD), control characters as blanks, PLplot's escape
 * character '#' doubled, and at most max characters, "..." after a cut.
 * Empty when s is NULL or empty. */
static const char *plot_text(char *dst, size_t cap, const char *s, size_t max)
{
	const unsigned char *u = (const unsigned char *)(s ? s : "");
	size_t n = strlen((const char *)u), i = 0, o = 0, shown = 0;

	while (i < n && shown < max && o + 8 < cap) {
		size_t len = utf8_length(u + i, n - i);
		if (len == 0) {
			memcpy(dst + o, "\xef\xbf\xbd", 3);
			o += 3;
			i++;
		} else if (len == 1 && (u[i] < 0x20 || u[i] == 0x7f)) {
			dst[o++] = ' ';
			i++;
		} else if (u[i] == '#') {
			dst[o++] = '#';
			dst[o++] = '#';
			i++;
		} else {
			memcpy(dst + o, u + i, len);
			o += len;
			i += len;
		}
		shown++;
	}
	if (i < n && o + 4 < cap) {
		memcpy(dst + o, "...", 3);
		o += 3;
	}
	dst[o] = '\0';
	return dst;
}

/* Characters of s as plot_text shows it. */
static size_t text_chars(const char *s, size_t max)
{
	const unsigned char *u = (const unsigned char *)s;
	size_t n = 0, i;

	for (i = 0; u[i]; i++)
		n += (u[i] & 0xc0) != 0x80;
	return n > max ? max + 3 : n;
}

/* plmtex of a text that may come from the input; nothing for an empty one
 * (PLplot's drivers print a complaint about empty strings). */
static void side_text(const char *side, double disp, double pos, double just, const char *s,
		      size_t max)
{
	char t[4 * TEXT_MAX + 16];

	if (*plot_text(t, sizeof t, s, max))
		plmtex(side, disp, pos, just, t);
}

/* ---- the frame ---- */

static double to_plot(enum fin_plot_scale scale, double v)
{
	if (!isfinite(v))
		return NAN;
	if (scale == FIN_PLOT_LOG)
		return v > 0 ? log10(v) : NAN;
	return v;
}

/* Date labels that fit the span of a time axis, in seconds. */
static const char *time_format(double span)
{
	const double day = 86400;

	if (span >= 3 * 365 * day)
		return "%Y";
	if (span >= 3 * 7 * day)
		return "%Y-%m-%d";
	if (span >= 3 * day)
		return "%m-%d %H:%M";
	if (span >= 180)
		return "%H:%M";
	return "%H:%M:%S";
}

/* PLplot's options of plbox for axis a: the grid, or the frame with its
 * ticks and numbers. A log axis gets its numbers from log_labels. */
static void axis_options(char *opt, const fin_plot_axis *a, int y, int grid)
{
	strcpy(opt, grid ? "g" : a->ncategories ? "bc" : a->scale == FIN_PLOT_LOG ? "bcst"
		    : "bcnst");
	if (y && !grid)
		strcat(opt, "v");
	if (a->scale == FIN_PLOT_LOG)
		strcat(opt, "l");
	if (a->scale == FIN_PLOT_TIME)
		strcat(opt, "d");
}

/* Numbers on a log axis: PLplot's name only the powers of ten, which an
 * axis of losses seldom spans; these are 1, 2 and 5 times them, or every
 * multiple when the axis spans less than a decade. Returns the characters
 * of the longest. */
static size_t log_labels(double lo, double hi, int y)
{
	static const int wide[] = { 1, 2, 5 }, narrow[] = { 1, 2, 3, 4, 5, 6, 7, 8, 9 };
	const int *m = hi - lo < 1 ? narrow : wide;
	size_t nm = hi - lo < 1 ? 9 : 3, i, longest = 0;
	int k;
	char text[32];

	for (k = (int)floor(lo); k <= (int)ceil(hi); k++)
		for (i = 0; i < nm; i++) {
			double v = log10(m[i]) + k;
			size_t n;
			if (v < lo || v > hi)
				continue;
			n = (size_t)snprintf(text, sizeof text, "%g", m[i] * pow(10, k));
			if (y)
				plmtex("lv", 0.5, (v - lo) / (hi - lo), 1.0, text);
			else
				plmtex("b", 1.5, (v - lo) / (hi - lo), 0.5, text);
			if (n > longest)
				longest = n;
		}
	return longest;
}

static size_t longest_category(const fin_plot_axis *a)
{
	size_t longest = 0, i;

	for (i = 0; i < a->ncategories; i++) {
		size_t n = text_chars(a->categories[i], CATEGORY_MAX);
		if (n > longest)
			longest = n;
	}
	return longest;
}

/* Characters of the widest numeric tick label of axis a, about: the
 * digits, sign and decimals of its values at the precision of ticks a
 * fifth of the range apart, as PLplot chooses them (pldprec). */
static double label_chars(const fin_plot_axis *a)
{
	double big = fmax(fabs(a->min), fabs(a->max));
	int msd = big > 0 ? (int)floor(log10(big)) : 0;
	int np = (int)floor(log10((a->max - a->min) / 5));
	int prec = np < 0 ? -np : 0, sign = a->min < 0, chars;

	if (a->scale == FIN_PLOT_LOG) {
		/* the labels are 1, 2 or 5 times a power of ten */
		int low = (int)floor(log10(a->min));
		chars = low < 0 ? -low + 2 : msd + 1;
	} else if (msd < 0) {
		chars = prec + 2 + sign;
	} else if (msd + 1 > LABEL_DIGITS) {
		chars = LABEL_DIGITS + 1 + sign;
	} else {
		if (prec > LABEL_DIGITS - msd - 1)
			prec = LABEL_DIGITS - msd - 1;
		chars = msd + 1 + (prec ? prec + 1 : 0) + sign;
	}
	/* past LABEL_DIGITS digits PLplot writes a multiple of a power of ten */
	return chars < LABEL_DIGITS + 3 ? chars : LABEL_DIGITS + 3;
}

/* True when PLplot will write the numbers of axis a as multiples of a
 * power of ten, about (pldprec's rule), with the power apart: beyond the
 * frame's top for y, below the numbers for x, where room is kept. */
static int scientific(const fin_plot_axis *a)
{
	double big = fmax(fabs(a->min), fabs(a->max));
	int msd = big > 0 ? (int)floor(log10(big)) : 0;
	int np = (int)floor(log10((a->max - a->min) / 5)), sign = a->min < 0;

	if (a->scale != FIN_PLOT_LINEAR || a->ncategories)
		return 0;
	if (msd >= 0)
		return msd + 1 + sign > LABEL_DIGITS;
	return -msd + 2 + sign > LABEL_DIGITS || (np < 0 && LABEL_DIGITS - 2 + np < 0);
}

static int valid_axis(const fin_plot_axis *a, const char *name, fin_err *err)
{
	if (!(isfinite(a->min) && isfinite(a->max) && a->min < a->max) ||
	    (a->scale == FIN_PLOT_LOG && !(a->min > 0)))
		return fin_fail(err, FIN_EDATA, "cannot draw the plot: no range on the %s axis "
				"(%g to %g)", name, a->min, a->max);
	return FIN_OK;
}

struct frame {
	const fin_plot_axis *x, *y;
};

static void draw_frame(fin_plot *p, const void *arg)
{
	const fin_plot_axis *x = ((const struct frame *)arg)->x, *y = ((const struct frame *)arg)->y;
	PLFLT def, ch, xmin, xmax, ymin, ymax;
	PLINT digmax, digits;
	double left, right, bottom, top, xlabel;
	char xopt[16], yopt[16];
	size_t i;

	plgchr(&def, &ch);
	plgspa(&xmin, &xmax, &ymin, &ymax);
	/* room, in character heights, for the tick labels and names */
	left = CHAR_WIDTH * (y->ncategories ? (double)longest_category(y) : label_chars(y)) + 1.5;
	if (y->label && *y->label)
		left += 2;
	bottom = x->ncategories ? 2.5 : 2.8;
	xlabel = bottom + 0.6 + (scientific(x) ? 1.6 : 0);
	if (x->label && *x->label)
		bottom = xlabel + 1.2;
	top = p->page.title && *p->page.title ? 3.2 : 1.5;
	if (scientific(y))
		top += 1.5;
	right = x->scale == FIN_PLOT_TIME ? 3.5 : 2.5;
	plsvpa(left * ch, xmax - xmin - right * ch, bottom * ch, ymax - ymin - top * ch);
	plwind(p->wxmin, p->wxmax, p->wymin, p->wymax);
	p->mm_x = (p->wxmax - p->wxmin) / (xmax - xmin - (left + right) * ch);
	p->mm_y = (p->wymax - p->wymin) / (ymax - ymin - (bottom + top) * ch);
	if (x->scale == FIN_PLOT_TIME)
		pltimefmt(time_format(x->max - x->min));
	plsxax(LABEL_DIGITS, 0);
	plsyax(LABEL_DIGITS, 0);
	plcol0(GRID);
	plwidth(FRAME_WIDTH);
	axis_options(xopt, x, 0, 1);
	axis_options(yopt, y, 1, 1);
	plbox(x->ncategories ? "" : xopt, 0, 0, y->ncategories ? "" : yopt, 0, 0);
	plcol0(INK);
	axis_options(xopt, x, 0, 0);
	axis_options(yopt, y, 1, 0);
	plbox(xopt, 0, 0, yopt, 0, 0);
	for (i = 0; i < x->ncategories; i++)
		side_text("b", 1.5, ((double)i + 1 - x->min) / (x->max - x->min), 0.5,
			  x->categories[i], CATEGORY_MAX);
	for (i = 0; i < y->ncategories; i++)
		side_text("lv", 0.8, ((double)i + 1 - y->min) / (y->max - y->min), 1.0,
			  y->categories[i], CATEGORY_MAX);
	if (x->scale == FIN_PLOT_LOG)
		log_labels(p->wxmin, p->wxmax, 0);
	plgyax(&digmax, &digits);
	if (y->scale == FIN_PLOT_LOG)
		digits = (PLINT)log_labels(p->wymin, p->wymax, 1);
	side_text("b", xlabel, 0.5, 0.5, x->label, TEXT_MAX);
	side_text("l", y->ncategories ? left - 1.2 : CHAR_WIDTH * (double)digits + 1.6, 0.5, 0.5,
		  y->label, TEXT_MAX);
	plschr(0, TEXT_SCALE * 1.15);
	side_text("t", 1.2, 0.5, 0.5, p->page.title, TEXT_MAX);
	plschr(0, TEXT_SCALE);
}

int fin_plot_axes(fin_plot *p, const fin_plot_axis *x, const fin_plot_axis *y, fin_err *err)
{
	struct frame f = { x, y };
	int rc;

	if ((rc = valid_axis(x, "x", err)) != FIN_OK || (rc = valid_axis(y, "y", err)) != FIN_OK)
		return rc;
	if (p->framed)
		return fin_fail(err, FIN_EDATA, "cannot draw the plot: axes drawn twice");
	p->xscale = x->scale;
	p->yscale = y->scale;
	p->wxmin = to_plot(x->scale, x->min);
	p->wxmax = to_plot(x->scale, x->max);
	p->wymin = to_plot(y->scale, y->min);
	p->wymax = to_plot(y->scale, y->max);
	if ((rc = guarded(p, draw_frame, &f, err)) == FIN_OK)
		p->framed = 1;
	return rc;
}

/* ---- data ---- */

/* Points mapped to plotting units, a missing one NaN in both. */
struct points {
	const double *x, *y;
	size_t n;
	const fin_plot_pen *pen;
};

/* Maps x[0..n) and y[0..n) into p->scratch. */
static int map_points(fin_plot *p, const double *x, const double *y, size_t n,
		      const fin_plot_pen *pen, struct points *out, fin_err *err)
{
	double *px, *py;
	size_t i;

	if (!p->framed)
		return fin_fail(err, FIN_EDATA, "cannot draw the plot: no axes yet");
	/* PLplot counts points in an int */
	if (n > 0x7fffffff)
		return fin_fail(err, FIN_EDATA, "cannot draw the plot: %zu points", n);
	if (2 * n > p->scratch_cap) {
		size_t cap = 2 * n + 64;
		double *s = realloc(p->scratch, cap * sizeof *s);
		if (!s)
			return fin_fail(err, FIN_EDATA, "out of memory");
		p->scratch = s;
		p->scratch_cap = cap;
	}
	px = p->scratch;
	py = px + n;
	for (i = 0; i < n; i++) {
		px[i] = to_plot(p->xscale, x[i]);
		py[i] = to_plot(p->yscale, y[i]);
		if (isnan(px[i]) || isnan(py[i]))
			px[i] = py[i] = NAN;
	}
	out->x = px;
	out->y = py;
	out->n = n;
	out->pen = pen;
	return FIN_OK;
}

static void set_pen(const fin_plot_pen *pen, double width)
{
	PLINT mark = DASH_MARK, space = DASH_SPACE;

	plcol0(colour_index(pen));
	plwidth(width);
	plstyl(pen->dashed ? 1 : 0, &mark, &space);
}

static void solid(void)
{
	plstyl(0, NULL, NULL);
}

/* Filled octagons of DOT_RADIUS around each point that is not missing. */
static void dots(const fin_plot *p, const double *x, const double *y, size_t n)
{
	PLFLT ox[8], oy[8];
	size_t i, k;

	for (i = 0; i < n; i++) {
		if (isnan(x[i]))
			continue;
		for (k = 0; k < 8; k++) {
			double a = M_PI / 8 + (double)k * M_PI / 4;
			ox[k] = x[i] + DOT_RADIUS * p->mm_x * cos(a);
			oy[k] = y[i] + DOT_RADIUS * p->mm_y * sin(a);
		}
		plfill(8, ox, oy);
	}
}

static void draw_line(fin_plot *p, const void *arg)
{
	const struct points *d = arg;
	size_t i, start;

	for (start = 0; start < d->n; start = i) {
		while (start < d->n && isnan(d->x[start]))
			start++;
		for (i = start; i < d->n && !isnan(d->x[i]); i++)
			;
		if (i - start == 1) {
			set_pen(d->pen, LINE_WIDTH);
			solid();
			dots(p, d->x + start, d->y + start, 1);
		} else if (i > start) {
			set_pen(d->pen, LINE_WIDTH);
			plline((PLINT)(i - start), d->x + start, d->y + start);
		}
	}
	solid();
}

int fin_plot_line(fin_plot *p, const double *x, const double *y, size_t n,
		  const fin_plot_pen *pen, fin_err *err)
{
	struct points d;
	int rc = map_points(p, x, y, n, pen, &d, err);

	return rc != FIN_OK ? rc : guarded(p, draw_line, &d, err);
}

static void draw_points(fin_plot *p, const void *arg)
{
	const struct points *d = arg;

	set_pen(d->pen, LINE_WIDTH);
	solid();
	dots(p, d->x, d->y, d->n);
}

int fin_plot_points(fin_plot *p, const double *x, const double *y, size_t n,
		    const fin_plot_pen *pen, fin_err *err)
{
	struct points d;
	int rc = map_points(p, x, y, n, pen, &d, err);

	return rc != FIN_OK ? rc : guarded(p, draw_points, &d, err);
}

/* Bars and error bars: item i spans [a[i], b[i]] on one axis at (bars:
 * from 0 to) c[i] on the other. */
struct spans {
	const double *a, *b, *c;
	size_t n;
	int horizontal;
	const fin_plot_pen *pen;
};

static void draw_bars(fin_plot *p, const void *arg)
{
	const struct spans *d = arg;
	enum fin_plot_scale across = d->horizontal ? p->yscale : p->xscale;
	enum fin_plot_scale along = d->horizontal ? p->xscale : p->yscale;
	double base = along == FIN_PLOT_LOG ? (d->horizontal ? p->wxmin : p->wymin) : 0;
	size_t i;

	solid();
	for (i = 0; i < d->n; i++) {
		double a = to_plot(across, d->a[i]), b = to_plot(across, d->b[i]);
		double v = to_plot(along, d->c[i]);
		PLFLT u[5] = { a, a, b, b, a }, w[5] = { base, v, v, base, base };
		if (isnan(a) || isnan(b) || isnan(v) || v == base)
			continue;
		set_pen(d->pen, FRAME_WIDTH);
		if (d->horizontal)
			plfill(4, w, u);
		else
			plfill(4, u, w);
		/* opaque bars side by side stay apart by a line of the
		 * background */
		if (!d->pen->translucent) {
			plcol0(BACKGROUND);
			if (d->horizontal)
				plline(5, w, u);
			else
				plline(5, u, w);
		}
	}
}

int fin_plot_bars(fin_plot *p, const double *lo, const double *hi, const double *value, size_t n,
		  int horizontal, const fin_plot_pen *pen, fin_err *err)
{
	struct spans d = { lo, hi, value, n, horizontal, pen };

	if (!p->framed)
		return fin_fail(err, FIN_EDATA, "cannot draw the plot: no axes yet");
	return guarded(p, draw_bars, &d, err);
}

static void draw_error_bars(fin_plot *p, const void *arg)
{
	const struct spans *d = arg;
	enum fin_plot_scale across = d->horizontal ? p->yscale : p->xscale;
	enum fin_plot_scale along = d->horizontal ? p->xscale : p->yscale;
	size_t i;

	set_pen(d->pen, FRAME_WIDTH);
	solid();
	for (i = 0; i < d->n; i++) {
		PLFLT a = to_plot(along, d->a[i]), b = to_plot(along, d->b[i]);
		PLFLT c = to_plot(across, d->c[i]);
		if (isnan(a) || isnan(b) || isnan(c))
			continue;
		if (d->horizontal)
			plerrx(1, &a, &b, &c);
		else
			plerry(1, &c, &a, &b);
	}
}

int fin_plot_error_bars(fin_plot *p, const double *at, const double *from, const double *to,
			size_t n, int horizontal, const fin_plot_pen *pen, fin_err *err)
{
	struct spans d = { from, to, at, n, horizontal, pen };

	if (!p->framed)
		return fin_fail(err, FIN_EDATA, "cannot draw the plot: no axes yet");
	return guarded(p, draw_error_bars, &d, err);
}

struct rule {
	double at;
	int vertical;
	const fin_plot_pen *pen;
};

static void draw_rule(fin_plot *p, const void *arg)
{
	const struct rule *r = arg;
	PLFLT x[2] = { r->at, r->at }, y[2] = { p->wymin, p->wymax };

	if (!r->vertical) {
		x[0] = p->wxmin;
		x[1] = p->wxmax;
		y[0] = y[1] = r->at;
	}
	set_pen(r->pen, FRAME_WIDTH * 1.5);
	plline(2, x, y);
	solid();
}

int fin_plot_rule(fin_plot *p, double v, int vertical, const fin_plot_pen *pen, fin_err *err)
{
	struct rule r = { to_plot(vertical ? p->xscale : p->yscale, v), vertical, pen };

	if (!p->framed)
		return fin_fail(err, FIN_EDATA, "cannot draw the plot: no axes yet");
	return isnan(r.at) ? FIN_OK : guarded(p, draw_rule, &r, err);
}

/* ---- legend ---- */

enum { KEYS_MAX = 32 };

/* pllegend's layout: its offsets from the frame's sides and the width of
 * a key's sample (shares of the frame), the gap before the text and the
 * spacing of entries (character heights of the legend's text, which is
 * LEGEND_TEXT_SCALE of the page's). For placing it, the legend's width
 * beside its sample is taken as LEGEND_GAPS plus LEGEND_CHAR_WIDTH a
 * character of the widest text, in its character heights: a little more
 * than the fonts of the three formats take. */
#define LEGEND_OFFSET_X 0.02
#define LEGEND_OFFSET_Y 0.03
#define LEGEND_SAMPLE 0.06
#define LEGEND_TEXT_OFFSET 0.8
#define LEGEND_TEXT_SCALE 0.9
#define LEGEND_SPACING 2.0
#define LEGEND_GAPS 10.0
#define LEGEND_CHAR_WIDTH 0.8

struct legend {
	char text[KEYS_MAX][4 * TEXT_MAX + 16];
	const char *texts[KEYS_MAX], *symbols[KEYS_MAX];
	PLINT opt[KEYS_MAX], ink[KEYS_MAX], colour[KEYS_MAX], pattern[KEYS_MAX], style[KEYS_MAX];
	PLINT number[KEYS_MAX];
	PLFLT box_scale[KEYS_MAX], widths[KEYS_MAX], symbol_scale[KEYS_MAX];
	PLINT n, position;
};

static void draw_legend(fin_plot *p, const void *arg)
{
	const struct legend *l = arg;
	PLFLT width, height;

	(void)p;
	solid();
	plwidth(FRAME_WIDTH);
	pllegend(&width, &height, PL_LEGEND_BACKGROUND | PL_LEGEND_BOUNDING_BOX,
		 PL_POSITION_VIEWPORT | PL_POSITION_INSIDE | l->position, LEGEND_OFFSET_X,
		 LEGEND_OFFSET_Y, LEGEND_SAMPLE, BACKGROUND, GRID, 1, 0, 0, l->n, l->opt,
		 LEGEND_TEXT_OFFSET, LEGEND_TEXT_SCALE, LEGEND_SPACING, 0, l->ink, l->texts,
		 l->colour, l->pattern, l->box_scale, l->widths, l->colour, l->style, l->widths,
		 l->colour, l->symbol_scale, l->number, l->symbols);
}

int fin_plot_legend(fin_plot *p, const fin_plot_key *keys, size_t n, enum fin_plot_corner corner,
		    fin_err *err)
{
	static const PLINT corners[] = {
		PL_POSITION_TOP | PL_POSITION_LEFT, PL_POSITION_TOP | PL_POSITION_RIGHT,
		PL_POSITION_BOTTOM | PL_POSITION_LEFT, PL_POSITION_BOTTOM | PL_POSITION_RIGHT,
	};
	struct legend *l;
	size_t i;
	int rc;

	if (!p->framed)
		return fin_fail(err, FIN_EDATA, "cannot draw the plot: no axes yet");
	if (!(l = calloc(1, sizeof *l)))
		return fin_fail(err, FIN_EDATA, "out of memory");
	for (i = 0; i < n && l->n < KEYS_MAX; i++) {
		PLINT m = l->n;
		if (!*plot_text(l->text[m], sizeof l->text[m], keys[i].text, TEXT_MAX))
			continue;
		l->texts[m] = l->text[m];
		l->opt[m] = keys[i].kind == FIN_PLOT_KEY_BOX ? PL_LEGEND_COLOR_BOX
			    : keys[i].kind == FIN_PLOT_KEY_DOT ? PL_LEGEND_SYMBOL : PL_LEGEND_LINE;
		l->ink[m] = INK;
		l->colour[m] = colour_index(&keys[i].pen);
		/* PLplot's legend draws its own dashes: style 2 */
		l->style[m] = keys[i].pen.dashed ? 2 : 1;
		l->box_scale[m] = 0.8;
		l->widths[m] = LINE_WIDTH;
		l->symbol_scale[m] = 1.6;
		l->number[m] = 1;
		l->symbols[m] = "\xe2\x97\x8f";
		l->n++;
	}
	l->position = corners[corner];
	rc = l->n ? guarded(p, draw_legend, l, err) : FIN_OK;
	free(l);
	return rc;
}

/* The legend's size in shares of the frame, from pllegend's layout and
 * the characters of the widest text (PLplot does not export the width of
 * a text, plstrl). */
struct legend_size {
	const fin_plot_key *keys;
	size_t n;
	double *width, *height;
};

static void measure_legend(fin_plot *p, const void *arg)
{
	const struct legend_size *l = arg;
	char t[4 * TEXT_MAX + 16];
	PLFLT def, ch;
	double widest = 0, frame_w = (p->wxmax - p->wxmin) / p->mm_x;
	double frame_h = (p->wymax - p->wymin) / p->mm_y;
	size_t i, shown = 0;

	plgchr(&def, &ch);
	for (i = 0; i < l->n; i++)
		if (*plot_text(t, sizeof t, l->keys[i].text, TEXT_MAX)) {
			widest = fmax(widest, (double)text_chars(l->keys[i].text, TEXT_MAX));
			shown++;
		}
	*l->width = LEGEND_SAMPLE + (widest * LEGEND_CHAR_WIDTH + LEGEND_GAPS) * ch *
					    LEGEND_TEXT_SCALE / frame_w;
	*l->height = (double)shown * LEGEND_SPACING * ch / frame_h;
}

int fin_plot_legend_corner(fin_plot *p, const fin_plot_key *keys, size_t n, const double *x,
			   const double *y, size_t npoints, enum fin_plot_corner *corner,
			   fin_err *err)
{
	static const enum fin_plot_corner order[] = { FIN_PLOT_TOP_RIGHT, FIN_PLOT_TOP_LEFT,
						      FIN_PLOT_BOTTOM_RIGHT, FIN_PLOT_BOTTOM_LEFT };
	double width, height, x0, x1, y0, y1;
	struct legend_size l = { keys, n, &width, &height };
	size_t covered[4] = { 0 }, i, best = 0;
	int rc;

	*corner = order[0];
	if (!p->framed)
		return fin_fail(err, FIN_EDATA, "cannot draw the plot: no axes yet");
	if ((rc = guarded(p, measure_legend, &l, err)) != FIN_OK)
		return rc;
	/* the box's near and far edges, in shares of the frame from its
	 * left (bottom) side */
	x0 = LEGEND_OFFSET_X;
	x1 = LEGEND_OFFSET_X + width;
	y0 = LEGEND_OFFSET_Y;
	y1 = LEGEND_OFFSET_Y + height;
	for (i = 0; i < npoints; i++) {
		double u = (to_plot(p->xscale, x[i]) - p->wxmin) / (p->wxmax - p->wxmin);
		double v = (to_plot(p->yscale, y[i]) - p->wymin) / (p->wymax - p->wymin);
		int left = u >= x0 && u <= x1, right = u >= 1 - x1 && u <= 1 - x0;
		int low = v >= y0 && v <= y1, high = v >= 1 - y1 && v <= 1 - y0;
		if (isnan(u) || isnan(v))
			continue;
		covered[0] += right && high;
		covered[1] += left && high;
		covered[2] += right && low;
		covered[3] += left && low;
	}
	for (i = 1; i < 4; i++)
		if (covered[i] < covered[best])
			best = i;
	*corner = order[best];
	return FIN_OK;
}

/* ---- output ---- */

/* cairo (before 1.17.8, which takes SOURCE_DATE_EPOCH) dates a PDF with
 * the time it was made; the dates become 1970-01-01 00:00 UTC, so that
 * the same plot gives the same bytes. The text keeps its length, and the
 * cross-reference table its offsets. */
static void fix_pdf_dates(char *buf, size_t len)
{
	static const char *const keys[] = { "/CreationDate (D:", "/ModDate (D:" };
	size_t k, i;

	for (k = 0; k < 2; k++) {
		size_t klen = strlen(keys[k]);
		char *at = memmem(buf, len, keys[k], klen);
		if (!at)
			continue;
		at += klen;
		for (i = 0; i < 14 && at + i < buf + len && at[i] >= '0' && at[i] <= '9'; i++)
			;
		if (i < 14)
			continue;
		memcpy(at, "19700101000000", 14);
		at += 14;
		/* a zone +HH'MM becomes +00'00 */
		if (at + 6 <= buf + len && (at[0] == '+' || at[0] == '-') && at[3] == '\'') {
			memcpy(at, "+00'00", 6);
		}
	}
}

static void end_page(fin_plot *p, const void *unused)
{
	(void)unused;
	if (p->started && !p->ended) {
		p->ended = 1;
		plend();
	}
}

int fin_plot_write(fin_plot *p, fin_out *out, fin_err *err)
{
	int rc = guarded(p, end_page, NULL, err);

	if (rc != FIN_OK)
		return rc;
	if (!p->sink.closed || p->sink.failed)
		return fin_fail(err, FIN_EDATA, "cannot draw the plot: %s",
				p->sink.failed ? "out of memory" : "PLplot did not end the page");
	if (p->page.format == FIN_PLOT_PDF)
		fix_pdf_dates(p->sink.buf, p->sink.len);
	fin_out_bytes(out, p->sink.buf, p->sink.len);
	return FIN_OK;
}

/* Ends the page after a failure too, as PLplot's own exit handling does;
 * a fatal error while ending leaves the page as it is. */
static void end_anyway(fin_plot *p)
{
	jmp_buf jump;

	if (setjmp(jump) == 0) {
		plplot_guard = &jump;
		end_page(p, NULL);
	}
	plplot_guard = NULL;
}

void fin_plot_close(fin_plot *p)
{
	if (!p)
		return;
	end_anyway(p);
	if (!p->sink.closed)
		fclose(p->file);
	free(p->sink.buf);
	free(p->scratch);
	free(p);
}

/* ---- ranges ---- */

int fin_plot_span(const double *v, size_t n, enum fin_plot_scale scale, double *min, double *max)
{
	double lo = INFINITY, hi = -INFINITY;
	size_t i;

	for (i = 0; i < n; i++) {
		if (!isfinite(v[i]) || (scale == FIN_PLOT_LOG && !(v[i] > 0)))
			continue;
		if (v[i] < lo)
			lo = v[i];
		if (v[i] > hi)
			hi = v[i];
	}
	if (lo > hi)
		return 0;
	*min = lo;
	*max = hi;
	return 1;
}

void fin_plot_pad(double *min, double *max, double share, enum fin_plot_scale scale)
{
	if (scale == FIN_PLOT_LOG) {
		double a = log10(*min), b = log10(*max), pad = b > a ? share * (b - a) : 0.5;
		*min = pow(10, a - pad);
		*max = pow(10, b + pad);
		return;
	}
	if (*max > *min) {
		double pad = share * (*max - *min);
		*min -= pad;
		*max += pad;
	} else {
		/* one value: a unit around it, or a day around a time */
		double pad = scale == FIN_PLOT_TIME ? 86400 : *min != 0 ? fabs(*min) * 0.1 : 1;
		*min -= pad;
		*max += pad;
	}
}
