// The Kotlin runner of the conformance scenarios: the jar of bindings-kotlin
// through its public API only. Surface `kotlin`: calls go through the suspend
// entry (`client.call`, a task on the shared runtime, in runBlocking); surface
// `kotlin-blocking` (argument `blocking`): through `client.callBlocking`, on
// the calling thread's own runtime and connection. `iter` goes through a
// blocking Pager on both. Speaks the line protocol of
// tests/conformance/README.md on stdin/stdout.
package parsecteams.conformance

import kotlinx.coroutines.runBlocking
import parsecteams.AdminClient
import parsecteams.BaseClient
import parsecteams.Client
import parsecteams.Json
import parsecteams.ParsecError
import parsecteams.RequestOptions

/** A small JSON reader for the params of the protocol (test code; the SDK itself parses nothing). */
private class Reader(val s: String) {
    var i = 0

    fun value(): Any? {
        ws()
        return when (val c = s[i]) {
            '{' -> {
                i++
                val m = LinkedHashMap<String, Any?>()
                ws()
                if (s[i] == '}') { i++; return m }
                while (true) {
                    ws()
                    val k = str()
                    ws(); expect(':')
                    m[k] = value()
                    ws()
                    if (s[i] == ',') { i++; continue }
                    expect('}'); return m
                }
                @Suppress("UNREACHABLE_CODE") m
            }
            '[' -> {
                i++
                val l = ArrayList<Any?>()
                ws()
                if (s[i] == ']') { i++; return l }
                while (true) {
                    l.add(value())
                    ws()
                    if (s[i] == ',') { i++; continue }
                    expect(']'); return l
                }
                @Suppress("UNREACHABLE_CODE") l
            }
            '"' -> str()
            't' -> { i += 4; true }
            'f' -> { i += 5; false }
            'n' -> { i += 4; null }
            else -> {
                val start = i
                while (i < s.length && (s[i].isDigit() || s[i] in "+-.eE")) i++
                val t = s.substring(start, i)
                if (t.isEmpty()) error("bad JSON at $start: $c")
                if (t.any { it in ".eE" }) t.toDouble() else t.toBigInteger().let { if (it.bitLength() < 64) it.toLong() else it.toDouble() }
            }
        }
    }

    fun ws() { while (i < s.length && s[i].isWhitespace()) i++ }
    fun expect(c: Char) { if (s[i] != c) error("expected $c at $i"); i++ }

    fun str(): String {
        expect('"')
        val b = StringBuilder()
        while (true) {
            val c = s[i++]
            when (c) {
                '"' -> return b.toString()
                '\\' -> when (val e = s[i++]) {
                    'n' -> b.append('\n'); 't' -> b.append('\t'); 'r' -> b.append('\r'); 'b' -> b.append('\b')
                    'f' -> b.append('\u000c'); 'u' -> { b.append(s.substring(i, i + 4).toInt(16).toChar()); i += 4 }
                    else -> b.append(e)
                }
                else -> b.append(c)
            }
        }
    }
}

private fun num(v: String): Double? = v.toDouble().takeIf { it >= 0 }

private var teams: Client? = null
private var admin: AdminClient? = null

private fun errorJson(e: ParsecError): Map<String, Any?> {
    val ancestry = ArrayList<String>()
    var c: Class<*>? = e.javaClass
    while (c != null) {
        ancestry.add(c.simpleName)
        if (c == ParsecError::class.java) break
        c = c.superclass
    }
    val i = e.info
    return linkedMapOf(
        "class" to e.javaClass.simpleName, "ancestry" to ancestry, "status" to i.status, "message" to e.message,
        "request_id" to i.requestId, "retryable" to i.retryable, "retries_taken" to i.retriesTaken,
        "may_have_been_applied" to i.mayHaveBeenApplied, "retry_after" to i.retryAfter, "field" to i.field, "rule" to i.rule,
    )
}

private fun makeClient(f: List<String>): Map<String, Any?> {
    val timeout = num(f[5])?.let { Math.round(it) }
    val retries = num(f[6])?.toInt()
    val wait = num(f[7])?.let { Math.round(it) }
    if (f[1] == "admin") {
        admin = AdminClient(baseUrl = f[2], token = f[3], timeoutMs = timeout, maxRetries = retries, maxRetryWaitMs = wait)
    } else {
        teams = Client(
            apiKey = f[3], teamId = f[4], baseUrl = f[2], timeoutMs = timeout, maxRetries = retries, maxRetryWaitMs = wait,
            quotaPacing = if (f[8] == "0") false else null, quotaWindowSeconds = num(f[9])?.let { it / 1000.0 },
        )
    }
    return mapOf("ok" to true)
}

private fun call(f: List<String>): Map<String, Any?> {
    val (mode, name, paramsText) = Triple(f[1], f[2], f[3])
    val isAdmin = name.startsWith("admin.")
    val id = if (isAdmin) name else "teams.$name"
    val client: BaseClient = (if (isAdmin) admin else teams) ?: return mapOf("ok" to false, "protocol_error" to "no client for $name")
    @Suppress("UNCHECKED_CAST")
    val params = Reader(paramsText).value() as Map<String, Any?>
    val options = RequestOptions(num(f[4])?.let { Math.round(it) }, num(f[5])?.toInt())
    if (mode == "iter") {
        return mapOf("ok" to true, "result" to client.iterate(id, params, options).asSequence().toList())
    }
    val r = if (blocking) client.callBlocking(id, params, options) else runBlocking { client.call(id, params, options) }
    return mapOf("ok" to true, "result" to r.data, "raw" to mapOf("status" to r.status, "request_id" to r.requestId))
}

private var blocking = false

fun main(args: Array<String>) {
    blocking = args.firstOrNull() == "blocking"
    val hello = mapOf(
        "surface" to if (blocking) "kotlin-blocking" else "kotlin", "language" to "kotlin", "version" to parsecteams.VERSION, "class_tree" to true, "raw" to true, "nest" to false,
    )
    println(Json.write(hello))
    System.out.flush()
    while (true) {
        val line = readLine() ?: break
        val f = line.split('\t')
        val answer: Map<String, Any?> = try {
            when (f[0]) {
                "client" -> makeClient(f)
                "call" -> call(f)
                "reset" -> {
                    teams?.close(); admin?.close()
                    teams = null; admin = null
                    mapOf("ok" to true)
                }
                else -> mapOf("ok" to false, "protocol_error" to "bad command $line")
            }
        } catch (e: ParsecError) {
            mapOf("ok" to false, "error" to errorJson(e))
        } catch (e: Throwable) {
            mapOf("ok" to false, "protocol_error" to "${e.javaClass.name}: ${e.message}")
        }
        println(Json.write(answer))
        System.out.flush()
    }
}
