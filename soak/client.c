/* Soak client (C library): steady calls until the deadline, then one JSON
 * line of counts. Usage: client BASE_URL API_KEY TEAM_ID SECONDS PAUSE_MS */
#define _POSIX_C_SOURCE 199309L
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "parsec_teams.h"

static long calls, unexpected;

static double now(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + ts.tv_nsec / 1e9;
}

/* One call expecting `want`; frees whatever it returns. */
static void call(pt_status (*fn)(const struct pt_client *, const char *, char **, struct pt_error **),
                 const struct pt_client *c, const char *params, pt_status want) {
    char *json = NULL;
    struct pt_error *err = NULL;
    pt_status s = fn(c, params, &json, &err);
    if (s == want) {
        calls++;
    } else {
        unexpected++;
        fprintf(stderr, "c: %s: status %d (%s)\n", params, (int)s, err && err->message ? err->message : "");
    }
    pt_string_free(json);
    pt_error_free(err);
}

int main(int argc, char **argv) {
    if (argc != 6) {
        fprintf(stderr, "usage: %s BASE_URL API_KEY TEAM_ID SECONDS PAUSE_MS\n", argv[0]);
        return 2;
    }
    struct pt_client_options o;
    pt_client_options_init(&o);
    o.base_url = argv[1];
    o.api_key = argv[2];
    o.team_id = argv[3];
    o.max_retries = 0;
    struct pt_error *err = NULL;
    struct pt_client *c = pt_client_new(&o, &err);
    if (!c) {
        fprintf(stderr, "c: pt_client_new: %s\n", err && err->message ? err->message : "?");
        return 1;
    }
    double deadline = now() + atof(argv[4]);
    struct timespec pause = {0, atol(argv[5]) * 1000000L};
    while (now() < deadline) {
        call(pt_members_list, c, "{\"limit\": 50}", PT_OK);
        call(pt_members_get, c, "{\"user_id\": 2}", PT_OK);
        call(pt_groups_list, c, "{\"limit\": 20}", PT_OK);
        call(pt_machines_list, c, "{\"limit\": 20}", PT_OK);
        struct pt_iter *it = NULL;
        if (pt_iter_new(c, "members.list", "{\"limit\": 5}", &it, &err) == PT_OK) {
            char *item = NULL;
            pt_status s;
            while ((s = pt_iter_next(it, &item, &err)) == PT_OK && item) pt_string_free(item);
            if (s != PT_OK) {
                unexpected++;
                pt_error_free(err);
                err = NULL;
            } else {
                calls++;
            }
            pt_iter_free(it);
        } else {
            unexpected++;
            pt_error_free(err);
            err = NULL;
        }
        call(pt_members_get, c, "{\"user_id\": 999999}", PT_ERR_NOT_FOUND);
        call(pt_members_list, c, "{\"limit\": 0}", PT_ERR_VALIDATION);
        nanosleep(&pause, NULL);
    }
    pt_client_free(c);
    printf("{\"client\": \"c\", \"calls\": %ld, \"unexpected\": %ld}\n", calls, unexpected);
    return unexpected ? 1 : 0;
}
