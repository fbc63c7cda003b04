/*
 * abi_test: exercises every function of modelseal.h, paddle_model_encrypt.h and
 * paddle_model_decrypt.h from C: its error paths (NULL arguments, bad and wrong keys, missing,
 * plain and truncated files, bad indexes and flags) and its success path, checking that
 * out-parameters are untouched on failure and that decrypted bytes equal the plain files.
 *
 *   abi_test FIXTURE_ROOT     (laid out by crates/modelseal-ffi/tests/common/mod.rs)
 *
 * Prints every failed check and exits 1 if any failed.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "modelseal.h"
#include "paddle_model_decrypt.h"
#include "paddle_model_encrypt.h"

/* Test hook exported by the library but kept out of the header. */
ModelsealStatus modelseal_test_panic(void);

static int checks, failures;
static const char *root;

#define EXPECT(expr, want)                                                                                     \
    do {                                                                                                       \
        long got_ = (long)(expr);                                                                              \
        checks++;                                                                                              \
        if (got_ != (long)(want)) {                                                                            \
            failures++;                                                                                        \
            fprintf(stderr, "%s:%d: %s = %ld, expected %ld (%s: %s)\n", __FILE__, __LINE__, #expr, got_,       \
                    (long)(want), modelseal_last_error_name(), modelseal_last_error());                        \
        }                                                                                                      \
    } while (0)

