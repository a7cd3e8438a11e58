/* The drawing core of fin-plot, on PLplot: one page of a given size in
 * SVG (PLplot's svg driver), PNG (pngcairo) or PDF (pdfcairo), drawn into
 * memory and written out once complete, so that a failed plot writes
 * nothing. The same calls on the same data give the same bytes.
 *
 * A page is drawn in this order: fin_plot_open, fin_plot_axes (the frame,
 * ticks, grid, axis labels and title), then lines, points, bars and
 * reference lines in data units, a legend, and fin_plot_write. PLplot
 * keeps one global state, so one page is drawn at a time. PLplot never
 * prints or ends the process on its own: its errors come back as fin
 * errors (FIN_EDATA), and a page that failed takes no further drawing. */
#ifndef FIN_PLOT_H
#define FIN_PLOT_H

#include <stddef.h>

#include "core/err.h"
#include "io/out.h"

enum fin_plot_format { FIN_PLOT_SVG, FIN_PLOT_PNG, FIN_PLOT_PDF };

/* The format named "svg", "png" or "pdf"; -1 for any other word. */
int fin_plot_format_parse(const char *word);

/* The format the extension of path names (.svg, .png, .pdf, in any
 * case); -1 when it has another extension or none. */
int fin_plot_format_of(const char *path);

/* Page sides: pixels for PNG, points (1/72 inch) for SVG and PDF. */
enum { FIN_PLOT_WIDTH = 800, FIN_PLOT_HEIGHT = 500, FIN_PLOT_MIN_SIDE = 200,
       FIN_PLOT_MAX_SIDE = 10000 };

typedef struct fin_plot_page {
	enum fin_plot_format format;
	int width, height;
	const char *title; /* above the frame; NULL or "" for none */
} fin_plot_page;

enum fin_plot_scale {
	FIN_PLOT_LINEAR,
	FIN_PLOT_LOG,  /* ticks in powers of ten; values <= 0 are not drawn */
	FIN_PLOT_TIME, /* values are seconds since 1970-01-01 UTC; ticks are dates */
};

typedef struct fin_plot_axis {
	const char *label;       /* the axis's name; NULL or "" for none */
	double min, max;         /* the range shown, min < max (both > 0 on a log scale) */
	enum fin_plot_scale scale;
	/* Names in place of numbers: categories[i] at i + 1, no numeric
	 * ticks (bars of a chart by name). */
	char *const *categories;
	size_t ncategories;
} fin_plot_axis;

/* Colours: the data colours cycle through ten (0, 1, ...; as
 * matplotlib's default cycle, blue first), beside the ink of the frame
 * and text and a grey for reference lines. */
enum { FIN_PLOT_INK = -1, FIN_PLOT_GREY = -2, FIN_PLOT_COLOURS = 10 };

typedef struct fin_plot_pen {
	int colour;      /* a data colour (0, 1, ...), FIN_PLOT_INK or FIN_PLOT_GREY */
	int dashed;      /* lines: dashed instead of solid */
	int translucent; /* fills: the colour at 45% opacity, so that overlaps show */
} fin_plot_pen;

typedef struct fin_plot fin_plot;

/* Starts a page. FIN_EUSAGE for sides outside [FIN_PLOT_MIN_SIDE,
 * FIN_PLOT_MAX_SIDE], FIN_EDATA when PLplot cannot start its device. */
int fin_plot_open(fin_plot **p, const fin_plot_page *page, fin_err *err);

/* Draws the frame for the ranges of x and y: grid, ticks and their
 * labels, the axis labels and the title. Once, before any data. */
int fin_plot_axes(fin_plot *p, const fin_plot_axis *x, const fin_plot_axis *y, fin_err *err);

/* A line through the points (x[i], y[i]); a point that is missing (NaN,
 * or not above 0 on a log scale) breaks it, and a point between two
 * breaks is drawn as a dot. Clipped to the frame. */
int fin_plot_line(fin_plot *p, const double *x, const double *y, size_t n,
		  const fin_plot_pen *pen, fin_err *err);

/* A dot at each point that is not missing. */
int fin_plot_points(fin_plot *p, const double *x, const double *y, size_t n,
		    const fin_plot_pen *pen, fin_err *err);

/* Filled bars, bar i over [lo[i], hi[i]] on one axis and from 0 to
 * value[i] on the other (from the frame on a log scale): upright over x,
 * or lying (horizontal) over y. A bar of no length is not drawn. */
int fin_plot_bars(fin_plot *p, const double *lo, const double *hi, const double *value, size_t n,
		  int horizontal, const fin_plot_pen *pen, fin_err *err);

/* Error bars from from[i] to to[i] at position at[i] on the other axis,
 * with end ticks: along x at heights at[i] when horizontal, along y at
 * positions at[i] otherwise. Bars with a missing end are left out. */
int fin_plot_error_bars(fin_plot *p, const double *at, const double *from, const double *to,
			size_t n, int horizontal, const fin_plot_pen *pen, fin_err *err);

/* A line across the whole frame at x = v (vertical) or y = v. */
int fin_plot_rule(fin_plot *p, double v, int vertical, const fin_plot_pen *pen, fin_err *err);

enum fin_plot_key_kind { FIN_PLOT_KEY_LINE, FIN_PLOT_KEY_BOX, FIN_PLOT_KEY_DOT };

typedef struct fin_plot_key {
	const char *text;
	enum fin_plot_key_kind kind;
	fin_plot_pen pen;
} fin_plot_key;

enum fin_plot_corner { FIN_PLOT_TOP_LEFT, FIN_PLOT_TOP_RIGHT, FIN_PLOT_BOTTOM_LEFT,
		       FIN_PLOT_BOTTOM_RIGHT };

/* The legend: one entry for each key, in a box in a corner of the frame. */
int fin_plot_legend(fin_plot *p, const fin_plot_key *keys, size_t n, enum fin_plot_corner corner,
		    fin_err *err);

/* The corner where the legend of keys hides the fewest of the points
 * (x[i], y[i]) (missing ones ignored), its size estimated from the
 * page's character height and the characters of its texts; on a tie the
 * first of top right, top left, bottom right and bottom left. After
 * fin_plot_axes. */
int fin_plot_legend_corner(fin_plot *p, const fin_plot_key *keys, size_t n, const double *x,
			   const double *y, size_t npoints, enum fin_plot_corner *corner,
			   fin_err *err);

/* Ends the page and writes it to out (not flushed). */
int fin_plot_write(fin_plot *p, fin_out *out, fin_err *err);

/* Frees the page, written or not; NULL is ignored. */
void fin_plot_close(fin_plot *p);

/* The finite values of v[0..n) span [*min, *max]; 0 when there is none
 * (then *min and *max are untouched). On a log scale only values above 0
 * count. */
int fin_plot_span(const double *v, size_t n, enum fin_plot_scale scale, double *min, double *max);

/* Widens [*min, *max] by share of its length on each side (by factors on
 * a log scale), and a range of one value to one around it. */
void fin_plot_pad(double *min, double *max, double share, enum fin_plot_scale scale);

#endif
