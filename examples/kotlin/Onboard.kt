// Onboarding a new studio with parsec-teams, against the embedded MockServer:
// create a group, invite members into it, assign a machine to the group,
// issue a guest invite, and read the audit log.
//
//   make -C examples/kotlin demo      (builds the SDK with make -C bindings-kotlin build)
//
// Against the real service: Client() reads PARSEC_API_KEY (and PARSEC_TEAM_ID).
import kotlinx.coroutines.runBlocking
import parsecteams.Assignment
import parsecteams.Client
import parsecteams.ConflictError
import parsecteams.MockServer
import parsecteams.NotFoundError
import parsecteams.ValidationError
import java.time.OffsetDateTime
import java.time.ZoneOffset
import java.time.temporal.ChronoUnit

suspend fun onboard(client: Client) {
    // 1. A group for the new studio.
    val group = client.groups.create(
        groupName = "Lisbon studio",
        allowConnectionsWithinGroup = true,
        showUserAssignedManagedHosts = true,
        showPersonalHosts = false,
    )
    // Response fields are all nullable (the service does not document its bodies): check what you rely on.
    val groupId = group.id ?: error("the service returned a group without an id")
    println("created group #$groupId ${group.name}")

    // 2. Invite the team into it.
    val invites = client.invites.create(emails = listOf("rita@example.com", "joao@example.com"), groupId = groupId, sendEmail = true)
    for (invite in invites.data) println("invited ${invite.email}, join at ${invite.joinUrl}")

    // Someone already in the team cannot be invited again.
    try {
        client.invites.create(emails = listOf("ada.lovelace@example.com"))
    } catch (e: ConflictError) {
        println("not invited again: ${e.status} ${e.message} (request ${e.requestId})")
    }

    // 3. Give the studio an unassigned machine.
    val free = client.machines.list(assignment = Assignment.UNASSIGNED, limit = 1).data.firstOrNull()
    val machineId = free?.id ?: error("no unassigned machine")
    val peerId = free.peerId ?: error("a machine without a peer id")
    client.machines.setAssignment(machineId, teamGroupIds = listOf(groupId))
    val assigned = client.machines.get(machineId)
    println("machine ${assigned.name} assigned to groups ${assigned.teamGroupIds}")

    // 4. A guest invite for a partner's review session tomorrow, for two hours.
    val startsAt = OffsetDateTime.now(ZoneOffset.UTC).plusDays(1).truncatedTo(ChronoUnit.SECONDS)
    val guest = client.guestAccess.create(
        hostPeerId = peerId,
        guestEmail = "reviewer@partner.example",
        eventName = "Lisbon studio review",
        keyboard = true,
        mouse = true,
        gamepad = false,
        timeZone = "Europe/Lisbon",
        startsAt = startsAt.toString(),
        expiresAt = startsAt.plusHours(2).toString(),
        message = "Welcome! The session opens at 10:00.",
    )
    val balance = client.guestAccess.credits().balance
    println("guest invite ${guest.id} for ${guest.guestEmail}; $balance credits left")

    // Bad input never leaves the machine: the error names the field and the rule.
    try {
        client.members.list(limit = 0)
    } catch (e: ValidationError) {
        println("refused before sending: ${e.message} (field ${e.field}, rule ${e.rule})")
    }

    // A member who is not there.
    try {
        client.members.get(999_999)
    } catch (e: NotFoundError) {
        println("as expected: ${e.status} ${e.message} (request ${e.requestId})")
    }

    // 5. The audit log, every page (follows next_cursor): `next()` suspends between pages.
    val counts = LinkedHashMap<String, Int>()
    val events = client.auditLog.iterEvents(limit = 200)
    while (true) {
        val page = events.next() ?: break
        for (event in page) counts.merge(event.eventName ?: "?", 1, Int::plus)
    }
    println("audit log: ${counts.values.sum()} events; ${counts.entries.take(4).joinToString { "${it.key} x${it.value}" }}, ...")
}

fun main() {
    MockServer().use { mock ->
        mock.client().use { client ->
            runBlocking { onboard(client) }

            // Blocking variants, for Java callers and scripts without coroutines.
            val total = client.members.iter(limit = 200).count()
            val ada = client.members.listBlocking(email = "ada.lovelace@example.com").data.first()
            val raw = client.members.getWithResponseBlocking(ada.userId ?: 0)
            println("the team has $total members; GET member #${raw.data.userId} -> ${raw.status} (request ${raw.requestId})")
        }
    }
}
