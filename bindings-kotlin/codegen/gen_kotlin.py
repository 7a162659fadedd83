#!/usr/bin/env python3
"""Writes bindings-kotlin/kotlin/parsecteams/Generated.kt from docs/description.json only:
the error tree, the enums, the models, the result envelopes, one resource class
per resource with every operation (suspend, blocking, with-response and iter
forms) and the two clients with their options.

    python3 codegen/gen_kotlin.py            write the file
    python3 codegen/gen_kotlin.py --check    exit 1 when the committed file is stale
"""

import json
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.normpath(os.path.join(HERE, "..", ".."))
DESCRIPTION = os.path.join(ROOT, "docs", "description.json")
OUT = os.path.join(HERE, "..", "kotlin", "parsecteams", "Generated.kt")

KEYWORDS = {"in", "is", "as", "object", "fun", "val", "var", "when", "class", "interface", "package", "return", "throw", "try", "typeof", "null", "true", "false", "do", "for", "if", "else", "while", "this", "super", "break", "continue"}


def camel(s):
    parts = s.split("_")
    return parts[0] + "".join(p[:1].upper() + p[1:] for p in parts[1:])


def pascal(s):
    c = camel(s)
    return c[:1].upper() + c[1:]


def ident(s):
    return "`%s`" % s if s in KEYWORDS else s


def kdoc(text, indent):
    text = (text or "").replace("*/", "*&#47;").strip()
    if not text:
        return ""
    return "%s/** %s */\n" % (indent, text)


def q(s):
    return json.dumps(s)


# ---------------------------------------------------------------- errors

ERROR_ATTRS = {
    # attribute -> (Kotlin name, type, ErrorInfo field)
    "message": None,  # Throwable.message, on every class
    "field": ("field", "String?"),
    "rule": ("rule", "String?"),
    "request_id": ("requestId", "String?"),
    "retryable": ("retryable", "Boolean"),
    "retries_taken": ("retriesTaken", "Int"),
    "may_have_been_applied": ("mayHaveBeenApplied", "Boolean"),
    "status": ("status", "Int?"),
    "body": ("body", "String?"),
    "retry_after": ("retryAfter", "Double?"),
}


def gen_errors(errors):
    children = {}
    for e in errors:
        children.setdefault(e["parent"], []).append(e["name"])
    out = []
    out.append(
        """/**
 * Everything the native layer says about an error; every class of the tree
 * reads its attributes from here (the ones a class does not declare are null,
 * false or 0).
 */
class ErrorInfo internal constructor(
    /** The contract's `message` (for a status error, the body's `message`). */
    val message: String,
    /** The full description: method, path, retries, request id. */
    val text: String,
    val status: Int?,
    val body: String?,
    val requestId: String?,
    val retryAfter: Double?,
    val retryable: Boolean,
    val retriesTaken: Int,
    val mayHaveBeenApplied: Boolean,
    val field: String?,
    val rule: String?,
) {
    internal companion object {
        fun of(f: NativeException.Failed) = ErrorInfo(
            f.detail, f.text, f.status?.toInt(), f.body, f.requestId, f.retryAfter, f.retryable, f.retriesTaken.toInt(),
            f.mayHaveBeenApplied, f.field, f.rule,
        )

        fun internal(text: String) = ErrorInfo(text, text, null, null, null, null, false, 0, false, null, null)
    }
}
""")
    for e in errors:
        name, parent = e["name"], e["parent"]
        has_kids = name in children
        if e["kind"] is None:
            mod = "sealed class"
        elif has_kids:
            mod = "open class"
        else:
            mod = "class"
        ctor = "(info: ErrorInfo)" if e["kind"] is None else " internal constructor(info: ErrorInfo)"
        sup = "%s(info)" % parent if parent else "RuntimeException(info.text)"
        doc = kdoc(e["doc"], "")
        body = []
        if parent is None:
            body.append("    /** Everything known about the error. */")
            body.append("    val info: ErrorInfo = info")
            body.append("")
            body.append("    /** The contract's `message`; the full text (with the request id) is [getLocalizedMessage] and [toString]. */")
            body.append("    override val message: String get() = info.message")
            body.append("")
            body.append("    override fun getLocalizedMessage(): String = info.text")
            body.append("")
            body.append("    override fun toString(): String = javaClass.simpleName + \": \" + info.text")
        for a in e["attributes"]:
            if ERROR_ATTRS.get(a) is None:
                continue
            kname, ktype = ERROR_ATTRS[a]
            body.append("    val %s: %s get() = info.%s" % (kname, ktype, kname))
        if parent is None:
            body.append("")
            body.append("    internal companion object {")
            body.append("        /** The class of the tree the native error names. */")
            body.append("        fun of(f: NativeException.Failed): ParsecError {")
            body.append("            val info = ErrorInfo.of(f)")
            body.append("            return when (f.className) {")
            for x in errors:
                if x["kind"] is not None:
                    body.append("                %s -> %s(info)" % (q(x["name"]), x["name"]))
            body.append("                else -> InternalError(info)")
            body.append("            }")
            body.append("        }")
            body.append("    }")
        out.append(doc + "%s %s%s : %s%s\n" % (mod, name, ctor, sup, " {\n" + "\n".join(body) + "\n}" if body else ""))
    return "\n".join(out)


