/* The C runner of the conformance scenarios: libparsec_teams through its C
 * ABI only (pt_call / pt_admin_call by operation name, pt_iter_*, pt_error).
 * Speaks the line protocol of tests/conformance/README.md on stdin/stdout.
 * C has no classes: the runner names the class the contract maps each
 * pt_status to, and says "class_tree": false; it has no raw responses
 * (API.md: the request id reaches C through pt_error), "raw": false. */
#define _POSIX_C_SOURCE 200809L
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "parsec_teams.h"

static const char *class_name(pt_status s) {
    switch (s) {
    case PT_ERR_VALIDATION: return "ValidationError";
    case PT_ERR_BAD_REQUEST: return "BadRequestError";
    case PT_ERR_AUTHENTICATION: return "AuthenticationError";
    case PT_ERR_PERMISSION_DENIED: return "PermissionDeniedError";
    case PT_ERR_NOT_FOUND: return "NotFoundError";
    case PT_ERR_CONFLICT: return "ConflictError";
    case PT_ERR_UNPROCESSABLE: return "UnprocessableEntityError";
    case PT_ERR_RATE_LIMITED: return "RateLimitError";
    case PT_ERR_SERVER: return "InternalServerError";
    case PT_ERR_API: return "APIStatusError";
    case PT_ERR_CONNECTION: return "APIConnectionError";
    case PT_ERR_TIMEOUT: return "APITimeoutError";
    case PT_ERR_DECODE: return "APIResponseError";
    case PT_ERR_INTERNAL: return "InternalError";
    default: return pt_status_name((int)s);
    }
}

static void put_str(const char *s) {
    if (!s) { fputs("null", stdout); return; }
    putchar('"');
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        if (*p == '"' || *p == '\\') { putchar('\\'); putchar(*p); }
        else if (*p < 0x20) printf("\\u%04x", *p);
        else putchar(*p);
    }
    putchar('"');
}

static void put_error(const pt_error *e) {
    fputs("{\"ok\": false, \"error\": {\"class\": ", stdout);
    put_str(class_name(e->code));
    if (e->http_status) printf(", \"status\": %d", e->http_status); else fputs(", \"status\": null", stdout);
    fputs(", \"message\": ", stdout); put_str(e->message);
    fputs(", \"request_id\": ", stdout); put_str(e->request_id);
    printf(", \"retryable\": %s, \"retries_taken\": %u, \"may_have_been_applied\": %s",
           e->retryable ? "true" : "false", e->retries_taken, e->may_have_been_applied ? "true" : "false");
    if (e->retry_after >= 0) printf(", \"retry_after\": %.17g", e->retry_after); else fputs(", \"retry_after\": null", stdout);
    fputs(", \"field\": ", stdout); put_str(e->field);
    fputs(", \"rule\": ", stdout); put_str(e->rule);
    fputs("}}\n", stdout);
}

static pt_client *teams;
static pt_admin_client *admin;

static long num(const char *s) { return (long)atof(s); }

static void make_client(char **f) {
    pt_error *err = NULL;
    if (strcmp(f[1], "admin") == 0) {
        pt_admin_client_options o;
        pt_admin_client_options_init(&o);
        o.base_url = f[2]; o.token = f[3];
        if (num(f[5]) >= 0) o.timeout_ms = num(f[5]);
        if (num(f[6]) >= 0) o.max_retries = (int)num(f[6]);
        if (num(f[7]) >= 0) o.max_retry_wait_ms = num(f[7]);
        pt_admin_client_free(admin);
        admin = pt_admin_client_new(&o, &err);
    } else {
        pt_client_options o;
        pt_client_options_init(&o);
        o.base_url = f[2]; o.api_key = f[3]; o.team_id = f[4];
        if (num(f[5]) >= 0) o.timeout_ms = num(f[5]);
        if (num(f[6]) >= 0) o.max_retries = (int)num(f[6]);
        if (num(f[7]) >= 0) o.max_retry_wait_ms = num(f[7]);
        if (strcmp(f[8], "-1") != 0) o.quota_pacing = (int)num(f[8]);
        if (num(f[9]) >= 0) o.quota_window_ms = num(f[9]);
        pt_client_free(teams);
        teams = pt_client_new(&o, &err);
    }
    if (err) { put_error(err); pt_error_free(err); } else puts("{\"ok\": true}");
}

