// Kotlin/JVM benchmark: the parsec-teams Kotlin SDK (bindings-kotlin) beside a
// careful hand-written client on java.net.http.HttpClient + Jackson, in ONE JVM,
// against the release `parsec-teams-mock` binary running in its OWN process
// (its CPU is not counted as the client's).
//
// Same work as bench/node and bench/python: 2,000 sequential members.get;
// 10,000 members.get at concurrency 64; 500 sequential members.list(limit=200)
// pages (offsets cycling over the 1,000-member fixture, every page full). Every
// client decodes the JSON fully and checks what it got.
//
// JIT: the JVM interprets, then compiles (C1, then C2) the hot paths. Before the
// measured rounds every contender runs warm-up blocks (sequential gets, pages and
// concurrent gets); the report shows the CPU per call of each block, the first
// call of each contender and the JIT/GC time spent during the measured rounds.
//
// CPU = the whole process's user + system time (clock_gettime of
// CLOCK_PROCESS_CPUTIME_ID through JNA: what getrusage(RUSAGE_SELF) counts, in ns):
// every thread, the JIT compiler and GC threads and the SDK's native tokio workers
// included (ThreadMXBean cannot see native threads, so it would flatter the SDK).
//
//   make -C bench/kotlin bench      (ROUNDS=5 SLICES=5 WARMUP_MIN=4 WARMUP_MAX=40 to change)
package parsecteams.bench

import com.fasterxml.jackson.databind.JsonNode
import com.fasterxml.jackson.databind.ObjectMapper
import com.fasterxml.jackson.databind.node.ObjectNode
import com.sun.jna.Library
import com.sun.jna.Native
import java.io.BufferedReader
import java.io.File
import java.io.InputStreamReader
import java.lang.management.ManagementFactory
import java.net.URI
import java.net.http.HttpClient
import java.net.http.HttpRequest
import java.net.http.HttpResponse
import java.nio.file.Files
import java.time.Duration
import java.time.Instant
import java.time.ZoneOffset
import java.time.format.DateTimeFormatter
import java.util.Locale
import java.util.concurrent.CompletableFuture
import java.util.concurrent.ExecutorService
import java.util.concurrent.Executors
import java.util.concurrent.TimeUnit
import java.util.concurrent.atomic.AtomicInteger

fun env(name: String, default: Int): Int = System.getenv(name)?.toInt() ?: default

val ROUNDS = env("ROUNDS", 5)
val SLICES = env("SLICES", 5)
val SEQ_N = env("SEQ_N", 2000)
val CONC_N = env("CONC_N", 10000)
const val CONC = 64
val PAGE_N = env("PAGE_N", 500)
/** Warm-up: at least WARMUP_MIN blocks, then until a block spends under 2% of its CPU in the JIT, at most WARMUP_MAX. */
val WARMUP_MIN = env("WARMUP_MIN", 4)
val WARMUP_MAX = env("WARMUP_MAX", 40)
const val MEMBERS = 1000
const val PAGE = 200

/** The user id of call number [i]: cycles over the whole fixture. */
fun userId(i: Int): Int = i % MEMBERS + 1

/** The offset of page number [i]: cycles over the fixture, every page full. */
fun pageOffset(i: Int): Int = (i % (MEMBERS / PAGE)) * PAGE

fun checkMember(i: Int, got: Long) {
    if (got != userId(i).toLong()) throw IllegalStateException("call $i: wanted member ${userId(i)}, got $got")
}

fun checkPage(i: Int, size: Int) {
    if (size != PAGE) throw IllegalStateException("page $i (offset ${pageOffset(i)}): $size members, not $PAGE")
}

/** What the mock printed on its first line. */
class MockInfo(val baseUrl: String, val teamId: String, val apiKey: String)

class Mock(bin: String, args: List<String>) : AutoCloseable {
    private val process: Process =
        ProcessBuilder(listOf(bin, "--port", "0") + args)
            .redirectError(ProcessBuilder.Redirect.INHERIT)
            .start()
    val info: MockInfo

