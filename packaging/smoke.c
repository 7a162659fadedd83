/* Smoke test of the C release tarball (built by packaging/package.sh against the
 * unpacked tree, through its pkg-config file): the header's PT_VERSION is the
 * library's pt_version(), and a call that needs no server fails as it should. */
#include <parsec_teams.h>
#include <stdio.h>
#include <string.h>

int main(void) {
    pt_client_options opts;
    pt_error *err = NULL;
    pt_client *client;
    char *json = NULL;
    pt_status s;

    if (strcmp(PT_VERSION, pt_version()) != 0) {
        fprintf(stderr, "header PT_VERSION %s != library pt_version() %s\n", PT_VERSION, pt_version());
        return 1;
    }
    pt_client_options_init(&opts);
    opts.api_key = "tapi_team.secret";
    opts.base_url = "http://127.0.0.1:9";
    client = pt_client_new(&opts, &err);
    if (client == NULL) {
        fprintf(stderr, "pt_client_new: %s\n", err ? err->message : "?");
        return 1;
    }
    s = pt_members_get(client, "{\"user_id\": 0}", &json, &err);
    if (s != PT_ERR_VALIDATION || err == NULL || json != NULL) {
        fprintf(stderr, "expected PT_ERR_VALIDATION, got %s\n", pt_status_name(s));
        return 1;
    }
    printf("c smoke: parsec_teams %s (header %d.%d.%d): %s: ok\n", pt_version(), PT_VERSION_MAJOR,
           PT_VERSION_MINOR, PT_VERSION_PATCH, pt_status_name(s));
    pt_error_free(err);
    pt_client_free(client);
    return 0;
}