# ---------------------------------------------------------------- enums and params

def collect_enums(ops):
    enums = {}
    for op in ops:
        for p in op["params"]:
            t = p["type"]
            for tt in (t, t.get("item") or {}):
                if tt.get("type") == "enum":
                    enums[tt["name"]] = tt["values"]
    return enums


def gen_enums(enums):
    out = []
    for name, values in sorted(enums.items()):
        out.append("/** The values of `%s` (wire spelling in [wire]). */" % name)
        out.append("enum class %s(override val wire: String) : WireEnum {" % name)
        out.append(",\n".join("    %s(%s)" % (v.upper(), q(v)) for v in values) + ";")
        out.append("")
        out.append("    override fun toString(): String = wire")
        out.append("}\n")
    return "\n".join(out)


def param_type(t):
    ty = t["type"]
    if ty == "int":
        return "Long"
    if ty == "string" or ty == "datetime":
        return "String"
    if ty == "bool":
        return "Boolean"
    if ty == "enum":
        return t["name"]
    if ty == "list":
        return "List<%s>" % param_type(t["item"])
    if ty == "json":
        return "Any"
    raise SystemExit("gen_kotlin: unknown parameter type %r" % t)


# ---------------------------------------------------------------- models

FIELD_TYPES = {
    "int": ("Long?", "Read.long(%s)"),
    "string": ("String?", "Read.string(%s)"),
    "timestamp": ("String?", "Read.string(%s)"),
    "bool": ("Boolean?", "Read.bool(%s)"),
    "list<int>": ("List<Long>?", "Read.longs(%s)"),
    "list<json>": ("List<Any?>?", "Read.list(%s)"),
    "json": ("Any?", "%s"),
}


