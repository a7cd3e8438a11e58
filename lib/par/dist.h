/* fin's programs as the ranks of an MPI job. A program that works across
 * ranks calls fin_dist_start first: launched by mpirun it joins the job
 * (MPI_Init), run by itself it is the one rank of a job of one, and every
 * call below is then a no-op, without MPI being started at all. */
#ifndef FIN_DIST_H
#define FIN_DIST_H

#include <stddef.h>

/* Joins the MPI job when the process was launched by mpirun (Open MPI's
 * or a PMIx launcher's environment), so that the ranks may work
 * together; 0, or -1 when MPI would not start. */
int fin_dist_start(int *argc, char ***argv);

/* Leaves the job: every rank calls it before it exits normally. */
void fin_dist_stop(void);

/* A program's main for one that runs as ranks: joins the job when
 * launched by mpirun (a message and FIN_EDATA when MPI will not start),
 * runs body, leaves the job; body's status. */
int fin_dist_main(const char *prog, int argc, char **argv, int (*body)(int, char **));

/* Ends every rank of the job at once with exit status code: for an error
 * that only some ranks met, which the others would wait on for ever.
 * Without a job, exit(code). */
_Noreturn void fin_dist_abort(int code);

/* What every program that runs as ranks refuses under mpirun: standard
 * input among the nfiles input files (it reaches rank 0 only) and threads
 * beyond one (each rank works on one thread). FIN_EUSAGE; FIN_OK alone. */
int fin_dist_usage(size_t threads, size_t nfiles, char *const *files, struct fin_err *err);

/* The input files of a program that runs as ranks: with shard (--shard),
 * fin_dist_shard_open; otherwise fin_input_open, refusing under mpirun an
 * input that cannot be read again, a pipe or a device, as each rank reads
 * every input itself (FIN_EUSAGE). NULL with err filled on failure. */
struct fin_input;
struct fin_csv_opts;
struct fin_input *fin_dist_open(char *const *paths, size_t n, const struct fin_csv_opts *opts,
				int shard, struct fin_err *err);

/* This rank (0 ... size - 1) and the job's size (1 without mpirun). */
int fin_dist_rank(void);
int fin_dist_size(void);

/* Whether this process is one of several ranks. */
int fin_dist_active(void);

/* v[0..n) summed over the ranks, in place on every rank. Doubles: the
 * sum is formed once, in rank order, and sent to all, so that every rank
 * holds the same bits, the same on every run of a job of that size.
 * Floats (gradients, large and summed after every batch): MPI_Allreduce,
 * several times faster; Open MPI's reductions form each sum once and send
 * it round, so the ranks hold the same bits, but the standard does not
 * promise it, and training sends rank 0's weights to all once an epoch. */
void fin_dist_sum_floats(float *v, size_t n);
void fin_dist_sum_doubles(double *v, size_t n);

/* The largest of v over the ranks, in place. */
void fin_dist_max_doubles(double *v, size_t n);

/* bytes of buf sent from rank root to every rank. */
void fin_dist_broadcast(void *buf, size_t bytes, int root);

/* Each rank's own [bytes] gathered into all ([size][bytes]) on every rank. */
void fin_dist_gather_all(const void *own, void *all, size_t bytes);

/* Counts v[0..n) summed over the ranks, in place on every rank: exact,
 * whatever the order. */
void fin_dist_sum_sizes(size_t *v, size_t n);

/* The rows of rank `of` when n rows are cut into runs of unit rows (the last may be shorter) and the
 * ranks take equal numbers of runs, in rank order: [*from, *to), empty
 * for the last ranks when there are fewer runs than ranks. Without a job,
 * every row. */
void fin_dist_runs(size_t n, size_t unit, int of, size_t *from, size_t *to);

/* Every rank's status at the same point of a program, before work that
 * needs them all (a rank that failed earlier calls it where it stops), for
 * a caller holding the message of its failure, if any, in msg (or NULL):
 * the status of the first failed rank that holds a message (so that
 * agreeing again on a failure agreed on before keeps it), else of the
 * first failed rank, FIN_OK when none failed, on every rank; msg is
 * emptied unless the failure is this rank's, so that one rank prints it.
 * Without a job, rc itself. */
int fin_dist_agree_msg(int rc, char *msg);

/* This rank's part [from, to) of n things: the ranks in order, in equal
 * parts (the first n mod size ranks one more). */
void fin_dist_part(size_t n, size_t *from, size_t *to);

/* For an update shared out by parts: v[0..n) summed over the ranks, this
 * rank receiving only the sums of its part (fin_dist_part) in place, with
 * work holding twice that part's length; the values in the nskip sorted
 * ranges [skip[2k], skip[2k + 1]) are left alone (the caller sums them
 * otherwise). Then every rank's part of v sent to every rank. Together,
 * the traffic of one MPI_Allreduce. */
void fin_dist_sum_part_floats(float *v, size_t n, float *work, const size_t *skip, size_t nskip);
void fin_dist_share_part_floats(float *v, size_t n);

/* all holds n rows of width values, this rank's part of them (the rows
 * fin_dist_part(n) names) filled in: every rank's rows to every rank. */
void fin_dist_gather_rows(float *all, size_t n, size_t width);

/* --shard: the input files paths, of which each rank reads only its
 * share (fin_dist_runs over the list: one or more files a rank, in
 * order), sending it to every rank, which keeps a copy in $TMPDIR; the
 * rows are those of the files in order, as one process reads them. A
 * file need only be on its rank's machine. Without a job, the files
 * opened as fin_input_open does. NULL with err filled on failure (every
 * rank fails alike; err->msg set on the rank whose failure it is). */
struct fin_input *fin_dist_shard_open(char *const *paths, size_t n,
				      const struct fin_csv_opts *opts, struct fin_err *err);

#endif
