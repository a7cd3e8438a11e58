#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <mpi.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/err.h"
#include "io/input.h"
#include "par/dist.h"

/* libmpi is loaded, and MPI started, only when the process was launched
 * by mpirun: a program run by itself neither loads Open MPI's libraries
 * (some milliseconds of start-up) nor needs them installed. Its functions
 * and predefined handles (the addresses of Open MPI's globals, which
 * mpi.h's macros name) come from dlsym; the names below reach them. */
static struct {
	__typeof__(MPI_Init) *Init;
	__typeof__(MPI_Finalize) *Finalize;
	__typeof__(MPI_Abort) *Abort;
	__typeof__(MPI_Comm_rank) *Comm_rank;
	__typeof__(MPI_Comm_size) *Comm_size;
	__typeof__(MPI_Allreduce) *Allreduce;
	__typeof__(MPI_Reduce_scatter) *Reduce_scatter;
	__typeof__(MPI_Reduce) *Reduce;
	__typeof__(MPI_Gather) *Gather;
	__typeof__(MPI_Gatherv) *Gatherv;
	__typeof__(MPI_Allgather) *Allgather;
	__typeof__(MPI_Allgatherv) *Allgatherv;
	__typeof__(MPI_Bcast) *Bcast;
	__typeof__(MPI_Barrier) *Barrier;
	__typeof__(MPI_Sendrecv) *Sendrecv;
	MPI_Comm world;
	MPI_Datatype byte, chr, int_, long_, ulong, llong, ullong, uint32, uint64, flt, dbl;
	MPI_Op sum, max, min;
} mpi;

#undef MPI_COMM_WORLD
#undef MPI_BYTE
#undef MPI_CHAR
#undef MPI_INT
#undef MPI_LONG
#undef MPI_UNSIGNED_LONG
#undef MPI_LONG_LONG_INT
#undef MPI_UNSIGNED_LONG_LONG
#undef MPI_UINT32_T
#undef MPI_UINT64_T
#undef MPI_FLOAT
#undef MPI_DOUBLE
#undef MPI_SUM
#undef MPI_MAX
#undef MPI_MIN
#define MPI_COMM_WORLD mpi.world
#define MPI_BYTE mpi.byte
#define MPI_CHAR mpi.chr
#define MPI_INT mpi.int_
#define MPI_LONG mpi.long_
#define MPI_UNSIGNED_LONG mpi.ulong
#define MPI_LONG_LONG_INT mpi.llong
#define MPI_UNSIGNED_LONG_LONG mpi.ullong
#define MPI_UINT32_T mpi.uint32
#define MPI_UINT64_T mpi.uint64
#define MPI_FLOAT mpi.flt
#define MPI_DOUBLE mpi.dbl
#define MPI_SUM mpi.sum
#define MPI_MAX mpi.max
#define MPI_MIN mpi.min
#define MPI_Init (*mpi.Init)
#define MPI_Finalize (*mpi.Finalize)
#define MPI_Abort (*mpi.Abort)
#define MPI_Comm_rank (*mpi.Comm_rank)
#define MPI_Comm_size (*mpi.Comm_size)
#define MPI_Allreduce (*mpi.Allreduce)
#define MPI_Reduce_scatter (*mpi.Reduce_scatter)
#define MPI_Reduce (*mpi.Reduce)
#define MPI_Gather (*mpi.Gather)
#define MPI_Gatherv (*mpi.Gatherv)
#define MPI_Allgather (*mpi.Allgather)
#define MPI_Allgatherv (*mpi.Allgatherv)
#define MPI_Bcast (*mpi.Bcast)
#define MPI_Barrier (*mpi.Barrier)
#define MPI_Sendrecv (*mpi.Sendrecv)

static int started, rank, size = 1;
static void *scratch;     /* every rank's values, for the sums in order */
static size_t scratch_len;

/* Launched by mpirun: Open MPI's own variable, or a PMIx launcher's. */
static int launched(void)
{
	return getenv("OMPI_COMM_WORLD_SIZE") || getenv("PMIX_RANK") || getenv("PMI_RANK");
}

/* Open MPI 4's libmpi (soname 40), global, as its plugins look for its
 * symbols; 0, or -1 when it or one of its names is missing. */
