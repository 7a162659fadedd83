/*
 * The C suite of libparsec_teams: plain C99 + POSIX threads, no framework.
 *
 *   test_parsec_teams PATH/TO/parsec-teams-mock
 *
 * Starts the mock binary as child processes (fork + exec, reading the JSON
 * line it prints), then checks every operation, every status, bad inputs and
 * 16 threads sharing one client, asserting on what the server saw through
 * GET /_mock/requests (read with the library's own pt_client_request).
 * Run by `make test` under valgrind memcheck, with ASan+UBSan and statically
 * linked. The last line is "N passed, M failed".
 */
#define _POSIX_C_SOURCE 200809L

#include "parsec_teams.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

/* ------------------------------------------------------------------------ */
/* Assertions                                                               */
/* ------------------------------------------------------------------------ */

static int g_passed, g_failed, g_checks_failed_in_test;
static const char *g_test = "";
static const char *g_mock_bin;
static const char *g_self; /* argv[0]: re-executed for the logging test */

#define CHECK(cond)                                                                       \
    do {                                                                                  \
        if (!(cond)) {                                                                    \
            g_checks_failed_in_test++;                                                    \
            fprintf(stderr, "  FAIL %s:%d in %s: %s\n", __FILE__, __LINE__, g_test, #cond); \
        }                                                                                 \
    } while (0)

#define CHECK_STATUS(got, want)                                                           \
    do {                                                                                  \
        pt_status got_ = (got);                                                           \
        if (got_ != (want)) {                                                             \
            g_checks_failed_in_test++;                                                    \
            fprintf(stderr, "  FAIL %s:%d in %s: status %s, expected %s\n", __FILE__,     \
                    __LINE__, g_test, pt_status_name(got_), pt_status_name(want));        \
        }                                                                                 \
    } while (0)

#define CHECK_CONTAINS(hay, needle)                                                       \
    do {                                                                                  \
        const char *h_ = (hay);                                                           \
        if (h_ == NULL || strstr(h_, (needle)) == NULL) {                                 \
            g_checks_failed_in_test++;                                                    \
            fprintf(stderr, "  FAIL %s:%d in %s: expected %s in %.400s\n", __FILE__,      \
                    __LINE__, g_test, (needle), h_ ? h_ : "(null)");                      \
        }                                                                                 \
    } while (0)

typedef void (*test_fn)(void);

static void begin_test(const char *name) {
    g_test = name;
    g_checks_failed_in_test = 0;
}

static void end_test(const char *name) {
    if (g_checks_failed_in_test == 0) {
        g_passed++;
        printf("ok   %s\n", name);
    } else {
        g_failed++;
        printf("FAIL %s\n", name);
    }
    fflush(stdout);
}

static void run_test(const char *name, test_fn fn) {
    begin_test(name);
    fn();
    end_test(name);
}

static int count_of(const char *hay, const char *needle) {
    int n = 0;
    size_t len = strlen(needle);
    if (hay == NULL || len == 0) return 0;
    while ((hay = strstr(hay, needle)) != NULL) {
        n++;
        hay += len;
    }
    return n;
}

/* ------------------------------------------------------------------------ */
/* The mock server as a child process                                       */
/* ------------------------------------------------------------------------ */

typedef struct {
    pid_t pid;
    char base_url[256];
    char team_id[128];
    char api_key[256];
    char admin_token[256];
} mock_server;

static int json_field(const char *line, const char *key, char *out, size_t cap) {
    char pattern[64];
    const char *p;
    size_t n = 0;
    snprintf(pattern, sizeof pattern, "\"%s\"", key);
    p = strstr(line, pattern);
    if (p == NULL) return -1;
    p += strlen(pattern);
    while (*p == ' ' || *p == ':') p++;
    if (*p++ != '"') return -1;
    while (*p && *p != '"' && n + 1 < cap) out[n++] = *p++;
    out[n] = '\0';
    return *p == '"' ? 0 : -1;
}

/* Starts the mock with extra arguments (NULL-terminated list, may be NULL). */
static int mock_start(mock_server *m, const char *const *extra) {
    int fds[2];
    char line[2048];
    size_t n = 0;
    pid_t pid;
    memset(m, 0, sizeof *m);
    if (pipe(fds) != 0) return -1;
    pid = fork();
    if (pid < 0) return -1;
    if (pid == 0) {
        const char *argv[32];
        int i = 0;
        argv[i++] = g_mock_bin;
        argv[i++] = "--port";
        argv[i++] = "0";
        while (extra && *extra && i < 30) argv[i++] = *extra++;
        argv[i] = NULL;
        dup2(fds[1], STDOUT_FILENO);
        close(fds[0]);
        close(fds[1]);
        execv(g_mock_bin, (char *const *)argv);
        _exit(127);
    }
    close(fds[1]);
    while (n + 1 < sizeof line) {
        char c;
        ssize_t r = read(fds[0], &c, 1);
        if (r < 0 && errno == EINTR) continue;
        if (r <= 0 || c == '\n') break;
        line[n++] = c;
    }
    line[n] = '\0';
    close(fds[0]);
    m->pid = pid;
    if (json_field(line, "base_url", m->base_url, sizeof m->base_url) != 0 ||
        json_field(line, "team_id", m->team_id, sizeof m->team_id) != 0 ||
        json_field(line, "api_key", m->api_key, sizeof m->api_key) != 0 ||
        json_field(line, "admin_token", m->admin_token, sizeof m->admin_token) != 0) {
        fprintf(stderr, "mock did not start (got %s)\n", line);
        kill(pid, SIGTERM);
        waitpid(pid, NULL, 0);
        return -1;
    }
    return 0;
}

static void mock_stop(mock_server *m) {
    if (m->pid > 0) {
        kill(m->pid, SIGTERM);
        waitpid(m->pid, NULL, 0);
        m->pid = 0;
    }
}

static mock_server g_mock;

/* ------------------------------------------------------------------------ */
/* Helpers                                                                  */
/* ------------------------------------------------------------------------ */

static pt_client *client_with(const char *base_url, const char *api_key, int max_retries) {
    pt_client_options opts;
    pt_error *err = NULL;
    pt_client *c;
    pt_client_options_init(&opts);
    opts.base_url = base_url;
    opts.api_key = api_key;
    opts.max_retries = max_retries;
    c = pt_client_new(&opts, &err);
    if (c == NULL) {
        fprintf(stderr, "  pt_client_new failed: %s\n", err ? err->message : "?");
        g_checks_failed_in_test++;
    }
    pt_error_free(err);
    return c;
}

static pt_client *new_client(void) { return client_with(g_mock.base_url, g_mock.api_key, -1); }

static pt_admin_client *new_admin(const char *token) {
    pt_admin_client_options opts;
    pt_error *err = NULL;
    pt_admin_client *c;
    pt_admin_client_options_init(&opts);
    opts.base_url = g_mock.base_url;
    opts.token = token;
    c = pt_admin_client_new(&opts, &err);
    if (c == NULL) {
        fprintf(stderr, "  pt_admin_client_new failed: %s\n", err ? err->message : "?");
        g_checks_failed_in_test++;
    }
    pt_error_free(err);
    return c;
}

/* A control call to the mock through the escape hatch; returns the JSON
 * (free with pt_string_free), or NULL after recording a failure. */
static char *control(pt_client *c, const char *method, const char *path, const char *body) {
    char *out = NULL;
    pt_error *err = NULL;
    pt_status s = pt_client_request(c, method, path, NULL, body, &out, &err);
    if (s != PT_OK) {
        fprintf(stderr, "  control %s %s failed: %s\n", method, path, err ? err->message : "?");
        g_checks_failed_in_test++;
    }
    pt_error_free(err);
    return out;
}

static void reset(pt_client *c) { pt_string_free(control(c, "POST", "/_mock/reset", NULL)); }

static void fault(pt_client *c, const char *json) {
    pt_string_free(control(c, "POST", "/_mock/faults", json));
}

/* What the server saw since the last reset (free with pt_string_free). */
static char *seen(pt_client *c) { return control(c, "GET", "/_mock/requests", NULL); }

/* An RFC 3339 time `secs` from now. */
static void rfc3339_in(long secs, char *out, size_t cap) {
    time_t t = time(NULL) + secs;
    struct tm tm;
    gmtime_r(&t, &tm);
    strftime(out, cap, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

/* ------------------------------------------------------------------------ */
/* Every operation                                                          */
/* ------------------------------------------------------------------------ */

typedef pt_status (*teams_op)(const pt_client *, const char *, char **, pt_error **);
typedef pt_status (*admin_op)(const pt_admin_client *, const char *, char **, pt_error **);

typedef struct {
    const char *name;
    teams_op fn;
    const char *params;
    const char *method;    /* what the server must have seen */
    const char *path;      /* after /v1/teams/<team> */
    const char *in_result; /* a piece of the result JSON */
} teams_case;

typedef struct {
    const char *name;
    admin_op fn;
    const char *params;
    const char *method;
    const char *path;
    const char *in_result;
} admin_case;

#if defined(__GNUC__)
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wdeprecated-declarations"
#endif
static const teams_case TEAMS_CASES[] = {
    {"audit_log.list_events", pt_audit_log_list_events, "{\"limit\": 5}", "GET", "/events", "\"next_cursor\""},
    {"groups.list", pt_groups_list, "{\"limit\": 2}", "GET", "/groups", "\"count\":6"},
    {"groups.create", pt_groups_create,
     "{\"group_name\": \"NY Office\", \"allow_connections_within_group\": true, "
     "\"show_user_assigned_managed_hosts\": true, \"show_personal_hosts\": false}",
     "POST", "/groups", "NY Office"},
    {"groups.get", pt_groups_get, "{\"group_id\": 1}", "GET", "/groups/1", "Engineering"},
    {"groups.update", pt_groups_update, "{\"group_id\": 2, \"group_name\": \"Design Team\"}", "PUT", "/groups/2", "Design Team"},
    {"groups.delete", pt_groups_delete, "{\"group_id\": 5}", "DELETE", "/groups/5", NULL},
    {"groups.remove_members", pt_groups_remove_members, "{\"group_id\": 1, \"user_ids\": [1]}", "POST", "/groups/1/remove-members", NULL},
    {"groups.add_permitted_groups", pt_groups_add_permitted_groups,
     "{\"group_id\": 3, \"group_ids\": [4], \"direction\": \"outgoing\", "
     "\"show_group_assigned_managed_hosts\": false, \"show_user_assigned_managed_hosts\": false, "
     "\"show_personal_hosts\": false}",
     "POST", "/groups/3/permitted-groups", NULL},
    {"groups.remove_permitted_groups", pt_groups_remove_permitted_groups,
     "{\"group_id\": 1, \"group_ids\": [2], \"direction\": \"outgoing\"}", "DELETE", "/groups/1/permitted-groups", NULL},
    {"groups.update_permitted_group", pt_groups_update_permitted_group,
     "{\"group_id\": 1, \"permitted_group_id\": 2, \"direction\": \"outgoing\"}", "PUT", "/groups/1/permitted-groups/2", NULL},
    {"groups.add_members", pt_groups_add_members, "{\"group_id\": 2, \"user_ids\": [45]}", "POST", "/groups/2/members", NULL},
    {"groups.assign_members", pt_groups_assign_members, "{\"group_id\": 2, \"user_ids\": [46]}", "POST", "/groups/2/add-members", NULL},
    {"guest_access.get", pt_guest_access_get, "{\"invite_id\": \"gai_001\"}", "GET", "/guest-access-invites/gai_001", "guest.one@partner.com"},
    {"guest_access.update", pt_guest_access_update, "{\"invite_id\": \"gai_001\", \"keyboard\": false}", "PUT", "/guest-access-invites/gai_001", "gai_001"},
    {"guest_access.cancel", pt_guest_access_cancel, "{\"invite_id\": \"gai_001\"}", "DELETE", "/guest-access-invites/gai_001", NULL},
    {"guest_access.list", pt_guest_access_list, NULL, "GET", "/guest-access-invites", "\"count\":5"},
    {"guest_access.create", pt_guest_access_create, NULL /* built at run time */, "POST", "/guest-access-invites", "guest@example.com"},
    {"guest_access.kick_guest", pt_guest_access_kick_guest, "{\"invite_id\": \"gai_002\"}", "DELETE", "/guest-access-invites/gai_002/guest", NULL},
    {"guest_access.credits", pt_guest_access_credits, "{}", "GET", "/guest-access-invite-credits", "\"balance\":25"},
    {"machines.list", pt_machines_list, "{\"assignment\": \"unassigned\"}", "GET", "/machines", "tm_017"},
    {"machines.update", pt_machines_update, "{\"machine_id\": \"tm_017\", \"name\": \"Build box\"}", "PUT", "/machines/tm_017", "Build box"},
    {"machines.delete", pt_machines_delete, "{\"machine_id\": \"tm_018\"}", "DELETE", "/machines/tm_018", NULL},
    {"machines.get", pt_machines_get, "{\"machine_id\": \"tm_004\"}", "GET", "/machines/tm_004", "280FT1WJmkBJ4sIktlIkA2fiqoT"},
    {"machines.create_assignment", pt_machines_create_assignment, "{\"machine_id\": \"tm_017\", \"user_id\": 45}", "POST", "/machines/tm_017/assignment", NULL},
    {"machines.remove_assignment", pt_machines_remove_assignment, "{\"machine_id\": \"tm_001\"}", "DELETE", "/machines/tm_001/assignment", NULL},
    {"machines.set_assignment", pt_machines_set_assignment, "{\"machine_id\": \"tm_019\", \"team_group_ids\": [1]}", "PUT", "/machines/tm_019/assignment", NULL},
    {"machines.kick_user", pt_machines_kick_user, "{\"machine_id\": \"tm_001\", \"user_id\": 3}", "DELETE", "/machines/tm_001/users/3", NULL},
    {"app_rules.list", pt_app_rules_list, "{\"limit\": 10}", "GET", "/app-rules", "tar_creative"},
    {"app_rules.unassign", pt_app_rules_unassign, "{\"app_rule_id\": \"tar_creative\", \"user_ids\": [11]}", "POST", "/app-rules/tar_creative/unassign", NULL},
    {"app_rules.assign", pt_app_rules_assign, "{\"app_rule_id\": \"tar_default\", \"user_ids\": [20]}", "POST", "/app-rules/tar_default/assign", NULL},
    {"members.list", pt_members_list, "{\"limit\": 10, \"offset\": 0}", "GET", "/members", "\"count\":50"},
    {"members.remove", pt_members_remove, "{\"user_id\": 50}", "DELETE", "/members/50", NULL},
    {"members.get", pt_members_get, "{\"user_id\": 2}", "GET", "/members/2", "grace.lovelace@example.com"},
    {"invites.list", pt_invites_list, "{}", "GET", "/member-invites", "new.hire1@example.com"},
    {"invites.create", pt_invites_create, "{\"emails\": [\"new.person@example.com\"]}", "POST", "/member-invites", "join_url"},
    {"invites.update", pt_invites_update, "{\"emails\": [\"new.hire1@example.com\"], \"group_id\": 3}", "PUT", "/member-invites", NULL},
    {"invites.cancel", pt_invites_cancel, "{\"emails\": [\"intern@example.com\"]}", "POST", "/cancel-member-invites", NULL},
    {"invites.cancel_deprecated", pt_invites_cancel_deprecated, "{\"emails\": [\"contractor@example.org\"]}", "DELETE", "/member-invites", NULL},
    {"invites.resend", pt_invites_resend, "{\"emails\": [\"new.hire1@example.com\"]}", "POST", "/resend-member-invites", NULL},
};

static const admin_case ADMIN_CASES[] = {
    {"teams.list", pt_admin_teams_list, NULL, "GET", "/api/v1/teams", "Engineering"},
    {"teams.list_owned", pt_admin_teams_list_owned, "{}", "GET", "/api/v1/teams/user_owned", "Marketing"},
    {"teams.get", pt_admin_teams_get, "{\"id\": \"2\"}", "GET", "/api/v1/teams/2", "Design"},
    {"teams.create", pt_admin_teams_create, "{\"name\": \"Ops\", \"quota\": 1024, \"quota_mail_sent\": false}", "POST", "/api/v1/teams", "Ops"},
    {"teams.update", pt_admin_teams_update, "{\"id\": \"3\", \"name\": \"Growth\"}", "PUT", "/api/v1/teams/3", "Growth"},
    {"teams.delete", pt_admin_teams_delete, "{\"id\": \"4\"}", "DELETE", "/api/v1/teams/4", NULL},
    {"teams.add_user", pt_admin_teams_add_user, "{\"team_id\": \"2\", \"user_id\": \"20\"}", "POST", "/api/v1/teams/2/users/20", NULL},
    {"teams.remove_user", pt_admin_teams_remove_user, "{\"team_id\": \"1\", \"user_id\": \"6\"}", "DELETE", "/api/v1/teams/1/users/6", NULL},
    {"users.assign_to_all_teams", pt_admin_users_assign_to_all_teams, "{\"user_id\": \"19\"}", "POST", "/api/v1/users/19/assign_to_all_teams", NULL},
    {"users.remove_from_all_teams", pt_admin_users_remove_from_all_teams, "{\"user_id\": \"6\"}", "DELETE", "/api/v1/users/6/remove_from_all_teams", NULL},
    {"teams.access_rights", pt_admin_teams_access_rights, "{\"id\": \"1\", \"type\": \"assets\"}", "GET", "/api/v1/teams/1/access_rights", "assets"},
};
#if defined(__GNUC__)
#pragma GCC diagnostic pop
#endif

#define COUNT(a) (sizeof(a) / sizeof((a)[0]))

/* The server saw exactly one request, `method` on `path`. */
static void check_seen_one(pt_client *ctl, const char *method, const char *path) {
    char *log = seen(ctl);
    char want[512];
    snprintf(want, sizeof want, "\"path\":\"%s\"", path);
    CHECK(count_of(log, "\"method\":") == 1);
    CHECK_CONTAINS(log, want);
    snprintf(want, sizeof want, "\"method\":\"%s\"", method);
    CHECK_CONTAINS(log, want);
    pt_string_free(log);
}

/* One operation of the table: PT_OK, the expected piece of the result, and
 * exactly one request, with the right method and path, seen by the server. */
static void check_teams_case(pt_client *c, const teams_case *tc) {
    char guest_params[1024], starts[64], expires[64], *json = NULL, path[256];
    const char *params = tc->params;
    pt_error *err = NULL;
    pt_status s;
    if (tc->fn == pt_guest_access_create) {
        rfc3339_in(86400, starts, sizeof starts);
        rfc3339_in(2 * 86400, expires, sizeof expires);
        snprintf(guest_params, sizeof guest_params,
                 "{\"host_peer_id\": \"280FT1WJmkBJ4sIktlIkA2fiqoT\", \"guest_email\": \"guest@example.com\", "
                 "\"event_name\": \"Design review\", \"keyboard\": true, \"mouse\": true, \"gamepad\": false, "
                 "\"time_zone\": \"Europe/Paris\", \"starts_at\": \"%s\", \"expires_at\": \"%s\", "
                 "\"message\": \"Welcome\"}",
                 starts, expires);
        params = guest_params;
    }
    reset(c);
    s = tc->fn(c, params, &json, &err);
    CHECK_STATUS(s, PT_OK);
    CHECK(err == NULL);
    CHECK(json != NULL);
    if (err) fprintf(stderr, "  %s: %s\n", tc->name, err->message);
    if (tc->in_result) CHECK_CONTAINS(json, tc->in_result);
    snprintf(path, sizeof path, "/v1/teams/%s%s", g_mock.team_id, tc->path);
    check_seen_one(c, tc->method, path);
    pt_string_free(json);
    pt_error_free(err);
}

static void check_admin_case(pt_admin_client *a, pt_client *ctl, const admin_case *ac) {
    char *json = NULL;
    pt_error *err = NULL;
    pt_status s;
    reset(ctl);
    s = ac->fn(a, ac->params, &json, &err);
    CHECK_STATUS(s, PT_OK);
    CHECK(err == NULL);
    CHECK(json != NULL);
    if (err) fprintf(stderr, "  %s: %s\n", ac->name, err->message);
    if (ac->in_result) CHECK_CONTAINS(json, ac->in_result);
    check_seen_one(ctl, ac->method, ac->path);
    pt_string_free(json);
    pt_error_free(err);
}

static void test_every_operation(void) {
    pt_client *c = new_client();
    pt_admin_client *a = new_admin(g_mock.admin_token);
    char name[128];
    size_t i;
    for (i = 0; i < COUNT(TEAMS_CASES); i++) {
        snprintf(name, sizeof name, "operation %s", TEAMS_CASES[i].name);
        begin_test(name);
        check_teams_case(c, &TEAMS_CASES[i]);
        end_test(name);
    }
    for (i = 0; i < COUNT(ADMIN_CASES); i++) {
        snprintf(name, sizeof name, "admin operation %s", ADMIN_CASES[i].name);
        begin_test(name);
        check_admin_case(a, c, &ADMIN_CASES[i]);
        end_test(name);
    }
    pt_admin_client_free(a);
    pt_client_free(c);
}

/* Results: the inner object, whole pages, null for 204s. */
static void test_result_shapes(void) {
    pt_client *c = new_client();
    char *json = NULL;
    pt_error *err = NULL;
    reset(c);
    CHECK_STATUS(pt_members_get(c, "{\"user_id\": 1}", &json, &err), PT_OK);
    CHECK(json != NULL && json[0] == '{' && strstr(json, "\"data\"") == NULL);
    CHECK_CONTAINS(json, "\"user_id\":1");
    pt_string_free(json);
    CHECK_STATUS(pt_members_list(c, "{\"limit\": 3}", &json, &err), PT_OK);
    CHECK(json != NULL && strncmp(json, "{\"data\":[", 9) == 0);
    CHECK_CONTAINS(json, "\"count\":50");
    pt_string_free(json);
    CHECK_STATUS(pt_groups_delete(c, "{\"group_id\": 4}", &json, &err), PT_OK);
    CHECK(json != NULL && strcmp(json, "null") == 0);
    pt_string_free(json);
    CHECK_STATUS(pt_guest_access_credits(c, NULL, &json, &err), PT_OK);
    CHECK(json != NULL && strcmp(json, "{\"balance\":25}") == 0);
    pt_string_free(json);
    CHECK(err == NULL);
    pt_client_free(c);
}

/* The generic pt_call reaches every operation by name. */
static void test_generic_call(void) {
    pt_client *c = new_client();
    pt_admin_client *a = new_admin(g_mock.admin_token);
    char *direct = NULL, *generic = NULL;
    pt_error *err = NULL;
    reset(c);
    CHECK_STATUS(pt_members_get(c, "{\"user_id\": 12}", &direct, &err), PT_OK);
    CHECK_STATUS(pt_call(c, "members.get", "{\"user_id\": 12}", &generic, &err), PT_OK);
    CHECK(direct && generic && strcmp(direct, generic) == 0);
    CHECK_CONTAINS(generic, "grace.hopper@example.com");
    pt_string_free(generic);
    CHECK_STATUS(pt_admin_call(a, "teams.get", "{\"id\": \"1\"}", &generic, &err), PT_OK);
    CHECK_CONTAINS(generic, "Engineering");
    pt_string_free(generic);
    CHECK_STATUS(pt_call(c, "members.nope", "{}", &generic, &err), PT_ERR_VALIDATION);
    CHECK(generic == NULL && err != NULL && strcmp(err->field, "operation") == 0);
    pt_error_free(err);
    CHECK_STATUS(pt_call(c, "members", "{}", &generic, &err), PT_ERR_VALIDATION);
    pt_error_free(err);
    /* An admin operation is not reachable through the Teams client. */
    CHECK_STATUS(pt_call(c, "teams.list", "{}", &generic, &err), PT_ERR_VALIDATION);
    pt_error_free(err);
    pt_string_free(direct);
    pt_admin_client_free(a);
    pt_client_free(c);
}

/* ------------------------------------------------------------------------ */
/* Bad input: PT_ERR_VALIDATION, never a crash, nothing sent                */
/* ------------------------------------------------------------------------ */

static void expect_validation(pt_status s, pt_error *err, const char *field) {
    CHECK_STATUS(s, PT_ERR_VALIDATION);
    CHECK(err != NULL);
    if (err == NULL) return;
    CHECK(err->code == PT_ERR_VALIDATION);
    CHECK(err->http_status == 0);
    CHECK(err->message != NULL && err->message[0] != '\0');
    CHECK(err->request_id == NULL);
    CHECK(err->retry_after < 0);
    if (field) {
        CHECK(err->field != NULL && strcmp(err->field, field) == 0);
        if (err->field && strcmp(err->field, field) != 0)
            fprintf(stderr, "  field %s, expected %s (%s)\n", err->field, field, err->message);
    }
}

/* The call runs first, then the error it stored is checked. */
#define EXPECT_VALIDATION(call, e, field)      \
    do {                                       \
        pt_status s_ = (call);                 \
        expect_validation(s_, (e), (field));   \
    } while (0)

static void test_bad_input(void) {
    pt_client *c = new_client();
    char *json = (char *)"garbage";
    pt_error *err = NULL;
    char *log;
    static const char bad_utf8[] = "{\"user_id\": 1, \"x\": \"\xff\xfe\"}";
    reset(c);

    EXPECT_VALIDATION(pt_members_get(NULL, "{\"user_id\": 1}", &json, &err), err, "client");
    CHECK(json == NULL);
    pt_error_free(err);
    EXPECT_VALIDATION(pt_members_get(c, "{\"user_id\": 1}", NULL, &err), err, "out_json");
    pt_error_free(err);
    EXPECT_VALIDATION(pt_members_get(c, bad_utf8, &json, &err), err, "params_json");
    pt_error_free(err);
    EXPECT_VALIDATION(pt_members_get(c, "{\"user_id\": 1", &json, &err), err, "params_json");
    pt_error_free(err);
    EXPECT_VALIDATION(pt_members_get(c, "[1, 2]", &json, &err), err, "params_json");
    pt_error_free(err);
    EXPECT_VALIDATION(pt_members_get(c, "42", &json, &err), err, "params_json");
    pt_error_free(err);
    EXPECT_VALIDATION(pt_members_get(c, NULL, &json, &err), err, "user_id"); /* required */
    pt_error_free(err);
    EXPECT_VALIDATION(pt_members_get(c, "{\"user_id\": \"two\"}", &json, &err), err, "user_id");
    pt_error_free(err);
    EXPECT_VALIDATION(pt_members_list(c, "{\"limit\": 0}", &json, &err), err, "limit");
    CHECK_CONTAINS(err ? err->message : NULL, "limit");
    pt_error_free(err);
    EXPECT_VALIDATION(pt_members_list(c, "{\"limt\": 5}", &json, &err), err, "limt");
    pt_error_free(err);
    EXPECT_VALIDATION(pt_members_list(c, "{\"_options\": {\"timeout_ms\": -5}}", &json, &err), err, "timeout");
    pt_error_free(err);
    EXPECT_VALIDATION(pt_members_list(c, "{\"_options\": {\"retries\": 1}}", &json, &err), err,
                      "_options.retries");
    pt_error_free(err);
    EXPECT_VALIDATION(pt_members_list(c, "{\"_options\": [1]}", &json, &err), err, "_options");
    pt_error_free(err);
    EXPECT_VALIDATION(pt_invites_create(c, "{\"emails\": [\"not-an-email\"]}", &json, &err), err, NULL);
    CHECK_CONTAINS(err ? err->field : NULL, "emails");
    pt_error_free(err);
    EXPECT_VALIDATION(pt_groups_create(c, "{\"group_name\": \"X\", \"allow_connections_within_group\": true, \"show_personal_hosts\": false}", &json, &err), err, "group_name");
    pt_error_free(err);
    EXPECT_VALIDATION(pt_call(c, NULL, "{}", &json, &err), err, "operation");
    pt_error_free(err);
    EXPECT_VALIDATION(pt_call(c, "members.\xff", "{}", &json, &err), err, "operation");
    pt_error_free(err);
    EXPECT_VALIDATION(pt_client_request(c, "PATCH", "/x", NULL, NULL, &json, &err), err, "method");
    pt_error_free(err);
    EXPECT_VALIDATION(pt_client_request(c, "GET", NULL, NULL, NULL, &json, &err), err, "path");
    pt_error_free(err);
    EXPECT_VALIDATION(pt_client_request(c, "GET", "/x", "{\"a\": [[1]]}", NULL, &json, &err), err, "query.a");
    pt_error_free(err);
    EXPECT_VALIDATION(pt_client_request(c, "POST", "/x", NULL, "{nope", &json, &err), err, "body");
    pt_error_free(err);
    EXPECT_VALIDATION(pt_quota_status(NULL, &json, &err), err, "client");
    pt_error_free(err);
    EXPECT_VALIDATION(pt_admin_teams_list(NULL, "{}", &json, &err), err, "client");
    pt_error_free(err);
    EXPECT_VALIDATION(pt_iter_next(NULL, &json, &err), err, "iter");
    pt_error_free(err);
    /* A NULL out_error is fine: only the status comes back. */
    CHECK_STATUS(pt_members_get(c, "{}", &json, NULL), PT_ERR_VALIDATION);
    CHECK(json == NULL);

    /* Nothing of the above reached the server. */
    log = seen(c);
    CHECK(log != NULL && strcmp(log, "[]") == 0);
    if (log && strcmp(log, "[]") != 0) fprintf(stderr, "  server saw %s\n", log);
    pt_string_free(log);

    /* Freeing NULL is fine everywhere. */
    pt_string_free(NULL);
    pt_error_free(NULL);
    pt_client_free(NULL);
    pt_admin_client_free(NULL);
    pt_iter_free(NULL);
    pt_client_options_init(NULL);
    pt_admin_client_options_init(NULL);
    pt_client_free(c);
}

static void test_bad_client_options(void) {
    pt_client_options opts;
    pt_admin_client_options aopts;
    pt_error *err = NULL;
    pt_client *c;
    pt_admin_client *a;
    static const char bad_utf8_key[] = "tapi_team.\xc3\x28";

    memset(&opts, 0, sizeof opts); /* version 0: not initialised */
    opts.api_key = g_mock.api_key;
    opts.base_url = g_mock.base_url;
    c = pt_client_new(&opts, &err);
    CHECK(c == NULL);
    expect_validation(PT_ERR_VALIDATION, err, "options.version");
    pt_error_free(err);

    pt_client_options_init(&opts);
    CHECK(opts.version == PT_OPTIONS_VERSION && opts.api_key == NULL && opts.max_retries < 0);
    opts.api_key = g_mock.api_key;
    opts.base_url = "http://api.example.com"; /* plain http off loopback */
    c = pt_client_new(&opts, &err);
    CHECK(c == NULL);
    expect_validation(PT_ERR_VALIDATION, err, "base_url");
    pt_error_free(err);

    opts.base_url = "not a url";
    c = pt_client_new(&opts, &err);
    CHECK(c == NULL);
    expect_validation(PT_ERR_VALIDATION, err, "base_url");
    pt_error_free(err);

    opts.base_url = g_mock.base_url;
    opts.api_key = bad_utf8_key;
    c = pt_client_new(&opts, &err);
    CHECK(c == NULL);
    expect_validation(PT_ERR_VALIDATION, err, "api_key");
    pt_error_free(err);

    /* No key anywhere (the suite runs with PARSEC_API_KEY unset). */
    opts.api_key = NULL;
    c = pt_client_new(&opts, &err);
    CHECK(c == NULL);
    expect_validation(PT_ERR_VALIDATION, err, "api_key");
    /* The error never carries a secret. */
    pt_error_free(err);

    pt_admin_client_options_init(&aopts);
    a = pt_admin_client_new(&aopts, &err); /* no base URL */
    CHECK(a == NULL);
    expect_validation(PT_ERR_VALIDATION, err, NULL);
    pt_error_free(err);
    /* A NULL out_error with a failure: NULL back, nothing leaks. */
    CHECK(pt_admin_client_new(&aopts, NULL) == NULL);
}

/* NULL fields fall back to the environment. */
static void test_environment_fallback(void) {
    pt_client *c;
    pt_admin_client *a;
    pt_error *err = NULL;
    char *json = NULL;
    setenv("PARSEC_API_KEY", g_mock.api_key, 1);
    setenv("PARSEC_BASE_URL", g_mock.base_url, 1);
    setenv("PARSEC_ADMIN_BASE_URL", g_mock.base_url, 1);
    setenv("PARSEC_ADMIN_TOKEN", g_mock.admin_token, 1);
    c = pt_client_new(NULL, &err);
    CHECK(c != NULL && err == NULL);
    CHECK_STATUS(pt_members_get(c, "{\"user_id\": 3}", &json, &err), PT_OK);
    CHECK_CONTAINS(json, "alan.lovelace@example.com");
    pt_string_free(json);
    a = pt_admin_client_new(NULL, &err);
    CHECK(a != NULL);
    CHECK_STATUS(pt_admin_teams_list(a, NULL, &json, &err), PT_OK);
    pt_string_free(json);
    pt_admin_client_free(a);
    pt_client_free(c);
    unsetenv("PARSEC_API_KEY");
    unsetenv("PARSEC_BASE_URL");
    unsetenv("PARSEC_ADMIN_BASE_URL");
    unsetenv("PARSEC_ADMIN_TOKEN");
}

/* ------------------------------------------------------------------------ */
/* Every status                                                             */
/* ------------------------------------------------------------------------ */

/* A GET /members/2 answered by a fault with `status`. */
static void check_fault_status(pt_client *c, int status, pt_status want) {
    char body[256], *json = NULL;
    pt_error *err = NULL;
    reset(c);
    snprintf(body, sizeof body,
             "{\"method\": \"GET\", \"path\": \"/v1/teams/*/members/2\", \"times\": 5, \"status\": %d, "
             "\"body\": \"{\\\"message\\\": \\\"fault %d\\\"}\"}",
             status, status);
    fault(c, body);
    CHECK_STATUS(pt_members_get(c, "{\"user_id\": 2, \"_options\": {\"max_retries\": 0}}", &json, &err), want);
    CHECK(json == NULL);
    CHECK(err != NULL);
    if (err) {
        char text[32];
        CHECK(err->code == want);
        CHECK(err->http_status == status);
        snprintf(text, sizeof text, "fault %d", status);
        CHECK_CONTAINS(err->message, text);
        CHECK(err->request_id != NULL && err->request_id[0] != '\0');
        if (err->request_id) CHECK_CONTAINS(err->description, err->request_id);
        CHECK(err->body != NULL);
        CHECK(err->retries_taken == 0);
    }
    pt_error_free(err);
}

static void test_http_statuses(void) {
    pt_client *c = new_client();
    check_fault_status(c, 400, PT_ERR_BAD_REQUEST);
    check_fault_status(c, 401, PT_ERR_AUTHENTICATION);
    check_fault_status(c, 403, PT_ERR_PERMISSION_DENIED);
    check_fault_status(c, 404, PT_ERR_NOT_FOUND);
    check_fault_status(c, 409, PT_ERR_CONFLICT);
    check_fault_status(c, 422, PT_ERR_UNPROCESSABLE);
    check_fault_status(c, 500, PT_ERR_SERVER);
    check_fault_status(c, 405, PT_ERR_API);
    check_fault_status(c, 418, PT_ERR_API);
    pt_client_free(c);
}

static void test_real_server_errors(void) {
    pt_client *c = new_client();
    pt_client *wrong = client_with(g_mock.base_url, "tapi_1or58Uz1O6ObcpGCN9.d3JvbmdrZXk", -1);
    pt_admin_client *nonadmin = new_admin("pta_user_0003_0badc0de98765432");
    pt_admin_client *badtoken = new_admin("pta_nobody");
    char *json = NULL, *log;
    pt_error *err = NULL;
    reset(c);

    CHECK_STATUS(pt_members_get(c, "{\"user_id\": 9999}", &json, &err), PT_ERR_NOT_FOUND);
    CHECK(err && err->http_status == 404 && err->request_id != NULL && !err->retryable);
    pt_error_free(err);

    CHECK_STATUS(pt_members_remove(c, "{\"user_id\": 1}", &json, &err), PT_ERR_CONFLICT); /* the owner */
    CHECK(err && err->http_status == 409);
    pt_error_free(err);

    CHECK_STATUS(pt_members_get(wrong, "{\"user_id\": 2}", &json, &err), PT_ERR_AUTHENTICATION);
    CHECK(err && err->http_status == 401);
    if (err) CHECK(strstr(err->message, "d3JvbmdrZXk") == NULL); /* never the key */
    pt_error_free(err);

    CHECK_STATUS(pt_admin_teams_list(badtoken, NULL, &json, &err), PT_ERR_AUTHENTICATION);
    pt_error_free(err);
    CHECK_STATUS(pt_admin_teams_delete(nonadmin, "{\"id\": \"1\"}", &json, &err), PT_ERR_PERMISSION_DENIED);
    pt_error_free(err);
    CHECK(json == NULL);

    log = seen(c);
    CHECK(count_of(log, "\"path\":\"/v1/teams/") == 3);
    CHECK(count_of(log, "\"path\":\"/api/v1/teams") == 2);
    pt_string_free(log);
    pt_admin_client_free(badtoken);
    pt_admin_client_free(nonadmin);
    pt_client_free(wrong);
    pt_client_free(c);
}

static void test_permission_denied_key(void) {
    mock_server m;
    const char *args[] = {"--key", "tapi_1or58Uz1O6ObcpGCN9.cmVhZG9ubHk=View Team Members", NULL};
    pt_client *c;
    char *json = NULL;
    pt_error *err = NULL;
    if (mock_start(&m, args) != 0) {
        CHECK(!"second mock started");
        return;
    }
    c = client_with(m.base_url, "tapi_1or58Uz1O6ObcpGCN9.cmVhZG9ubHk", -1);
    CHECK_STATUS(pt_members_get(c, "{\"user_id\": 2}", &json, &err), PT_OK);
    pt_string_free(json);
    CHECK_STATUS(pt_groups_list(c, NULL, &json, &err), PT_ERR_PERMISSION_DENIED);
    CHECK(err && err->http_status == 403 && err->request_id != NULL);
    CHECK(json == NULL);
    pt_error_free(err);
    pt_client_free(c);
    mock_stop(&m);
}

static void test_rate_limited(void) {
    pt_client *c = new_client();
    char *json = NULL, *log;
    pt_error *err = NULL;
    reset(c);
    /* Retry-After beyond max_retry_wait (60 s): fails at once, not slept through. */
    fault(c, "{\"method\": \"GET\", \"path\": \"/v1/teams/*/members/2\", \"times\": 1, \"status\": 429, \"retry_after\": 120}");
    CHECK_STATUS(pt_members_get(c, "{\"user_id\": 2}", &json, &err), PT_ERR_RATE_LIMITED);
    CHECK(err && err->http_status == 429 && err->retry_after == 120.0 && err->retryable);
    CHECK(err && err->retries_taken == 0);
    pt_error_free(err);
    log = seen(c);
    CHECK(count_of(log, "\"status\":429") == 1);
    pt_string_free(log);

    /* A short Retry-After is honoured and the call then succeeds. */
    reset(c);
    fault(c, "{\"method\": \"GET\", \"path\": \"/v1/teams/*/members/2\", \"times\": 1, \"status\": 429, \"retry_after\": 0}");
    CHECK_STATUS(pt_members_get(c, "{\"user_id\": 2}", &json, &err), PT_OK);
    pt_string_free(json);
    log = seen(c);
    CHECK(count_of(log, "\"method\":\"GET\"") == 2);
    pt_string_free(log);
    pt_client_free(c);
}

static void test_retries_and_server_errors(void) {
    pt_client *c = new_client();
    char *json = NULL, *log;
    pt_error *err = NULL;

    /* GET: a 503 is retried. */
    reset(c);
    fault(c, "{\"method\": \"GET\", \"path\": \"/v1/teams/*/members/2\", \"times\": 1, \"status\": 503}");
    CHECK_STATUS(pt_members_get(c, "{\"user_id\": 2}", &json, &err), PT_OK);
    pt_string_free(json);
    log = seen(c);
    CHECK(count_of(log, "\"path\":\"/v1/teams/") == 2);
    pt_string_free(log);

    /* GET: retries run out (max_retries 1 => 2 attempts). */
    reset(c);
    fault(c, "{\"method\": \"GET\", \"path\": \"/v1/teams/*/members/2\", \"times\": 5, \"status\": 502}");
    CHECK_STATUS(pt_members_get(c, "{\"user_id\": 2, \"_options\": {\"max_retries\": 1}}", &json, &err), PT_ERR_SERVER);
    CHECK(err && err->retries_taken == 1 && err->http_status == 502 && !err->may_have_been_applied);
    pt_error_free(err);
    log = seen(c);
    CHECK(count_of(log, "\"path\":\"/v1/teams/") == 2);
    pt_string_free(log);

    /* POST: a 500 is never retried, and may have been applied. */
    reset(c);
    fault(c, "{\"method\": \"POST\", \"path\": \"/v1/teams/*/member-invites\", \"times\": 5, \"status\": 500}");
    CHECK_STATUS(pt_invites_create(c, "{\"emails\": [\"x@example.com\"]}", &json, &err), PT_ERR_SERVER);
    CHECK(err && err->retries_taken == 0 && err->may_have_been_applied && !err->retryable);
    pt_error_free(err);
    log = seen(c);
    CHECK(count_of(log, "\"method\":\"POST\"") == 1);
    pt_string_free(log);
    pt_client_free(c);
}

static void test_timeout_and_connection(void) {
    pt_client *c = new_client();
    pt_client *nowhere = client_with("http://127.0.0.1:1", g_mock.api_key, 0);
    char *json = NULL;
    pt_error *err = NULL;
    reset(c);
    fault(c, "{\"method\": \"GET\", \"path\": \"/v1/teams/*/members/2\", \"times\": 1, \"delay_ms\": 3000}");
    CHECK_STATUS(pt_members_get(c, "{\"user_id\": 2, \"_options\": {\"timeout_ms\": 300, \"max_retries\": 0}}", &json, &err),
                 PT_ERR_TIMEOUT);
    CHECK(err && err->http_status == 0 && err->request_id == NULL);
    CHECK(json == NULL);
    pt_error_free(err);

    CHECK_STATUS(pt_members_get(nowhere, "{\"user_id\": 2}", &json, &err), PT_ERR_CONNECTION);
    CHECK(err && err->http_status == 0 && err->retryable && !err->may_have_been_applied);
    pt_error_free(err);

    /* A dropped connection on a POST: a connection error that may have been applied. */
    reset(c);
    fault(c, "{\"method\": \"POST\", \"path\": \"/v1/teams/*/groups\", \"times\": 1, \"drop_connection\": true}");
    CHECK_STATUS(pt_groups_create(c, "{\"group_name\": \"Drop\", \"allow_connections_within_group\": false, \"show_user_assigned_managed_hosts\": false, \"show_personal_hosts\": false}", &json, &err),
                 PT_ERR_CONNECTION);
    CHECK(err && err->may_have_been_applied);
    pt_error_free(err);
    pt_client_free(nowhere);
    pt_client_free(c);
}

static void test_decode_error(void) {
    pt_client *c = new_client();
    char *json = NULL;
    pt_error *err = NULL;
    reset(c);
    fault(c, "{\"method\": \"GET\", \"path\": \"/v1/teams/*/members/2\", \"times\": 1, \"status\": 200, \"body\": \"<html>not json\"}");
    CHECK_STATUS(pt_members_get(c, "{\"user_id\": 2}", &json, &err), PT_ERR_DECODE);
    CHECK(err && err->http_status == 200 && err->body != NULL);
    CHECK(json == NULL);
    pt_error_free(err);
    pt_client_free(c);
}

static void test_status_names(void) {
    CHECK(strcmp(pt_status_name(PT_OK), "PT_OK") == 0);
    CHECK(strcmp(pt_status_name(PT_ERR_VALIDATION), "PT_ERR_VALIDATION") == 0);
    CHECK(strcmp(pt_status_name(PT_ERR_INTERNAL), "PT_ERR_INTERNAL") == 0);
    CHECK(strcmp(pt_status_name(-1), "PT_ERR_UNKNOWN") == 0);
    CHECK(strcmp(pt_status_name(1000), "PT_ERR_UNKNOWN") == 0);
    CHECK(PT_OK == 0 && PT_ERR_VALIDATION == 1 && PT_ERR_DECODE == 13 && PT_ERR_INTERNAL == 14);
    CHECK(strcmp(pt_version(), "0.1.0") == 0);
}

/* ------------------------------------------------------------------------ */
/* Iterators, quotas, the escape hatch                                      */
/* ------------------------------------------------------------------------ */

static void test_iterators(void) {
    pt_client *c = new_client();
    pt_iter *it = NULL;
    pt_error *err = NULL;
    char *item = NULL, *log;
    int n = 0, saw_50 = 0;
    reset(c);
    CHECK_STATUS(pt_iter_new(c, "members.list", "{\"limit\": 20}", &it, &err), PT_OK);
    for (;;) {
        pt_status s = pt_iter_next(it, &item, &err);
        CHECK_STATUS(s, PT_OK);
        if (s != PT_OK || item == NULL) break;
        n++;
        if (strstr(item, "\"user_id\":50,") || strstr(item, "\"user_id\":50}")) saw_50 = 1;
        pt_string_free(item);
    }
    CHECK(n == 50 && saw_50);
    /* Once exhausted it stays exhausted, without another request. */
    CHECK_STATUS(pt_iter_next(it, &item, &err), PT_OK);
    CHECK(item == NULL);
    pt_iter_free(it);
    log = seen(c);
    CHECK(count_of(log, "\"method\":\"GET\"") == 3); /* 20 + 20 + 10 */
    CHECK_CONTAINS(log, "offset=40");
    pt_string_free(log);

    /* The audit log follows next_cursor. */
    reset(c);
    CHECK_STATUS(pt_iter_new(c, "audit_log.list_events", "{\"limit\": 100}", &it, &err), PT_OK);
    n = 0;
    while (pt_iter_next(it, &item, &err) == PT_OK && item != NULL) {
        n++;
        pt_string_free(item);
    }
    CHECK(n == 320);
    pt_iter_free(it);
    log = seen(c);
    CHECK(count_of(log, "cursor=") >= 3);
    pt_string_free(log);

    CHECK_STATUS(pt_iter_new(c, "members.get", "{\"user_id\": 1}", &it, &err), PT_ERR_VALIDATION);
    CHECK(it == NULL);
    pt_error_free(err);
    CHECK_STATUS(pt_iter_new(c, "members.list", "{\"limit\": 500}", &it, &err), PT_OK);
    CHECK_STATUS(pt_iter_next(it, &item, &err), PT_ERR_VALIDATION);
    CHECK(item == NULL && err && strcmp(err->field, "limit") == 0);
    pt_error_free(err);
    pt_iter_free(it);
    pt_client_free(c);
}

static void test_quota_status(void) {
    pt_client *c = new_client();
    char *json = NULL;
    pt_error *err = NULL;
    int i;
    reset(c);
    CHECK_STATUS(pt_quota_status(c, &json, &err), PT_OK);
    CHECK_CONTAINS(json, "\"name\":\"audit_log\"");
    CHECK_CONTAINS(json, "\"remaining\":50");
    pt_string_free(json);
    for (i = 0; i < 3; i++) {
        CHECK_STATUS(pt_audit_log_list_events(c, "{\"limit\": 1}", &json, &err), PT_OK);
        pt_string_free(json);
    }
    CHECK_STATUS(pt_quota_status(c, &json, &err), PT_OK);
    CHECK_CONTAINS(json, "\"name\":\"audit_log\",\"limit\":50,\"remaining\":47");
    pt_string_free(json);
    pt_client_free(c);
}

static void test_escape_hatch(void) {
    pt_client *c = new_client();
    pt_admin_client *a = new_admin(g_mock.admin_token);
    char *json = NULL, *log;
    pt_error *err = NULL;
    reset(c);
    CHECK_STATUS(pt_client_request(c, "GET", "/v1/teams/{team_id}/members", "{\"limit\": 2, \"offset\": 1, \"email\": null}", NULL, &json, &err), PT_OK);
    CHECK_CONTAINS(json, "\"count\":50");
    CHECK_CONTAINS(json, "grace.lovelace@example.com");
    pt_string_free(json);
    CHECK_STATUS(pt_client_request(c, "GET", "/v1/teams/{team_id}/members/777", NULL, NULL, &json, &err), PT_ERR_NOT_FOUND);
    pt_error_free(err);
    CHECK_STATUS(pt_admin_client_request(a, "GET", "/api/v1/teams/1", NULL, NULL, &json, &err), PT_OK);
    CHECK_CONTAINS(json, "Engineering");
    pt_string_free(json);
    log = seen(c);
    CHECK_CONTAINS(log, "limit=2");
    CHECK(count_of(log, "\"method\":\"GET\"") == 3);
    pt_string_free(log);
    pt_admin_client_free(a);
    pt_client_free(c);
}

/* ------------------------------------------------------------------------ */
/* Threads                                                                  */
/* ------------------------------------------------------------------------ */

#define THREADS 16
#define CALLS_PER_THREAD 25

typedef struct {
    const pt_client *client;
    int index;
    int calls;
    int ok;
    int wrong;
} thread_arg;

static void *thread_main(void *p) {
    thread_arg *t = p;
    int i;
    for (i = 0; i < t->calls; i++) {
        int user = 1 + (t->index * 7 + i) % 50;
        char params[64], want[32], *json = NULL;
        pt_error *err = NULL;
        pt_status s;
        snprintf(params, sizeof params, "{\"user_id\": %d}", user);
        snprintf(want, sizeof want, "\"user_id\":%d,", user);
        s = pt_members_get(t->client, params, &json, &err);
        if (s == PT_OK && json && strstr(json, want)) t->ok++;
        else if (t->wrong++ == 0)
            fprintf(stderr, "  thread %d call %d: %s %s\n", t->index, i, pt_status_name(s), err ? err->message : "");
        pt_string_free(json);
        pt_error_free(err);
        /* Every fourth call also fails validation, concurrently. */
        if (i % 4 == 0) {
            s = pt_members_get(t->client, "{\"user_id\": -1}", &json, &err);
            if (s != PT_ERR_VALIDATION || json != NULL) t->wrong++;
            pt_error_free(err);
        }
    }
    return NULL;
}

/* THREADS threads share one client, `calls` calls each: every call completes
 * with the right answer, and the server saw exactly that many requests. */
static void threads_share_one_client(int calls) {
    pt_client *c = new_client();
    pthread_t th[THREADS];
    thread_arg args[THREADS];
    int i, ok = 0, wrong = 0;
    char *log;
    reset(c);
    for (i = 0; i < THREADS; i++) {
        args[i].client = c;
        args[i].index = i;
        args[i].calls = calls;
        args[i].ok = args[i].wrong = 0;
        CHECK(pthread_create(&th[i], NULL, thread_main, &args[i]) == 0);
    }
    for (i = 0; i < THREADS; i++) {
        pthread_join(th[i], NULL);
        ok += args[i].ok;
        wrong += args[i].wrong;
    }
    CHECK(ok == THREADS * calls);
    CHECK(wrong == 0);
    log = seen(c);
    CHECK(count_of(log, "\"method\":\"GET\"") == THREADS * calls);
    CHECK(count_of(log, "\"status\":200") == THREADS * calls);
    pt_string_free(log);
    pt_client_free(c);
}

static void test_threads_share_one_client(void) { threads_share_one_client(CALLS_PER_THREAD); }

/* Load: 16 threads on one client, 500 calls each. */
static void test_sixteen_threads_500_calls_each(void) { threads_share_one_client(500); }

/* After fork(), the child makes its own client and it works. */
static void test_fork_child(void) {
    pid_t pid;
    int status = -1;
    fflush(NULL);
    pid = fork();
    if (pid == 0) {
        pt_client *c = client_with(g_mock.base_url, g_mock.api_key, -1);
        char *json = NULL;
        pt_status s = pt_members_get(c, "{\"user_id\": 2}", &json, NULL);
        int ok = s == PT_OK && json && strstr(json, "grace.lovelace@example.com");
        pt_string_free(json);
        pt_client_free(c);
        _exit(ok ? 0 : 1);
    }
    CHECK(pid > 0);
    if (pid > 0) {
        waitpid(pid, &status, 0);
        CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0);
    }
}

/* ------------------------------------------------------------------------ */
/* Hardening (issue 11)                                                     */
/* ------------------------------------------------------------------------ */

/* Sleeps `ms` milliseconds (only to wait for something that is polled). */
static void sleep_ms(long ms) {
    struct timespec ts;
    ts.tv_sec = ms / 1000;
    ts.tv_nsec = (ms % 1000) * 1000000L;
    while (nanosleep(&ts, &ts) != 0 && errno == EINTR) {
    }
}

/* Waits (up to 10 s) until the server has seen `n` requests containing `needle`. */
static int wait_until_seen(pt_client *ctl, const char *needle, int n) {
    int i;
    for (i = 0; i < 1000; i++) {
        char *log = seen(ctl);
        int got = count_of(log, needle);
        pt_string_free(log);
        if (got >= n) return 1;
        sleep_ms(10);
    }
    return 0;
}

/* An iterator made before fork() fails at once in the child with a clear
 * PT_ERR_VALIDATION (field "iter"), instead of hanging until its timeout on
 * connections served by the parent's runtime threads. */
static void test_iter_made_before_fork_fails_at_once_in_the_child(void) {
    pt_client *c = new_client();
    pt_iter *it = NULL;
    pt_error *err = NULL;
    char *item = NULL;
    int i, status = -1;
    pid_t pid;
    reset(c);
    /* Timeout 3 s: without the fix the child's page fetch waits that long, then PT_ERR_TIMEOUT. */
    CHECK_STATUS(pt_iter_new(c, "members.list", "{\"limit\": 10, \"_options\": {\"timeout_ms\": 3000, \"max_retries\": 0}}", &it, &err), PT_OK);
    for (i = 0; i < 10; i++) { /* exactly the first page: the next item needs a request */
        CHECK_STATUS(pt_iter_next(it, &item, &err), PT_OK);
        CHECK(item != NULL);
        pt_string_free(item);
    }
    fflush(NULL);
    pid = fork();
    if (pid == 0) {
        pt_status s = pt_iter_next(it, &item, &err);
        int ok = s == PT_ERR_VALIDATION && item == NULL && err != NULL && err->field != NULL &&
                 strcmp(err->field, "iter") == 0 && strstr(err->message, "fork") != NULL;
        if (!ok) fprintf(stderr, "  child: %s %s\n", pt_status_name(s), err ? err->message : "(no error)");
        pt_string_free(item);
        pt_error_free(err);
        pt_iter_free(it); /* freeing it in the child is fine */
        _exit(ok ? 0 : 1);
    }
    CHECK(pid > 0);
    if (pid > 0) {
        waitpid(pid, &status, 0);
        CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0);
    }
    /* The parent's iterator goes on. */
    CHECK_STATUS(pt_iter_next(it, &item, &err), PT_OK);
    CHECK_CONTAINS(item, "\"user_id\":11");
    pt_string_free(item);
    pt_iter_free(it);
    pt_client_free(c);
}

/* A client made (and used) before fork() works in the child: the child's
 * calls go through a connection pool of its own. */
static void test_client_made_before_fork_works_in_the_child(void) {
    pt_client *c = new_client();
    pt_admin_client *a = new_admin(g_mock.admin_token);
    char *json = NULL, *log;
    int status = -1;
    pid_t pid;
    reset(c);
    /* Both pools hold an idle connection opened by the parent's runtime. */
    CHECK_STATUS(pt_members_get(c, "{\"user_id\": 3}", &json, NULL), PT_OK);
    pt_string_free(json);
    CHECK_STATUS(pt_admin_teams_get(a, "{\"id\": \"2\"}", &json, NULL), PT_OK);
    pt_string_free(json);
    fflush(NULL);
    pid = fork();
    if (pid == 0) {
        pt_error *err = NULL;
        int ok;
        pt_status s = pt_members_get(c, "{\"user_id\": 2, \"_options\": {\"timeout_ms\": 3000, \"max_retries\": 0}}", &json, &err);
        ok = s == PT_OK && json && strstr(json, "grace.lovelace@example.com");
        if (!ok) fprintf(stderr, "  child members.get: %s %s\n", pt_status_name(s), err ? err->message : "");
        pt_string_free(json);
        pt_error_free(err);
        err = NULL;
        s = pt_admin_teams_get(a, "{\"id\": \"3\", \"_options\": {\"timeout_ms\": 3000, \"max_retries\": 0}}", &json, &err);
        if (s != PT_OK) fprintf(stderr, "  child admin teams.get: %s %s\n", pt_status_name(s), err ? err->message : "");
        ok = ok && s == PT_OK && json != NULL;
        pt_string_free(json);
        pt_error_free(err);
        pt_admin_client_free(a);
        pt_client_free(c);
        _exit(ok ? 0 : 1);
    }
    CHECK(pid > 0);
    if (pid > 0) {
        waitpid(pid, &status, 0);
        CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0);
    }
    /* The parent's clients are unharmed, and each call reached the server once. */
    CHECK_STATUS(pt_members_get(c, "{\"user_id\": 4}", &json, NULL), PT_OK);
    pt_string_free(json);
    log = seen(c);
    CHECK(count_of(log, "/members/2\"") == 1);
    CHECK(count_of(log, "\"path\":\"/api/v1/teams/3\"") == 1);
    CHECK(count_of(log, "\"method\":") == 5);
    pt_string_free(log);
    pt_admin_client_free(a);
    pt_client_free(c);
}

