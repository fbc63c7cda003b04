/*
 * open_model: opens a sealed model directory with modelseal's C ABI, reads the model and params
 * files into memory (as a service would before handing them to Paddle Inference's SetModelBuffer
 * or ONNX Runtime's CreateSessionFromArray) and prints their sizes and SHA-256.
 *
 *   open_model MODEL_DIR [KEY_FILE] [--all] [--allow-paddlex-v1] [--seal-id HEX]
 *
 * The key (base64, 44 characters) is read from KEY_FILE, else from the MODELSEAL_KEY environment
 * variable; with a key only a sealed directory opens, without one only a plain directory.
 * --allow-paddlex-v1 opens PaddleX v1 directories; --seal-id pins the sealing the service
 * shipped (any other one is refused). --all also prints the size and SHA-256 of every member.
 * On failure it prints the error and exits with the status value.
 *
 * Build: gcc -I include examples/c/open_model.c -L target/debug -lmodelseal_ffi -o open_model
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "modelseal.h"
#include "sha256.h"

static const char *role_name(ModelsealRole r) {
    switch (r) {
    case MODELSEAL_ROLE_MODEL: return "model";
    case MODELSEAL_ROLE_PARAMS: return "params";
    case MODELSEAL_ROLE_CONFIG: return "config";
    case MODELSEAL_ROLE_LABELS: return "labels";
    default: return "other";
    }
}

static const char *storage_name(ModelsealStorage s) {
    switch (s) {
    case MODELSEAL_STORAGE_SEALED_V2: return "modelseal-v2";
    case MODELSEAL_STORAGE_PADDLE_V1: return "paddlex-v1";
    default: return "plain";
    }
}

static int fail(ModelsealStatus st, const char *what) {
    fprintf(stderr, "open_model: %s: %s [%s]: %s\n", what, modelseal_status_name((int)st), modelseal_last_error_name(),
            modelseal_last_error());
    return (int)st;
}

/* Reads the first line of a key file into key (>= MODELSEAL_KEY_BUFFER_LEN bytes). */
static int read_key_file(const char *path, char *key, size_t key_len) {
    FILE *f = fopen(path, "r");
    size_t n;
    if (!f) {
        perror(path);
        return -1;
    }
    n = fread(key, 1, key_len - 1, f);
    fclose(f);
    key[n] = 0;
    key[strcspn(key, "\r\n")] = 0;
    return 0;
}

/* Reads member `name` into a library buffer and prints its size and SHA-256. */
static ModelsealStatus print_member(const ModelsealDir *dir, const char *label, const char *name, ModelsealBuffer **out) {
    char hex[65];
    ModelsealStatus st = modelseal_dir_read(dir, name, out);
    if (st != MODELSEAL_STATUS_OK) return st;
    sha256_hex(modelseal_buffer_data(*out), modelseal_buffer_len(*out), hex);
    printf("%s %s size=%zu sha256=%s\n", label, name, modelseal_buffer_len(*out), hex);
    return MODELSEAL_STATUS_OK;
}