    init {
        val line = BufferedReader(InputStreamReader(process.inputStream)).readLine()
            ?: throw IllegalStateException("$bin printed nothing")
        val json = ObjectMapper().readTree(line)
        info = MockInfo(json["base_url"].asText(), json["team_id"].asText(), json["api_key"].asText())
    }

    override fun close() {
        process.destroy()
        process.waitFor(10, TimeUnit.SECONDS)
    }
}

/** A contender: one way of making the calls. A null case is one it does not run. */
interface Contender {
    val name: String
    val sdk: Boolean

    /** Sequential members.get of users userId(from) .. userId(from + n - 1). */
    val sequential: ((from: Int, n: Int) -> Unit)?

    /** n members.get, [CONC] in flight at once, on one client. */
    val concurrent: ((from: Int, n: Int) -> Unit)?

    /** Sequential members.list(limit=200) pages number from .. from + n - 1. */
    val pages: ((from: Int, n: Int) -> Unit)?

    /** A floor of this host (not a client to compare with): see [Floor]. */
    val floor: Boolean get() = false

    /** Runs [body] (n calls) and adds its time to [sample]; a [Floor] reports its own process's. */
    fun timedBy(sample: Sample, n: Int, body: () -> Unit) = timed(sample, n, body)
}

/** CONC threads of this pool share one blocking client (the same pool for every contender). */
val threads: ExecutorService = Executors.newFixedThreadPool(CONC) { r -> Thread(r, "bench-worker").apply { isDaemon = true } }

/** n blocking calls from [CONC] threads pulling call numbers from one counter. */
fun onThreads(from: Int, n: Int, get: (Int) -> Long) {
    val next = AtomicInteger(0)
    val tasks = (0 until CONC).map {
        threads.submit {
            while (true) {
                val k = next.getAndIncrement()
                if (k >= n) break
                val i = from + k
                checkMember(i, get(userId(i)))
            }
        }
    }
    tasks.forEach { it.get() }
}

/**
 * The hand-written peer: java.net.http.HttpClient (HTTP/1.1: the default HTTP/2
 * mode would send an h2c upgrade on every cleartext request) with the auth
 * header, a per-request timeout like the SDK's, a status check, Jackson's tree
 * decoding of the whole body, then `data`.
 */
class Peer(info: MockInfo) {
    val http: HttpClient = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).connectTimeout(Duration.ofSeconds(10)).build()
    private val mapper = ObjectMapper()
    private val members = "${info.baseUrl}/v1/teams/${info.teamId}/members"
    private val auth = "Bearer ${info.apiKey}"
    private val timeout = Duration.ofSeconds(60)

    private fun request(url: String): HttpRequest =
        HttpRequest.newBuilder(URI.create(url))
            .header("Authorization", auth)
            .header("Accept", "application/json")
            .header("User-Agent", "bench-peer/1.0")
            .timeout(timeout)
            .GET()
            .build()

    private fun body(res: HttpResponse<ByteArray>): JsonNode {
        val tree = mapper.readTree(res.body())
        if (res.statusCode() != 200) throw IllegalStateException("status ${res.statusCode()}: $tree")
        return tree
    }

    fun get(id: Int): Long = body(http.send(request("$members/$id"), HttpResponse.BodyHandlers.ofByteArray()))["data"]["user_id"].asLong()

    fun getAsync(id: Int): CompletableFuture<Long> =
        http.sendAsync(request("$members/$id"), HttpResponse.BodyHandlers.ofByteArray()).thenApply { body(it)["data"]["user_id"].asLong() }

    fun page(offset: Int): Int = body(http.send(request("$members?offset=$offset&limit=$PAGE"), HttpResponse.BodyHandlers.ofByteArray()))["data"].size()

    fun contenders(): List<Contender> {
        val blocking = object : Contender {
            override val name = "HttpClient.send + Jackson"
            override val sdk = false
            override val sequential: (Int, Int) -> Unit = { from, n -> for (i in from until from + n) checkMember(i, get(userId(i))) }
            override val concurrent: (Int, Int) -> Unit = { from, n -> onThreads(from, n) { get(it) } }
            override val pages: (Int, Int) -> Unit = { from, n -> for (i in from until from + n) checkPage(i, page(pageOffset(i))) }
        }
        val async = object : Contender {
            override val name = "HttpClient.sendAsync + Jackson"
            override val sdk = false
            override val sequential = null
            override val concurrent: (Int, Int) -> Unit = { from, n -> asyncChains(from, n) }
            override val pages = null
        }
        return listOf(blocking, async)
    }

    /** [CONC] chains of futures: each starts its next call when the previous completes. */
    private fun asyncChains(from: Int, n: Int) {
        val next = AtomicInteger(0)
        fun chain(): CompletableFuture<Unit> {
            val k = next.getAndIncrement()
            if (k >= n) return CompletableFuture.completedFuture(Unit)
            val i = from + k
            return getAsync(userId(i)).thenCompose { got ->
                checkMember(i, got)
                chain()
            }
        }
        CompletableFuture.allOf(*Array(CONC) { chain() }).join()
    }
}