/* pt_iter_next on one iterator from several threads at once: the calls are
 * serialized, so every item comes out exactly once and each page is fetched once. */
#define ITER_THREADS 4
typedef struct {
    pt_iter *it;
    pthread_mutex_t *lock;
    int *seen_ids; /* count per user_id, 1..50 */
    int errors;
} iter_thread_arg;

static void *iter_thread_main(void *p) {
    iter_thread_arg *t = p;
    for (;;) {
        char *item = NULL;
        pt_error *err = NULL;
        pt_status s = pt_iter_next(t->it, &item, &err);
        const char *u;
        if (s != PT_OK) {
            t->errors++;
            pt_error_free(err);
            return NULL;
        }
        if (item == NULL) return NULL;
        u = strstr(item, "\"user_id\":");
        if (u) {
            int id = atoi(u + strlen("\"user_id\":"));
            pthread_mutex_lock(t->lock);
            if (id >= 1 && id <= 50) t->seen_ids[id]++;
            else t->errors++;
            pthread_mutex_unlock(t->lock);
        } else {
            t->errors++;
        }
        pt_string_free(item);
    }
}

static void test_concurrent_iter_next_is_serialized(void) {
    pt_client *c = new_client();
    pt_iter *it = NULL;
    pt_error *err = NULL;
    pthread_t th[ITER_THREADS];
    iter_thread_arg args[ITER_THREADS];
    pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
    int ids[51] = {0};
    int i, errors = 0, once = 0;
    char *log;
    reset(c);
    CHECK_STATUS(pt_iter_new(c, "members.list", "{\"limit\": 5}", &it, &err), PT_OK);
    for (i = 0; i < ITER_THREADS; i++) {
        args[i].it = it;
        args[i].lock = &lock;
        args[i].seen_ids = ids;
        args[i].errors = 0;
        CHECK(pthread_create(&th[i], NULL, iter_thread_main, &args[i]) == 0);
    }
    for (i = 0; i < ITER_THREADS; i++) {
        pthread_join(th[i], NULL);
        errors += args[i].errors;
    }
    for (i = 1; i <= 50; i++) once += ids[i] == 1;
    CHECK(errors == 0);
    CHECK(once == 50);
    log = seen(c);
    CHECK(count_of(log, "\"method\":\"GET\"") == 10); /* 10 pages of 5, each fetched once */
    pt_string_free(log);
    pt_iter_free(it);
    pt_client_free(c);
}