static void call(char **f) {
    const char *mode = f[1], *name = f[2], *params = f[3];
    int is_admin = strncmp(name, "admin.", 6) == 0;
    /* Per-call options travel in the params as "_options" (API.md). */
    char opts[128] = "";
    size_t n = 0;
    if (num(f[4]) >= 0) n += (size_t)snprintf(opts + n, sizeof opts - n, "\"timeout_ms\": %ld", num(f[4]));
    if (num(f[5]) >= 0) n += (size_t)snprintf(opts + n, sizeof opts - n, "%s\"max_retries\": %ld", n ? ", " : "", num(f[5]));
    char *args = malloc(strlen(params) + sizeof opts + 32);
    if (n) {
        const char *rest = strchr(params, '{') + 1;
        while (*rest == ' ') rest++;
        sprintf(args, "{\"_options\": {%s}%s%s", opts, *rest == '}' ? "" : ", ", rest);
    } else strcpy(args, params);
    char *json = NULL;
    pt_error *err = NULL;
    pt_status s;
    if (strcmp(mode, "iter") == 0) {
        pt_iter *it = NULL;
        s = pt_iter_new(teams, name, args, &it, &err);
        size_t cap = 1024, len = 1;
        char *acc = malloc(cap);
        acc[0] = '[';
        while (s == PT_OK) {
            char *item = NULL;
            s = pt_iter_next(it, &item, &err);
            if (s != PT_OK || !item) break;
            size_t k = strlen(item);
            while (len + k + 4 > cap) acc = realloc(acc, cap *= 2);
            if (len > 1) acc[len++] = ',';
            memcpy(acc + len, item, k);
            len += k;
            pt_string_free(item);
        }
        acc[len++] = ']';
        acc[len] = 0;
        pt_iter_free(it);
        if (s == PT_OK) printf("{\"ok\": true, \"result\": %s}\n", acc);
        free(acc);
    } else {
        s = is_admin ? pt_admin_call(admin, name + 6, args, &json, &err) : pt_call(teams, name, args, &json, &err);
        if (s == PT_OK) printf("{\"ok\": true, \"result\": %s}\n", json ? json : "null");
    }
    if (s != PT_OK) {
        if (err) put_error(err); else printf("{\"protocol_error\": \"status %d without a pt_error\"}\n", (int)s);
    }
    pt_string_free(json);
    pt_error_free(err);
    free(args);
}

int main(void) {
    printf("{\"surface\": \"c\", \"language\": \"c\", \"class_tree\": false, \"raw\": false, \"version\": \"%s\"}\n", pt_version());
    fflush(stdout);
    char *line = NULL;
    size_t cap = 0;
    ssize_t got;
    while ((got = getline(&line, &cap, stdin)) > 0) {
        if (line[got - 1] == '\n') line[got - 1] = 0;
        char *f[12] = {0};
        int nf = 0;
        for (char *p = line; p && nf < 12; nf++) {
            f[nf] = p;
            p = strchr(p, '\t');
            if (p) *p++ = 0;
        }
        if (nf == 10 && strcmp(f[0], "client") == 0) make_client(f);
        else if (nf == 6 && strcmp(f[0], "call") == 0) call(f);
        else if (strcmp(f[0], "reset") == 0) {
            pt_client_free(teams); teams = NULL;
            pt_admin_client_free(admin); admin = NULL;
            puts("{\"ok\": true}");
        } else puts("{\"protocol_error\": \"bad command\"}");
        fflush(stdout);
    }
    free(line);
    pt_client_free(teams);
    pt_admin_client_free(admin);
    return 0;
}
