// The hand-written part of the Kotlin layer: JSON values across the uniffi
// boundary, per-call options, raw responses, pagers and the in-process mock.
// Everything per operation, model, option and error class is generated into
// Generated.kt from docs/description.json (codegen/gen_kotlin.py).
package parsecteams

import parsecteams.ffi.NativeClient
import parsecteams.ffi.NativeException
import parsecteams.ffi.NativeMockServer
import parsecteams.ffi.NativeOptions
import parsecteams.ffi.NativePager
import com.sun.jna.Callback
import com.sun.jna.CallbackThreadInitializer
import com.sun.jna.Native
import com.sun.jna.Pointer
import kotlinx.coroutines.CancellableContinuation
import kotlinx.coroutines.suspendCancellableCoroutine
import java.util.concurrent.ConcurrentHashMap
import java.util.concurrent.atomic.AtomicLong
import kotlin.coroutines.resume

/** Per-call overrides of the client's `timeoutMs` and `maxRetries` (checked by the core). */
data class RequestOptions @JvmOverloads constructor(val timeoutMs: Long? = null, val maxRetries: Int? = null) {
    internal val timeoutSeconds: Double? get() = timeoutMs?.let { it / 1000.0 }
}

/** A result with the response's HTTP status, `x-request-id` and the retries taken. */
data class RawResponse<T>(val status: Int, val requestId: String?, val retriesTaken: Int, val data: T)

/**
 * JSON values as plain Kotlin values: `null`, [Boolean], [Long], [Double],
 * [String], [List] and [Map] (insertion order kept). Values go to the core as
 * JSON text, which the core parses and checks; results come back decoded by
 * the core, in a compact binary encoding read here in one pass
 * (bindings-kotlin/src/json.rs describes it).
 */
object Json {
    /** Renders a plain value as JSON text (for logs and tests). */
    @JvmStatic
    fun write(v: Any?): String = StringBuilder().also { write(v, it) }.toString()

    private fun write(v: Any?, out: StringBuilder) {
        when (v) {
            null -> out.append("null")
            is Boolean -> out.append(v)
            is Double -> if (v.isFinite()) out.append(v) else out.append("null")
            is Float -> write(v.toDouble(), out)
            is Number -> out.append(v.toLong())
            is String -> quote(v, out)
            is Enum<*> -> quote(wireName(v), out)
            is Map<*, *> -> {
                out.append('{')
                var first = true
                for ((k, x) in v) {
                    if (!first) out.append(',')
                    first = false
                    quote(k.toString(), out)
                    out.append(':')
                    write(x, out)
                }
                out.append('}')
            }
            is Iterable<*> -> {
                out.append('[')
                var first = true
                for (x in v) {
                    if (!first) out.append(',')
                    first = false
                    write(x, out)
                }
                out.append(']')
            }
            is Array<*> -> write(v.asList(), out)
            is Model -> write(v.raw, out)
            else -> quote(v.toString(), out)
        }
    }

    private fun quote(s: String, out: StringBuilder) {
        out.append('"')
        for (c in s) {
            when {
                c == '"' -> out.append("\\\"")
                c == '\\' -> out.append("\\\\")
                c == '\n' -> out.append("\\n")
                c == '\r' -> out.append("\\r")
                c == '\t' -> out.append("\\t")
                c < ' ' -> out.append(String.format("\\u%04x", c.code))
                else -> out.append(c)
            }
        }
        out.append('"')
    }

    internal fun wireName(e: Enum<*>): String = if (e is WireEnum) e.wire else e.name

    /** A plain value as JSON text for the core (which parses and checks it). */
    internal fun text(v: Any?): String = write(v)

    /** The plain value of the core's encoding of a decoded result (from byte [at]). */
    internal fun decode(bytes: ByteArray, at: Int = 0): Any? {
        if (bytes.size <= at) return null
        return Decoder(java.nio.ByteBuffer.wrap(bytes).order(java.nio.ByteOrder.LITTLE_ENDIAN).position(at) as java.nio.ByteBuffer).value()
    }

    // The tags and key scheme of bindings-kotlin/src/json.rs.
    private class Decoder(private val b: java.nio.ByteBuffer) {
        private val keys = ArrayList<String>()