static int load(void)
{
	void *h = dlopen("libmpi.so.40", RTLD_NOW | RTLD_GLOBAL);
	struct {
		const char *name;
		void **slot;
	} names[] = {
#define FN(f) { "MPI_" #f, (void **)&mpi.f }
		FN(Init), FN(Finalize), FN(Abort), FN(Comm_rank), FN(Comm_size), FN(Allreduce),
		FN(Reduce_scatter),
		FN(Reduce), FN(Gather), FN(Gatherv), FN(Allgather), FN(Allgatherv), FN(Bcast),
		FN(Barrier), FN(Sendrecv),
#undef FN
		{ "ompi_mpi_comm_world", (void **)&mpi.world },
		{ "ompi_mpi_byte", (void **)&mpi.byte },
		{ "ompi_mpi_char", (void **)&mpi.chr },
		{ "ompi_mpi_int", (void **)&mpi.int_ },
		{ "ompi_mpi_long", (void **)&mpi.long_ },
		{ "ompi_mpi_unsigned_long", (void **)&mpi.ulong },
		{ "ompi_mpi_long_long_int", (void **)&mpi.llong },
		{ "ompi_mpi_unsigned_long_long", (void **)&mpi.ullong },
		{ "ompi_mpi_uint32_t", (void **)&mpi.uint32 },
		{ "ompi_mpi_uint64_t", (void **)&mpi.uint64 },
		{ "ompi_mpi_float", (void **)&mpi.flt },
		{ "ompi_mpi_double", (void **)&mpi.dbl },
		{ "ompi_mpi_op_sum", (void **)&mpi.sum },
		{ "ompi_mpi_op_max", (void **)&mpi.max },
		{ "ompi_mpi_op_min", (void **)&mpi.min },
	};
	size_t i;

	if (!h)
		h = dlopen("libmpi.so", RTLD_NOW | RTLD_GLOBAL);
	if (!h)
		return -1;
	for (i = 0; i < sizeof names / sizeof names[0]; i++)
		if (!(*names[i].slot = dlsym(h, names[i].name)))
			return -1;
	return 0;
}

