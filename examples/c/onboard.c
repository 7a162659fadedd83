/*
 * onboard.c: onboarding a new studio with the parsec-teams C library.
 *
 * Creates a group, invites two people into it, reserves a machine for one of
 * them, lets a partner in as a guest, then reads the audit log.
 *
 * Build against an installed library and run (make -C bindings-c demo does
 * both, against the mock server):
 *
 *   cc -std=c99 onboard.c $(pkg-config --cflags --libs parsec_teams) -o onboard
 *   PARSEC_API_KEY=tapi_... PARSEC_BASE_URL=... ./onboard
 *
 * Results are JSON strings; a real program would read them with a JSON
 * library (cJSON, jansson...). This example keeps to the C standard library
 * and picks fields out with json_int / json_str below.
 */
#define _POSIX_C_SOURCE 200809L

#include <parsec_teams.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* The integer after the first "key": in json, or -1. */
static long json_int(const char *json, const char *key) {
    char pattern[64];
    const char *p;
    snprintf(pattern, sizeof pattern, "\"%s\":", key);
    p = json ? strstr(json, pattern) : NULL;
    return p ? strtol(p + strlen(pattern), NULL, 10) : -1;
}

/* The string after the first "key": in json, copied into out ("" if none). */
static const char *json_str(const char *json, const char *key, char *out, size_t cap) {
    char pattern[64];
    const char *p;
    size_t n = 0;
    snprintf(pattern, sizeof pattern, "\"%s\":\"", key);
    p = json ? strstr(json, pattern) : NULL;
    if (p) {
        p += strlen(pattern);
        while (*p && *p != '"' && n + 1 < cap) out[n++] = *p++;
    }
    out[n] = '\0';
    return out;
}

static void rfc3339_in(long seconds, char *out, size_t cap) {
    time_t t = time(NULL) + seconds;
    struct tm tm;
    gmtime_r(&t, &tm);
    strftime(out, cap, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

/* Prints a failed step and tells whether to stop. */
static int failed(const char *step, pt_status status, pt_error *err) {
    if (status == PT_OK) return 0;
    fprintf(stderr, "%s failed: %s: %s\n", step, pt_status_name(status),
            err ? err->message : "(no details)");
    pt_error_free(err);
    return 1;
}

int main(void) {
    pt_error *err = NULL;
    pt_client *client;
    pt_status s;
    char *json = NULL, params[1024], machine[64], peer[64], starts[32], expires[32];
    long group_id, balance;
    int exit_code = 1;

    /* Every option NULL: PARSEC_API_KEY, PARSEC_TEAM_ID, PARSEC_BASE_URL. */
    client = pt_client_new(NULL, &err);
    if (client == NULL) {
        fprintf(stderr, "cannot create the client: %s\n", err->message);
        pt_error_free(err);
        return 1;
    }
    printf("parsec-teams %s\n", pt_version());

    /* 1. A group for the new studio. */
    s = pt_groups_create(client,
                         "{\"group_name\": \"New York Studio\", \"allow_connections_within_group\": true,"
                         " \"show_user_assigned_managed_hosts\": true, \"show_personal_hosts\": false}",
                         &json, &err);
    if (failed("groups.create", s, err)) goto done;
    group_id = json_int(json, "id");
    printf("1. created group %ld \"New York Studio\"\n", group_id);
    pt_string_free(json);

    /* 2. Invite two people into it. */
    snprintf(params, sizeof params,
             "{\"emails\": [\"ana.silva@example.com\", \"ben.okafor@example.com\"], \"group_id\": %ld,"
             " \"send_email\": false}",
             group_id);
    s = pt_invites_create(client, params, &json, &err);
    if (failed("invites.create", s, err)) goto done;
    {
        char url[256];
        printf("2. invited %ld people; first join link: %s\n", json_int(json, "count"),
               json_str(json, "join_url", url, sizeof url));
    }
    pt_string_free(json);

    /* 3. Reserve a free machine for Ana (she is not in the team yet) and open it to guests. */
    s = pt_machines_list(client, "{\"assignment\": \"unassigned\", \"limit\": 1}", &json, &err);
    if (failed("machines.list", s, err)) goto done;
    json_str(json, "id", machine, sizeof machine);
    json_str(json, "peer_id", peer, sizeof peer);
    pt_string_free(json);
    snprintf(params, sizeof params, "{\"machine_id\": \"%s\", \"email\": \"ana.silva@example.com\"}", machine);
    s = pt_machines_set_assignment(client, params, &json, &err);
    if (failed("machines.set_assignment", s, err)) goto done;
    pt_string_free(json);
    snprintf(params, sizeof params, "{\"machine_id\": \"%s\", \"is_guest_access\": true}", machine);
    s = pt_machines_update(client, params, &json, &err);
    if (failed("machines.update", s, err)) goto done;
    pt_string_free(json);
    printf("3. reserved machine %s for ana.silva@example.com and opened it to guests\n", machine);

    /* 4. A partner joins the first session as a guest (spends one credit). */
    rfc3339_in(3600, starts, sizeof starts);
    rfc3339_in(3 * 3600, expires, sizeof expires);
    snprintf(params, sizeof params,
             "{\"host_peer_id\": \"%s\", \"guest_email\": \"producer@partner.example\","
             " \"event_name\": \"Studio kickoff\", \"keyboard\": true, \"mouse\": true, \"gamepad\": false,"
             " \"time_zone\": \"America/New_York\", \"starts_at\": \"%s\", \"expires_at\": \"%s\","
             " \"message\": \"Welcome to the New York studio kickoff\", \"send_email\": false}",
             peer, starts, expires);
    s = pt_guest_access_create(client, params, &json, &err);
    if (failed("guest_access.create", s, err)) goto done;
    {
        char id[64];
        json_str(json, "id", id, sizeof id);
        pt_string_free(json);
        s = pt_guest_access_credits(client, NULL, &json, &err);
        if (failed("guest_access.credits", s, err)) goto done;
        balance = json_int(json, "balance");
        printf("4. guest invite %s for producer@partner.example (%s .. %s); %ld credits left\n", id, starts,
               expires, balance);
        pt_string_free(json);
    }

    /* 5. The audit log: the five latest events (a paced quota: 50 per 5 minutes). */
    s = pt_audit_log_list_events(client, "{\"limit\": 5}", &json, &err);
    if (failed("audit_log.list_events", s, err)) goto done;
    {
        const char *p = json;
        char name[64], when[64];
        printf("5. audit log:\n");
        while ((p = strstr(p, "\"event_name\":\"")) != NULL) {
            json_str(p, "event_name", name, sizeof name);
            json_str(p, "created_at", when, sizeof when);
            printf("   %-24s %s\n", name, when);
            p++;
        }
    }
    pt_string_free(json);
    s = pt_quota_status(client, &json, &err);
    if (failed("quota_status", s, err)) goto done;
    printf("   audit-log calls left in this window: %ld\n", json_int(json, "remaining"));
    pt_string_free(json);

    /* Errors carry a status, the HTTP status and the request id. */
    s = pt_members_remove(client, "{\"user_id\": 1}", &json, &err);
    printf("6. removing the team owner: %s (HTTP %d, request %s): %s\n", pt_status_name(s),
           err ? err->http_status : 0, err && err->request_id ? err->request_id : "-",
           err ? err->message : "");
    pt_error_free(err);
    exit_code = s == PT_ERR_CONFLICT ? 0 : 1;

done:
    pt_client_free(client);
    return exit_code;
}
