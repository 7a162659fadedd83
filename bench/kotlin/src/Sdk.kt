// The parsec-teams Kotlin SDK's contenders: ONE Client shared by its blocking calls
// (sequential, and from the same 64 threads as the peer) and its suspend calls
// (sequential in runBlocking, and 64 coroutines of one runBlocking event loop).
// Results are the SDK's typed models (Member, Page<Member>), fully decoded.
package parsecteams.bench

import kotlinx.coroutines.launch
import kotlinx.coroutines.runBlocking
import parsecteams.Client
import java.util.concurrent.atomic.AtomicInteger

fun sdkContenders(info: MockInfo): List<Contender> {
    val client = Client(apiKey = info.apiKey, teamId = info.teamId, baseUrl = info.baseUrl)
    val members = client.members
    val blocking = object : Contender {
        override val name = "parsec-teams (blocking)"
        override val sdk = true
        override val sequential: (Int, Int) -> Unit = { from, n ->
            for (i in from until from + n) checkMember(i, members.getBlocking(userId(i).toLong()).userId ?: -1)
        }
        override val concurrent: (Int, Int) -> Unit = { from, n -> onThreads(from, n) { members.getBlocking(it.toLong()).userId ?: -1 } }
        override val pages: (Int, Int) -> Unit = { from, n ->
            for (i in from until from + n) checkPage(i, members.listBlocking(offset = pageOffset(i).toLong(), limit = PAGE.toLong()).data.size)
        }
    }
    val suspending = object : Contender {
        override val name = "parsec-teams (suspend)"
        override val sdk = true
        override val sequential: (Int, Int) -> Unit = { from, n ->
            runBlocking {
                for (i in from until from + n) checkMember(i, members.get(userId(i).toLong()).userId ?: -1)
            }
        }
        override val concurrent: (Int, Int) -> Unit = { from, n ->
            val next = AtomicInteger(0)
            runBlocking {
                repeat(CONC) {
                    launch {
                        while (true) {
                            val k = next.getAndIncrement()
                            if (k >= n) break
                            val i = from + k
                            checkMember(i, members.get(userId(i).toLong()).userId ?: -1)
                        }
                    }
                }
            }
        }
        override val pages: (Int, Int) -> Unit = { from, n ->
            runBlocking {
                for (i in from until from + n) checkPage(i, members.list(offset = pageOffset(i).toLong(), limit = PAGE.toLong()).data.size)
            }
        }
    }
    return listOf(blocking, suspending)
}