        private fun string(n: Int): String {
            val at = b.position()
            val s = String(b.array(), at, n, Charsets.UTF_8)
            b.position(at + n)
            return s
        }

        private fun key(): String {
            val k = b.getInt()
            if (k and 1 == 0) return keys[k ushr 1]
            val s = string((k and 0x7fffffff) ushr 1)
            if (k >= 0) keys.add(s)
            return s
        }

        fun value(): Any? = when (val tag = b.get().toInt()) {
            0 -> null
            1 -> false
            2 -> true
            3 -> b.getLong()
            4 -> b.getDouble()
            5 -> string(b.getInt())
            6 -> {
                val n = b.getInt()
                val list = ArrayList<Any?>(n)
                repeat(n) { list.add(value()) }
                list
            }
            7 -> {
                val n = b.getInt()
                val map = LinkedHashMap<String, Any?>(if (n < 12) 16 else n * 2)
                repeat(n) {
                    val k = key()
                    map[k] = value()
                }
                map
            }
            else -> throw IllegalStateException("parsec-teams: unknown value tag $tag from the native library")
        }
    }
}

/** An enum whose values have a wire spelling. */
interface WireEnum {
    val wire: String
}

/** A result object: its typed fields, and every field the server sent in [raw] (unknown ones too). */
abstract class Model {
    /** Every field as received, unknown ones included. */
    abstract val raw: Map<String, Any?>

    /** The fields this SDK version does not know. */
    abstract val extra: Map<String, Any?>

    /** Every field as received (same as [raw]). */
    fun toMap(): Map<String, Any?> = raw

    override fun toString(): String = javaClass.simpleName + Json.write(raw)
}

internal object Read {
    @Suppress("UNCHECKED_CAST")
    fun obj(v: Any?): Map<String, Any?> = (v as? Map<String, Any?>) ?: emptyMap()
    fun long(v: Any?): Long? = when (v) {
        is Long -> v
        is Double -> if (v % 1.0 == 0.0) v.toLong() else null
        else -> null
    }
    fun string(v: Any?): String? = v as? String
    fun bool(v: Any?): Boolean? = v as? Boolean
    fun longs(v: Any?): List<Long>? = (v as? List<*>)?.mapNotNull { long(it) }
    fun list(v: Any?): List<Any?>? = v as? List<*>
    fun <T> items(v: Any?, make: (Map<String, Any?>) -> T): List<T> = (v as? List<*>)?.map { make(obj(it)) } ?: emptyList()
    fun extra(raw: Map<String, Any?>, known: Set<String>): Map<String, Any?> = raw.filterKeys { it !in known }
}

/** The native error as the class of the contract's error tree it names. */
internal fun errorOf(e: Throwable): Throwable = when (e) {
    is NativeException.Failed -> ParsecError.of(e)
    is ParsecError -> e
    is kotlinx.coroutines.CancellationException -> e
    is Error -> e
    else -> InternalError(ErrorInfo.internal("${e.javaClass.simpleName}: ${e.message}"))
}

internal inline fun <T> guard(block: () -> T): T = try {
    block()
} catch (e: Exception) {
    throw errorOf(e)
}

/**
 * The calls' direct path (bindings-kotlin/src/direct.rs): plain C functions
 * of the same native library, bound by JNA's direct mapping with only numbers
 * and arrays, so a call builds no JNA `Structure` (uniffi's calls build
 * several, which cost more CPU than the whole request in Rust).
 */
internal object Direct {
    /** The completion of a suspend call, called by the native library on one of its runtime's threads. */
    interface Done : Callback {
        fun invoke(id: Long, ptr: Long, len: Long)
    }

    /** The suspend calls waiting for their result, by number. */
    private val waiting = ConcurrentHashMap<Long, CancellableContinuation<ByteArray>>()
    private val ids = AtomicLong()

    // Held here for the library's lifetime: JNA frees a callback's native stub with its object.
    private val done = object : Done {
        override fun invoke(id: Long, ptr: Long, len: Long) {
            val bytes = take(ptr, len)
            waiting.remove(id)?.resume(bytes)
        }
    }