def gen_model(name, fields, doc):
    """A data class: the known fields as constructor properties (so `copy`,
    `componentN`, `equals` and `toString` cover them) and, last, `extra`: every
    entry of the object the typed fields do not hold (unknown keys, and a known
    key sent with a value of another type), so nothing the server sent is lost
    and equality compares unknown fields too. `raw` is built from both."""
    out = [kdoc(doc, "")]
    props, reads, raws, cases = [], [], [], []
    for f in fields:
        if f["type"] not in FIELD_TYPES:
            raise SystemExit("gen_kotlin: unknown field type %r" % f["type"])
        kname = camel(f["name"])
        if kname in ("extra", "raw"):
            raise SystemExit("gen_kotlin: model %s has a field named %r, which the model class uses" % (name, kname))
        kt, read = FIELD_TYPES[f["type"]]
        k = ident(kname)
        props.append("    val %s: %s = null," % (k, kt))
        reads.append("            val %s = %s" % (k, read % ("m[%s]" % q(f["name"]))))
        raws.append("            if (%s != null) m[%s] = %s" % (k, q(f["name"]), k))
        cases.append("                %s -> if (%s == null && v != null) extra[k] = v" % (q(f["name"]), k))
    out.append("data class %s @JvmOverloads constructor(" % name)
    out.append("\n".join(props))
    out.append("    /** The fields the typed properties do not hold, as received: unknown ones (and a known one sent with another type). */")
    out.append("    override val extra: Map<String, Any?> = emptyMap(),")
    out.append(") : Model() {")
    out.append("    /** Every field: the typed ones that are not null (wire names), then [extra]. */")
    out.append("    override val raw: Map<String, Any?>")
    out.append("        get() {")
    out.append("            val m = LinkedHashMap<String, Any?>()")
    out.extend(raws)
    out.append("            for ((k, v) in extra) if (k !in m) m[k] = v")
    out.append("            return m")
    out.append("        }")
    out.append("")
    out.append("    companion object {")
    out.append("        /** Reads the object the server sent (tolerant: a missing or mistyped field is null; a mistyped one is kept in [extra]). */")
    out.append("        @JvmStatic")
    out.append("        fun from(value: Any?): %s {" % name)
    out.append("            val m = Read.obj(value)")
    out.extend(reads)
    out.append("            val extra = LinkedHashMap<String, Any?>()")
    out.append("            for ((k, v) in m) when (k) {")
    out.extend(cases)
    out.append("                else -> extra[k] = v")
    out.append("            }")
    out.append("            return %s(%s, extra)" % (name, ", ".join(ident(camel(f["name"])) for f in fields)))
    out.append("        }")
    out.append("    }")
    out.append("}\n")
    return "\n".join(out)


def gen_envelopes(envelopes):
    out = []
    page = envelopes["page"]
    assert [f["name"] for f in page["fields"]] == ["data", "count"], page
    out.append('''/** A page of a list operation: its items and the total count. */
class Page<T>(
    val data: List<T>,
    val count: Long?,
    /** Every field as received. */
    val raw: Map<String, Any?>,
) {
    companion object {
        internal fun <T> from(value: Any?, item: (Map<String, Any?>) -> T): Page<T> {
            val m = Read.obj(value)
            return Page(Read.items(m["data"], item), Read.long(m["count"]), m)
        }
    }

    override fun toString(): String = "Page(count=$count, data=$data)"
}
''')
    for name, env in envelopes.items():
        if name == "page" or "fields" not in env:
            continue
        cls = pascal(name)
        fields = []
        reads = []
        for f in env["fields"]:
            t = f["type"]
            if t.startswith("list<") and t[5:-1] not in ("model", "int", "json"):
                item = t[5:-1]
                fields.append("    val %s: List<%s>," % (camel(f["name"]), item))
                reads.append("Read.items(m[%s]) { %s.from(it) }" % (q(f["name"]), item))
            else:
                kt, read = FIELD_TYPES[t]
                fields.append("    val %s: %s," % (camel(f["name"]), kt))
                reads.append(read % ("m[%s]" % q(f["name"])))
        out.append("/** The `%s` result. */" % name)
        out.append("class %s(\n%s\n    /** Every field as received. */\n    val raw: Map<String, Any?>,\n) {" % (cls, "\n".join(fields)))
        out.append("    companion object {")
        out.append("        internal fun from(value: Any?): %s {" % cls)
        out.append("            val m = Read.obj(value)")
        out.append("            return %s(%s, m)" % (cls, ", ".join(reads)))
        out.append("        }")
        out.append("    }")
        out.append("")
        out.append("    override fun toString(): String = \"%s\" + Json.write(raw)" % cls)
        out.append("}\n")
    return "\n".join(out)


