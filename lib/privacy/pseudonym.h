/* Keyed pseudonyms: the lowercase hex of HMAC-SHA-256(key, value), by
 * libsodium. The same key gives the same pseudonym in every file, so that
 * masked tables still join; without the key a pseudonym cannot be found
 * again by hashing every possible account number, as an unkeyed hash can.
 * The key never comes from the command line, where ps shows it. */
#ifndef FIN_PSEUDONYM_H
#define FIN_PSEUDONYM_H

#include <stddef.h>

#include <sodium.h>

#include "core/err.h"

enum { FIN_KEY_MIN = 16, FIN_KEY_MAX = 65536, FIN_PSEUDONYM_HEX = 64 };

typedef struct fin_pseudonym_key {
	/* HMAC's state after the key, copied for each value. */
	crypto_auth_hmacsha256_state keyed;
	int readable_by_others; /* the key file's mode lets others read it */
} fin_pseudonym_key;

/* The key is the bytes of the file at path, exactly (a line end is part of
 * it), FIN_KEY_MIN to FIN_KEY_MAX of them; otherwise FIN_EUSAGE. */
int fin_pseudonym_key_file(fin_pseudonym_key *k, const char *path, fin_err *err);

/* The key is the bytes of the environment variable name, as for a file. */
int fin_pseudonym_key_env(fin_pseudonym_key *k, const char *name, fin_err *err);

/* Writes the first len (16 to 64) lowercase hex digits of
 * HMAC-SHA-256(key, s[0..n)) to hex, NUL-ended (len + 1 bytes). */
void fin_pseudonym(const fin_pseudonym_key *k, const char *s, size_t n, size_t len, char *hex);

/* Wipes the keyed state. */
void fin_pseudonym_key_wipe(fin_pseudonym_key *k);

#endif