/**
 * The host's sequential floor: `parsec-teams-bench --floor` (bench/src/floor.rs), a
 * Rust process of its own making the same sequential members.get as the contenders,
 * on demand between their slices: by hand on a raw socket (the least work any
 * HTTP/1.1 client can do), on one hyper client connection (hyper without reqwest's
 * pool and layers) and as a bare reqwest loop, both on a current-thread runtime
 * (the last is the SDK's HTTP stack without the SDK). Its wall and CPU time are measured in that
 * process; no client can go faster than the raw floor on this host at that moment.
 */
class Floor(bin: String, info: MockInfo) : AutoCloseable {
    private val process: Process = ProcessBuilder(bin, "--floor")
        .redirectError(ProcessBuilder.Redirect.INHERIT)
        .also { it.environment() += mapOf("PARSEC_BASE_URL" to info.baseUrl, "PARSEC_TEAM_ID" to info.teamId, "PARSEC_API_KEY" to info.apiKey) }
        .start()
    private val input = process.outputStream.bufferedWriter()
    private val output = BufferedReader(InputStreamReader(process.inputStream))

    /** n sequential gets from request number [from] by [client] (raw or reqwest): (wall ns, CPU ns). */
    fun run(client: String, from: Int, n: Int): Pair<Long, Long> {
        input.write("$client $from $n\n")
        input.flush()
        val line = output.readLine() ?: error("parsec-teams-bench --floor exited")
        val parts = line.split(' ')
        check(parts.size == 2 && !line.startsWith("error")) { "floor ($client): $line" }
        return parts[0].toLong() to parts[1].toLong()
    }

    fun contenders(): List<Contender> = listOf(
        "raw" to "floor: raw socket (Rust, no HTTP library)",
        "hyper" to "floor: one hyper connection (Rust, current-thread)",
        "reqwest" to "floor: bare reqwest (Rust, current-thread)",
    ).map { (client, label) ->
        object : Contender {
            private var last = 0L to 0L
            override val name = label
            override val sdk = false
            override val floor = true
            override val sequential: (Int, Int) -> Unit = { from, n -> last = run(client, from, n) }
            override val concurrent = null
            override val pages = null

            override fun timedBy(sample: Sample, n: Int, body: () -> Unit) {
                body()
                sample.wallNs += last.first
                sample.cpuNs += last.second
                sample.n += n
            }
        }
    }

    override fun close() {
        input.close()
        process.waitFor(10, TimeUnit.SECONDS)
        process.destroy()
    }
}

/** The fixture: the mock's default state with the members extended to [MEMBERS]. */
fun writeFixture(bin: String): File {
    val mapper = ObjectMapper()
    val state = Mock(bin, emptyList()).use { mock ->
        val http = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build()
        val res = http.send(HttpRequest.newBuilder(URI.create("${mock.info.baseUrl}/_mock/state")).build(), HttpResponse.BodyHandlers.ofByteArray())
        mapper.readTree(res.body()) as ObjectNode
    }
    val members = state.withArray("members")
    for (id in members.size() + 1..MEMBERS) {
        members.addObject().apply {
            put("user_id", id)
            put("email", "member$id@example.com")
            put("name", "Member $id")
            put("is_admin", id % 7 == 0)
            put("is_owner", false)
            put("has_api_key", false)
            putArray("group_ids").add(1 + id % 6)
            putNull("team_app_rule_id")
            put("created_at", "2024-01-01T00:00:00Z")
        }
    }
    state.remove("quotas")
    val file = Files.createTempFile("parsec-teams-bench-", ".json").toFile()
    file.deleteOnExit()
    mapper.writeValue(file, state)
    return file
}