#define EXPECT_TRUE(cond)                                                                                      \
    do {                                                                                                       \
        checks++;                                                                                              \
        if (!(cond)) {                                                                                         \
            failures++;                                                                                        \
            fprintf(stderr, "%s:%d: expected %s\n", __FILE__, __LINE__, #cond);                                \
        }                                                                                                      \
    } while (0)

#define EXPECT_NAME(want) EXPECT_TRUE(strcmp(modelseal_last_error_name(), (want)) == 0)

static char *path(const char *rel) {
    static char bufs[8][4096];
    static int next;
    char *b = bufs[next++ % 8];
    snprintf(b, 4096, "%s/%s", root, rel);
    return b;
}

static unsigned char *read_all(const char *p, size_t *len) {
    FILE *f = fopen(p, "rb");
    unsigned char *data;
    long n;
    if (!f) return NULL;
    fseek(f, 0, SEEK_END);
    n = ftell(f);
    fseek(f, 0, SEEK_SET);
    data = malloc((size_t)n + 1);
    *len = fread(data, 1, (size_t)n, f);
    fclose(f);
    return data;
}

static void read_key(const char *rel, char out[MODELSEAL_KEY_BUFFER_LEN]) {
    size_t len = 0;
    unsigned char *d = read_all(path(rel), &len);
    memset(out, 0, MODELSEAL_KEY_BUFFER_LEN);
    if (d && len >= 44) memcpy(out, d, 44);
    free(d);
}

static int same_as_file(const unsigned char *data, size_t len, const char *rel) {
    size_t flen = 0;
    unsigned char *f = read_all(path(rel), &flen);
    int same = f && flen == len && (len == 0 || memcmp(f, data, len) == 0);
    free(f);
    return same;
}

static int exists(const char *p) {
    struct stat st;
    return stat(p, &st) == 0;
}

static char key[MODELSEAL_KEY_BUFFER_LEN], key_nul[MODELSEAL_KEY_BUFFER_LEN], wrong[MODELSEAL_KEY_BUFFER_LEN];
static ModelsealDir *const DIR_SENTINEL = (ModelsealDir *)0x10;
static ModelsealBuffer *const BUF_SENTINEL = (ModelsealBuffer *)0x20;

static void test_errors_and_keys(void) {
    char buf[64], *s = NULL;
    const char *v = modelseal_version();
    EXPECT_TRUE(v != NULL && strlen(v) > 0);
    EXPECT_TRUE(strcmp(modelseal_status_name(MODELSEAL_STATUS_OK), "ok") == 0);
    EXPECT_TRUE(strcmp(modelseal_status_name(MODELSEAL_STATUS_WRONG_KEY), "wrong_key") == 0);
    EXPECT_TRUE(strcmp(modelseal_status_name(12345), "unknown") == 0);
    EXPECT_TRUE(strcmp(modelseal_status_name(-1), "unknown") == 0);

    /* modelseal_key_generate */
    EXPECT(modelseal_key_generate(NULL, 64), MODELSEAL_STATUS_NULL_ARGUMENT);
    EXPECT_NAME("null_argument");
    EXPECT_TRUE(strstr(modelseal_last_error(), "out") != NULL);
    memset(buf, 'x', sizeof buf);
    EXPECT(modelseal_key_generate(buf, 44), MODELSEAL_STATUS_BUFFER_TOO_SMALL);
    EXPECT_TRUE(buf[0] == 'x' && buf[43] == 'x');
    EXPECT(modelseal_key_generate(buf, 0), MODELSEAL_STATUS_BUFFER_TOO_SMALL);
    EXPECT(modelseal_key_generate(buf, MODELSEAL_KEY_BUFFER_LEN), MODELSEAL_STATUS_OK);
    EXPECT(strlen(buf), 44);
    EXPECT_TRUE(strcmp(modelseal_last_error(), "") == 0);
    EXPECT_NAME("");
    EXPECT(modelseal_key_validate(buf), MODELSEAL_STATUS_OK);

    /* modelseal_key_generate_string / modelseal_string_free */
    EXPECT(modelseal_key_generate_string(NULL), MODELSEAL_STATUS_NULL_ARGUMENT);
    EXPECT(modelseal_key_generate_string(&s), MODELSEAL_STATUS_OK);
    EXPECT_TRUE(s != NULL && strlen(s) == 44);
    EXPECT(modelseal_key_validate(s), MODELSEAL_STATUS_OK);
    modelseal_string_free(&s);
    EXPECT_TRUE(s == NULL);
    modelseal_string_free(&s);
    modelseal_string_free(NULL);

    /* modelseal_key_validate */
    EXPECT(modelseal_key_validate(NULL), MODELSEAL_STATUS_NULL_ARGUMENT);
    EXPECT(modelseal_key_validate("MTIz"), MODELSEAL_STATUS_BAD_KEY);
    EXPECT_NAME("bad_key");
    EXPECT(modelseal_key_validate(""), MODELSEAL_STATUS_BAD_KEY);
    EXPECT(modelseal_key_validate("\xff\xfe"), MODELSEAL_STATUS_INVALID_ARGUMENT);
    EXPECT(modelseal_key_validate(key_nul), MODELSEAL_STATUS_OK);

    /* the last error survives the functions documented to leave it alone */
    EXPECT(modelseal_key_validate("MTIz"), MODELSEAL_STATUS_BAD_KEY);
    modelseal_string_free(NULL);
    modelseal_buffer_free(NULL);
    modelseal_dir_free(NULL);
    paddle_buffer_free(NULL);
    (void)modelseal_buffer_len(NULL);
    (void)modelseal_buffer_data(NULL);
    (void)modelseal_status_name(3);
    (void)modelseal_version();
    EXPECT_NAME("bad_key");

    /* the panic boundary */
    EXPECT(modelseal_test_panic(), MODELSEAL_STATUS_PANIC);
    EXPECT_NAME("panic");
    EXPECT_TRUE(strstr(modelseal_last_error(), "deliberate") != NULL);
}

static void test_seal(void) {
    ModelsealBuffer *out = BUF_SENTINEL, *opened = NULL;
    static const unsigned char data[] = "hello world !";
    EXPECT(modelseal_seal_dir(NULL, path("plain"), path("work/s1"), 0, 0, 0), MODELSEAL_STATUS_NULL_ARGUMENT);
    EXPECT(modelseal_seal_dir(key, NULL, path("work/s1"), 0, 0, 0), MODELSEAL_STATUS_NULL_ARGUMENT);
    EXPECT(modelseal_seal_dir(key, path("plain"), NULL, 0, 0, 0), MODELSEAL_STATUS_NULL_ARGUMENT);
    EXPECT(modelseal_seal_dir("not a key", path("plain"), path("work/s1"), 0, 0, 0), MODELSEAL_STATUS_BAD_KEY);
    EXPECT(modelseal_seal_dir(key, path("plain"), path("work/s1"), 7, 0, 0), MODELSEAL_STATUS_INVALID_ARGUMENT);
    EXPECT(modelseal_seal_dir(key, path("plain"), path("work/s1"), 0, 5, 0), MODELSEAL_STATUS_INVALID_ARGUMENT);
    EXPECT(modelseal_seal_dir(key, path("plain"), path("work/s1"), 0, 25, 0), MODELSEAL_STATUS_INVALID_ARGUMENT);
    EXPECT(modelseal_seal_dir(key, path("plain"), path("work/s1"), 0, 0, 4), MODELSEAL_STATUS_INVALID_ARGUMENT);
    EXPECT(modelseal_seal_dir(key, path("missing"), path("work/s1"), 0, 0, 0), MODELSEAL_STATUS_IO);
    EXPECT(modelseal_seal_dir(key, path("v2"), path("work/s1"), 0, 0, 0), MODELSEAL_STATUS_INVALID_ARGUMENT);
    EXPECT_NAME("key_required");
    EXPECT(modelseal_seal_dir(key, path("plain"), path("v2"), 0, 0, 0), MODELSEAL_STATUS_INVALID_ARGUMENT);
    EXPECT(modelseal_seal_dir(key, path("plain"), path("plain/inside"), 0, 0, 0), MODELSEAL_STATUS_INVALID_ARGUMENT);
    EXPECT(modelseal_seal_dir(key, path("empty"), path("work/s1"), 0, 0, 0), MODELSEAL_STATUS_INVALID_ARGUMENT);
    EXPECT_TRUE(!exists(path("work/s1")));
    EXPECT(modelseal_seal_dir(key, path("plain"), path("work/s1"), MODELSEAL_FORMAT_V2, 12, 0), MODELSEAL_STATUS_OK);
    EXPECT_TRUE(exists(path("work/s1/modelseal.manifest")));
    EXPECT(modelseal_seal_dir(key, path("plain"), path("work/s1"), MODELSEAL_FORMAT_V2, 0, 0), MODELSEAL_STATUS_INVALID_ARGUMENT);
    EXPECT(modelseal_seal_dir(key, path("plain"), path("work/s1"), MODELSEAL_FORMAT_V2, 0, MODELSEAL_SEAL_FORCE), MODELSEAL_STATUS_OK);
    EXPECT(modelseal_seal_dir(key_nul, path("plain"), path("work/s1v1"), MODELSEAL_FORMAT_PADDLE_V1, 0, 0), MODELSEAL_STATUS_OK);
    EXPECT_TRUE(exists(path("work/s1v1/__model__.encrypted")) && exists(path("work/s1v1/.success")));

    EXPECT(modelseal_seal_file(NULL, path("plain.bin"), path("work/f1"), 0, 0), MODELSEAL_STATUS_NULL_ARGUMENT);
    EXPECT(modelseal_seal_file(key, NULL, path("work/f1"), 0, 0), MODELSEAL_STATUS_NULL_ARGUMENT);
    EXPECT(modelseal_seal_file(key, path("plain.bin"), NULL, 0, 0), MODELSEAL_STATUS_NULL_ARGUMENT);
    EXPECT(modelseal_seal_file("MTIz", path("plain.bin"), path("work/f1"), 0, 0), MODELSEAL_STATUS_BAD_KEY);
    EXPECT(modelseal_seal_file(key, path("plain.bin"), path("work/f1"), 2, 0), MODELSEAL_STATUS_INVALID_ARGUMENT);
    EXPECT(modelseal_seal_file(key, path("plain.bin"), path("work/f1"), 0, 99), MODELSEAL_STATUS_INVALID_ARGUMENT);
    EXPECT(modelseal_seal_file(key, path("missing.bin"), path("work/f1"), 0, 0), MODELSEAL_STATUS_IO);
    EXPECT(modelseal_seal_file(key, path("plain.bin"), path("v2.bin"), 0, 0), MODELSEAL_STATUS_INVALID_ARGUMENT);
    EXPECT(modelseal_seal_file(key, path("plain.bin"), path("missing/dir/f1"), 0, 0), MODELSEAL_STATUS_IO);
    EXPECT(modelseal_seal_file(key, path("plain.bin"), path("work/f1"), MODELSEAL_FORMAT_V2, 12), MODELSEAL_STATUS_OK);
    EXPECT(modelseal_seal_file(key, path("plain.bin"), path("work/f1v1"), MODELSEAL_FORMAT_PADDLE_V1, 0), MODELSEAL_STATUS_OK);
    EXPECT(modelseal_file_open(path("work/f1"), key, &opened), MODELSEAL_STATUS_OK);
    EXPECT_TRUE(same_as_file(modelseal_buffer_data(opened), modelseal_buffer_len(opened), "plain.bin"));
    modelseal_buffer_free(&opened);
    EXPECT(modelseal_file_open(path("work/f1v1"), key, &opened), MODELSEAL_STATUS_OK);
    EXPECT_TRUE(same_as_file(modelseal_buffer_data(opened), modelseal_buffer_len(opened), "plain.bin"));
    modelseal_buffer_free(&opened);

    EXPECT(modelseal_bytes_seal(NULL, data, 13, "x", 0, &out), MODELSEAL_STATUS_NULL_ARGUMENT);
    EXPECT(modelseal_bytes_seal(key, NULL, 13, "x", 0, &out), MODELSEAL_STATUS_NULL_ARGUMENT);
    EXPECT(modelseal_bytes_seal(key, data, 13, NULL, 0, &out), MODELSEAL_STATUS_NULL_ARGUMENT);
    EXPECT(modelseal_bytes_seal(key, data, 13, "x", 0, NULL), MODELSEAL_STATUS_NULL_ARGUMENT);
    EXPECT(modelseal_bytes_seal("MTIz", data, 13, "x", 0, &out), MODELSEAL_STATUS_BAD_KEY);
    EXPECT(modelseal_bytes_seal(key, data, 13, "x", 3, &out), MODELSEAL_STATUS_INVALID_ARGUMENT);
    EXPECT(modelseal_bytes_seal(key, data, 13, "", 0, &out), MODELSEAL_STATUS_INVALID_ARGUMENT);
    EXPECT_TRUE(out == BUF_SENTINEL);
    EXPECT(modelseal_bytes_seal(key, data, 13, "hello.txt", MODELSEAL_FORMAT_V2, &out), MODELSEAL_STATUS_OK);
    EXPECT(paddle_check_buffer_encrypted(modelseal_buffer_data(out), modelseal_buffer_len(out)), 0);
    EXPECT(modelseal_bytes_open(modelseal_buffer_data(out), modelseal_buffer_len(out), key, &opened), MODELSEAL_STATUS_OK);
    EXPECT(modelseal_buffer_len(opened), 13);
    EXPECT_TRUE(memcmp(modelseal_buffer_data(opened), data, 13) == 0);
    modelseal_buffer_free(&opened);
    modelseal_buffer_free(&out);
    EXPECT(modelseal_bytes_seal(key, data, 0, "empty", MODELSEAL_FORMAT_PADDLE_V1, &out), MODELSEAL_STATUS_OK);
    EXPECT(modelseal_buffer_len(out), 135 + 16);
    EXPECT(modelseal_bytes_open(modelseal_buffer_data(out), modelseal_buffer_len(out), key, &opened), MODELSEAL_STATUS_OK);
    EXPECT(modelseal_buffer_len(opened), 0);
    EXPECT_TRUE(modelseal_buffer_data(opened) != NULL);
    modelseal_buffer_free(&opened);
    modelseal_buffer_free(&out);
    EXPECT_TRUE(out == NULL);
}

static void test_dir(void) {
    ModelsealDir *dir = DIR_SENTINEL;
    ModelsealBuffer *b = BUF_SENTINEL;
    ModelsealStorage storage = (ModelsealStorage)77;
    ModelsealRole role = (ModelsealRole)77;
    size_t count = 777, index = 777;
    const char *name = "sentinel";

    EXPECT(modelseal_dir_open(NULL, key, &dir), MODELSEAL_STATUS_NULL_ARGUMENT);
    EXPECT(modelseal_dir_open(path("v2"), key, NULL), MODELSEAL_STATUS_NULL_ARGUMENT);
    EXPECT(modelseal_dir_open(path("v2"), "bad", &dir), MODELSEAL_STATUS_BAD_KEY);
    EXPECT(modelseal_dir_open(path("missing"), key, &dir), MODELSEAL_STATUS_IO);
    EXPECT(modelseal_dir_open(path("key.txt"), NULL, &dir), MODELSEAL_STATUS_INVALID_ARGUMENT);
    EXPECT(modelseal_dir_open("", key, &dir), MODELSEAL_STATUS_INVALID_ARGUMENT);
    EXPECT(modelseal_dir_open(path("v2"), wrong, &dir), MODELSEAL_STATUS_WRONG_KEY);
    EXPECT_NAME("wrong_key");
    EXPECT_TRUE(strstr(modelseal_last_error(), "modelseal.manifest") != NULL);
    EXPECT(modelseal_dir_open(path("v2"), NULL, &dir), MODELSEAL_STATUS_INVALID_ARGUMENT);
    EXPECT_NAME("key_required");
    EXPECT(modelseal_dir_open(path("v1"), NULL, &dir), MODELSEAL_STATUS_INVALID_ARGUMENT);
    EXPECT(modelseal_dir_open(path("plain"), key, &dir), MODELSEAL_STATUS_UNSUPPORTED);
    EXPECT_NAME("not_sealed");
    EXPECT_TRUE(dir == DIR_SENTINEL);

    /* NULL handles everywhere */
    EXPECT(modelseal_dir_storage(NULL, &storage), MODELSEAL_STATUS_NULL_ARGUMENT);
    EXPECT(modelseal_dir_member_count(NULL, &count), MODELSEAL_STATUS_NULL_ARGUMENT);
    EXPECT(modelseal_dir_member_name(NULL, 0, &name), MODELSEAL_STATUS_NULL_ARGUMENT);
    EXPECT(modelseal_dir_member_role(NULL, 0, &role), MODELSEAL_STATUS_NULL_ARGUMENT);
    EXPECT(modelseal_dir_find_role(NULL, 0, &index), MODELSEAL_STATUS_NULL_ARGUMENT);
    EXPECT(modelseal_dir_read(NULL, "__model__", &b), MODELSEAL_STATUS_NULL_ARGUMENT);
    modelseal_dir_free(NULL);
    dir = NULL;
    modelseal_dir_free(&dir);

    EXPECT(modelseal_dir_open(path("v2"), key, &dir), MODELSEAL_STATUS_OK);
    EXPECT(modelseal_dir_storage(dir, NULL), MODELSEAL_STATUS_NULL_ARGUMENT);
    EXPECT(modelseal_dir_storage(dir, &storage), MODELSEAL_STATUS_OK);
    EXPECT(storage, MODELSEAL_STORAGE_SEALED_V2);
    EXPECT(modelseal_dir_member_count(dir, NULL), MODELSEAL_STATUS_NULL_ARGUMENT);
    EXPECT(modelseal_dir_member_count(dir, &count), MODELSEAL_STATUS_OK);
    EXPECT(count, 4);
    EXPECT(modelseal_dir_member_name(dir, 0, NULL), MODELSEAL_STATUS_NULL_ARGUMENT);
    EXPECT(modelseal_dir_member_name(dir, 4, &name), MODELSEAL_STATUS_NOT_FOUND);
    EXPECT(modelseal_dir_member_name(dir, (size_t)-1, &name), MODELSEAL_STATUS_NOT_FOUND);
    EXPECT_TRUE(strcmp(name, "sentinel") == 0);
    EXPECT(modelseal_dir_member_name(dir, 1, &name), MODELSEAL_STATUS_OK);
    EXPECT_TRUE(strcmp(name, "__model__") == 0);
    EXPECT(modelseal_dir_member_role(dir, 0, NULL), MODELSEAL_STATUS_NULL_ARGUMENT);
    EXPECT(modelseal_dir_member_role(dir, 9, &role), MODELSEAL_STATUS_NOT_FOUND);
    EXPECT(role, 77);
    EXPECT(modelseal_dir_member_role(dir, 2, &role), MODELSEAL_STATUS_OK);
    EXPECT(role, MODELSEAL_ROLE_PARAMS);
    EXPECT(modelseal_dir_find_role(dir, MODELSEAL_ROLE_MODEL, NULL), MODELSEAL_STATUS_NULL_ARGUMENT);
    EXPECT(modelseal_dir_find_role(dir, 5, &index), MODELSEAL_STATUS_INVALID_ARGUMENT);
    EXPECT(modelseal_dir_find_role(dir, MODELSEAL_ROLE_LABELS, &index), MODELSEAL_STATUS_NOT_FOUND);
    EXPECT(index, 777);
    EXPECT(modelseal_dir_find_role(dir, MODELSEAL_ROLE_CONFIG, &index), MODELSEAL_STATUS_OK);
    EXPECT(index, 3);
    EXPECT(modelseal_dir_read(dir, NULL, &b), MODELSEAL_STATUS_NULL_ARGUMENT);
    EXPECT(modelseal_dir_read(dir, "__model__", NULL), MODELSEAL_STATUS_NULL_ARGUMENT);
    EXPECT(modelseal_dir_read(dir, "nope", &b), MODELSEAL_STATUS_NOT_FOUND);
    EXPECT(modelseal_dir_read(dir, "__model__.sealed", &b), MODELSEAL_STATUS_NOT_FOUND);
    EXPECT(modelseal_dir_read(dir, "\xff", &b), MODELSEAL_STATUS_INVALID_ARGUMENT);
    EXPECT_TRUE(b == BUF_SENTINEL);
    EXPECT(modelseal_dir_read(dir, "__params__", &b), MODELSEAL_STATUS_OK);
    EXPECT_TRUE(same_as_file(modelseal_buffer_data(b), modelseal_buffer_len(b), "plain/__params__"));
    modelseal_buffer_free(&b);
    EXPECT(modelseal_dir_read(dir, ".success", &b), MODELSEAL_STATUS_OK);
    EXPECT(modelseal_buffer_len(b), 0);
    EXPECT_TRUE(modelseal_buffer_data(b) != NULL);
    modelseal_buffer_free(&b);
    modelseal_dir_free(&dir);
    EXPECT_TRUE(dir == NULL);

    /* PaddleX v1 directory: refused unless allowed explicitly */
    dir = DIR_SENTINEL;
    EXPECT(modelseal_dir_open(path("v1"), key_nul, &dir), MODELSEAL_STATUS_UNSUPPORTED);
    EXPECT_NAME("paddlex_v1_not_allowed");
    EXPECT(modelseal_dir_open_ex(path("v1"), key_nul, NULL, &dir), MODELSEAL_STATUS_UNSUPPORTED);
    EXPECT_TRUE(dir == DIR_SENTINEL);
    dir = NULL;
    {
        ModelsealOpenOptions v1_ok = {1, NULL};
        ModelsealOpenOptions pinned = {0, "00112233445566778899aabbccddeeff"};
        ModelsealOpenOptions malformed = {0, "not hex"};
        char id[MODELSEAL_SEAL_ID_BUFFER_LEN];
        char short_buf[8];
        /* sealing id of a v2 directory, and pinning it */
        EXPECT(modelseal_dir_open(path("v2"), key, &dir), MODELSEAL_STATUS_OK);
        EXPECT(modelseal_dir_seal_id(dir, short_buf, sizeof short_buf), MODELSEAL_STATUS_BUFFER_TOO_SMALL);
        EXPECT(modelseal_dir_seal_id(dir, NULL, sizeof id), MODELSEAL_STATUS_NULL_ARGUMENT);
        EXPECT(modelseal_dir_seal_id(dir, id, sizeof id), MODELSEAL_STATUS_OK);
        EXPECT(strlen(id), 32);
        modelseal_dir_free(&dir);
        {
            ModelsealOpenOptions same = {0, id};
            EXPECT(modelseal_dir_open_ex(path("v2"), key, &same, &dir), MODELSEAL_STATUS_OK);
            modelseal_dir_free(&dir);
        }
        dir = DIR_SENTINEL;
        EXPECT(modelseal_dir_open_ex(path("v2"), key, &pinned, &dir), MODELSEAL_STATUS_INTEGRITY);
        EXPECT_NAME("seal_id_mismatch");
        EXPECT(modelseal_dir_open_ex(path("v2"), key, &malformed, &dir), MODELSEAL_STATUS_INVALID_ARGUMENT);
        EXPECT_TRUE(dir == DIR_SENTINEL);
        dir = NULL;
        /* v1 with the opt-in, key with 0x00 bytes; a wrong key shows when a member is read */
        EXPECT(modelseal_dir_open_ex(path("v1"), key_nul, &v1_ok, &dir), MODELSEAL_STATUS_OK);
        EXPECT(modelseal_dir_seal_id(dir, id, sizeof id), MODELSEAL_STATUS_NOT_FOUND);
    }
    EXPECT(modelseal_dir_storage(dir, &storage), MODELSEAL_STATUS_OK);
    EXPECT(storage, MODELSEAL_STORAGE_PADDLE_V1);
    EXPECT(modelseal_dir_read(dir, "__model__", &b), MODELSEAL_STATUS_OK);
    EXPECT_TRUE(same_as_file(modelseal_buffer_data(b), modelseal_buffer_len(b), "plain/__model__"));
    modelseal_buffer_free(&b);
    EXPECT(modelseal_dir_read(dir, "model.yml", &b), MODELSEAL_STATUS_OK);
    EXPECT_TRUE(same_as_file(modelseal_buffer_data(b), modelseal_buffer_len(b), "plain/model.yml"));
    modelseal_buffer_free(&b);
    modelseal_dir_free(&dir);
    {
        ModelsealOpenOptions v1_ok = {1, NULL};
        EXPECT(modelseal_dir_open_ex(path("v1"), key, &v1_ok, &dir), MODELSEAL_STATUS_OK);
    }
    b = BUF_SENTINEL;
    EXPECT(modelseal_dir_read(dir, "__params__", &b), MODELSEAL_STATUS_WRONG_KEY);
    EXPECT_TRUE(b == BUF_SENTINEL);
    modelseal_dir_free(&dir);

    /* truncated member: refused when the directory is opened (file length vs its header) */
    dir = DIR_SENTINEL;
    EXPECT(modelseal_dir_open(path("truncated"), key, &dir), MODELSEAL_STATUS_INTEGRITY);
    EXPECT_NAME("truncated");
    EXPECT_TRUE(strstr(modelseal_last_error(), "__params__.sealed") != NULL);
    EXPECT_TRUE(dir == DIR_SENTINEL);

    /* plain directory without a key */
    EXPECT(modelseal_dir_open(path("plain"), NULL, &dir), MODELSEAL_STATUS_OK);
    EXPECT(modelseal_dir_storage(dir, &storage), MODELSEAL_STATUS_OK);
    EXPECT(storage, MODELSEAL_STORAGE_PLAIN);
    modelseal_dir_free(&dir);
}

static void test_files(void) {
    ModelsealBuffer *b = BUF_SENTINEL;
    ModelsealStorage storage = (ModelsealStorage)77;
    size_t len = 0;
    unsigned char *sealed = read_all(path("v2.bin"), &len);

    EXPECT(modelseal_file_open(NULL, key, &b), MODELSEAL_STATUS_NULL_ARGUMENT);
    EXPECT(modelseal_file_open(path("v2.bin"), NULL, &b), MODELSEAL_STATUS_NULL_ARGUMENT);
    EXPECT(modelseal_file_open(path("v2.bin"), key, NULL), MODELSEAL_STATUS_NULL_ARGUMENT);
    EXPECT(modelseal_file_open(path("v2.bin"), "bad", &b), MODELSEAL_STATUS_BAD_KEY);
    EXPECT(modelseal_file_open(path("missing.bin"), key, &b), MODELSEAL_STATUS_IO);
    EXPECT(modelseal_file_open(path("plain.bin"), key, &b), MODELSEAL_STATUS_UNSUPPORTED);
    EXPECT_NAME("not_sealed");
    EXPECT(modelseal_file_open(path("v2.bin"), wrong, &b), MODELSEAL_STATUS_WRONG_KEY);
    EXPECT(modelseal_file_open(path("truncated/__params__.sealed"), key, &b), MODELSEAL_STATUS_INTEGRITY);
    EXPECT_NAME("truncated");
    EXPECT_TRUE(strstr(modelseal_last_error(), "__params__.sealed") != NULL);
    EXPECT_TRUE(b == BUF_SENTINEL);
    EXPECT(modelseal_file_open(path("v2.bin"), key, &b), MODELSEAL_STATUS_OK);
    EXPECT_TRUE(same_as_file(modelseal_buffer_data(b), modelseal_buffer_len(b), "plain.bin"));
    modelseal_buffer_free(&b);

    b = BUF_SENTINEL;
    EXPECT(modelseal_bytes_open(NULL, len, key, &b), MODELSEAL_STATUS_NULL_ARGUMENT);
    EXPECT(modelseal_bytes_open(sealed, len, NULL, &b), MODELSEAL_STATUS_NULL_ARGUMENT);
    EXPECT(modelseal_bytes_open(sealed, len, key, NULL), MODELSEAL_STATUS_NULL_ARGUMENT);
    EXPECT(modelseal_bytes_open(sealed, len, "bad", &b), MODELSEAL_STATUS_BAD_KEY);
    EXPECT(modelseal_bytes_open((const uint8_t *)"plain text", 10, key, &b), MODELSEAL_STATUS_UNSUPPORTED);
    EXPECT(modelseal_bytes_open(sealed, 0, key, &b), MODELSEAL_STATUS_UNSUPPORTED);
    EXPECT(modelseal_bytes_open(sealed, len, wrong, &b), MODELSEAL_STATUS_WRONG_KEY);
    EXPECT(modelseal_bytes_open(sealed, len - 1, key, &b), MODELSEAL_STATUS_INTEGRITY);
    EXPECT_NAME("truncated");
    EXPECT(modelseal_bytes_open(sealed, 20, key, &b), MODELSEAL_STATUS_INTEGRITY);
    sealed[len - 1] ^= 1;
    EXPECT(modelseal_bytes_open(sealed, len, key, &b), MODELSEAL_STATUS_INTEGRITY);
    EXPECT_NAME("chunk_corrupted");
    sealed[len - 1] ^= 1;
    EXPECT_TRUE(b == BUF_SENTINEL);
    EXPECT(modelseal_bytes_open(sealed, len, key, &b), MODELSEAL_STATUS_OK);
    EXPECT_TRUE(same_as_file(modelseal_buffer_data(b), modelseal_buffer_len(b), "plain.bin"));
    modelseal_buffer_free(&b);

    EXPECT(modelseal_file_storage(NULL, &storage), MODELSEAL_STATUS_NULL_ARGUMENT);
    EXPECT(modelseal_file_storage(path("plain.bin"), NULL), MODELSEAL_STATUS_NULL_ARGUMENT);
    EXPECT(modelseal_file_storage(path("missing.bin"), &storage), MODELSEAL_STATUS_IO);
    EXPECT(storage, 77);
    EXPECT(modelseal_file_storage(path("plain.bin"), &storage), MODELSEAL_STATUS_OK);
    EXPECT(storage, MODELSEAL_STORAGE_PLAIN);
    EXPECT(modelseal_file_storage(path("v2.bin"), &storage), MODELSEAL_STATUS_OK);
    EXPECT(storage, MODELSEAL_STORAGE_SEALED_V2);
    EXPECT(modelseal_file_storage(path("v1/__params__.encrypted"), &storage), MODELSEAL_STATUS_OK);
    EXPECT(storage, MODELSEAL_STORAGE_PADDLE_V1);
    storage = (ModelsealStorage)77;
    EXPECT(modelseal_bytes_storage(NULL, 3, &storage), MODELSEAL_STATUS_NULL_ARGUMENT);
    EXPECT(modelseal_bytes_storage(sealed, len, NULL), MODELSEAL_STATUS_NULL_ARGUMENT);
    EXPECT(storage, 77);
    EXPECT(modelseal_bytes_storage(sealed, len, &storage), MODELSEAL_STATUS_OK);
    EXPECT(storage, MODELSEAL_STORAGE_SEALED_V2);
    EXPECT(modelseal_bytes_storage((const uint8_t *)"PADDLE1xx", 9, &storage), MODELSEAL_STATUS_OK);
    EXPECT(storage, MODELSEAL_STORAGE_PADDLE_V1);
    EXPECT(modelseal_bytes_storage((const uint8_t *)"x", 0, &storage), MODELSEAL_STATUS_OK);
    EXPECT(storage, MODELSEAL_STORAGE_PLAIN);

    EXPECT_TRUE(modelseal_buffer_data(NULL) == NULL);
    EXPECT(modelseal_buffer_len(NULL), 0);
    b = NULL;
    modelseal_buffer_free(&b);
    modelseal_buffer_free(NULL);
    free(sealed);
}

static void test_paddle(void) {
    char k[64];
    unsigned char *out = (unsigned char *)0x30;
    size_t out_len = 777, len = 0;
    unsigned char *sealed;

    EXPECT(paddle_generate_random_key(NULL, 64), CODE_READ_FILE_PTR_IS_NULL);
    memset(k, 'x', sizeof k);
    EXPECT(paddle_generate_random_key(k, 44), CODE_KEY_LENGTH_ABNORMAL);
    EXPECT_TRUE(k[0] == 'x');
    EXPECT(paddle_generate_random_key(k, PADDLE_KEY_BUFFER_LEN), CODE_OK);
    EXPECT(strlen(k), 44);
    EXPECT(paddle_generate_random_key_no_nul(NULL, 64), CODE_READ_FILE_PTR_IS_NULL);
    EXPECT(paddle_generate_random_key_no_nul(k, 10), CODE_KEY_LENGTH_ABNORMAL);
    EXPECT(paddle_generate_random_key_no_nul(k, sizeof k), CODE_OK);
    EXPECT(strlen(k), 44);

    EXPECT(paddle_encrypt_dir(NULL, path("plain"), path("work/p1")), CODE_READ_FILE_PTR_IS_NULL);
    EXPECT(paddle_encrypt_dir(key, NULL, path("work/p1")), CODE_READ_FILE_PTR_IS_NULL);
    EXPECT(paddle_encrypt_dir(key, path("plain"), NULL), CODE_READ_FILE_PTR_IS_NULL);
    EXPECT(paddle_encrypt_dir("MTIz", path("plain"), path("work/p1")), CODE_KEY_LENGTH_ABNORMAL);
    EXPECT(paddle_encrypt_dir(key, path("missing"), path("work/p1")), CODE_NOT_EXIST_DIR);
    EXPECT(paddle_encrypt_dir(key, path("plain.bin"), path("work/p1")), CODE_NOT_EXIST_DIR);
    EXPECT(paddle_encrypt_dir(key, path("empty"), path("work/p1")), CODE_FILES_EMPTY_WITH_DIR);
    EXPECT(paddle_encrypt_dir(key, path("no_yml"), path("work/p1")), CODE_MODEL_YML_FILE_NOT_EXIST);
    EXPECT(paddle_encrypt_dir(key, path("no_model"), path("work/p1")), CODE_MODEL_FILE_NOT_EXIST);
    EXPECT(paddle_encrypt_dir(key, path("no_params"), path("work/p1")), CODE_PARAMS_FILE_NOT_EXIST);
    EXPECT(paddle_encrypt_dir(key, path("v1"), path("work/p1")), CODE_OPEN_FAILED);
    EXPECT(paddle_encrypt_dir(key, path("plain"), path("v2")), CODE_MKDIR_FAILED);
    EXPECT(paddle_encrypt_dir(key, path("plain"), path("plain/out")), CODE_MKDIR_FAILED);
    EXPECT_TRUE(!exists(path("work/p1")));
    EXPECT(paddle_encrypt_dir(key, path("plain"), path("work/p1")), CODE_OK);
    EXPECT(paddle_check_file_encrypted(path("work/p1/__model__.sealed")), 0);
    EXPECT(paddle_check_file_encrypted(path("work/p1/.success.sealed")), 0);
    EXPECT(paddle_encrypt_dir_v1(NULL, path("plain"), path("work/p1v1")), CODE_READ_FILE_PTR_IS_NULL);
    EXPECT(paddle_encrypt_dir_v1(key, path("missing"), path("work/p1v1")), CODE_NOT_EXIST_DIR);
    EXPECT(paddle_encrypt_dir_v1(key_nul, path("plain"), path("work/p1v1")), CODE_OK);
    EXPECT(paddle_check_file_encrypted(path("work/p1v1/__model__.encrypted")), 0);
    EXPECT(paddle_check_file_encrypted(path("work/p1v1/__params__.encrypted")), 0);
    EXPECT(paddle_check_file_encrypted(path("work/p1v1/model.yml.encrypted")), 0);
    EXPECT(paddle_check_file_encrypted(path("work/p1v1/.success")), 1);

    EXPECT(paddle_encrypt_model(NULL, path("plain.bin"), path("work/m1")), CODE_READ_FILE_PTR_IS_NULL);
    EXPECT(paddle_encrypt_model(key, NULL, path("work/m1")), CODE_READ_FILE_PTR_IS_NULL);
    EXPECT(paddle_encrypt_model(key, path("plain.bin"), NULL), CODE_READ_FILE_PTR_IS_NULL);
    EXPECT(paddle_encrypt_model("", path("plain.bin"), path("work/m1")), CODE_KEY_LENGTH_ABNORMAL);
    EXPECT(paddle_encrypt_model(key, path("missing.bin"), path("work/m1")), CODE_OPEN_FAILED);
    EXPECT(paddle_encrypt_model(key, path("plain.bin"), path("v2.bin")), CODE_OPEN_FAILED);
    EXPECT(paddle_encrypt_model(key, path("plain.bin"), path("work/m1")), CODE_OK);
    EXPECT(paddle_encrypt_model_v1(NULL, path("plain.bin"), path("work/m1v1")), CODE_READ_FILE_PTR_IS_NULL);
    EXPECT(paddle_encrypt_model_v1(key, path("missing.bin"), path("work/m1v1")), CODE_OPEN_FAILED);
    EXPECT(paddle_encrypt_model_v1(key_nul, path("plain.bin"), path("work/m1v1")), CODE_OK);

    EXPECT(paddle_check_file_encrypted(NULL), CODE_READ_FILE_PTR_IS_NULL);
    EXPECT(paddle_check_file_encrypted(path("missing.bin")), CODE_OPEN_FAILED);
    EXPECT(paddle_check_file_encrypted(path("plain")), CODE_OPEN_FAILED);
    EXPECT(paddle_check_file_encrypted(path("v1/.success")), 1);
    EXPECT(paddle_check_file_encrypted(path("plain.bin")), 1);
    EXPECT(paddle_check_file_encrypted(path("v2.bin")), 0);
    EXPECT(paddle_check_file_encrypted(path("work/m1v1")), 0);
    EXPECT(paddle_check_buffer_encrypted(NULL, 0), CODE_READ_FILE_PTR_IS_NULL);
    EXPECT(paddle_check_buffer_encrypted((const unsigned char *)"plain", 5), 1);
    EXPECT(paddle_check_buffer_encrypted((const unsigned char *)"UEFERExFMQ==", 12), 0);

    EXPECT(paddle_decrypt_file(NULL, key, &out, &out_len), CODE_READ_FILE_PTR_IS_NULL);
    EXPECT(paddle_decrypt_file(path("v2.bin"), NULL, &out, &out_len), CODE_READ_FILE_PTR_IS_NULL);
    EXPECT(paddle_decrypt_file(path("v2.bin"), key, NULL, &out_len), CODE_READ_FILE_PTR_IS_NULL);
    EXPECT(paddle_decrypt_file(path("v2.bin"), key, &out, NULL), CODE_READ_FILE_PTR_IS_NULL);
    EXPECT(paddle_decrypt_file(path("v2.bin"), "MTIz", &out, &out_len), CODE_KEY_LENGTH_ABNORMAL);
    EXPECT(paddle_decrypt_file(path("missing.bin"), key, &out, &out_len), CODE_OPEN_FAILED);
    EXPECT(paddle_decrypt_file(path("plain.bin"), key, &out, &out_len), CODE_AES_GCM_DECRYPT_FIALED);
    EXPECT(paddle_decrypt_file(path("v2.bin"), wrong, &out, &out_len), CODE_KEY_NOT_MATCH);
    EXPECT(paddle_decrypt_file(path("work/m1v1"), key, &out, &out_len), CODE_KEY_NOT_MATCH);
    EXPECT(paddle_decrypt_file(path("truncated/__params__.sealed"), key, &out, &out_len), CODE_AES_GCM_DECRYPT_FIALED);
    EXPECT_NAME("truncated");
    EXPECT_TRUE(out == (unsigned char *)0x30 && out_len == 777);
    EXPECT(paddle_decrypt_file(path("work/m1"), key, &out, &out_len), CODE_OK);
    EXPECT_TRUE(same_as_file(out, out_len, "plain.bin"));
    paddle_buffer_free(&out);
    EXPECT_TRUE(out == NULL);
    EXPECT(paddle_decrypt_file(path("work/m1v1"), key_nul, &out, &out_len), CODE_OK);
    EXPECT_TRUE(same_as_file(out, out_len, "plain.bin"));
    paddle_buffer_free(&out);
    EXPECT(paddle_decrypt_file(path("v1/__params__.encrypted"), key_nul, &out, &out_len), CODE_OK);
    EXPECT_TRUE(same_as_file(out, out_len, "plain/__params__"));
    paddle_buffer_free(&out);
    EXPECT(paddle_decrypt_file(path("v1/.success"), key_nul, &out, &out_len), CODE_AES_GCM_DECRYPT_FIALED);
    EXPECT_NAME("not_sealed");

    sealed = read_all(path("v1/__model__.encrypted"), &len);
    out = (unsigned char *)0x30;
    out_len = 777;
    EXPECT(paddle_decrypt_buffer(NULL, len, key_nul, &out, &out_len), CODE_READ_FILE_PTR_IS_NULL);
    EXPECT(paddle_decrypt_buffer(sealed, len, NULL, &out, &out_len), CODE_READ_FILE_PTR_IS_NULL);
    EXPECT(paddle_decrypt_buffer(sealed, len, key_nul, NULL, &out_len), CODE_READ_FILE_PTR_IS_NULL);
    EXPECT(paddle_decrypt_buffer(sealed, len, key_nul, &out, NULL), CODE_READ_FILE_PTR_IS_NULL);
    EXPECT(paddle_decrypt_buffer(sealed, len, "x", &out, &out_len), CODE_KEY_LENGTH_ABNORMAL);
    EXPECT(paddle_decrypt_buffer(sealed, len, key, &out, &out_len), CODE_KEY_NOT_MATCH);
    EXPECT(paddle_decrypt_buffer(sealed, 100, key_nul, &out, &out_len), CODE_AES_GCM_DECRYPT_FIALED);
    EXPECT(paddle_decrypt_buffer(sealed, len - 1, key_nul, &out, &out_len), CODE_AES_GCM_DECRYPT_FIALED);
    EXPECT(paddle_decrypt_buffer((const unsigned char *)"plain", 5, key_nul, &out, &out_len), CODE_AES_GCM_DECRYPT_FIALED);
    EXPECT_TRUE(out == (unsigned char *)0x30 && out_len == 777);
    EXPECT(paddle_decrypt_buffer(sealed, len, key_nul, &out, &out_len), CODE_OK);
    EXPECT_TRUE(same_as_file(out, out_len, "plain/__model__"));
    paddle_buffer_free(&out);
    paddle_buffer_free(&out);
    paddle_buffer_free(NULL);
    free(sealed);
}

static void test_dir_memory(void) {
    static const char *const names[] = {".success.sealed", "__model__.sealed", "__params__.sealed",
                                        "model.yml.sealed", "modelseal.manifest"};
    const char *paths[5];
    const unsigned char *datas[5];
    unsigned char *owned[5];
    size_t lens[5];
    ModelsealDir *dir = DIR_SENTINEL;
    ModelsealBuffer *b = NULL;
    int i;
    char rel[64];
    for (i = 0; i < 5; i++) {
        snprintf(rel, sizeof rel, "v2/%s", names[i]);
        owned[i] = read_all(path(rel), &lens[i]);
        EXPECT_TRUE(owned[i] != NULL);
        paths[i] = names[i];
        datas[i] = owned[i];
    }
    EXPECT(modelseal_dir_open_memory(NULL, datas, lens, 5, key, &dir), MODELSEAL_STATUS_NULL_ARGUMENT);
    EXPECT(modelseal_dir_open_memory(paths, NULL, lens, 5, key, &dir), MODELSEAL_STATUS_NULL_ARGUMENT);
    EXPECT(modelseal_dir_open_memory(paths, datas, NULL, 5, key, &dir), MODELSEAL_STATUS_NULL_ARGUMENT);
    EXPECT(modelseal_dir_open_memory(paths, datas, lens, 5, NULL, &dir), MODELSEAL_STATUS_NULL_ARGUMENT);
    EXPECT(modelseal_dir_open_memory(paths, datas, lens, 5, key, NULL), MODELSEAL_STATUS_NULL_ARGUMENT);
    EXPECT(modelseal_dir_open_memory(paths, datas, lens, 5, "bad", &dir), MODELSEAL_STATUS_BAD_KEY);
    EXPECT(modelseal_dir_open_memory(paths, datas, lens, 5, wrong, &dir), MODELSEAL_STATUS_WRONG_KEY);
    EXPECT_NAME("wrong_key");
    EXPECT(modelseal_dir_open_memory(paths, datas, lens, 4, key, &dir), MODELSEAL_STATUS_INTEGRITY);
    EXPECT_NAME("manifest");
    EXPECT(modelseal_dir_open_memory(paths + 1, datas + 1, lens + 1, 4, key, &dir), MODELSEAL_STATUS_INTEGRITY);
    EXPECT_NAME("member_missing");
    lens[2] -= 100; /* truncated __params__: refused when the directory is opened */
    EXPECT(modelseal_dir_open_memory(paths, datas, lens, 5, key, &dir), MODELSEAL_STATUS_INTEGRITY);
    EXPECT_NAME("truncated");
    EXPECT_TRUE(strstr(modelseal_last_error(), "__params__.sealed") != NULL);
    lens[2] += 100;
    EXPECT_TRUE(dir == DIR_SENTINEL);
    EXPECT(modelseal_dir_open_memory(paths, datas, lens, 5, key, &dir), MODELSEAL_STATUS_OK);
    for (i = 0; i < 5; i++) free(owned[i]); /* the library copied the bytes */
    EXPECT(modelseal_dir_read(dir, "__params__", &b), MODELSEAL_STATUS_OK);
    EXPECT_TRUE(same_as_file(modelseal_buffer_data(b), modelseal_buffer_len(b), "plain/__params__"));
    modelseal_buffer_free(&b);
    modelseal_dir_free(&dir);
    EXPECT_TRUE(dir == NULL);
}

static void test_convert(void) {
    size_t program_len = 0, params_len = 0, junk_len = 0;
    unsigned char *program = read_all(path("program.pdmodel"), &program_len);
    unsigned char *params = read_all(path("program.pdiparams"), &params_len);
    unsigned char *junk = read_all(path("plain/__model__"), &junk_len);
    ModelsealBuffer *b = BUF_SENTINEL;
    EXPECT_TRUE(program != NULL && params != NULL && junk != NULL);
    EXPECT(modelseal_paddle_to_onnx(NULL, 0, params, params_len, &b), MODELSEAL_STATUS_NULL_ARGUMENT);
    EXPECT(modelseal_paddle_to_onnx(program, program_len, NULL, 0, &b), MODELSEAL_STATUS_NULL_ARGUMENT);
    EXPECT(modelseal_paddle_to_onnx(program, program_len, params, params_len, NULL),
           MODELSEAL_STATUS_NULL_ARGUMENT);
    EXPECT(modelseal_paddle_to_onnx(junk, junk_len, params, params_len, &b), MODELSEAL_STATUS_UNSUPPORTED);
    EXPECT_NAME("malformed_program");
    EXPECT(modelseal_paddle_to_onnx(program, program_len, params, params_len - 1, &b),
           MODELSEAL_STATUS_UNSUPPORTED);
    EXPECT_NAME("malformed_params");
    EXPECT_TRUE(b == BUF_SENTINEL);
    EXPECT(modelseal_paddle_to_onnx(program, program_len, params, params_len, &b), MODELSEAL_STATUS_OK);
    /* A serialized ONNX ModelProto: field 1 (ir_version, varint) comes first. */
    EXPECT_TRUE(b != BUF_SENTINEL && modelseal_buffer_len(b) > params_len / 2);
    EXPECT_TRUE(modelseal_buffer_data(b)[0] == 0x08);
    modelseal_buffer_free(&b);
    EXPECT_TRUE(b == NULL);
    free(program);
    free(params);
    free(junk);
}

int main(int argc, char **argv) {
    if (argc != 2) {
        fprintf(stderr, "usage: abi_test FIXTURE_ROOT\n");
        return 2;
    }
    root = argv[1];
    read_key("key.txt", key);
    read_key("key_nul.txt", key_nul);
    read_key("wrong_key.txt", wrong);
    test_errors_and_keys();
    test_seal();
    test_dir();
    test_dir_memory();
    test_files();
    test_paddle();
    test_convert();
    printf("abi_test: %d checks, %d failed\n", checks, failures);
    return failures == 0 ? 0 : 1;
}
