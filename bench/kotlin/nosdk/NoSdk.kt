// Built instead of src/Sdk.kt when bindings-kotlin is not available (SDK=0):
// the bench then runs the peer alone.
package parsecteams.bench

fun sdkContenders(info: MockInfo): List<Contender> = emptyList()