/** clock_gettime(2) through JNA: the process CPU clock in ns. */
interface LibC : Library {
    fun clock_gettime(clock: Int, ts: LongArray): Int
}

const val CLOCK_PROCESS_CPUTIME_ID = 2
val libc: LibC = Native.load("c", LibC::class.java)
val timespec = ThreadLocal.withInitial { LongArray(2) }

/**
 * CPU time of the whole process (every thread, live or exited), ns:
 * clock_gettime(CLOCK_PROCESS_CPUTIME_ID), the figure getrusage(RUSAGE_SELF)
 * gives, in ns (OperatingSystemMXBean.getProcessCpuTime counts 10 ms ticks on Linux).
 */
fun processCpuNs(): Long {
    val ts = timespec.get()
    check(libc.clock_gettime(CLOCK_PROCESS_CPUTIME_ID, ts) == 0) { "clock_gettime failed" }
    return ts[0] * 1_000_000_000L + ts[1]
}

/**
 * CPU time of the JIT compiler threads ("C1 CompilerThre", "C2 CompilerThre"), ms,
 * from /proc/self/task/ * /schedstat (ns on CPU). CompilationMXBean's total is the
 * compilers' elapsed time, waits for a core included: on a loaded machine it exceeds
 * their CPU. A compiler thread that has exited takes its time with it (rare: the
 * JVM keeps at least one of each).
 */
fun jitMs(): Long {
    var ns = 0L
    for (task in File("/proc/self/task").listFiles() ?: emptyArray()) {
        val comm = runCatching { File(task, "comm").readText() }.getOrDefault("")
        if (comm.startsWith("C1 Compiler") || comm.startsWith("C2 Compiler")) {
            ns += runCatching { File(task, "schedstat").readText().substringBefore(' ').toLong() }.getOrDefault(0L)
        }
    }
    return ns / 1_000_000
}

fun gcMs(): Long = ManagementFactory.getGarbageCollectorMXBeans().sumOf { it.collectionTime.coerceAtLeast(0) }

class Sample(var wallNs: Long = 0, var cpuNs: Long = 0, var n: Int = 0) {
    fun rate() = n / (wallNs / 1e9)

    fun cpuUs() = cpuNs / 1e3 / n
}

fun timed(sample: Sample, n: Int, body: () -> Unit) {
    val c0 = processCpuNs()
    val t0 = System.nanoTime()
    body()
    sample.wallNs += System.nanoTime() - t0
    sample.cpuNs += processCpuNs() - c0
    sample.n += n
}

class Scenario(val title: String, val unit: String, val n: Int, val pick: (Contender) -> ((Int, Int) -> Unit)?)

val scenarios = listOf(
    Scenario("sequential members.get x$SEQ_N", "req/s", SEQ_N) { it.sequential },
    Scenario("members.get x$CONC_N at concurrency $CONC", "req/s", CONC_N) { it.concurrent },
    Scenario("members.list(limit=$PAGE) x$PAGE_N", "pages/s", PAGE_N) { it.pages },
)

fun median(xs: List<Double>): Double {
    val s = xs.sorted()
    val m = s.size / 2
    return if (s.size % 2 == 1) s[m] else (s[m - 1] + s[m]) / 2
}

fun fmt(x: Double, digits: Int = 0): String = String.format(Locale.US, "%,.${digits}f", x)

fun resetMock(peer: Peer, info: MockInfo) {
    // Keeps the mock's request log (and its memory) small between runs.
    val res = peer.http.send(HttpRequest.newBuilder(URI.create("${info.baseUrl}/_mock/reset")).POST(HttpRequest.BodyPublishers.noBody()).build(), HttpResponse.BodyHandlers.discarding())
    check(res.statusCode() in 200..299) { "reset: ${res.statusCode()}" }
}