/* pt_client_free / pt_admin_client_free while another thread is inside a call
 * on that client: the call completes normally (it keeps the client alive). */
typedef struct {
    pt_client *client;
    pt_admin_client *admin;
    pt_status status;
    char *json;
} slow_call_arg;

static void *slow_call_main(void *p) {
    slow_call_arg *t = p;
    if (t->client)
        t->status = pt_members_get(t->client, "{\"user_id\": 2}", &t->json, NULL);
    else
        t->status = pt_admin_teams_get(t->admin, "{\"id\": \"2\"}", &t->json, NULL);
    return NULL;
}

static void test_client_free_during_a_call_is_safe(void) {
    pt_client *ctl = new_client();
    pt_client_options opts;
    pt_admin_client_options aopts;
    slow_call_arg arg;
    pthread_t th;
    char *log;
    reset(ctl);
    /* The first attempt is handled at once (so it shows in the log) and
     * answered 3 s later: the client's 1 s timeout ends it, and the retry
     * (which reads the client's settings and pool again) runs after the free. */
    fault(ctl, "{\"method\": \"GET\", \"path\": \"/v1/teams/*/members/2\", \"delay_ms\": 3000}");
    fault(ctl, "{\"method\": \"GET\", \"path\": \"/api/v1/teams/2\", \"delay_ms\": 3000}");

    memset(&arg, 0, sizeof arg);
    pt_client_options_init(&opts);
    opts.base_url = g_mock.base_url;
    opts.api_key = g_mock.api_key;
    opts.timeout_ms = 1000;
    opts.max_retries = 1;
    arg.client = pt_client_new(&opts, NULL);
    CHECK(arg.client != NULL);
    CHECK(pthread_create(&th, NULL, slow_call_main, &arg) == 0);
    CHECK(wait_until_seen(ctl, "/members/2\"", 1));
    pt_client_free(arg.client); /* while the call waits for its first answer */
    pthread_join(th, NULL);
    CHECK_STATUS(arg.status, PT_OK);
    CHECK_CONTAINS(arg.json, "grace.lovelace@example.com");
    pt_string_free(arg.json);

    memset(&arg, 0, sizeof arg);
    pt_admin_client_options_init(&aopts);
    aopts.base_url = g_mock.base_url;
    aopts.token = g_mock.admin_token;
    aopts.timeout_ms = 1000;
    aopts.max_retries = 1;
    arg.admin = pt_admin_client_new(&aopts, NULL);
    CHECK(arg.admin != NULL);
    CHECK(pthread_create(&th, NULL, slow_call_main, &arg) == 0);
    CHECK(wait_until_seen(ctl, "\"path\":\"/api/v1/teams/2\"", 1));
    pt_admin_client_free(arg.admin);
    pthread_join(th, NULL);
    CHECK_STATUS(arg.status, PT_OK);
    CHECK_CONTAINS(arg.json, "Design");
    pt_string_free(arg.json);

    log = seen(ctl);
    CHECK(count_of(log, "/members/2\"") == 2);                 /* the timed-out attempt and the retry */
    CHECK(count_of(log, "\"path\":\"/api/v1/teams/2\"") == 2);
    pt_string_free(log);
    pt_client_free(ctl);
}

