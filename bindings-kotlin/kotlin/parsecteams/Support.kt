// The hand-written part of the Kotlin layer: JSON values across the uniffi
// boundary, per-call options, raw responses, pagers and the in-process mock.
// Everything per operation, model, option and error class is generated into
// Generated.kt from docs/description.json (codegen/gen_kotlin.py).
package parsecteams

import parsecteams.ffi.JsonToken
import parsecteams.ffi.NativeClient
import parsecteams.ffi.NativeException
import parsecteams.ffi.NativeMockServer
import parsecteams.ffi.NativeOptions
import parsecteams.ffi.NativePager
import parsecteams.ffi.NativeResponse

/** Per-call overrides of the client's `timeoutMs` and `maxRetries` (checked by the core). */
data class RequestOptions @JvmOverloads constructor(val timeoutMs: Long? = null, val maxRetries: Int? = null) {
    internal val timeoutSeconds: Double? get() = timeoutMs?.let { it / 1000.0 }
}

/** A result with the response's HTTP status, `x-request-id` and the retries taken. */
data class RawResponse<T>(val status: Int, val requestId: String?, val retriesTaken: Int, val data: T)

/**
 * JSON values as plain Kotlin values: `null`, [Boolean], [Long], [Double],
 * [String], [List] and [Map] (insertion order kept). The core parses and
 * validates; values cross the boundary as tokens, never as text.
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

    /** The tokens of a plain value. */
    internal fun tokens(v: Any?): List<JsonToken> = ArrayList<JsonToken>().also { push(v, it) }

    private fun push(v: Any?, out: MutableList<JsonToken>) {
        when (v) {
            null -> out.add(JsonToken.Null)
            is Boolean -> out.add(JsonToken.Bool(v))
            is Double -> out.add(JsonToken.Float(v))
            is Float -> out.add(JsonToken.Float(v.toDouble()))
            is Number -> out.add(JsonToken.Int(v.toLong()))
            is String -> out.add(JsonToken.Str(v))
            is Enum<*> -> out.add(JsonToken.Str(wireName(v)))
            is Model -> push(v.raw, out)
            is Map<*, *> -> {
                out.add(JsonToken.Object(v.size.toUInt()))
                for ((k, x) in v) {
                    out.add(JsonToken.Key(k.toString()))
                    push(x, out)
                }
            }
            is Collection<*> -> {
                out.add(JsonToken.Array(v.size.toUInt()))
                for (x in v) push(x, out)
            }
            is Array<*> -> push(v.asList(), out)
            else -> out.add(JsonToken.Str(v.toString()))
        }
    }

    /** The plain value the tokens spell (they come from the core, well formed). */
    internal fun value(tokens: List<JsonToken>): Any? {
        var i = 0
        fun next(): Any? {
            return when (val t = tokens[i++]) {
                is JsonToken.Null -> null
                is JsonToken.Bool -> t.v
                is JsonToken.Int -> t.v
                is JsonToken.Float -> t.v
                is JsonToken.Str -> t.v
                is JsonToken.Key -> t.name
                is JsonToken.Array -> {
                    val n = t.len.toInt()
                    val list = ArrayList<Any?>(n)
                    repeat(n) { list.add(next()) }
                    list
                }
                is JsonToken.Object -> {
                    val n = t.len.toInt()
                    val map = LinkedHashMap<String, Any?>(n * 2)
                    repeat(n) {
                        val k = (tokens[i++] as JsonToken.Key).name
                        map[k] = next()
                    }
                    map
                }
            }
        }
        return if (tokens.isEmpty()) null else next()
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

/** The calls shared by [Client] and [AdminClient]: by operation id, typed results decoded by the caller. */
abstract class BaseClient internal constructor(internal val native: NativeClient) : AutoCloseable {
    internal fun <T> raw(r: NativeResponse, decode: (Any?) -> T) =
        RawResponse(r.status.toInt(), r.requestId, r.retriesTaken.toInt(), decode(Json.value(r.data)))

    internal suspend fun send(op: String, params: Map<String, Any?>, options: RequestOptions?): NativeResponse =
        guard { native.call(op, Json.tokens(params), options?.timeoutSeconds, options?.maxRetries?.toLong()) }

    internal fun sendBlocking(op: String, params: Map<String, Any?>, options: RequestOptions?): NativeResponse =
        guard { native.callBlocking(op, Json.tokens(params), options?.timeoutSeconds, options?.maxRetries?.toLong()) }

    internal fun <T> pager(op: String, params: Map<String, Any?>, options: RequestOptions?, decode: (Map<String, Any?>) -> T): Pager<T> =
        Pager(guard { native.pager(op, Json.tokens(params), options?.timeoutSeconds, options?.maxRetries?.toLong()) }, decode)

    /**
     * Any operation by its description id (`teams.members.list`,
     * `admin.teams.get`) with wire-named parameters; the result as plain JSON
     * values. The typed resources are the usual way; this one serves tools
     * driven by data (and the conformance runner).
     */
    suspend fun call(operation: String, params: Map<String, Any?> = emptyMap(), options: RequestOptions? = null): RawResponse<Any?> =
        raw(send(operation, params, options)) { it }

    /** [call], blocking the calling thread. */
    @JvmOverloads
    fun callBlocking(operation: String, params: Map<String, Any?> = emptyMap(), options: RequestOptions? = null): RawResponse<Any?> =
        raw(sendBlocking(operation, params, options)) { it }

    /** Every item of a list operation by id, page after page (plain JSON values). */
    @JvmOverloads
    fun iterate(operation: String, params: Map<String, Any?> = emptyMap(), options: RequestOptions? = null): Pager<Any?> =
        pager(operation, params, options) { it }

    /**
     * The escape hatch for endpoints this SDK does not cover: `method` and
     * `path` under the base URL, an optional `query` object and JSON `body`;
     * same auth, retries, errors and logging; the result as plain JSON values.
     */
    suspend fun request(method: String, path: String, query: Map<String, Any?>? = null, body: Any? = null): RawResponse<Any?> =
        raw(guard { native.request(method, path, query?.let { Json.tokens(it) }, body?.let { Json.tokens(it) }) }) { it }

    /** [request], blocking the calling thread. */
    @JvmOverloads
    fun requestBlocking(method: String, path: String, query: Map<String, Any?>? = null, body: Any? = null): RawResponse<Any?> =
        raw(guard { native.requestBlocking(method, path, query?.let { Json.tokens(it) }, body?.let { Json.tokens(it) }) }) { it }

    /** Frees the native client (also done by the garbage collector). */
    override fun close() = native.close()
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

    private fun items(tokens: List<JsonToken>): List<T> = (Json.value(tokens) as List<*>).map { decode(Read.obj(it)) }
}

/**
 * The `parsec-teams-mock` server, serving both APIs from memory in this
 * process on a free loopback port, for tests. `use { }` or [close] stops it.
 *
 * @param quotaWindowSeconds shrinks the quota window and block (default 300).
 * @param keys extra API keys holding only the named permissions: key to permission names.
 */
class MockServer @JvmOverloads constructor(
    quotaWindowSeconds: Double? = null,
    keys: Map<String, List<String>> = emptyMap(),
) : AutoCloseable {
    private val native: NativeMockServer =
        guard { NativeMockServer.start(quotaWindowSeconds, keys.map { (k, p) -> k + "=" + p.joinToString(",") }) }

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
