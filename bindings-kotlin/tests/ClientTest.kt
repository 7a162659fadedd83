// JUnit 5 tests of the Kotlin package against the in-process mock (MockServer):
// operations, errors, retries, pagination, cancellation, many threads and
// coroutines on one client, options validation.
package parsecteams.tests

import kotlinx.coroutines.Dispatchers
import kotlinx.coroutines.TimeoutCancellationException
import kotlinx.coroutines.async
import kotlinx.coroutines.awaitAll
import kotlinx.coroutines.delay
import kotlinx.coroutines.launch
import kotlinx.coroutines.runBlocking
import kotlinx.coroutines.withTimeout
import org.junit.jupiter.api.AfterAll
import org.junit.jupiter.api.Assertions.assertEquals
import org.junit.jupiter.api.Assertions.assertFalse
import org.junit.jupiter.api.Assertions.assertNull
import org.junit.jupiter.api.Assertions.assertTrue
import org.junit.jupiter.api.BeforeEach
import org.junit.jupiter.api.Test
import org.junit.jupiter.api.TestInstance
import parsecteams.APIConnectionError
import parsecteams.APIError
import parsecteams.APIStatusError
import parsecteams.APITimeoutError
import parsecteams.AdminClient
import parsecteams.AuthenticationError
import parsecteams.Client
import parsecteams.ConflictError
import parsecteams.Direction
import parsecteams.InternalServerError
import parsecteams.Member
import parsecteams.MockServer
import parsecteams.NotFoundError
import parsecteams.ParsecError
import parsecteams.RateLimitError
import parsecteams.RequestOptions
import parsecteams.ValidationError
import java.util.Collections
import java.util.concurrent.atomic.AtomicInteger

/** The error `block` throws, which must be a [T]. */
inline fun <reified T : Throwable> assertThrows(block: () -> Any?): T {
    try {
        block()
    } catch (e: Throwable) {
        if (e is T) return e
        throw AssertionError("expected ${T::class.java.simpleName}, got $e", e)
    }
    throw AssertionError("expected ${T::class.java.simpleName}, nothing was thrown")
}