def result_of(op, envelopes):
    kind, model = op["result"]["kind"], op["result"]["model"]
    if kind == "page":
        return "Page<%s>" % model, "Page.from(it) { x -> %s.from(x) }" % model
    if kind == "empty":
        return "Unit", "Unit"
    if kind in ("data", "object"):
        return model, "%s.from(it)" % model
    if kind == "list":
        return "List<%s>" % model, "Read.items(it) { x -> %s.from(x) }" % model
    env = envelopes.get(kind)
    if env and "fields" in env:
        return pascal(kind), "%s.from(it)" % pascal(kind)
    raise SystemExit("gen_kotlin: unknown result kind %r" % kind)


# ---------------------------------------------------------------- resources

def gen_resource(cls, ops, envelopes):
    out = ["/** The operations of one resource; reached through the client's property. */"]
    out.append("class %s internal constructor(private val client: BaseClient) {" % cls)
    for op in ops:
        names = op["names"]["kotlin"]
        method = names["method"]
        params = sorted(op["params"], key=lambda p: not p["required"])
        decl = []
        args = []
        for p in params:
            kname = ident(p["names"]["kotlin"])
            t = param_type(p["type"])
            decl.append("%s: %s" % (kname, t) if p["required"] else "%s: %s? = null" % (kname, t))
            args.append(kname)
        decl.append("options: RequestOptions? = null")
        sig = ", ".join(decl)
        call_args = ", ".join(args + ["options"])
        rtype, decode = result_of(op, envelopes)
        pfun = "%sParams" % method
        doc = op["doc"] + (" Permission: %s." % op["permission"] if op.get("permission") else "")
        dep = '    @Deprecated(%s)\n' % q("Deprecated by the API: " + op["doc"]) if op["deprecated"] else ""
        # params map
        out.append("")
        out.append("    private fun %s(%s): Map<String, Any?> {" % (pfun, ", ".join(d.split(" = ")[0] for d in decl[:-1])))
        out.append("        val p = LinkedHashMap<String, Any?>()")
        for p in params:
            kname = ident(p["names"]["kotlin"])
            if p["required"]:
                out.append("        p[%s] = %s" % (q(p["name"]), kname))
            else:
                out.append("        if (%s != null) p[%s] = %s" % (kname, q(p["name"]), kname))
        out.append("        return p")
        out.append("    }")
        pargs = ", ".join(args)
        out.append("")
        out.append(kdoc(doc, "    ") + dep + "    suspend fun %s(%s): %s = %sWithResponse(%s).data" % (method, sig, rtype, method, call_args))
        out.append("")
        out.append(kdoc("[%s] with the response's status and request id." % method, "    ") + dep +
                   "    suspend fun %sWithResponse(%s): RawResponse<%s> =\n        client.raw(client.send(%s, %s(%s), options)) { %s }" % (method, sig, rtype, q(op["id"]), pfun, pargs, decode))
        out.append("")
        out.append(kdoc("[%s], blocking the calling thread (for Java)." % method, "    ") + dep +
                   "    @JvmOverloads\n    fun %sBlocking(%s): %s = %sWithResponseBlocking(%s).data" % (method, sig, rtype, method, call_args))
        out.append("")
        out.append(kdoc("[%sWithResponse], blocking the calling thread." % method, "    ") + dep +
                   "    @JvmOverloads\n    fun %sWithResponseBlocking(%s): RawResponse<%s> =\n        client.raw(client.sendBlocking(%s, %s(%s), options)) { %s }" % (method, sig, rtype, q(op["id"]), pfun, pargs, decode))
        if names.get("iter"):
            model = op["result"]["model"]
            out.append("")
            out.append(kdoc("Every item of [%s], page after page: `next()` suspends, iteration blocks." % method, "    ") + dep +
                       "    @JvmOverloads\n    fun %s(%s): Pager<%s> =\n        client.pager(%s, %s(%s), options) { %s.from(it) }" % (names["iter"], sig, model, q(op["id"]), pfun, pargs, model))
            out.append("")
            out.append(kdoc("Every item of [%s] as a lazy [Sequence]: a page is fetched only when the sequence needs its first item "
                            "(so `take(n)` fetches only the pages holding the first n items); iteration blocks." % method, "    ") + dep +
                       "    @JvmOverloads\n    fun %sSequence(%s): Sequence<%s> = %s(%s).asSequence()" % (names["iter"], sig, model, names["iter"], call_args))
    out.append("}\n")
    return "\n".join(out)