/* A one-connection HTTP "proxy" on 127.0.0.1: records what it was sent and
 * answers 502. */
typedef struct {
    int fd;
    int port;
    char got[2048];
} fake_proxy;

static int fake_proxy_open(fake_proxy *p) {
    struct sockaddr_in addr;
    socklen_t len = sizeof addr;
    memset(p, 0, sizeof *p);
    p->fd = socket(AF_INET, SOCK_STREAM, 0);
    if (p->fd < 0) return -1;
    memset(&addr, 0, sizeof addr);
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    addr.sin_port = 0;
    if (bind(p->fd, (struct sockaddr *)&addr, sizeof addr) != 0 || listen(p->fd, 8) != 0 ||
        getsockname(p->fd, (struct sockaddr *)&addr, &len) != 0) {
        close(p->fd);
        return -1;
    }
    p->port = ntohs(addr.sin_port);
    return 0;
}

/* Whether a connection is waiting to be accepted (nothing waits here). */
static int fake_proxy_was_contacted(fake_proxy *p) {
    struct pollfd pfd;
    pfd.fd = p->fd;
    pfd.events = POLLIN;
    pfd.revents = 0;
    return poll(&pfd, 1, 0) > 0;
}

static void *fake_proxy_main(void *arg) {
    fake_proxy *p = arg;
    struct pollfd pfd;
    size_t n = 0;
    int conn;
    static const char answer[] = "HTTP/1.1 502 Bad Gateway\r\nContent-Length: 0\r\nConnection: close\r\n\r\n";
    pfd.fd = p->fd;
    pfd.events = POLLIN;
    if (poll(&pfd, 1, 10000) <= 0) return NULL;
    conn = accept(p->fd, NULL, NULL);
    if (conn < 0) return NULL;
    while (n + 1 < sizeof p->got) {
        ssize_t r = read(conn, p->got + n, sizeof p->got - 1 - n);
        if (r <= 0) break;
        n += (size_t)r;
        p->got[n] = '\0';
        if (strstr(p->got, "\r\n\r\n")) break;
    }
    if (write(conn, answer, sizeof answer - 1) < 0) {
    }
    close(conn);
    return NULL;
}