@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class ClientTest {
    private val mock = MockServer()
    private val client = mock.client()

    @AfterAll
    fun stop() {
        client.close()
        mock.close()
    }

    @BeforeEach
    fun reset() {
        client.requestBlocking("POST", "/_mock/reset")
    }

    private fun fault(vararg rule: Pair<String, Any?>) {
        client.requestBlocking("POST", "/_mock/faults", body = mapOf(*rule))
    }

    @Suppress("UNCHECKED_CAST")
    private fun requests(): List<Map<String, Any?>> = client.requestBlocking("GET", "/_mock/requests").data as List<Map<String, Any?>>

    @Test
    fun members_list_and_get_are_typed_and_keep_unknown_fields() = runBlocking {
        val page = client.members.list(limit = 5)
        assertEquals(50L, page.count)
        assertEquals(listOf(1L, 2L, 3L, 4L, 5L), page.data.map { it.userId })
        val owner: Member = client.members.get(userId = 1)
        assertEquals("ada.lovelace@example.com", owner.email)
        assertEquals(true, owner.isAdmin)
        assertEquals(true, owner.extra["is_owner"], "a field the SDK does not model is kept")
        assertFalse("is_owner" in Member.from(emptyMap<String, Any>()).extra)
        assertEquals(owner.raw, client.members.getBlocking(1).toMap())
        val sent = requests().map { it["method"].toString() + " " + it["path"] + " " + it["query"] }
        assertEquals(
            listOf(
                "GET /v1/teams/${mock.teamId}/members offset=0&limit=5",
                "GET /v1/teams/${mock.teamId}/members/1 null",
                "GET /v1/teams/${mock.teamId}/members/1 null",
            ),
            sent,
        )
    }

    @Test
    fun results_are_data_classes_that_keep_unknown_fields() = runBlocking {
        // The mock's member 1 carries `is_owner`, a field Member does not model.
        val owner = client.members.get(userId = 1)
        assertEquals(true, owner.extra["is_owner"])
        val (userId, email) = owner
        assertEquals(1L, userId)
        assertEquals("ada.lovelace@example.com", email)
        assertEquals(owner, client.members.get(userId = 1), "equal when every field, unknown ones too, is equal")
        assertEquals(owner.hashCode(), client.members.get(userId = 1).hashCode())
        val renamed = owner.copy(name = "Ada King")
        assertEquals("Ada King", renamed.name)
        assertEquals(owner.email, renamed.email)
        assertEquals(true, renamed.extra["is_owner"], "copy keeps the unknown fields")
        assertEquals(mapOf("name" to "Ada King", "is_owner" to true), renamed.raw.filterKeys { it == "name" || it == "is_owner" })
        assertFalse(renamed == owner)
        assertEquals(owner, renamed.copy(name = owner.name))
        assertFalse(owner == owner.copy(extra = owner.extra - "is_owner"), "an unknown field takes part in equality")
        assertTrue("is_owner=true" in owner.toString(), owner.toString())
        // A body the model only partly knows: a new field and a known one with another type are both kept.
        fault(
            "path" to "/v1/teams/*/members/2", "status" to 200, "times" to 1,
            "body" to """{"data": {"user_id": 2, "email": "b@example.com", "name": 7, "nickname": "bo"}}""",
        )
        val odd = client.members.get(userId = 2)
        assertEquals(Member(userId = 2, email = "b@example.com", extra = mapOf("name" to 7L, "nickname" to "bo")), odd)
        assertNull(odd.name)
        assertEquals(mapOf("user_id" to 2L, "email" to "b@example.com", "name" to 7L, "nickname" to "bo"), odd.raw)
    }

    @Test
    fun iter_sequence_fetches_only_the_pages_it_needs() {
        val first = client.members.iterSequence(limit = 7).map { it.userId }.take(10).toList()
        assertEquals((1L..10L).toList(), first)
        val sent = requests().map { it["query"] }
        assertEquals(listOf("offset=0&limit=7", "offset=7&limit=7"), sent, "two pages of 7 for 10 items, no more")
        client.requestBlocking("POST", "/_mock/reset")
        val lazy = client.members.iterSequence(limit = 5)
        assertEquals(emptyList<Any?>(), requests(), "nothing is fetched before the sequence is used")
        assertEquals(1L, lazy.first().userId)
        assertEquals(listOf("offset=0&limit=5"), requests().map { it["query"] })
    }

    @Test
    fun raw_response_carries_status_and_request_id() {
        val r = client.members.getWithResponseBlocking(userId = 3)
        assertEquals(200, r.status)
        assertTrue(r.requestId!!.matches(Regex("req_[0-9a-f]{20}")), r.requestId)
        assertEquals(0, r.retriesTaken)
        assertEquals(3L, r.data.userId)
        assertEquals(r.requestId, requests().single()["request_id"])
    }

    @Test
    fun writes_send_wire_names_and_enum_spellings() = runBlocking {
        val g = client.groups.create(
            groupName = "Kotlin", allowConnectionsWithinGroup = true, showUserAssignedManagedHosts = true, showPersonalHosts = false,
        )
        assertEquals("Kotlin", g.name)
        client.groups.addPermittedGroups(
            groupId = g.id!!, groupIds = listOf(1L), direction = Direction.INCOMING,
            showGroupAssignedManagedHosts = false, showUserAssignedManagedHosts = false, showPersonalHosts = false,
        )
        val bodies = requests().map { it["body"] }
        assertEquals(
            mapOf("group_name" to "Kotlin", "allow_connections_within_group" to true, "show_user_assigned_managed_hosts" to true, "show_personal_hosts" to false),
            bodies[0],
        )
        assertEquals("incoming", (bodies[1] as Map<*, *>)["direction"])
        assertEquals(25L, client.guestAccess.credits().balance)
    }

    @Test
    fun not_found_is_a_status_error_of_the_tree_with_its_attributes() {
        val e = assertThrows<NotFoundError> { client.members.getBlocking(userId = 999) }
        assertTrue(e is APIStatusError && e is APIError && e is ParsecError)
        assertEquals(404, e.status)
        assertFalse(e.retryable)
        assertEquals(0, e.retriesTaken)
        assertTrue(e.requestId!!.startsWith("req_"))
        assertTrue(e.localizedMessage.contains(e.requestId!!), "the request id is in the message text: ${e.localizedMessage}")
        assertTrue(e.toString().startsWith("NotFoundError: 404 "), e.toString())
        assertEquals(e.requestId, requests().single()["request_id"])
    }

    @Test
    fun conflict_and_authentication_map_to_their_classes() {
        val c = assertThrows<ConflictError> { client.members.removeBlocking(userId = 1) }
        assertEquals(409, c.status)
        Client(apiKey = "tapi_x.wrong", teamId = mock.teamId, baseUrl = mock.baseUrl).use { bad ->
            val a = assertThrows<AuthenticationError> { bad.members.listBlocking() }
            assertEquals(401, a.status)
        }
    }

    @Test
    fun a_bad_argument_is_refused_before_sending() {
        val e = assertThrows<ValidationError> { client.members.listBlocking(limit = 500) }
        assertEquals("limit", e.field)
        assertEquals("range", e.rule)
        val d = assertThrows<ValidationError> { client.members.getBlocking(userId = 0) }
        assertEquals("user_id", d.field)
        val dot = assertThrows<ValidationError> { client.machines.getBlocking(machineId = "..") }
        assertEquals("dot_segment", dot.rule)
        assertEquals(emptyList<Any>(), requests(), "nothing was sent")
    }

    @Test
    fun options_are_validated_by_the_core_with_one_error() {
        val t = assertThrows<ValidationError> { Client(apiKey = mock.apiKey, baseUrl = mock.baseUrl, timeoutMs = 0) }
        assertEquals("timeout" to "range", t.field to t.rule)
        val r = assertThrows<ValidationError> { Client(apiKey = mock.apiKey, baseUrl = mock.baseUrl, maxRetries = 101) }
        assertEquals("max_retries" to "range", r.field to r.rule)
        val q = assertThrows<ValidationError> { Client(apiKey = mock.apiKey, baseUrl = mock.baseUrl, quotaLimit = 0) }
        assertEquals("quota_limit" to "range", q.field to q.rule)
        val u = assertThrows<ValidationError> { Client(apiKey = mock.apiKey, baseUrl = "http://example.com") }
        assertEquals("base_url", u.field)
        val p = assertThrows<ValidationError> { client.members.listBlocking(options = RequestOptions(timeoutMs = 0)) }
        assertEquals("timeout" to "range", p.field to p.rule)
        val built = Client.builder().apiKey(mock.apiKey).baseUrl(mock.baseUrl).maxRetries(0).build()
        assertEquals(mock.teamId, built.teamId, "the team comes from the key")
        built.close()
    }

    @Test
    fun blocking_calls_take_the_direct_path_with_every_error_attribute() {
        // Calls cross by bindings-kotlin/src/direct.rs (blocking: on this thread's
        // runtime; suspend: a task and a callback): the same results and errors.
        fault("path" to "/v1/teams/*/members/7", "status" to 404, "times" to 2)
        val e = assertThrows<NotFoundError> { client.members.getBlocking(7) }
        val s = assertThrows<NotFoundError> { runBlocking { client.members.get(7) } }
        assertEquals(404 to 404, e.status to s.status)
        assertEquals(e.message, s.message)
        assertTrue(e.requestId != null && e.body != null && !e.retryable && !e.mayHaveBeenApplied)
        assertEquals(runBlocking { client.members.list(limit = 50) }.data, client.members.listBlocking(limit = 50).data)
        val raw = client.requestBlocking("GET", "/v1/teams/${mock.teamId}/members", query = mapOf("limit" to 2, "offset" to 0))
        assertEquals(200, raw.status)
        assertEquals(2, ((raw.data as Map<*, *>)["data"] as List<*>).size)
        val bad = assertThrows<ValidationError> { client.requestBlocking("FETCH", "/v1/x") }
        assertEquals("method" to "enum", bad.field to bad.rule)
    }

    @Test
    fun a_blocking_call_from_a_coroutine_resumed_on_the_native_runtime_works() {
        // Dispatchers.Unconfined resumes a suspend call's coroutine on the thread that
        // completed it, one of the native runtime's: a blocking call there cannot start
        // a runtime of its own and must still answer (it waits for the shared runtime).
        val ids = runBlocking(Dispatchers.Unconfined) {
            val first = client.members.get(userId = 1).userId
            val second = client.members.getBlocking(userId = 2).userId
            listOf(first, second)
        }
        assertEquals(listOf(1L, 2L), ids)
    }

    @Test
    fun a_connection_the_server_closed_while_the_thread_was_idle_is_not_reused() {
        // The server drops idle connections after 200 ms; a POST (never retried) after an
        // idle spell must get a fresh connection, not the closed one the thread kept.
        MockServer(idleTimeoutSeconds = 0.2).use { m ->
            m.client(maxRetries = 0).use { c ->
                assertEquals(1L, c.members.getBlocking(1).userId)
                Thread.sleep(600)
                val g = c.groups.createBlocking(groupName = "After idle", allowConnectionsWithinGroup = true, showUserAssignedManagedHosts = true, showPersonalHosts = false)
                assertEquals("After idle", g.name)
                Thread.sleep(600)
                assertEquals(2L, runBlocking { c.members.get(2) }.userId, "suspend calls too (the shared runtime's pool)")
            }
        }
    }

    @Test
    fun a_closed_client_refuses_calls_with_a_validation_error() {
        val c = mock.client()
        assertEquals(1L, c.members.getBlocking(1).userId)
        c.close()
        val e = assertThrows<ValidationError> { c.members.getBlocking(1) }
        assertEquals("client" to "open", e.field to e.rule)
        val r = assertThrows<ValidationError> { c.requestBlocking("GET", "/v1/teams/${mock.teamId}/members") }
        assertEquals("client", r.field)
        val s = assertThrows<ValidationError> { runBlocking { c.members.get(1) } }
        assertEquals("client" to "open", s.field to s.rule, "a suspend call too, refused before it starts")
    }

    @Test
    fun get_503_is_retried_and_post_500_is_not() = runBlocking {
        fault("path" to "/v1/teams/*/members/4", "status" to 503, "times" to 2)
        val r = client.members.getWithResponse(userId = 4, options = RequestOptions(maxRetries = 2))
        assertEquals(2, r.retriesTaken)
        assertEquals(4L, r.data.userId)
        fault("method" to "POST", "path" to "/v1/teams/*/groups", "status" to 500, "times" to 1)
        val e = assertThrows<InternalServerError> {
            client.groups.createBlocking(groupName = "Nope", allowConnectionsWithinGroup = true, showUserAssignedManagedHosts = true, showPersonalHosts = false)
        }
        assertEquals(500, e.status)
        assertEquals(0, e.retriesTaken)
        assertTrue(e.mayHaveBeenApplied)
        assertEquals(4, requests().size, "3 GETs and one POST")
    }

    @Test
    fun retry_after_beyond_max_retry_wait_fails_at_once() {
        Client(apiKey = mock.apiKey, baseUrl = mock.baseUrl, maxRetryWaitMs = 100).use { c ->
            fault("path" to "/v1/teams/*/members", "status" to 429, "retry_after" to 30, "times" to 1)
            val e = assertThrows<RateLimitError> { c.members.listBlocking() }
            assertEquals(30.0, e.retryAfter)
            assertEquals(1, requests().size)
        }
    }

    @Test
    fun timeout_and_refused_connection_are_connection_errors() {
        fault("path" to "/v1/teams/*/members/5", "delay_ms" to 1000, "times" to 1)
        val t = assertThrows<APITimeoutError> { client.members.getBlocking(5, RequestOptions(timeoutMs = 100, maxRetries = 0)) }
        assertTrue(t is APIConnectionError)
        val port = java.net.ServerSocket(0).use { it.localPort }
        Client(apiKey = mock.apiKey, baseUrl = "http://127.0.0.1:$port", maxRetries = 0).use { c ->
            val e = assertThrows<APIConnectionError> { c.members.listBlocking() }
            assertFalse(e is APITimeoutError)
        }
    }

    @Test
    fun iter_walks_every_page_blocking_and_suspending() = runBlocking {
        val all = client.members.iter(limit = 7).toList()
        assertEquals((1L..50L).toList(), all.map { it.userId })
        assertEquals(8, requests().size, "ceil(50 / 7) pages")
        val pager = client.members.iter(limit = 20, isAdmin = true)
        val first = pager.next()!!
        assertEquals(listOf(1L, 2L, 3L, 10L, 25L), first.map { it.userId })
        assertNull(pager.next())
        val events = client.auditLog.iterEvents(limit = 15).asSequence().toList()
        assertEquals(events.map { it.id }.toSet().size, events.size)
        assertTrue(events.size > 15, "more than one page of events: ${events.size}")
    }

    @Test
    fun cancelling_a_coroutine_cancels_the_request() = runBlocking {
        // Every attempt at member 6 hangs 1 s; the call would time out after 300 ms and retry 5 times.
        fault("path" to "/v1/teams/*/members/6", "delay_ms" to 1000, "times" to 6)
        val started = System.nanoTime()
        assertThrows<TimeoutCancellationException> {
            runBlocking { withTimeout(200) { client.members.get(userId = 6, options = RequestOptions(timeoutMs = 300, maxRetries = 5)) } }
        }
        val ms = (System.nanoTime() - started) / 1_000_000
        assertTrue(ms < 2500, "the call returned after $ms ms, not after the server's 1 s")
        // Had the request gone on in the background, its retries would reach the mock meanwhile.
        delay(1500)
        assertEquals(listOf("/v1/teams/${mock.teamId}/members/6"), requests().map { it["path"] }, "one attempt, no retry after the cancel")
        assertEquals(7L, client.members.get(userId = 7).userId, "the client goes on working")
    }

    @Test
    fun many_threads_and_coroutines_share_one_client() {
        val seen = Collections.synchronizedList(ArrayList<Long>())
        val threads = (1..16).map { t ->
            Thread {
                repeat(10) { i -> seen.add(client.members.getBlocking(userId = ((t * 10 + i) % 50 + 1).toLong()).userId!!) }
            }
        }
        threads.forEach { it.start() }
        threads.forEach { it.join() }
        assertEquals(160, seen.size)
        assertEquals((1..16).flatMap { t -> (0 until 10).map { i -> ((t * 10 + i) % 50 + 1).toLong() } }.sorted(), seen.sorted())
        val ids = runBlocking {
            (1..200).map { i -> async { client.members.get(userId = (i % 50 + 1).toLong()).userId } }.awaitAll()
        }
        assertEquals((1..200).map { (it % 50 + 1).toLong() }, ids)
        assertEquals(360, requests().size)
    }

    @Test
    fun a_coroutine_is_not_blocked_by_another_waiting_call() = runBlocking {
        fault("path" to "/v1/teams/*/members/8", "delay_ms" to 700, "times" to 1)
        val done = AtomicInteger()
        val slow = launch { client.members.get(userId = 8); done.incrementAndGet() }
        delay(50)
        assertEquals(9L, client.members.get(userId = 9).userId)
        assertEquals(0, done.get(), "the fast call finished while the slow one waited")
        slow.join()
        assertEquals(1, done.get())
    }

    @Test
    fun admin_client_calls_the_administration_api() {
        AdminClient(baseUrl = mock.baseUrl, token = mock.adminToken).use<AdminClient, Unit> { admin ->
            val teams = admin.teams.listBlocking()
            assertTrue(teams.isNotEmpty())
            val created = admin.teams.createBlocking(name = "JVM", quota = 1024)
            assertEquals("JVM", created.name)
            assertThrows<NotFoundError> { admin.teams.getBlocking(id = "999999") }
        }
        val e = assertThrows<ValidationError> { AdminClient(token = "t") }
        assertEquals("base_url", e.field)
    }

    @Test
    fun quota_status_names_the_paced_quotas() {
        val q = client.quotaStatus()
        assertEquals(setOf("audit_log", "invites_create", "invites_resend"), q.map { it["name"] ?: it["quota"] }.toSet(), q.toString())
    }
}
