// The package from Java without coroutines: builders, blocking forms with
// @JvmOverloads, iteration, the error tree. Run by `make -C bindings-kotlin java-test`;
// exits 1 on the first check that fails.
import parsecteams.*;

import java.util.ArrayList;
import java.util.List;

public final class JavaUsage {
    private static void check(boolean ok, String what) {
        if (!ok) {
            System.err.println("JavaUsage: FAILED: " + what);
            System.exit(1);
        }
    }

    public static void main(String[] args) {
        try (MockServer mock = new MockServer();
             Client client = Client.builder().apiKey(mock.getApiKey()).baseUrl(mock.getBaseUrl()).timeoutMs(5_000L).build()) {
            Member m = client.getMembers().getBlocking(3L);
            check(m.getUserId() == 3L, "members.get(3) -> " + m);
            Page<Member> page = client.getMembers().listBlocking(null, null, true, 0L, 50L);
            check(page.getData().size() == 5, "5 admins, got " + page.getData().size());
            List<Long> ids = new ArrayList<>();
            for (Member x : client.getMembers().iter(null, null, null, null, 20L)) {
                ids.add(x.getUserId());
            }
            check(ids.size() == 50 && ids.get(49) == 50L, "iter: " + ids);
            RawResponse<Member> raw = client.getMembers().getWithResponseBlocking(4L, new RequestOptions(1_000L, 0));
            check(raw.getStatus() == 200 && raw.getRequestId().startsWith("req_"), "raw " + raw);
            try {
                client.getMembers().getBlocking(999L);
                check(false, "members.get(999) did not throw");
            } catch (NotFoundError e) {
                check(e instanceof APIStatusError && e.getStatus() == 404, "404: " + e);
                check(e.getLocalizedMessage().contains(e.getRequestId()), "request id in the text: " + e);
            }
            try {
                Client.builder().apiKey(mock.getApiKey()).baseUrl(mock.getBaseUrl()).maxRetries(-1).build();
                check(false, "maxRetries -1 was taken");
            } catch (ValidationError e) {
                check("max_retries".equals(e.getField()) && "range".equals(e.getRule()), "validation: " + e);
            }
            try (AdminClient admin = AdminClient.builder().baseUrl(mock.getBaseUrl()).token(mock.getAdminToken()).build()) {
                check(!admin.getTeams().listBlocking().isEmpty(), "admin teams.list");
            }
        }
        System.out.println("JavaUsage: ok");
    }
}
