// Smoke test of the Kotlin/JVM package as a user gets it (run by
// packaging/package.sh): compiled with javac against ONLY the dist jar and the
// jars its pom declares, run outside the source tree against the mock the jar
// carries. It shows the native library was unpacked from the dist jar by JNA
// (into jna.tmpdir), not loaded from target/ or bindings-kotlin/build/.
//
//   java -Djna.tmpdir=TMP -cp CLASSES:DIST_JAR:DEPS Smoke VERSION DIST_JAR TMP SOURCE_ROOT
import parsecteams.*;

import java.net.URL;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.util.List;
import java.util.stream.Collectors;

class Smoke {
    static void check(boolean ok, String what) {
        if (!ok) {
            System.err.println("kotlin smoke: FAILED: " + what);
            System.exit(1);
        }
    }

    public static void main(String[] args) throws Exception {
        String want = args[0];
        Path jar = Paths.get(args[1]).toRealPath();
        String tmp = Paths.get(args[2]).toRealPath().toString();
        String root = Paths.get(args[3]).toRealPath().toString();

        // The classes and the library resource come from the dist jar.
        URL cls = Client.class.getResource("Client.class");
        URL lib = Client.class.getResource("/linux-x86-64/libparsec_teams_kotlin.so");
        String inJar = "jar:file:" + jar + "!/";
        check(cls != null && cls.toString().startsWith(inJar), "Client.class from " + cls);
        check(lib != null && lib.toString().startsWith(inJar), "native library resource at " + lib);

        check(SupportKt.getVERSION().equals(want), "VERSION " + SupportKt.getVERSION() + ", want " + want);
        try (MockServer mock = new MockServer();
             Client client = Client.builder().apiKey(mock.getApiKey()).baseUrl(mock.getBaseUrl()).build()) {
            Page<Member> page = client.getMembers().listBlocking(null, null, null, 0L, 2L);
            check(page.getData().size() == 2, "members.list(limit=2): " + page.getData().size());
            try {
                client.getMembers().getBlocking(424242L);
                check(false, "members.get(424242) did not throw");
            } catch (NotFoundError e) {
                check(e instanceof APIStatusError && e.getStatus() == 404, "404: " + e);
            }
        }

        // Where the process mapped the SDK's native library from: JNA's copy of
        // the jar's resource in java.io.tmpdir, and nothing of the source tree.
        List<String> maps = Files.readAllLines(Paths.get("/proc/self/maps"));
        List<String> fromTmp = maps.stream().filter(l -> l.contains(tmp + "/")).map(l -> l.substring(l.indexOf('/')))
            .distinct().collect(Collectors.toList());
        List<String> fromTree = maps.stream().filter(l -> (l.contains(root + "/") && !l.contains(tmp + "/")) || l.contains("libparsec_teams_kotlin"))
            .map(l -> l.substring(l.indexOf('/'))).distinct().collect(Collectors.toList());
        check(fromTmp.size() == 1, "one library unpacked by JNA into " + tmp + ": " + fromTmp);
        check(fromTree.isEmpty(), "libraries mapped from the source tree: " + fromTree);
        System.out.println("kotlin smoke: parsec-teams " + want + " from " + jar.getFileName()
            + ", native library unpacked from it to " + fromTmp.get(0) + ": ok");
    }
}
