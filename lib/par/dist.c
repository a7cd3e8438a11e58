#include <limits.h>
#include <mpi.h>
#include <stdlib.h>
#include <string.h>

#include "par/dist.h"

static int started, rank, size = 1;
static void *scratch;     /* rank 0: every rank's values, for the sums */
static size_t scratch_len;

/* Launched by mpirun: Open MPI's own variable, or a PMIx launcher's. */
static int launched(void)
{
	return getenv("OMPI_COMM_WORLD_SIZE") || getenv("PMIX_RANK") || getenv("PMI_RANK");
}

int fin_dist_start(int *argc, char ***argv)
{
	if (started || !launched())
		return 0;
	if (MPI_Init(argc, argv) != MPI_SUCCESS)
		return -1;
	started = 1;
	MPI_Comm_rank(MPI_COMM_WORLD, &rank);
	MPI_Comm_size(MPI_COMM_WORLD, &size);
	return 0;
}

void fin_dist_stop(void)
{
	if (started)
		MPI_Finalize();
	started = 0;
	free(scratch);
	scratch = NULL;
	scratch_len = 0;
}

_Noreturn void fin_dist_abort(int code)
{
	if (started && size > 1)
		MPI_Abort(MPI_COMM_WORLD, code);
	exit(code);
}

int fin_dist_rank(void)
{
	return rank;
}

int fin_dist_size(void)
{
	return size;
}

int fin_dist_active(void)
{
	return started && size > 1;
}

/* MPI counts are ints: a long message goes in pieces of at most this. */
#define PIECE ((size_t)1 << 24)

static void *room(size_t bytes)
{
	if (bytes > scratch_len) {
		void *p = realloc(scratch, bytes);
		if (!p)
			fin_dist_abort(1);
		scratch = p;
		scratch_len = bytes;
	}
	return scratch;
}

/* Gathers every rank's n values of width w to rank 0, which sums them in
 * rank order with add, and sends the sums back. */
static void sum_in_order(void *v, size_t n, size_t w, MPI_Datatype type,
			 void (*add)(void *acc, const void *part, size_t n))
{
	size_t at;

	for (at = 0; at < n; at += PIECE / w) {
		size_t m = n - at < PIECE / w ? n - at : PIECE / w;
		char *mine = (char *)v + at * w;
		char *all = rank == 0 ? room((size_t)size * m * w) : NULL;
		int r;
		MPI_Gather(mine, (int)m, type, all, (int)m, type, 0, MPI_COMM_WORLD);
		if (rank == 0) {
			memcpy(mine, all, m * w);
			for (r = 1; r < size; r++)
				add(mine, all + (size_t)r * m * w, m);
		}
		MPI_Bcast(mine, (int)m, type, 0, MPI_COMM_WORLD);
	}
}

static void add_floats(void *acc, const void *part, size_t n)
{
	float *a = acc;
	const float *p = part;
	size_t i;

	for (i = 0; i < n; i++)
		a[i] += p[i];
}

static void add_doubles(void *acc, const void *part, size_t n)
{
	double *a = acc;
	const double *p = part;
	size_t i;

	for (i = 0; i < n; i++)
		a[i] += p[i];
}

static void max_doubles(void *acc, const void *part, size_t n)
{
	double *a = acc;
	const double *p = part;
	size_t i;

	for (i = 0; i < n; i++)
		a[i] = p[i] > a[i] ? p[i] : a[i];
}

void fin_dist_sum_floats(float *v, size_t n)
{
	if (fin_dist_active())
		sum_in_order(v, n, sizeof *v, MPI_FLOAT, add_floats);
}

void fin_dist_sum_doubles(double *v, size_t n)
{
	if (fin_dist_active())
		sum_in_order(v, n, sizeof *v, MPI_DOUBLE, add_doubles);
}

void fin_dist_max_doubles(double *v, size_t n)
{
	if (fin_dist_active())
		sum_in_order(v, n, sizeof *v, MPI_DOUBLE, max_doubles);
}

int fin_dist_agree(int rc, int *own)
{
	int *all, r, first = -1;

	*own = 1;
	if (!fin_dist_active())
		return rc;
	all = room((size_t)size * sizeof *all);
	MPI_Allgather(&rc, 1, MPI_INT, all, 1, MPI_INT, MPI_COMM_WORLD);
	for (r = 0; r < size && first < 0; r++)
		if (all[r] != 0)
			first = r;
	*own = first == rank;
	return first < 0 ? 0 : all[first];
}

void fin_dist_broadcast(void *buf, size_t bytes, int root)
{
	size_t at;

	if (!fin_dist_active())
		return;
	for (at = 0; at < bytes; at += PIECE) {
		size_t m = bytes - at < PIECE ? bytes - at : PIECE;
		MPI_Bcast((char *)buf + at, (int)m, MPI_BYTE, root, MPI_COMM_WORLD);
	}
}

void fin_dist_gather_all(const void *own, void *all, size_t bytes)
{
	if (!fin_dist_active()) {
		memmove(all, own, bytes);
		return;
	}
	if (bytes > INT_MAX)
		fin_dist_abort(1);
	MPI_Allgather(own, (int)bytes, MPI_BYTE, all, (int)bytes, MPI_BYTE, MPI_COMM_WORLD);
}

void fin_dist_sum_sizes(size_t *v, size_t n)
{
	MPI_Datatype type = sizeof *v == 8 ? MPI_UINT64_T : MPI_UINT32_T;
	size_t at;

	if (!fin_dist_active())
		return;
	for (at = 0; at < n; at += PIECE) {
		size_t m = n - at < PIECE ? n - at : PIECE;
		MPI_Allreduce(MPI_IN_PLACE, v + at, (int)m, type, MPI_SUM, MPI_COMM_WORLD);
	}
}