    init {
        // The library uniffi's bindings load (the same NativeLibrary instance).
        Native.register(Direct::class.java, System.getProperty("uniffi.component.parsecteams.libraryOverride") ?: "parsec_teams_kotlin")
        // The runtime's threads stay attached to the JVM between callbacks (attaching costs more than a call).
        Native.setCallbackThreadInitializer(done, CallbackThreadInitializer(true, false, "parsec-teams-done"))
        parsec_teams_kt_set_done(done)
    }

    @JvmStatic external fun parsec_teams_kt_set_done(done: Done)

    @JvmStatic external fun parsec_teams_kt_call_async(
        handle: Long, op: ByteArray, opLen: Int, params: ByteArray, paramsLen: Int, timeout: Double, maxRetries: Long, id: Long, outLen: LongArray,
    ): Long

    @JvmStatic external fun parsec_teams_kt_request_async(
        handle: Long, method: ByteArray, methodLen: Int, path: ByteArray, pathLen: Int,
        query: ByteArray?, queryLen: Int, body: ByteArray?, bodyLen: Int, id: Long, outLen: LongArray,
    ): Long

    @JvmStatic external fun parsec_teams_kt_cancel(id: Long)

    /**
     * A suspend call: [start] starts it under a number (0 back) or returns an
     * error result found first; cancelling the coroutine cancels the request.
     */
    suspend fun await(start: (Long, LongArray) -> Long): RawResponse<Any?> {
        val bytes = suspendCancellableCoroutine<ByteArray> { cont ->
            val id = ids.incrementAndGet()
            waiting[id] = cont
            cont.invokeOnCancellation { if (waiting.remove(id) != null) parsec_teams_kt_cancel(id) }
            val len = LongArray(1)
            val ptr = start(id, len)
            if (ptr != 0L && waiting.remove(id) != null) cont.resume(take(ptr, len[0]))
        }
        return replyOf(bytes)
    }

    @JvmStatic external fun parsec_teams_kt_call(
        handle: Long, op: ByteArray, opLen: Int, params: ByteArray, paramsLen: Int, timeout: Double, maxRetries: Long, outLen: LongArray,
    ): Long

    @JvmStatic external fun parsec_teams_kt_request(
        handle: Long, method: ByteArray, methodLen: Int, path: ByteArray, pathLen: Int,
        query: ByteArray?, queryLen: Int, body: ByteArray?, bodyLen: Int, outLen: LongArray,
    ): Long

    @JvmStatic external fun parsec_teams_kt_free(ptr: Long, len: Long)

    @JvmStatic external fun parsec_teams_kt_release(handle: Long)

    /** A result buffer's bytes; the buffer is freed. */
    private fun take(ptr: Long, len: Long): ByteArray {
        val bytes = ByteArray(len.toInt())
        try {
            Pointer(ptr).read(0, bytes, 0, bytes.size)
        } finally {
            parsec_teams_kt_free(ptr, len)
        }
        return bytes
    }

    /** The response of a result buffer (then freed), its data plain JSON values, or the error it holds, thrown. */
    fun reply(ptr: Long, len: Long): RawResponse<Any?> = replyOf(take(ptr, len))

    private fun replyOf(bytes: ByteArray): RawResponse<Any?> {
        val v = Json.decode(bytes, 1)
        if (bytes[0].toInt() != 0) throw ParsecError.of(failure(Read.obj(v)))
        val r = v as List<*>
        return RawResponse((r[0] as Long).toInt(), r[1] as String?, (r[2] as Long).toInt(), r[3])
    }

    private fun failure(e: Map<String, Any?>) = NativeException.Failed(
        e["class_name"] as String, e["detail"] as String, e["text"] as String, (e["status"] as Long?)?.toUShort(),
        e["body"] as String?, e["request_id"] as String?, (e["retry_after"] as Number?)?.toDouble(), e["retryable"] as Boolean,
        (e["retries_taken"] as Long).toUInt(), e["may_have_been_applied"] as Boolean, e["field"] as String?, e["rule"] as String?,
    )
}

