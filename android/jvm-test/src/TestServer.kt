// The real fieldproof-server for the JVM tests that sync (SyncFlowTest, RetakeFlowTest,
// SyncProgressTest): one launcher, compiled into the same jar.

import java.io.File
import java.util.concurrent.LinkedBlockingQueue
import java.util.concurrent.TimeUnit

/** The real server: `serve --addr 127.0.0.1:0` on its own data folder, plus its `admin` commands. */
class TestServer(private val bin: File, val dataDir: File, private val log: File) : AutoCloseable {
    private val process: Process
    val url: String

    init {
        process = ProcessBuilder(bin.path, "serve", "--addr", "127.0.0.1:0", "--data-dir", dataDir.path)
            .redirectError(ProcessBuilder.Redirect.to(log))
            .start()
        val lines = LinkedBlockingQueue<String>()
        Thread {
            // Keep reading to the end so the pipe never fills; the first line is the address.
            process.inputStream.bufferedReader().forEachLine { lines.put(it) }
        }.apply { isDaemon = true }.start()
        val first = lines.poll(30, TimeUnit.SECONDS)
        if (first == null || !first.startsWith("listening on http://")) {
            process.destroyForcibly()
            throw IllegalStateException("server did not print its address within 30 s: $first; log: ${log.readText()}")
        }
        url = first.removePrefix("listening on ").trim()
    }

    /** `fieldproof-server admin <args>` on this data folder (through FIELDPROOF_DATA_DIR); stdout. */
    fun admin(vararg args: String): String {
        val pb = ProcessBuilder(listOf(bin.path, "admin") + args)
        pb.environment()["FIELDPROOF_DATA_DIR"] = dataDir.path
        val p = pb.start()
        val err = StringBuilder()
        val errReader = Thread { err.append(p.errorStream.bufferedReader().readText()) }.apply { start() }
        val out = p.inputStream.bufferedReader().readText()
        errReader.join()
        if (!p.waitFor(60, TimeUnit.SECONDS) || p.exitValue() != 0) {
            throw IllegalStateException("admin ${args.joinToString(" ")} failed: $out$err")
        }
        return out
    }

    /** The code `admin enrol-code` prints on its last line. */
    fun enrolCode(user: String): String = admin("enrol-code", "--user", user).lines().last { it.isNotBlank() }.trim()

    fun stats(): String = admin("stats")

    /** SIGTERM (graceful) and wait; the exit code, or null when it had to be killed. */
    fun terminate(): Int? {
        if (!process.isAlive) return process.exitValue()
        process.destroy()
        if (process.waitFor(20, TimeUnit.SECONDS)) return process.exitValue()
        process.destroyForcibly().waitFor(5, TimeUnit.SECONDS)
        return null
    }

    /** A top-level integer of `admin stats` (pretty JSON, one field a line). */
    fun stat(key: String): Long? =
        Regex("(?m)^  \"${Regex.escape(key)}\": (-?\\d+),?$").find(stats())?.groupValues?.get(1)?.toLong()

    override fun close() {
        if (process.isAlive) {
            process.destroyForcibly().waitFor(5, TimeUnit.SECONDS)
        }
    }
}