static void test_proxy_option_is_passed_through(void) {
    pt_client_options opts;
    pt_admin_client_options aopts;
    pt_error *err = NULL;
    pt_client *c;
    pt_admin_client *a;
    fake_proxy fp;
    pthread_t th;
    char proxy_url[64], *json = NULL, *log;
    const char *secret;

    /* A bad proxy value is refused, naming the option (the core checks it
     * where a proxy can apply: a base URL off loopback). */
    pt_client_options_init(&opts);
    CHECK(opts.proxy == NULL);
    opts.api_key = g_mock.api_key;
    opts.base_url = "https://api.parsec-teams.invalid";
    opts.proxy = "ftp://proxy.example.com";
    c = pt_client_new(&opts, &err);
    CHECK(c == NULL);
    expect_validation(PT_ERR_VALIDATION, err, "proxy");
    pt_error_free(err);
    err = NULL;
    pt_admin_client_options_init(&aopts);
    CHECK(aopts.proxy == NULL);
    aopts.base_url = "https://admin.parsec-teams.invalid";
    aopts.token = g_mock.admin_token;
    aopts.proxy = "not a url";
    a = pt_admin_client_new(&aopts, &err);
    CHECK(a == NULL);
    expect_validation(PT_ERR_VALIDATION, err, "proxy");
    pt_error_free(err);
    err = NULL;

    /* An https base URL goes through the given proxy: a CONNECT tunnel, so the
     * proxy never sees the key. */
    if (fake_proxy_open(&fp) != 0) {
        CHECK(!"fake proxy opened");
        return;
    }
    snprintf(proxy_url, sizeof proxy_url, "http://127.0.0.1:%d", fp.port);
    CHECK(pthread_create(&th, NULL, fake_proxy_main, &fp) == 0);
    opts.base_url = "https://api.parsec-teams.invalid";
    opts.proxy = proxy_url;
    opts.max_retries = 0;
    c = pt_client_new(&opts, &err);
    CHECK(c != NULL);
    if (c) {
        CHECK_STATUS(pt_members_get(c, "{\"user_id\": 2}", &json, &err), PT_ERR_CONNECTION);
        pt_error_free(err);
        err = NULL;
    }
    pthread_join(th, NULL);
    CHECK(strncmp(fp.got, "CONNECT api.parsec-teams.invalid:443 ", 37) == 0);
    secret = strchr(g_mock.api_key, '.');
    CHECK(secret != NULL && strstr(fp.got, secret + 1) == NULL);
    pt_client_free(c);
    close(fp.fd);

    /* A loopback base URL never uses the proxy, given or from the environment. */
    if (fake_proxy_open(&fp) != 0) {
        CHECK(!"fake proxy opened");
        return;
    }
    snprintf(proxy_url, sizeof proxy_url, "http://127.0.0.1:%d", fp.port);
    setenv("HTTP_PROXY", proxy_url, 1);
    setenv("http_proxy", proxy_url, 1);
    setenv("ALL_PROXY", proxy_url, 1);
    opts.base_url = g_mock.base_url;
    opts.proxy = proxy_url;
    c = pt_client_new(&opts, &err);
    opts.proxy = NULL;
    pt_client_free(NULL);
    {
        pt_client *from_env = pt_client_new(&opts, &err);
        CHECK(c != NULL && from_env != NULL);
        if (c && from_env) {
            reset(c);
            CHECK_STATUS(pt_members_get(c, "{\"user_id\": 2, \"_options\": {\"timeout_ms\": 3000}}", &json, &err), PT_OK);
            pt_string_free(json);
            CHECK_STATUS(pt_members_get(from_env, "{\"user_id\": 3, \"_options\": {\"timeout_ms\": 3000}}", &json, &err), PT_OK);
            pt_string_free(json);
            log = seen(c);
            CHECK(count_of(log, "\"method\":\"GET\"") == 2);
            pt_string_free(log);
        }
        pt_client_free(from_env);
    }
    CHECK(!fake_proxy_was_contacted(&fp));
    unsetenv("HTTP_PROXY");
    unsetenv("http_proxy");
    unsetenv("ALL_PROXY");
    pt_client_free(c);
    close(fp.fd);
}