# ---------------------------------------------------------------- clients

def option_kotlin(o):
    k = o["names"]["kotlin"]
    unit = k.get("unit")
    if o["type"] in ("string", "secret", "url"):
        kt = "String"
    elif o["type"] == "int":
        kt = "Int"
    elif o["type"] == "bool":
        kt = "Boolean"
    elif o["type"] == "duration":
        kt = "Long" if unit == "ms" else "Double"
    else:
        raise SystemExit("gen_kotlin: unknown option type %r" % o["type"])
    return k["name"], kt, unit


def native_value(o, kname):
    _, kt, unit = option_kotlin(o)
    if o["type"] == "duration":
        return "%s?.let { it / 1000.0 }" % kname if unit == "ms" else kname
    if o["type"] == "int":
        return "%s?.toLong()" % kname
    return kname


def default_text(o):
    d = o["default"]
    if isinstance(d, dict):
        return "env `%s`%s" % (d["env"], ", else " + str(d["else"]) if d["else"] is not None else "")
    if d is None:
        return "none"
    unit = option_kotlin(o)[2]
    if o["type"] == "duration" and unit == "ms":
        return "%d ms" % round(d * 1000)
    return str(d).lower() if isinstance(d, bool) else str(d)


def gen_client(api, options, resources):
    cls = api["client"]
    mine = [o for o in options if cls in o["clients"]]
    lines = []
    doc = "A client of the %s API. Options are checked by the core (the same ranges in every language); " \
          "left out, an option comes from its environment variable, then its default." % ("Parsec for Teams" if api["name"] == "teams" else "team-administration")
    lines.append("/**\n * %s\n *" % doc)
    for o in mine:
        k, kt, unit = option_kotlin(o)
        lines.append(" * @param %s %s%s Default: %s." % (k, o["doc"].replace("*/", ""), " (%s)" % unit if unit else "", default_text(o)))
    lines.append(" */")
    params = []
    for o in mine:
        k, kt, _ = option_kotlin(o)
        params.append("    %s: %s? = null," % (k, kt))
    fields = {}
    for o in mine:
        canon = "base_url" if o["name"] == "admin_base_url" else o["name"]
        fields[camel(canon)] = native_value(o, option_kotlin(o)[0])
    native_fields = ["apiKey", "teamId", "baseUrl", "token", "timeout", "maxRetries", "maxRetryWait", "poolIdleTimeout", "proxy", "quotaPacing", "quotaLimit", "quotaWindow"]
    nargs = ", ".join("%s = %s" % (f, fields.get(f, "null")) for f in native_fields)
    ctor = "NativeClient.%s" % api["name"]
    lines.append("class %s @JvmOverloads constructor(\n%s\n) : BaseClient(\n    guard { %s(NativeOptions(%s, language = \"kotlin \" + KotlinVersion.CURRENT)) },\n) {" % (cls, "\n".join(params), ctor, nargs))
    for rname, rcls in resources:
        lines.append("    /** The `%s` operations. */" % rname)
        lines.append("    val %s: %s = %s(this)" % (rname, rcls, rcls))
        lines.append("")
    if api["name"] == "teams":
        lines.append("    /** The team id of the path (from the option, the environment or the key). */")
        lines.append("    val teamId: String get() = native.teamId()")
        lines.append("")
        lines.append("    /** The paced quotas: for each, the calls left in the window and when it refills (plain JSON objects). */")
        lines.append("    @Suppress(\"UNCHECKED_CAST\")")
        lines.append("    fun quotaStatus(): List<Map<String, Any?>> = (Json.decode(native.quotaStatus()) as? List<Map<String, Any?>>) ?: emptyList()")
        lines.append("")
    lines.append("    /** A builder for Java callers: `%s.builder().%s(...).build()`. */" % (cls, option_kotlin(mine[0])[0]))
    lines.append("    class Builder {")
    for o in mine:
        k, kt, _ = option_kotlin(o)
        lines.append("        private var %s: %s? = null" % (k, kt))
    for o in mine:
        k, kt, _ = option_kotlin(o)
        lines.append("")
        lines.append("        fun %s(value: %s?): Builder = apply { %s = value }" % (k, kt, k))
    lines.append("")
    lines.append("        fun build(): %s = %s(%s)" % (cls, cls, ", ".join(option_kotlin(o)[0] for o in mine)))
    lines.append("    }")
    lines.append("")
    lines.append("    companion object {")
    lines.append("        @JvmStatic")
    lines.append("        fun builder(): Builder = Builder()")
    lines.append("    }")
    lines.append("}\n")
    return "\n".join(lines)