int main(int argc, char **argv) {
    char key[MODELSEAL_KEY_BUFFER_LEN + 16];
    const char *key_arg = NULL, *dir_path = NULL, *key_file = NULL;
    ModelsealOpenOptions options = {0, NULL};
    char seal_id[MODELSEAL_SEAL_ID_BUFFER_LEN];
    int all = 0, i, rc = 0;
    ModelsealDir *dir = NULL;
    ModelsealBuffer *model = NULL, *params = NULL;
    ModelsealStatus st;
    ModelsealStorage storage;
    size_t count = 0, index;
    const char *name;

    for (i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--all") == 0) all = 1;
        else if (strcmp(argv[i], "--allow-paddlex-v1") == 0) options.allow_paddlex_v1 = 1;
        else if (strcmp(argv[i], "--seal-id") == 0 && i + 1 < argc) options.expected_seal_id = argv[++i];
        else if (!dir_path) dir_path = argv[i];
        else if (!key_file) key_file = argv[i];
        else {
            fprintf(stderr, "usage: open_model MODEL_DIR [KEY_FILE] [--all] [--allow-paddlex-v1] [--seal-id HEX]\n");
            return 2;
        }
    }
    if (!dir_path) {
        fprintf(stderr, "usage: open_model MODEL_DIR [KEY_FILE] [--all] [--allow-paddlex-v1] [--seal-id HEX]\n");
        return 2;
    }
    memset(key, 0, sizeof key);
    if (key_file) {
        if (read_key_file(key_file, key, sizeof key) != 0) return 2;
        key_arg = key;
    } else if (getenv("MODELSEAL_KEY")) {
        key_arg = getenv("MODELSEAL_KEY");
    }

    printf("modelseal %s\n", modelseal_version());
    st = modelseal_dir_open_ex(dir_path, key_arg, &options, &dir);
    memset(key, 0, sizeof key); /* the handle keeps its own (wiped-on-free) copy of the key */
    if (st != MODELSEAL_STATUS_OK) return fail(st, dir_path);

    if ((st = modelseal_dir_storage(dir, &storage)) != MODELSEAL_STATUS_OK ||
        (st = modelseal_dir_member_count(dir, &count)) != MODELSEAL_STATUS_OK) {
        rc = fail(st, dir_path);
        goto done;
    }
    printf("storage: %s\nmembers: %zu\n", storage_name(storage), count);
    if (modelseal_dir_seal_id(dir, seal_id, sizeof seal_id) == MODELSEAL_STATUS_OK) printf("sealing id: %s\n", seal_id);
    for (index = 0; index < count; index++) {
        ModelsealRole role;
        if ((st = modelseal_dir_member_name(dir, index, &name)) != MODELSEAL_STATUS_OK ||
            (st = modelseal_dir_member_role(dir, index, &role)) != MODELSEAL_STATUS_OK) {
            rc = fail(st, dir_path);
            goto done;
        }
        if (all) {
            ModelsealBuffer *b = NULL;
            char label[64];
            snprintf(label, sizeof label, "member role=%s", role_name(role));
            st = print_member(dir, label, name, &b);
            modelseal_buffer_free(&b);
            if (st != MODELSEAL_STATUS_OK) {
                rc = fail(st, name);
                goto done;
            }
        } else {
            printf("member role=%s %s\n", role_name(role), name);
        }
    }

    /* The model and its params, kept in memory together as an inference engine needs them. */
    if ((st = modelseal_dir_find_role(dir, MODELSEAL_ROLE_MODEL, &index)) != MODELSEAL_STATUS_OK ||
        (st = modelseal_dir_member_name(dir, index, &name)) != MODELSEAL_STATUS_OK ||
        (st = print_member(dir, "model:", name, &model)) != MODELSEAL_STATUS_OK) {
        rc = fail(st, "model");
        goto done;
    }
    st = modelseal_dir_find_role(dir, MODELSEAL_ROLE_PARAMS, &index);
    if (st == MODELSEAL_STATUS_NOT_FOUND) {
        printf("params: none (the model file holds its weights)\n");
    } else if (st != MODELSEAL_STATUS_OK || (st = modelseal_dir_member_name(dir, index, &name)) != MODELSEAL_STATUS_OK ||
               (st = print_member(dir, "params:", name, &params)) != MODELSEAL_STATUS_OK) {
        rc = fail(st, "params");
        goto done;
    }
    /* Here a service would call, e.g.,
     *   config.SetModelBuffer((const char*)modelseal_buffer_data(model), modelseal_buffer_len(model),
     *                         (const char*)modelseal_buffer_data(params), modelseal_buffer_len(params));
     * and free both buffers once the predictor is created. */

done:
    modelseal_buffer_free(&params); /* wipes the plaintext */
    modelseal_buffer_free(&model);
    modelseal_dir_free(&dir);
    return rc;
}