/* PARSEC_TEAMS_LOG=debug: log lines on stderr, never the key. Logging is set
 * up once per process, so the check runs in a fresh process (this program
 * re-executed with --log-child). */
static int log_child(void) {
    pt_error *err = NULL;
    char *json = NULL;
    pt_client *c = pt_client_new(NULL, &err);
    pt_status s;
    if (c == NULL) return 3;
    s = pt_members_get(c, "{\"user_id\": 2}", &json, &err);
    pt_string_free(json);
    pt_error_free(err);
    pt_client_free(c);
    return s == PT_OK ? 0 : 4;
}

static char *read_file(const char *path) {
    FILE *f = fopen(path, "rb");
    char *buf;
    size_t n;
    if (f == NULL) return NULL;
    buf = calloc(1, 1 << 16);
    n = buf ? fread(buf, 1, (1 << 16) - 1, f) : 0;
    if (buf) buf[n] = '\0';
    fclose(f);
    return buf;
}

static void test_logging_from_c_goes_to_stderr_without_the_key(void) {
    char path[] = "/tmp/pt_log_XXXXXX";
    char *text;
    int fd = mkstemp(path), status = -1;
    const char *secret = strchr(g_mock.api_key, '.');
    pid_t pid;
    CHECK(fd >= 0);
    if (fd < 0) return;
    fflush(NULL);
    pid = fork();
    if (pid == 0) {
        const char *argv[3];
        argv[0] = g_self;
        argv[1] = "--log-child";
        argv[2] = NULL;
        dup2(fd, STDERR_FILENO);
        setenv("PARSEC_TEAMS_LOG", "debug", 1);
        setenv("PARSEC_API_KEY", g_mock.api_key, 1);
        setenv("PARSEC_BASE_URL", g_mock.base_url, 1);
        execv(g_self, (char *const *)argv);
        _exit(127);
    }
    close(fd);
    CHECK(pid > 0);
    if (pid > 0) {
        waitpid(pid, &status, 0);
        CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0);
    }
    text = read_file(path);
    unlink(path);
    CHECK_CONTAINS(text, "DEBUG");
    CHECK_CONTAINS(text, "parsec_teams");
    CHECK_CONTAINS(text, "method=\"GET\"");
    CHECK_CONTAINS(text, "/members/2");
    CHECK_CONTAINS(text, "status=200");
    CHECK_CONTAINS(text, "request_id=\"req_");
    CHECK(text != NULL && secret != NULL && strstr(text, secret + 1) == NULL);
    CHECK(text != NULL && strstr(text, g_mock.api_key) == NULL);
    if (text && secret && strstr(text, secret + 1)) fprintf(stderr, "  the log carries the key:\n%s\n", text);
    free(text);
}