/** An operation call's arguments as the direct path takes them (no timeout: NaN; no retry count: Long.MIN_VALUE). */
private class CallArgs(op: String, params: Map<String, Any?>, options: RequestOptions?) {
    val op = op.toByteArray(Charsets.UTF_8)
    val params = Json.text(params).toByteArray(Charsets.UTF_8)
    val timeout = options?.timeoutSeconds ?: Double.NaN
    val maxRetries = options?.maxRetries?.toLong() ?: Long.MIN_VALUE
}

/** An escape-hatch request's arguments as the direct path takes them (an absent query or body: length -1). */
private class RawArgs(method: String, path: String, query: Map<String, Any?>?, body: Any?) {
    val method = method.toByteArray(Charsets.UTF_8)
    val path = path.toByteArray(Charsets.UTF_8)
    val query = query?.let { Json.text(it).toByteArray(Charsets.UTF_8) }
    val body = body?.let { Json.text(it).toByteArray(Charsets.UTF_8) }
    // `this.`: the constructor's parameters of the same names are the unencoded values.
    val queryLen = this.query?.size ?: -1
    val bodyLen = this.body?.size ?: -1
}

/** The calls shared by [Client] and [AdminClient]: by operation id, typed results decoded by the caller. */
abstract class BaseClient internal constructor(internal val native: NativeClient) : AutoCloseable {
    // This client's number for the direct path, forgotten on close() or when
    // the client is collected (a Cleaner, as uniffi frees its object).
    private val handle: Long = native.directHandle().toLong()

    // A Cleanable runs at most once, whether by close() or by the collector.
    private val cleanup: java.lang.ref.Cleaner.Cleanable = run {
        val h = handle
        CLEANER.register(this) { Direct.parsec_teams_kt_release(h) }
    }

    internal fun <T> raw(r: RawResponse<Any?>, decode: (Any?) -> T) = RawResponse(r.status, r.requestId, r.retriesTaken, decode(r.data))

    internal suspend fun send(op: String, params: Map<String, Any?>, options: RequestOptions?): RawResponse<Any?> {
        val a = CallArgs(op, params, options)
        return Direct.await { id, len -> Direct.parsec_teams_kt_call_async(handle, a.op, a.op.size, a.params, a.params.size, a.timeout, a.maxRetries, id, len) }
    }

    internal fun sendBlocking(op: String, params: Map<String, Any?>, options: RequestOptions?): RawResponse<Any?> {
        val a = CallArgs(op, params, options)
        val len = LongArray(1)
        val ptr = Direct.parsec_teams_kt_call(handle, a.op, a.op.size, a.params, a.params.size, a.timeout, a.maxRetries, len)
        return Direct.reply(ptr, len[0])
    }

    internal fun <T> pager(op: String, params: Map<String, Any?>, options: RequestOptions?, decode: (Map<String, Any?>) -> T): Pager<T> =
        Pager(guard { native.pager(op, Json.text(params), options?.timeoutSeconds, options?.maxRetries?.toLong()) }, decode)

    /**
     * Any operation by its description id (`teams.members.list`,
     * `admin.teams.get`) with wire-named parameters; the result as plain JSON
     * values. The typed resources are the usual way; this one serves tools
     * driven by data (and the conformance runner).
     */
    suspend fun call(operation: String, params: Map<String, Any?> = emptyMap(), options: RequestOptions? = null): RawResponse<Any?> =
        send(operation, params, options)

    /** [call], blocking the calling thread. */
    @JvmOverloads
    fun callBlocking(operation: String, params: Map<String, Any?> = emptyMap(), options: RequestOptions? = null): RawResponse<Any?> =
        sendBlocking(operation, params, options)

    /** Every item of a list operation by id, page after page (plain JSON values). */
    @JvmOverloads
    fun iterate(operation: String, params: Map<String, Any?> = emptyMap(), options: RequestOptions? = null): Pager<Any?> =
        pager(operation, params, options) { it }

