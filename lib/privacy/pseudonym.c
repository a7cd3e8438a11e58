#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "privacy/pseudonym.h"

static int key_from(fin_pseudonym_key *k, const unsigned char *key, size_t n, const char *what,
		    fin_err *err)
{
	if (n < FIN_KEY_MIN)
		return fin_fail(err, FIN_EUSAGE, "%s: the key has %zu bytes, at least %d are needed",
				what, n, FIN_KEY_MIN);
	if (n > FIN_KEY_MAX)
		return fin_fail(err, FIN_EUSAGE, "%s: the key has more than %d bytes", what, FIN_KEY_MAX);
	if (sodium_init() < 0)
		return fin_fail(err, FIN_EUSAGE, "libsodium could not be initialised");
	crypto_auth_hmacsha256_init(&k->keyed, key, n);
	return FIN_OK;
}

int fin_pseudonym_key_file(fin_pseudonym_key *k, const char *path, fin_err *err)
{
	char what[300];
	unsigned char *buf;
	size_t n = 0;
	struct stat st;
	int fd, rc;

	memset(k, 0, sizeof *k);
	snprintf(what, sizeof what, "--key-file '%s'", path);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return fin_fail(err, FIN_EUSAGE, "%s: %s", what, strerror(errno));
	if (fstat(fd, &st) != 0 || S_ISDIR(st.st_mode)) {
		close(fd);
		return fin_fail(err, FIN_EUSAGE, "%s: not a file", what);
	}
	k->readable_by_others = S_ISREG(st.st_mode) && (st.st_mode & S_IROTH);
	/* One byte more than a key may have, to see that it has too many. */
	buf = malloc(FIN_KEY_MAX + 1);
	if (!buf) {
		close(fd);
		return fin_fail(err, FIN_EUSAGE, "out of memory");
	}
	while (n < FIN_KEY_MAX + 1) {
		ssize_t got = read(fd, buf + n, FIN_KEY_MAX + 1 - n);
		if (got < 0 && errno == EINTR)
			continue;
		if (got < 0) {
			rc = fin_fail(err, FIN_EUSAGE, "%s: %s", what, strerror(errno));
			goto done;
		}
		if (got == 0)
			break;
		n += (size_t)got;
	}
	rc = key_from(k, buf, n, what, err);
done:
	sodium_memzero(buf, FIN_KEY_MAX + 1);
	free(buf);
	close(fd);
	return rc;
}

int fin_pseudonym_key_env(fin_pseudonym_key *k, const char *name, fin_err *err)
{
	char what[300];
	const char *v = getenv(name);

	memset(k, 0, sizeof *k);
	snprintf(what, sizeof what, "--key-env %s", name);
	if (!v)
		return fin_fail(err, FIN_EUSAGE, "%s: the environment variable is not set", what);
	return key_from(k, (const unsigned char *)v, strlen(v), what, err);
}

void fin_pseudonym(const fin_pseudonym_key *k, const char *s, size_t n, size_t len, char *hex)
{
	crypto_auth_hmacsha256_state st = k->keyed;
	unsigned char mac[crypto_auth_hmacsha256_BYTES];
	char full[2 * crypto_auth_hmacsha256_BYTES + 1];

	crypto_auth_hmacsha256_update(&st, (const unsigned char *)s, n);
	crypto_auth_hmacsha256_final(&st, mac);
	sodium_bin2hex(full, sizeof full, mac, sizeof mac);
	memcpy(hex, full, len);
	hex[len] = '\0';
}

void fin_pseudonym_key_wipe(fin_pseudonym_key *k)
{
	sodium_memzero(k, sizeof *k);
}