int fin_dist_start(int *argc, char ***argv)
{
	const char *world = getenv("OMPI_COMM_WORLD_SIZE"), *local;

	if (started || !launched())
		return 0;
	/* Every rank on this machine: shared memory is the transport whatever
	 * Open MPI picks, and its default search of the network libraries
	 * for one costs 0.2 s of start-up on every rank; the user's own
	 * choice of OMPI_MCA_pml stands. */
	local = getenv("OMPI_COMM_WORLD_LOCAL_SIZE");
	if (world && local && strcmp(world, local) == 0)
		setenv("OMPI_MCA_pml", "ob1", 0);
	if (load() != 0 || MPI_Init(argc, argv) != MPI_SUCCESS)
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

int fin_dist_main(const char *prog, int argc, char **argv, int (*body)(int, char **))
{
	int rc;

	if (fin_dist_start(&argc, &argv) != 0) {
		fin_report(prog, "cannot join the MPI job (MPI_Init failed)");
		return FIN_EDATA;
	}
	rc = body(argc, argv);
	fin_dist_stop();
	return rc;
}

_Noreturn void fin_dist_abort(int code)
{
	if (started && size > 1)
		MPI_Abort(MPI_COMM_WORLD, code);
	exit(code);
}

int fin_dist_usage(size_t threads, size_t nfiles, char *const *files, fin_err *err)
{
	size_t i;

	if (!fin_dist_active())
		return FIN_OK;
	for (i = 0; i < nfiles; i++)
		if (strcmp(files[i], "-") == 0)
			nfiles = 0;
	if (!nfiles)
		return fin_fail(err, FIN_EUSAGE, "under mpirun, name the input files: standard "
				"input reaches rank 0 only");
	if (threads > 1)
		return fin_fail(err, FIN_EUSAGE, "--threads is for one process: under mpirun "
				"each rank works on one thread");
	return FIN_OK;
}

fin_input *fin_dist_open(char *const *paths, size_t n, const fin_csv_opts *opts, int shard,
			 fin_err *err)
{
	fin_input *in;

	if (shard)
		return fin_dist_shard_open(paths, n, opts, err);
	if ((in = fin_input_open(paths, n, opts, err)) && fin_dist_active() &&
	    !fin_input_rereadable(in)) {
		fin_input_close(in);
		fin_fail(err, FIN_EUSAGE, "under mpirun, every input must be a regular file, "
			 "which each rank reads: not a pipe or a device");
		return NULL;
	}
	return in;
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
	size_t at;

	if (!fin_dist_active())
		return;
	for (at = 0; at < n; at += PIECE / sizeof *v) {
		size_t m = n - at < PIECE / sizeof *v ? n - at : PIECE / sizeof *v;
		MPI_Allreduce(MPI_IN_PLACE, v + at, (int)m, MPI_FLOAT, MPI_SUM, MPI_COMM_WORLD);
	}
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

void fin_dist_runs(size_t n, size_t unit, int of, size_t *from, size_t *to)
{
	size_t runs = (n + unit - 1) / unit, ranks = (size_t)size, r = (size_t)of;
	size_t first = runs / ranks * r + (r < runs % ranks ? r : runs % ranks);
	size_t last = first + runs / ranks + (r < runs % ranks);

	*from = first * unit < n ? first * unit : n;
	*to = last * unit < n ? last * unit : n;
}

int fin_dist_agree_msg(int rc, char *msg)
{
	int mine[2] = { rc, msg && msg[0] }, *all, r, first = -1;

	if (!fin_dist_active())
		return rc;
	all = room(2 * (size_t)size * sizeof *all);
	MPI_Allgather(mine, 2, MPI_INT, all, 2, MPI_INT, MPI_COMM_WORLD);
	/* A failure agreed on before comes back with every rank's status:
	 * the rank holding its message is the one that speaks. */
	for (r = 0; r < size && first < 0; r++)
		if (all[2 * r] != 0 && all[2 * r + 1])
			first = r;
	for (r = 0; r < size && first < 0; r++)
		if (all[2 * r] != 0)
			first = r;
	if (first != rank && msg)
		msg[0] = '\0';
	return first < 0 ? 0 : all[2 * first];
}

void fin_dist_part(size_t n, size_t *from, size_t *to)
{
	fin_dist_runs(n, 1, rank, from, to);
}

/* Every rank's part of n values: counts and first places, as MPI's
 * vector collectives take them. */
static int *part_layout(size_t n, int **displs)
{
	int *counts = room(2 * (size_t)size * sizeof *counts), r;

	for (r = 0; r < size; r++) {
		size_t from, to;
		fin_dist_runs(n, 1, r, &from, &to);
		counts[r] = (int)(to - from);
		counts[size + r] = (int)from;
	}
	*displs = counts + size;
	return counts;
}

/* Copies v's values in [from, to), except those in the ranges skip,
 * into buf (add 0) or adds buf's into them (add 1); buf NULL only counts.
 * The number of values. */
static size_t pack(float *v, size_t from, size_t to, const size_t *skip, size_t nskip, float *buf,
		   int add)
{
	size_t at = from, len = 0, k, i;

	for (k = 0; k <= nskip && at < to; k++) {
		size_t s0 = k < nskip ? skip[2 * k] : to, s1 = k < nskip ? skip[2 * k + 1] : to;
		if (s1 <= at)
			continue;
		if (s0 > to)
			s0 = to;
		if (s0 > at && buf && add)
			for (i = 0; i < s0 - at; i++)
				v[at + i] += buf[len + i];
		else if (s0 > at && buf)
			memcpy(buf + len, v + at, (s0 - at) * sizeof *buf);
		if (s0 > at)
			len += s0 - at;
		at = s1;
	}
	return len;
}

/* Pairwise exchange: in step s each rank sends its values of the part of
 * rank r + s and receives rank r - s's values of its own part, which it
 * adds to its own. Each rank sends and receives (P - 1) / P of v, as in
 * a ring, in P - 1 steps; Open MPI's reduce-scatter took twice as long
 * on the gradients of fin-train's networks (it copies the whole vector
 * first). Every part is summed by its owner alone, in the order r, r - 1,
 * ..., so the ranks' copies cannot differ. */
void fin_dist_sum_part_floats(float *v, size_t n, float *work, const size_t *skip, size_t nskip)
{
	size_t from, to, mine;
	int *displs, *counts, s;

	if (!fin_dist_active())
		return;
	if (n > INT_MAX)
		fin_dist_abort(1);
	counts = part_layout(n, &displs);
	fin_dist_part(n, &from, &to);
	mine = pack(v, from, to, skip, nskip, NULL, 0);
	for (s = 1; s < size; s++) {
		int dst = (rank + s) % size, src = (rank - s + size) % size;
		size_t d0 = (size_t)displs[dst], d1 = d0 + (size_t)counts[dst];
		float *out = work + mine;
		size_t len = pack(v, d0, d1, skip, nskip, nskip ? out : NULL, 0);
		MPI_Sendrecv(nskip ? out : v + d0, (int)len, MPI_FLOAT, dst, s, work, (int)mine,
			     MPI_FLOAT, src, s, MPI_COMM_WORLD, MPI_STATUS_IGNORE);
		pack(v, from, to, skip, nskip, work, 1);
	}
}

void fin_dist_gather_rows(float *all, size_t n, size_t width)
{
	int *displs, *counts, r;

	if (!fin_dist_active())
		return;
	if (n * width > INT_MAX)
		fin_dist_abort(1);
	counts = part_layout(n, &displs);
	for (r = 0; r < size; r++) {
		counts[r] *= (int)width;
		displs[r] *= (int)width;
	}
	MPI_Allgatherv(MPI_IN_PLACE, 0, MPI_FLOAT, all, counts, displs, MPI_FLOAT, MPI_COMM_WORLD);
}

void fin_dist_share_part_floats(float *v, size_t n)
{
	int *displs, *counts;

	if (!fin_dist_active())
		return;
	if (n > INT_MAX)
		fin_dist_abort(1);
	counts = part_layout(n, &displs);
	MPI_Allgatherv(MPI_IN_PLACE, 0, MPI_FLOAT, v, counts, displs, MPI_FLOAT, MPI_COMM_WORLD);
}

/* The owner of file i of n: the rank whose share of the list holds it. */
static int file_owner(size_t i, size_t n)
{
	int r;
	for (r = 0; r < size; r++) {
		size_t from, to;
		fin_dist_runs(n, 1, r, &from, &to);
		if (i >= from && i < to)
			return r;
	}
	return size - 1;
}

/* File i goes from its owner to every rank in pieces, each told by its
 * length first (0 the end, -1 the owner's failure); the others write it
 * to a copy. A rank that cannot write goes on taking the pieces, so that
 * no rank waits for it, and fails after. FIN_OK with *copy the copy (-1
 * on the owner); *stop set when the owner failed. */
static int send_file(const char *path, int owner, char *buf, size_t cap, int *copy, int *stop,
		     fin_err *err)
{
	int fd = -1, rc = FIN_OK;
	long long len = 0;
	struct stat st;

	*copy = -1;
	*stop = 0;
	if (rank == owner) {
		if ((fd = open(path, O_RDONLY)) < 0)
			rc = fin_fail(err, FIN_EUSAGE, "%s: %s", path, strerror(errno));
		else if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode))
			rc = fin_fail(err, FIN_EUSAGE, "%s: with --shard, each input must be a "
				      "regular file: not a pipe or a device", path);
	} else if ((*copy = fin_input_temp(err)) < 0) {
		rc = err->code;
	}
	for (;;) {
		if (rank == owner) {
			ssize_t got = rc == FIN_OK ? read(fd, buf, cap) : -1;
			while (got < 0 && rc == FIN_OK && errno == EINTR)
				got = read(fd, buf, cap);
			if (got < 0 && rc == FIN_OK)
				rc = fin_fail(err, FIN_EDATA, "%s: %s", path, strerror(errno));
			len = got;
		}
		MPI_Bcast(&len, 1, MPI_LONG_LONG_INT, owner, MPI_COMM_WORLD);
		if (len <= 0)
			break;
		MPI_Bcast(buf, (int)len, MPI_BYTE, owner, MPI_COMM_WORLD);
		if (rank != owner && rc == FIN_OK)
			rc = fin_input_temp_write(*copy, buf, (size_t)len, path, err);
	}
	if (fd >= 0)
		close(fd);
	*stop = len < 0;
	if (rc == FIN_OK && *copy >= 0 && lseek(*copy, 0, SEEK_SET) != 0)
		rc = fin_fail(err, FIN_EDATA, "%s: %s", path, strerror(errno));
	return rc;
}

