/* Links the installed library (through pkg-config or find_package) and makes
 * calls that need no server: the version, a validation failure, a client. */
#include <parsec_teams.h>
#include <stdio.h>
#include <string.h>

int main(void) {
    pt_client_options opts;
    pt_error *err = NULL;
    pt_client *client;
    char *json = NULL;
    pt_status s;

    pt_client_options_init(&opts);
    opts.api_key = "tapi_team.secret";
    opts.base_url = "http://127.0.0.1:9";
    client = pt_client_new(&opts, &err);
    if (client == NULL) {
        fprintf(stderr, "pt_client_new: %s\n", err ? err->message : "?");
        pt_error_free(err);
        return 1;
    }
    s = pt_members_get(client, "{\"user_id\": 0}", &json, &err);
    if (s != PT_ERR_VALIDATION || err == NULL || strcmp(err->field, "user_id") != 0 || json != NULL) {
        fprintf(stderr, "expected PT_ERR_VALIDATION on user_id, got %s\n", pt_status_name(s));
        return 1;
    }
    printf("parsec_teams %s linked: %s (%s)\n", pt_version(), pt_status_name(s), err->message);
    pt_error_free(err);
    pt_client_free(client);
    return 0;
}