fun main() {
    val root = File(System.getProperty("bench.root") ?: "../..").canonicalFile
    val triple = System.getenv("CARGO_BUILD_TARGET")
    val bin = System.getenv("PARSEC_TEAMS_MOCK")
        ?: File(root, listOfNotNull("target", triple, "release", "parsec-teams-mock").joinToString("/")).path
    val out = File(System.getProperty("bench.out") ?: File(root, "bench/kotlin/RESULTS.md").path)
    val fixture = writeFixture(bin)
    Mock(bin, listOf("--fixture", fixture.path)).use { mock ->
        val info = mock.info
        val peer = Peer(info)
        val firstCall = LinkedHashMap<String, Double>()
        val contenders = ArrayList<Contender>()
        // The first call of each client, cold: class loading, the native library, the first connection.
        run {
            val t0 = System.nanoTime()
            checkMember(0, peer.get(userId(0)))
            firstCall["HttpClient + Jackson"] = (System.nanoTime() - t0) / 1e6
        }
        val sdkSetup = System.nanoTime()
        val sdk = sdkContenders(info)
        if (sdk.isNotEmpty()) {
            sdk.first().sequential!!(0, 1)
            firstCall["parsec-teams (client created + first call)"] = (System.nanoTime() - sdkSetup) / 1e6
        }
        contenders += sdk
        contenders += peer.contenders()
        val floorBin = System.getenv("PARSEC_TEAMS_BENCH") ?: File(File(bin).parentFile, "parsec-teams-bench").path
        val floor = if (File(floorBin).canExecute()) Floor(floorBin, info) else null.also { System.err.println("no $floorBin: running without the host's floor") }
        floor?.let { contenders += it.contenders() }
        System.getenv("PROFILE")?.let { return@use profile(contenders, it) }
        val names = contenders.map { it.name }

        // Warm-up, in blocks: every contender runs 1,000 sequential gets, 1,000 concurrent
        // gets and 50 pages per block; the CPU per sequential get of each block shows the JIT at work.
        val warm = names.associateWith { ArrayList<Double>() }
        val warmPages = names.associateWith { ArrayList<Double>() }
        val warmJit = ArrayList<Long>()
        val warmCpu = ArrayList<Double>()
        for (b in 0 until WARMUP_MAX) {
            resetMock(peer, info)
            val j0 = jitMs()
            val c0 = processCpuNs()
            for (c in contenders) {
                if (c.floor) {
                    c.sequential?.invoke(b * 1000, 1000)
                    continue
                }
                c.sequential?.let { f -> warm.getValue(c.name) += Sample().also { s -> timed(s, 1000) { f(b * 1000, 1000) } }.cpuUs() }
                c.pages?.let { f -> warmPages.getValue(c.name) += Sample().also { s -> timed(s, 50) { f(b * 50, 50) } }.cpuUs() }
                c.concurrent?.let { f -> f(b * 1000, 1000) }
            }
            warmJit += jitMs() - j0
            warmCpu += (processCpuNs() - c0) / 1e6
            System.err.println("warm-up block ${b + 1}: JIT ${warmJit.last()} ms of ${fmt(warmCpu.last())} ms CPU")
            if (b + 1 >= WARMUP_MIN && warmJit.last() < 0.02 * warmCpu.last()) break
        }

        // Measured rounds: each scenario runs every contender in SLICES alternating slices
        // (A B C A B C ...), the order rotating from round to round, so a burst of load from
        // elsewhere on this shared machine hits every contender alike.
        val results = scenarios.associate { s -> s.title to names.associateWith { ArrayList<Sample>() } }
        val jit0 = jitMs()
        val gc0 = gcMs()
        val cpu0 = processCpuNs()
        val t0 = System.nanoTime()
        for (round in 0 until ROUNDS) {
            for (s in scenarios) {
                resetMock(peer, info)
                val running = contenders.filter { s.pick(it) != null }
                val order = running.indices.map { running[(it + round) % running.size] }
                val acc = order.associate { it.name to Sample() }
                val per = (s.n + SLICES - 1) / SLICES
                for (slice in 0 until SLICES) {
                    for (c in order) c.timedBy(acc.getValue(c.name), per) { s.pick(c)!!(slice * per, per) }
                }
                for (c in order) results.getValue(s.title).getValue(c.name) += acc.getValue(c.name)
            }
            System.err.println("round ${round + 1}/$ROUNDS done")
        }
        val roundsJit = jitMs() - jit0
        val roundsGc = gcMs() - gc0
        val roundsCpu = (processCpuNs() - cpu0) / 1e6
        val roundsWall = (System.nanoTime() - t0) / 1e6

        // The profile's findings (written by hand from `make profile`) follow the figures.
        val notes = File(root, "bench/kotlin/NOTES.md").takeIf { it.exists() }?.readText()?.let { "\n" + it.trim() + "\n" } ?: ""
        val md = report(contenders, results, warm, warmPages, warmJit, warmCpu, firstCall, roundsJit, roundsGc, roundsCpu, roundsWall) + notes
        out.writeText(md)
        println(md)
        floor?.close()
    }
    threads.shutdownNow()
}

