/*
 * One client process of bench/compare.sh, built against one build's
 * include/parsec_teams.h and libparsec_teams.so (an old or the current one):
 *
 *   client_c get|conc N
 *
 * get: N sequential pt_members_get calls on one thread; conc: N calls from 8
 * pthreads sharing one client. The client is configured from PARSEC_BASE_URL /
 * PARSEC_API_KEY / PARSEC_TEAM_ID. Warms up, prints "warm" and waits for one
 * line on stdin (the driver samples the mock's CPU there), then makes the N
 * calls and prints one JSON line: CPU (getrusage, user + system, every thread)
 * and wall time of the measured part; then exits at the next line or EOF.
 */
#define _POSIX_C_SOURCE 200809L

#include "parsec_teams.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>

typedef struct {
    const pt_client *client;
    int first, count, errors;
} worker;

static void *run(void *p) {
    worker *w = p;
    int i;
    for (i = 0; i < w->count; i++) {
        char params[48], want[48], *json = NULL;
        pt_error *err = NULL;
        int id = 1 + (w->first + i) % 1000;
        snprintf(params, sizeof params, "{\"user_id\": %d}", id);
        snprintf(want, sizeof want, "\"user_id\":%d,", id);
        if (pt_members_get(w->client, params, &json, &err) != PT_OK || json == NULL || strstr(json, want) == NULL)
            w->errors++;
        pt_string_free(json);
        pt_error_free(err);
    }
    return NULL;
}

static int calls(const pt_client *client, int n, int threads) {
    pthread_t th[8];
    worker w[8];
    int i, errors = 0;
    for (i = 0; i < threads; i++) {
        w[i].client = client;
        w[i].first = i * (n / threads);
        w[i].count = n / threads + (i < n % threads ? 1 : 0);
        w[i].errors = 0;
        pthread_create(&th[i], NULL, run, &w[i]);
    }
    for (i = 0; i < threads; i++) {
        pthread_join(th[i], NULL);
        errors += w[i].errors;
    }
    return errors;
}

static double now_s(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

static double cpu_s(void) {
    struct rusage u;
    getrusage(RUSAGE_SELF, &u);
    return (double)(u.ru_utime.tv_sec + u.ru_stime.tv_sec) + (double)(u.ru_utime.tv_usec + u.ru_stime.tv_usec) / 1e6;
}

int main(int argc, char **argv) {
    pt_error *err = NULL;
    pt_client *client;
    char line[16];
    double t0, c0;
    int n, threads, errors;
    if (argc != 3 || (strcmp(argv[1], "get") != 0 && strcmp(argv[1], "conc") != 0)) {
        fprintf(stderr, "usage: %s get|conc N\n", argv[0]);
        return 2;
    }
    threads = strcmp(argv[1], "conc") == 0 ? 8 : 1;
    n = atoi(argv[2]);
    client = pt_client_new(NULL, &err);
    if (client == NULL) {
        fprintf(stderr, "pt_client_new: %s\n", err->message);
        return 1;
    }
    errors = calls(client, threads * 50, threads);
    printf("warm\n");
    fflush(stdout);
    if (fgets(line, sizeof line, stdin) == NULL) return 1;
    c0 = cpu_s();
    t0 = now_s();
    errors += calls(client, n, threads);
    printf("{\"cpu_s\": %.6f, \"wall_s\": %.6f}\n", cpu_s() - c0, now_s() - t0);
    fflush(stdout);
    /* Until the driver is done (a traced process is dumped here). */
    if (fgets(line, sizeof line, stdin) == NULL) line[0] = 0;
    pt_client_free(client);
    if (errors) {
        fprintf(stderr, "%d calls failed\n", errors);
        return 1;
    }
    return 0;
}