fin_input *fin_dist_shard_open(char *const *paths, size_t n, const fin_csv_opts *opts,
			       fin_err *err)
{
	enum { CAP = 1 << 22 };
	int *copies, rc = FIN_OK, stop = 0;
	char *buf;
	size_t i;

	if (!fin_dist_active())
		return fin_input_open(paths, n, opts, err);
	if (n < (size_t)size) {
		fin_fail(err, FIN_EUSAGE, "--shard: %zu input file%s for %d ranks: name one or "
			 "more for each rank", n, n == 1 ? "" : "s", size);
		return NULL;
	}
	copies = malloc(n * sizeof *copies);
	buf = malloc(CAP);
	if (!copies || !buf)
		fin_dist_abort(FIN_EDATA);
	for (i = 0; i < n; i++)
		copies[i] = -1;
	for (i = 0; i < n && !stop; i++) {
		int got = send_file(paths[i], file_owner(i, n), buf, CAP, &copies[i], &stop,
				    rc == FIN_OK ? err : &(fin_err){ 0 });
		if (rc == FIN_OK)
			rc = got;
	}
	free(buf);
	if ((rc = fin_dist_agree_msg(rc, err->msg)) != FIN_OK) {
		err->code = rc;
		for (i = 0; i < n; i++)
			if (copies[i] >= 0)
				close(copies[i]);
		free(copies);
		return NULL;
	}
	{
		fin_input *in = fin_input_open_copies(paths, n, copies, opts, err);
		free(copies);
		return in;
	}
}