/**
 * PROFILE="<contender name>/<scenario number 1-3>": that case alone, warmed up, then
 * in a loop for PROFILE_SECONDS (20) while a profiler (make profile: JFR) records.
 */
fun profile(contenders: List<Contender>, spec: String) {
    val (who, which) = spec.split('/').let { it[0] to it.getOrElse(1) { "1" }.toInt() }
    val c = contenders.firstOrNull { it.name == who } ?: error("PROFILE: no contender named '$who' among ${contenders.map { it.name }}")
    val s = scenarios[which - 1]
    val run = s.pick(c) ?: error("PROFILE: ${c.name} does not run '${s.title}'")
    val per = s.n / 10
    repeat(10) { run(it * per, per) }
    val seconds = env("PROFILE_SECONDS", 20)
    val sample = Sample()
    val end = System.nanoTime() + seconds * 1_000_000_000L
    var i = 0
    while (System.nanoTime() < end) {
        timed(sample, per) { run(i * per, per) }
        i++
    }
    println("profiled ${c.name}, ${s.title}: ${sample.n} calls, ${fmt(sample.rate())} ${s.unit}, ${fmt(sample.cpuUs(), 1)} µs CPU per call")
}

fun report(
    contenders: List<Contender>,
    results: Map<String, Map<String, List<Sample>>>,
    warm: Map<String, List<Double>>,
    warmPages: Map<String, List<Double>>,
    warmJit: List<Long>,
    warmCpu: List<Double>,
    firstCall: Map<String, Double>,
    roundsJit: Long,
    roundsGc: Long,
    roundsCpu: Double,
    roundsWall: Double,
): String {
    val rt = Runtime.getRuntime()
    val now = DateTimeFormatter.ofPattern("yyyy-MM-dd HH:mm").withZone(ZoneOffset.UTC).format(Instant.now())
    val cpuModel = File("/proc/cpuinfo").takeIf { it.exists() }?.readLines()?.firstOrNull { it.startsWith("model name") }?.substringAfter(":")?.trim() ?: "?"
    val load = File("/proc/loadavg").takeIf { it.exists() }?.readText()?.split(" ")?.take(3)?.joinToString(" ") ?: "?"
    val gcs = ManagementFactory.getGarbageCollectorMXBeans().joinToString(" + ") { it.name }
    val vm = ManagementFactory.getRuntimeMXBean()
    val flags = vm.inputArguments.joinToString(" ").ifEmpty { "none" }
    val sdk = contenders.filter { it.sdk }
    val peers = contenders.filter { !it.sdk && !it.floor }
    val floors = contenders.filter { it.floor }
    val sb = StringBuilder()
    sb.append("## Kotlin/JVM (`bindings-kotlin`)\n\n")
    sb.append("Run by `make -C bench/kotlin bench` (bench/kotlin/src/Bench.kt) on $now UTC: ")
    sb.append("${vm.vmName} ${System.getProperty("java.runtime.version")} (GC: $gcs; JVM flags: $flags), ")
    sb.append("${rt.availableProcessors()} CPUs ($cpuModel), load average $load at the end, shared with other builds (expect noise; the CPU figures and the ratios within one run are steadier). ")
    sb.append("Mock: the release `parsec-teams-mock` binary in its own process, with a $MEMBERS-member fixture. ")
    sb.append("Every contender runs in the same JVM: after ${warmJit.size} warm-up blocks (below), medians of $ROUNDS interleaved rounds (each round runs the contenders in $SLICES alternating slices, rotating which goes first). ")
    sb.append("Every client decodes the JSON fully (the SDK into its data classes, the peer into a Jackson tree) and the bench checks each member's id and each page's length. ")
    sb.append("CPU = the JVM process's user + system time per request (clock_gettime(CLOCK_PROCESS_CPUTIME_ID), as getrusage counts it): every thread, the JIT and GC threads and the SDK's native tokio workers included. ")
    sb.append("The peer: one `java.net.http.HttpClient` (HTTP/1.1, a 60 s request timeout, the `Authorization` header) and one Jackson `ObjectMapper` (`readTree`), blocking `send` (sequential, and from $CONC threads) and `sendAsync` ($CONC chains of futures).")
    if (floors.isNotEmpty()) sb.append(" The floors (sequential only): `parsec-teams-bench --floor` (bench/src/floor.rs), a Rust process of its own run between the contenders' slices, its own wall and CPU time: the same requests written by hand on one raw keep-alive socket (no HTTP library, no async runtime: the most any client can reach on this host at that moment), on one hyper client connection, and as a bare reqwest + serde_json loop, both on a current-thread runtime (the last is the SDK's HTTP stack without the SDK).")
    if (sdk.isEmpty()) sb.append(" **The SDK was not built into this run** (bindings-kotlin not available): peer figures only.")
    sb.append("\n\n")
    sb.append("| scenario | client | throughput | CPU per request | throughput vs parsec-teams |\n| --- | --- | ---: | ---: | ---: |\n")
    val summary = ArrayList<String>()
    for (s in scenarios) {
        val r = results.getValue(s.title)
        val ran = contenders.filter { r.getValue(it.name).isNotEmpty() }
        val best = sdk.filter { it in ran }.maxByOrNull { median(r.getValue(it.name).map(Sample::rate)) }
        val bestRate = best?.let { median(r.getValue(it.name).map(Sample::rate)) }
        for (c in ran) {
            val rate = median(r.getValue(c.name).map(Sample::rate))
            val cpu = median(r.getValue(c.name).map(Sample::cpuUs))
            val vs = when {
                c.sdk -> "1.00x" + if (best != null && c != best) " (${fmt(rate / bestRate!!, 2)}x of the faster SDK mode)" else ""
                bestRate == null -> "—"
                c.floor -> "parsec-teams reaches ${fmt(bestRate / rate, 2)}x of it"
                else -> "parsec-teams is ${fmt(bestRate / rate, 2)}x"
            }
            sb.append("| ${s.title} | ${c.name} | ${fmt(rate)} ${s.unit} | ${fmt(cpu, 1)} µs | $vs |\n")
        }
        for (a in sdk.filter { it in ran }) {
            for (b in peers.filter { it in ran }) {
                val ra = r.getValue(a.name)
                val rb = r.getValue(b.name)
                val speed = median(ra.map(Sample::rate)) / median(rb.map(Sample::rate))
                val cpu = median(ra.map(Sample::cpuUs)) / median(rb.map(Sample::cpuUs))
                val pairedSpeed = median(ra.indices.map { ra[it].rate() / rb[it].rate() })
                val pairedCpu = median(ra.indices.map { ra[it].cpuUs() / rb[it].cpuUs() })
                val speedTarget = if (s === scenarios.first()) " (target ≥ 2x: ${if (speed >= 2) "met" else "NOT met"})" else ""
                summary += "- ${s.title}: ${a.name} / ${b.name}: throughput **${fmt(speed, 2)}x**$speedTarget (paired per round: ${fmt(pairedSpeed, 2)}x); " +
                    "CPU per request **${fmt(cpu, 2)}** of the peer's (target ≤ 0.50: ${if (cpu <= 0.5) "met" else "NOT met"}; paired: ${fmt(pairedCpu, 2)})"
            }
        }
    }
    // What the host allows: the SDK and the peer as fractions of each floor, round by round.
    val seq = results.getValue(scenarios.first().title)
    for (f in floors.filter { seq.getValue(it.name).isNotEmpty() }) {
        val rf = seq.getValue(f.name)
        val parts = (sdk + peers).filter { c -> seq.getValue(c.name).isNotEmpty() && c.sequential != null }.map { c ->
            val rc = seq.getValue(c.name)
            "${c.name} ${fmt(median(rc.map(Sample::rate)) / median(rf.map(Sample::rate)), 2)}x (paired: ${fmt(median(rc.indices.map { rc[it].rate() / rf[it].rate() }), 2)}x)"
        }
        val peer = peers.firstOrNull { seq.getValue(it.name).isNotEmpty() }
        val ceiling = peer?.let { p -> val rp = seq.getValue(p.name); "; so no client could have reached more than **${fmt(median(rf.indices.map { rf[it].rate() / rp[it].rate() }), 2)}x** the throughput of ${p.name} here (paired per round)" } ?: ""
        summary += "- ${scenarios.first().title}, against the host's ${f.name} (${fmt(median(rf.map(Sample::rate)))} req/s, ${fmt(median(rf.map(Sample::cpuUs)), 1)} µs CPU in its own process): ${parts.joinToString(", ")} of its throughput$ceiling"
    }
    if (summary.isNotEmpty()) sb.append("\nRatios against the targets of issue 13 (≥ 2x the peer's sequential throughput, ≤ ½ its CPU per call):\n\n${summary.joinToString("\n")}\n")
    sb.append("\nJIT warm-up. Each warm-up block runs, per contender, 1,000 sequential members.get, 50 pages and 1,000 concurrent gets; ")
    sb.append("the blocks go on (at least $WARMUP_MIN, at most $WARMUP_MAX) until one spends under 2% of its CPU compiling. Block 1 starts cold. ")
    sb.append("CPU µs per sequential members.get (and per page) in each block, and the JIT compiler threads' CPU time in the block:\n\n")
    val seqNames = warm.filterValues { it.isNotEmpty() }.keys.toList()
    val pageNames = warmPages.filterValues { it.isNotEmpty() }.keys.toList()
    sb.append("| block | " + seqNames.joinToString(" | ") { "$it, get" } + " | " + pageNames.joinToString(" | ") { "$it, page" } + " | JIT | block CPU |\n")
    sb.append("| ---: | " + (seqNames + pageNames).joinToString(" | ") { "---:" } + " | ---: | ---: |\n")
    for (b in warmJit.indices) {
        val cells = seqNames.map { fmt(warm.getValue(it)[b]) } + pageNames.map { fmt(warmPages.getValue(it)[b]) }
        sb.append("| ${b + 1} | ${cells.joinToString(" | ")} | ${warmJit[b]} ms | ${fmt(warmCpu[b])} ms |\n")
    }
    sb.append("\nFirst call (cold JVM): ${firstCall.entries.joinToString("; ") { "${it.key} ${fmt(it.value, 1)} ms" }}. ")
    sb.append("During the measured rounds: the JIT compiler threads used $roundsJit ms of CPU and GC paused for $roundsGc ms, against ${fmt(roundsCpu)} ms of process CPU in ${fmt(roundsWall)} ms of wall time.\n")
    sb.append("\nPer-round throughput (req/s or pages/s), for the noise:\n\n")
    for (s in scenarios) {
        val r = results.getValue(s.title)
        for (c in contenders) {
            val xs = r.getValue(c.name)
            if (xs.isNotEmpty()) sb.append("- ${s.title}, ${c.name}: ${xs.joinToString(", ") { fmt(it.rate()) }}\n")
        }
    }
    return sb.toString()
}
