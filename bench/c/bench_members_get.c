/*
 * The C side of the C-layer benchmark (make -C bindings-c bench):
 *
 *   bench_members_get CALLS THREADS WARMUP [--handshake]
 *
 * One pt_client (configured from PARSEC_BASE_URL / PARSEC_API_KEY) shared by
 * THREADS pthreads making CALLS pt_members_get calls in all, after WARMUP
 * calls that are not measured. Prints one JSON line with the wall time and the
 * process's CPU time (getrusage, user + system) of the measured part. The
 * driver (bench/c/bench_driver.rs) runs it in rounds interleaved with the same
 * calls made through the Rust core directly.
 *
 * --handshake (for bench/compare.sh): after the warm-up, print "warm" and wait
 * for a line on stdin before the measured calls, and after the result line wait
 * for another line (or EOF) before exiting, so that a driver can sample the
 * mock's CPU and dump a traced process's counts around exactly those calls.
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
    int first;
    int count;
    int errors;
} worker;

static void *run(void *p) {
    worker *w = p;
    int i;
    for (i = 0; i < w->count; i++) {
        char params[48], *json = NULL;
        pt_error *err = NULL;
        snprintf(params, sizeof params, "{\"user_id\": %d}", 1 + (w->first + i) % 50);
        if (pt_members_get(w->client, params, &json, &err) != PT_OK || json == NULL) w->errors++;
        pt_string_free(json);
        pt_error_free(err);
    }
    return NULL;
}

static double now_s(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

static double cpu_s(void) {
    struct rusage u;
    getrusage(RUSAGE_SELF, &u);
    return (double)(u.ru_utime.tv_sec + u.ru_stime.tv_sec) +
           (double)(u.ru_utime.tv_usec + u.ru_stime.tv_usec) / 1e6;
}

static int run_calls(const pt_client *client, int calls, int threads) {
    pthread_t th[64];
    worker w[64];
    int i, errors = 0;
    for (i = 0; i < threads; i++) {
        w[i].client = client;
        w[i].first = i * (calls / threads);
        w[i].count = calls / threads + (i < calls % threads ? 1 : 0);
        w[i].errors = 0;
        pthread_create(&th[i], NULL, run, &w[i]);
    }
    for (i = 0; i < threads; i++) {
        pthread_join(th[i], NULL);
        errors += w[i].errors;
    }
    return errors;
}

int main(int argc, char **argv) {
    int calls = argc > 1 ? atoi(argv[1]) : 10000;
    int threads = argc > 2 ? atoi(argv[2]) : 8;
    int warmup = argc > 3 ? atoi(argv[3]) : 400;
    int handshake = argc > 4 && strcmp(argv[4], "--handshake") == 0;
    char line[16];
    pt_error *err = NULL;
    pt_client *client;
    double t0, c0, wall, cpu;
    int errors;
    if (threads < 1 || threads > 64 || calls < threads) {
        fprintf(stderr, "usage: %s CALLS THREADS(1..64) WARMUP [--handshake]\n", argv[0]);
        return 2;
    }
    client = pt_client_new(NULL, &err);
    if (client == NULL) {
        fprintf(stderr, "pt_client_new: %s\n", err->message);
        pt_error_free(err);
        return 1;
    }
    if (run_calls(client, warmup, threads) != 0) {
        fprintf(stderr, "warm-up calls failed\n");
        pt_client_free(client);
        return 1;
    }
    if (handshake) {
        printf("warm\n");
        fflush(stdout);
        if (fgets(line, sizeof line, stdin) == NULL) line[0] = 0;
    }
    t0 = now_s();
    c0 = cpu_s();
    errors = run_calls(client, calls, threads);
    cpu = cpu_s() - c0;
    wall = now_s() - t0;
    printf("{\"calls\": %d, \"threads\": %d, \"errors\": %d, \"wall_s\": %.6f, \"cpu_s\": %.6f}\n", calls,
           threads, errors, wall, cpu);
    fflush(stdout);
    if (handshake && fgets(line, sizeof line, stdin) == NULL) line[0] = 0;
    pt_client_free(client);
    return errors == 0 ? 0 : 1;
}