def generate():
    d = json.load(open(DESCRIPTION))
    ops = d["operations"]
    parts = [
        "// GENERATED by bindings-kotlin/codegen/gen_kotlin.py from docs/description.json. Do not edit;",
        "// run `make -C bindings-kotlin generate` (`make -C bindings-kotlin test` checks it is fresh).",
        "@file:Suppress(\"unused\", \"DEPRECATION\", \"RedundantVisibilityModifier\")",
        "",
        "package parsecteams",
        "",
        "import parsecteams.ffi.NativeClient",
        "import parsecteams.ffi.NativeException",
        "import parsecteams.ffi.NativeOptions",
        "",
        "/** The SDK version the layer was generated for. */",
        "const val GENERATED_FOR_VERSION: String = %s" % q(d["sdk"]["version"]),
        "",
        "/** The number of operations of each API. */",
        "const val OPERATION_COUNT: Int = %d" % len(ops),
        "",
        "// ---------------------------------------------------------------- errors",
        "",
        gen_errors(d["errors"]),
        "// ---------------------------------------------------------------- enums",
        "",
        gen_enums(collect_enums(ops)),
        "// ---------------------------------------------------------------- models",
        "",
    ]
    for name, m in d["models"].items():
        parts.append(gen_model(name, m["fields"], "A `%s` as the server sent it: its known fields, and the unknown ones in [extra] ([raw] has them all)." % name))
    parts.append("// ---------------------------------------------------------------- envelopes\n")
    parts.append(gen_envelopes(d["envelopes"]))
    parts.append("// ---------------------------------------------------------------- resources\n")
    client_resources = {}
    for api in d["apis"]:
        by_res = {}
        for op in ops:
            if op["api"] == api["name"]:
                by_res.setdefault(op["names"]["kotlin"]["resource"], []).append(op)
        res = []
        for rname, rops in by_res.items():
            rcls = ("Admin" if api["name"] == "admin" else "") + pascal(rname) + "Resource"
            parts.append(gen_resource(rcls, rops, d["envelopes"]))
            res.append((rname, rcls))
        client_resources[api["name"]] = res
    parts.append("// ---------------------------------------------------------------- clients\n")
    for api in d["apis"]:
        parts.append(gen_client(api, d["options"], client_resources[api["name"]]))
    text = "\n".join(parts)
    while "\n\n\n" in text:
        text = text.replace("\n\n\n", "\n\n")
    return text.rstrip() + "\n"


def main():
    text = generate()
    if "--check" in sys.argv:
        try:
            old = open(OUT).read()
        except FileNotFoundError:
            old = ""
        if old != text:
            sys.stderr.write("%s is stale: run `make -C bindings-kotlin generate`\n" % os.path.relpath(OUT, ROOT))
            return 1
        return 0
    with open(OUT, "w") as f:
        f.write(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