    /**
     * The escape hatch for endpoints this SDK does not cover: `method` and
     * `path` under the base URL, an optional `query` object and JSON `body`;
     * same auth, retries, errors and logging; the result as plain JSON values.
     */
    suspend fun request(method: String, path: String, query: Map<String, Any?>? = null, body: Any? = null): RawResponse<Any?> {
        val a = RawArgs(method, path, query, body)
        return Direct.await { id, len ->
            Direct.parsec_teams_kt_request_async(handle, a.method, a.method.size, a.path, a.path.size, a.query, a.queryLen, a.body, a.bodyLen, id, len)
        }
    }

    /** [request], blocking the calling thread. */
    @JvmOverloads
    fun requestBlocking(method: String, path: String, query: Map<String, Any?>? = null, body: Any? = null): RawResponse<Any?> {
        val a = RawArgs(method, path, query, body)
        val len = LongArray(1)
        val ptr = Direct.parsec_teams_kt_request(handle, a.method, a.method.size, a.path, a.path.size, a.query, a.queryLen, a.body, a.bodyLen, len)
        return Direct.reply(ptr, len[0])
    }

    /** Frees the native client (also done by the garbage collector). */
    override fun close() {
        cleanup.clean()
        native.close()
    }

    private companion object {
        val CLEANER: java.lang.ref.Cleaner = java.lang.ref.Cleaner.create()
    }
}

/**
 * The items of a list operation, fetched a page at a time: [next] (suspend)
 * or [nextPage] / [asSequence] / iteration (blocking). One pager is walked by
 * one caller at a time.
 */
class Pager<T> internal constructor(private val native: NativePager, private val decode: (Map<String, Any?>) -> T) : Iterable<T> {
    /** The next page's items, `null` after the last page. */
    suspend fun next(): List<T>? = guard { native.nextPage() }?.let { items(it) }

    /** [next], blocking the calling thread. */
    fun nextPage(): List<T>? = guard { native.nextPageBlocking() }?.let { items(it) }

    /** Every remaining item, suspending between pages. */
    suspend fun toList(): List<T> {
        val all = ArrayList<T>()
        while (true) all.addAll(next() ?: return all)
    }

    /** Every remaining item, fetching pages lazily (blocking). */
    fun asSequence(): Sequence<T> = sequence {
        while (true) yieldAll(nextPage() ?: break)
    }

    override fun iterator(): Iterator<T> = asSequence().iterator()

    private fun items(bytes: ByteArray): List<T> = (Json.decode(bytes) as List<*>).map { decode(Read.obj(it)) }
}

/**
 * The `parsec-teams-mock` server, serving both APIs from memory in this
 * process on a free loopback port, for tests. `use { }` or [close] stops it.
 *
 * @param quotaWindowSeconds shrinks the quota window and block (default 300).
 * @param keys extra API keys holding only the named permissions: key to permission names.
 * @param idleTimeoutSeconds closes a connection idle (or sending no request head) this long (default 30).
 */
class MockServer @JvmOverloads constructor(
    quotaWindowSeconds: Double? = null,
    keys: Map<String, List<String>> = emptyMap(),
    idleTimeoutSeconds: Double? = null,
) : AutoCloseable {
    private val native: NativeMockServer =
        guard { NativeMockServer.start(quotaWindowSeconds, keys.map { (k, p) -> k + "=" + p.joinToString(",") }, idleTimeoutSeconds) }

    /** `http://127.0.0.1:PORT`. */
    val baseUrl: String = native.baseUrl()

    /** The fixture's team id. */
    val teamId: String = native.teamId()

    /** A key holding every permission. */
    val apiKey: String = native.apiKey()

    /** The team-administration token. */
    val adminToken: String = native.adminToken()

    /** A [Client] of this mock (options as [Client]'s). */
    fun client(timeoutMs: Long? = null, maxRetries: Int? = null): Client =
        Client(apiKey = apiKey, teamId = teamId, baseUrl = baseUrl, timeoutMs = timeoutMs, maxRetries = maxRetries)

    /** An [AdminClient] of this mock. */
    fun adminClient(timeoutMs: Long? = null, maxRetries: Int? = null): AdminClient =
        AdminClient(baseUrl = baseUrl, token = adminToken, timeoutMs = timeoutMs, maxRetries = maxRetries)

    override fun close() {
        native.stop()
        native.close()
    }
}

/** The SDK version. */
val VERSION: String = parsecteams.ffi.sdkVersion()