/* NULL, "", whitespace and "null" all mean "no parameters". */
static void test_empty_and_null_params_mean_no_params(void) {
    pt_client *c = new_client();
    static const char *const none[] = {"", "null", "  ", " null "};
    char *json = NULL, *log;
    pt_error *err = NULL;
    size_t i;
    reset(c);
    for (i = 0; i < COUNT(none); i++) {
        CHECK_STATUS(pt_members_list(c, none[i], &json, &err), PT_OK);
        CHECK_CONTAINS(json, "\"count\":50");
        pt_string_free(json);
        pt_error_free(err);
        err = NULL;
        /* A required parameter is then missing (not "params_json is invalid"). */
        EXPECT_VALIDATION(pt_members_get(c, none[i], &json, &err), err, "user_id");
        pt_error_free(err);
        err = NULL;
        CHECK_STATUS(pt_call(c, "groups.list", none[i], &json, &err), PT_OK);
        pt_string_free(json);
        pt_error_free(err);
        err = NULL;
    }
    log = seen(c);
    CHECK(count_of(log, "\"method\":\"GET\"") == 8);
    CHECK(count_of(log, "\"query\":\"offset=0&limit=50\"") == 8); /* the defaults, as with NULL */
    pt_string_free(log);
    pt_client_free(c);
}

/* Options given but with NULL fields read PARSEC_API_KEY, PARSEC_TEAM_ID and
 * PARSEC_BASE_URL (and the admin ones), like NULL options do. */
static void test_environment_variables_fill_null_option_fields(void) {
    pt_client_options opts;
    pt_admin_client_options aopts;
    pt_client *c, *ctl = new_client();
    pt_admin_client *a;
    pt_error *err = NULL;
    char *json = NULL, *log, want[256];
    reset(ctl);
    setenv("PARSEC_API_KEY", g_mock.api_key, 1);
    setenv("PARSEC_BASE_URL", g_mock.base_url, 1);
    setenv("PARSEC_TEAM_ID", "envteam01", 1);
    setenv("PARSEC_ADMIN_BASE_URL", g_mock.base_url, 1);
    setenv("PARSEC_ADMIN_TOKEN", g_mock.admin_token, 1);
    pt_client_options_init(&opts);
    c = pt_client_new(&opts, &err);
    CHECK(c != NULL && err == NULL);
    /* The team id from the environment is the one in the path (the mock refuses it). */
    CHECK(pt_members_get(c, "{\"user_id\": 3}", &json, &err) != PT_OK);
    pt_error_free(err);
    err = NULL;
    pt_client_free(c);
    unsetenv("PARSEC_TEAM_ID");
    c = pt_client_new(&opts, &err); /* team id from the key now */
    CHECK(c != NULL);
    CHECK_STATUS(pt_members_get(c, "{\"user_id\": 3}", &json, &err), PT_OK);
    CHECK_CONTAINS(json, "alan.lovelace@example.com");
    pt_string_free(json);
    pt_client_free(c);
    pt_admin_client_options_init(&aopts);
    a = pt_admin_client_new(&aopts, &err);
    CHECK(a != NULL);
    CHECK_STATUS(pt_admin_teams_get(a, "{\"id\": \"2\"}", &json, &err), PT_OK);
    pt_string_free(json);
    pt_admin_client_free(a);
    unsetenv("PARSEC_API_KEY");
    unsetenv("PARSEC_BASE_URL");
    unsetenv("PARSEC_ADMIN_BASE_URL");
    unsetenv("PARSEC_ADMIN_TOKEN");
    log = seen(ctl);
    CHECK_CONTAINS(log, "\"path\":\"/v1/teams/envteam01/members/3\"");
    snprintf(want, sizeof want, "\"path\":\"/v1/teams/%s/members/3\"", g_mock.team_id);
    CHECK_CONTAINS(log, want);
    CHECK_CONTAINS(log, "\"path\":\"/api/v1/teams/2\"");
    CHECK(count_of(log, "\"method\":") == 3);
    pt_string_free(log);
    pt_client_free(ctl);
}

/* Through C: a 503 on a GET is retried (retries_taken exact, not applied);
 * a 503 on a POST is not retried and may have been applied. */
static void test_retried_503_get_and_non_retried_503_post(void) {
    pt_client *c = new_client();
    char *json = NULL, *log;
    pt_error *err = NULL;

    reset(c);
    fault(c, "{\"method\": \"GET\", \"path\": \"/v1/teams/*/members/2\", \"times\": 9, \"status\": 503}");
    CHECK_STATUS(pt_members_get(c, "{\"user_id\": 2, \"_options\": {\"max_retries\": 2}}", &json, &err), PT_ERR_SERVER);
    CHECK(json == NULL);
    CHECK(err != NULL);
    if (err) {
        CHECK(err->http_status == 503);
        CHECK(err->retries_taken == 2);
        CHECK(!err->may_have_been_applied);
        CHECK(err->retryable);
        CHECK_CONTAINS(err->description, "503");
    }
    pt_error_free(err);
    err = NULL;
    log = seen(c);
    CHECK(count_of(log, "\"status\":503") == 3);
    CHECK(count_of(log, "\"method\":") == 3);
    pt_string_free(log);

    /* Two 503s then the answer: success after two retries. */
    reset(c);
    fault(c, "{\"method\": \"GET\", \"path\": \"/v1/teams/*/members/2\", \"times\": 2, \"status\": 503}");
    CHECK_STATUS(pt_members_get(c, "{\"user_id\": 2, \"_options\": {\"max_retries\": 2}}", &json, &err), PT_OK);
    CHECK_CONTAINS(json, "grace.lovelace@example.com");
    pt_string_free(json);
    log = seen(c);
    CHECK(count_of(log, "\"status\":503") == 2);
    CHECK(count_of(log, "\"status\":200") == 1);
    pt_string_free(log);

    reset(c);
    fault(c, "{\"method\": \"POST\", \"path\": \"/v1/teams/*/groups\", \"times\": 9, \"status\": 503}");
    CHECK_STATUS(pt_groups_create(c, "{\"group_name\": \"Retry\", \"allow_connections_within_group\": false, \"show_user_assigned_managed_hosts\": false, \"show_personal_hosts\": false, \"_options\": {\"max_retries\": 2}}", &json, &err),
                 PT_ERR_SERVER);
    CHECK(json == NULL);
    CHECK(err != NULL);
    if (err) {
        CHECK(err->http_status == 503);
        CHECK(err->retries_taken == 0);
        CHECK(err->may_have_been_applied);
        CHECK(!err->retryable);
    }
    pt_error_free(err);
    log = seen(c);
    CHECK(count_of(log, "\"method\":\"POST\"") == 1);
    CHECK(count_of(log, "\"method\":") == 1);
    pt_string_free(log);
    pt_client_free(c);
}

/* A huge Retry-After on a 429 of a paced operation is a rate-limit error with
 * retry_after set, not a panic (PT_ERR_INTERNAL). */
static void test_huge_retry_after_is_rate_limited_not_internal(void) {
    pt_client *c = new_client();
    char *json = NULL;
    pt_error *err = NULL;
    reset(c);
    fault(c, "{\"method\": \"GET\", \"path\": \"/v1/teams/*/events\", \"times\": 1, \"status\": 429, \"retry_after\": 9223372036854775807}");
    CHECK_STATUS(pt_audit_log_list_events(c, "{\"limit\": 1}", &json, &err), PT_ERR_RATE_LIMITED);
    CHECK(err && err->http_status == 429 && err->retry_after > 1e9);
    pt_error_free(err);
    err = NULL;
    reset(c);
    fault(c, "{\"method\": \"POST\", \"path\": \"/v1/teams/*/member-invites\", \"times\": 1, \"status\": 429, \"retry_after\": 9999999999999}");
    CHECK_STATUS(pt_invites_create(c, "{\"emails\": [\"x@example.com\"]}", &json, &err), PT_ERR_RATE_LIMITED);
    CHECK(err && err->http_status == 429 && err->retry_after > 1e9);
    pt_error_free(err);
    /* The client goes on. */
    CHECK_STATUS(pt_members_get(c, "{\"user_id\": 2}", &json, NULL), PT_OK);
    pt_string_free(json);
    pt_client_free(c);
}


/* ------------------------------------------------------------------------ */
/* Issue 10: one behaviour through the core                                 */
/* ------------------------------------------------------------------------ */

/* A client option out of range is refused by the core's one rule set, with
 * the option's canonical name as the field; nothing is sent. */
static void expect_option_refused(pt_client_options *opts, const char *field) {
    pt_error *err = NULL;
    pt_client *c = pt_client_new(opts, &err);
    CHECK(c == NULL);
    expect_validation(PT_ERR_VALIDATION, err, field);
    pt_error_free(err);
    pt_client_free(c);
}

