/* Error reporting for libfin: functions return a status code and fill a
 * fin_err with a one-line message; only main() in cmd/ prints and exits. */
#ifndef FIN_ERR_H
#define FIN_ERR_H

/* Exit codes shared by every tool (see fin(7)). */
enum fin_status {
	FIN_OK = 0,
	FIN_EDATA = 1,   /* bad input data */
	FIN_EUSAGE = 2,  /* bad options or arguments */
	FIN_EMODEL = 3,  /* unusable model or detector file */
	FIN_ENOROWS = 4, /* no input rows */
	FIN_EALERT = 5,  /* an alert raised: --fail-on-anomaly found anomalies */
};

typedef struct fin_err {
	int code;
	char msg[1024];
} fin_err;

/* Records code and a printf-style message in err (if not NULL); returns code. */
int fin_fail(fin_err *err, int code, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* Copies a field into dst for use in a message: at most 40 visible
 * characters, control characters shown as \n, \r, \t or \xNN, "..."
 * when cut. */
const char *fin_quote_field(char *dst, size_t dstlen, const char *s, size_t len);

/* Copies a text into dst escaped as fin_quote_field does, whole while dst
 * holds it, and cut with "..." beyond. */
const char *fin_escape(char *dst, size_t dstlen, const char *s, size_t len);

/* Prints "prog: msg" and a newline on standard error, with every control
 * character of msg escaped as fin_quote_field does, so that text from an
 * input or a model file can neither break the line nor reach the
 * terminal as an escape sequence. */
void fin_report(const char *prog, const char *msg);

/* fin_report of a printf-style message. */
void fin_note(const char *prog, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* fin_report of each of notes[0..n). */
void fin_notes_print(const char *prog, char *const *notes, size_t n);

/* The same, then frees them and the list. */
void fin_notes_flush(const char *prog, char **notes, size_t n);

#endif