static void test_client_options_are_checked_by_the_core(void) {
    pt_client_options opts;
    pt_admin_client_options aopts;
    pt_admin_client *a;
    pt_error *err = NULL;

    pt_client_options_init(&opts);
    opts.base_url = g_mock.base_url;
    opts.api_key = g_mock.api_key;
    opts.max_retries = 101;
    expect_option_refused(&opts, "max_retries");
    opts.max_retries = 100; /* the bound itself is taken */
    opts.timeout_ms = 0;
    expect_option_refused(&opts, "timeout");
    opts.timeout_ms = 86400001;
    expect_option_refused(&opts, "timeout");
    opts.timeout_ms = -1;
    opts.quota_limit = 0;
    expect_option_refused(&opts, "quota_limit");
    opts.quota_limit = -1;
    opts.quota_window_ms = 0;
    expect_option_refused(&opts, "quota_window");

    pt_admin_client_options_init(&aopts);
    aopts.base_url = g_mock.base_url;
    aopts.token = g_mock.admin_token;
    aopts.max_retries = 101;
    a = pt_admin_client_new(&aopts, &err);
    CHECK(a == NULL);
    expect_validation(PT_ERR_VALIDATION, err, "max_retries");
    pt_error_free(err);
    pt_admin_client_free(a);
}

/* The layouts of pt_client_options as programs compiled against older
 * headers have them: version 1 (before proxy) and version 2 (before
 * pool_idle_timeout_ms). */
typedef struct {
    uint32_t version;
    const char *api_key, *team_id, *base_url;
    int64_t timeout_ms;
    int max_retries;
    int64_t max_retry_wait_ms;
    int quota_limit;
    int64_t quota_window_ms;
    int quota_pacing;
} options_v1;

typedef struct {
    options_v1 v1;
    const char *proxy;
} options_v2;

static void works_with(const pt_client_options *opts) {
    pt_error *err = NULL;
    char *json = NULL;
    pt_client *c = pt_client_new(opts, &err);
    CHECK(c != NULL);
    if (c == NULL) fprintf(stderr, "  pt_client_new failed: %s\n", err ? err->message : "?");
    pt_error_free(err);
    err = NULL;
    CHECK_STATUS(pt_members_get(c, "{\"user_id\": 2}", &json, &err), PT_OK);
    CHECK_CONTAINS(json, "\"user_id\":2");
    pt_string_free(json);
    pt_error_free(err);
    pt_client_free(c);
}

static void test_options_of_older_versions_are_still_accepted(void) {
    options_v1 v1;
    options_v2 v2;
    pt_client_options v3;
    memset(&v1, 0, sizeof v1);
    v1.version = 1;
    v1.api_key = g_mock.api_key;
    v1.base_url = g_mock.base_url;
    v1.timeout_ms = 5000;
    v1.max_retries = v1.quota_limit = v1.quota_pacing = -1;
    v1.max_retry_wait_ms = v1.quota_window_ms = -1;
    works_with((const pt_client_options *)(const void *)&v1);
    v2.v1 = v1;
    v2.v1.version = 2;
    v2.proxy = NULL;
    works_with((const pt_client_options *)(const void *)&v2);
    /* An old version with a field out of range is refused like a new one. */
    v1.max_retries = 101;
    expect_option_refused((pt_client_options *)(void *)&v1, "max_retries");

    pt_client_options_init(&v3);
    CHECK(v3.version == PT_OPTIONS_VERSION && PT_OPTIONS_VERSION == 3 && v3.pool_idle_timeout_ms < 0);
    v3.api_key = g_mock.api_key;
    v3.base_url = g_mock.base_url;
    v3.pool_idle_timeout_ms = 0;
    expect_option_refused(&v3, "pool_idle_timeout");
    v3.pool_idle_timeout_ms = 1500;
    works_with(&v3);
    v3.version = PT_OPTIONS_VERSION + 1; /* from a newer header: refused, not misread */
    expect_option_refused(&v3, "options.version");
}

/* The escape hatch parses the method and encodes the query as the core does
 * for every language: any case, lists as one comma-separated key. */
static void test_escape_hatch_method_any_case_and_query_lists(void) {
    pt_client *c = new_client();
    pt_error *err = NULL;
    char *json = NULL, *log;
    if (c == NULL) return;
    reset(c);
    CHECK_STATUS(pt_client_request(c, "get", "/v1/teams/{team_id}/events",
                                   "{\"event_names\": [\"a\", \"b,c\"], \"limit\": 5, \"skip\": null}", NULL, &json, &err),
                 PT_OK);
    CHECK_CONTAINS(json, "\"data\"");
    pt_string_free(json);
    pt_error_free(err);
    err = NULL;
    EXPECT_VALIDATION(pt_client_request(c, "GET", "/x", "{\"a\": {\"b\": 1}}", NULL, &json, &err), err, "query.a");
    pt_error_free(err);
    log = seen(c);
    CHECK(count_of(log, "\"method\":\"GET\"") == 1);
    CHECK_CONTAINS(log, "\"query\":\"event_names=a,b%2Cc&limit=5\"");
    pt_string_free(log);
    pt_client_free(c);
}

/* pt_error carries the contract's attributes as separate values: `message`
 * is the server's message (or the validation message), `rule` names the rule
 * broken, `description` is the whole human description. */
static void expect_rule(pt_status s, pt_error *err, const char *field, const char *rule) {
    expect_validation(s, err, field);
    CHECK(err != NULL && err->rule != NULL && strcmp(err->rule, rule) == 0);
    if (err && err->rule && strcmp(err->rule, rule) != 0) fprintf(stderr, "  rule %s, expected %s\n", err->rule, rule);
    CHECK(err != NULL && err->description != NULL && strstr(err->description, err->message) != NULL);
}

/* The call runs first, then its error is checked (argument order is unspecified in C). */
#define EXPECT_RULE(call, e, field, rule)       \
    do {                                        \
        pt_status s_ = (call);                  \
        expect_rule(s_, (e), (field), (rule));  \
    } while (0)

static void test_errors_carry_rule_and_the_contracts_message(void) {
    pt_client *c = new_client(), *bad;
    pt_error *err = NULL;
    char *json = NULL, *log, *deep;
    size_t n = 130, k = 0, i;
    if (c == NULL) return;
    reset(c);
    EXPECT_RULE(pt_members_list(c, "{\"limit\": 0}", &json, &err), err, "limit", "range");
    pt_error_free(err);
    EXPECT_RULE(pt_machines_update(c, "{\"machine_id\": \"..\", \"name\": \"x\"}", &json, &err), err, "machine_id", "dot_segment");
    pt_error_free(err);
    EXPECT_RULE(pt_machines_update(c, "{\"machine_id\": \"%2e\", \"name\": \"x\"}", &json, &err), err, "machine_id", "dot_segment");
    pt_error_free(err);
    /* A parameter nested 130 levels: the core's depth rule names it (not a
     * parse error of params_json). */
    deep = malloc(2 * n + 64);
    k = (size_t)sprintf(deep, "{\"machine_id\": \"tm_017\", \"name\": ");
    for (i = 0; i < n; i++) deep[k++] = '[';
    deep[k++] = '1';
    for (i = 0; i < n; i++) deep[k++] = ']';
    strcpy(deep + k, "}");
    EXPECT_RULE(pt_machines_update(c, deep, &json, &err), err, "name", "depth");
    pt_error_free(err);
    free(deep);
    err = NULL;
    log = seen(c);
    CHECK(log != NULL && strcmp(log, "[]") == 0);
    pt_string_free(log);

    bad = client_with(g_mock.base_url, "tapi_team.notarealsecret", 0);
    CHECK_STATUS(pt_members_list(bad, "{}", &json, &err), PT_ERR_AUTHENTICATION);
    CHECK(err != NULL && err->message != NULL && strcmp(err->message, "Unauthorized") == 0);
    if (err && err->message && strcmp(err->message, "Unauthorized") != 0) fprintf(stderr, "  message: %s\n", err->message);
    CHECK(err != NULL && err->rule == NULL);
    CHECK_CONTAINS(err ? err->description : NULL, "401 Unauthorized (GET /v1/teams/");
    CHECK_CONTAINS(err ? err->description : NULL, "[request id: req_");
    pt_error_free(err);
    pt_client_free(bad);

    /* The User-Agent names the language and its version: the C standard of the
     * header and the compiler of the library's build. */
    log = seen(c);
    CHECK_CONTAINS(log, "\"user_agent\":\"parsec-teams/");
    CHECK_CONTAINS(log, " (c C99; ");
    pt_string_free(log);
    pt_client_free(c);
}

int main(int argc, char **argv) {
    g_self = argv[0];
    if (argc > 1 && strcmp(argv[1], "--log-child") == 0) return log_child();
    g_mock_bin = argc > 1 ? argv[1] : getenv("PARSEC_TEAMS_MOCK");
    if (g_mock_bin == NULL) {
        fprintf(stderr, "usage: %s PATH/TO/parsec-teams-mock\n", argv[0]);
        return 2;
    }
    unsetenv("PARSEC_API_KEY");
    unsetenv("PARSEC_TEAM_ID");
    unsetenv("PARSEC_BASE_URL");
    unsetenv("PARSEC_ADMIN_BASE_URL");
    unsetenv("PARSEC_ADMIN_TOKEN");
    signal(SIGPIPE, SIG_IGN);
    if (mock_start(&g_mock, NULL) != 0) {
        fprintf(stderr, "cannot start the mock server %s\n", g_mock_bin);
        return 2;
    }
    printf("libparsec_teams %s against %s\n", pt_version(), g_mock.base_url);

    run_test("status names and version", test_status_names);
    test_every_operation(); /* one test per operation: 39 + 11 */
    run_test("result shapes", test_result_shapes);
    run_test("generic pt_call", test_generic_call);
    run_test("bad input gives PT_ERR_VALIDATION and sends nothing", test_bad_input);
    run_test("bad client options", test_bad_client_options);
    run_test("environment fallback", test_environment_fallback);
    run_test("HTTP statuses map to pt_status", test_http_statuses);
    run_test("real server errors", test_real_server_errors);
    run_test("a key without the permission", test_permission_denied_key);
    run_test("rate limited", test_rate_limited);
    run_test("retries and server errors", test_retries_and_server_errors);
    run_test("timeout and connection errors", test_timeout_and_connection);
    run_test("decode error", test_decode_error);
    run_test("iterators", test_iterators);
    run_test("quota status", test_quota_status);
    run_test("escape hatch", test_escape_hatch);
    run_test("16 threads share one client", test_threads_share_one_client);
    run_test("fork: the child's own client", test_fork_child);
    run_test("iter_made_before_fork_fails_at_once_in_the_child", test_iter_made_before_fork_fails_at_once_in_the_child);
    run_test("client_made_before_fork_works_in_the_child", test_client_made_before_fork_works_in_the_child);
    run_test("concurrent_iter_next_is_serialized", test_concurrent_iter_next_is_serialized);
    run_test("client_free_during_a_call_is_safe", test_client_free_during_a_call_is_safe);
    run_test("proxy_option_is_passed_through", test_proxy_option_is_passed_through);
    run_test("logging_from_c_goes_to_stderr_without_the_key", test_logging_from_c_goes_to_stderr_without_the_key);
    run_test("empty_and_null_params_mean_no_params", test_empty_and_null_params_mean_no_params);
    run_test("environment_variables_fill_null_option_fields", test_environment_variables_fill_null_option_fields);
    run_test("sixteen_threads_500_calls_each", test_sixteen_threads_500_calls_each);
    run_test("retried_503_get_and_non_retried_503_post", test_retried_503_get_and_non_retried_503_post);
    run_test("huge_retry_after_is_rate_limited_not_internal", test_huge_retry_after_is_rate_limited_not_internal);
    run_test("client_options_are_checked_by_the_core", test_client_options_are_checked_by_the_core);
    run_test("options_of_older_versions_are_still_accepted", test_options_of_older_versions_are_still_accepted);
    run_test("escape_hatch_method_any_case_and_query_lists", test_escape_hatch_method_any_case_and_query_lists);
    run_test("errors_carry_rule_and_the_contracts_message", test_errors_carry_rule_and_the_contracts_message);

    mock_stop(&g_mock);
    printf("%d passed, %d failed\n", g_passed, g_failed);
    return g_failed == 0 ? 0 : 1;
}
