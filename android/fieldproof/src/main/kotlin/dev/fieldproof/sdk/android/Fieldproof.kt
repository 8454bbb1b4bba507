package dev.fieldproof.sdk.android

import android.content.Context
import dev.fieldproof.core.FieldproofCore
import dev.fieldproof.core.FieldproofException
import dev.fieldproof.core.KeySealer
import kotlinx.coroutines.sync.Mutex
import kotlinx.coroutines.sync.withLock
import java.io.File

/**
 * The one [FieldproofCore] of the app's process.
 *
 * One core per process, because the core owns its database: it serialises every write, keeps the
 * device's hash chain and sequence numbers in memory, and refuses a second sync while one runs.
 * Two cores on one file would race on all of that. Activities, view models and
 * [FieldproofSyncWorker] all ask this holder, which opens the core on first use and keeps it for
 * the life of the process (it is never closed: the process ending is what closes it).
 *
 * Where: `noBackupFilesDir/fieldproof/fieldproof.db` (photos beside it in `fieldproof.db.photos/`).
 * Not in `filesDir`, which Auto Backup copies to the cloud and restores onto a new phone: the
 * database holds this device's identity, its signed hash chain and its outbox, none of which may
 * move to another device (its sealed key could not be unsealed there anyway: the Keystore key
 * does not leave the phone).
 *
 * The device key: sealed by [KeystoreKeySealer] (an Android Keystore key) unless [configure] says
 * otherwise; the database then keeps only the sealed seed.
 */
object Fieldproof {
    /** Folder under `noBackupFilesDir` that holds the database and its photos. */
    const val FOLDER = "fieldproof"
    const val DATABASE_NAME = "fieldproof.db"

    private val lock = Mutex()

    @Volatile
    private var core: FieldproofCore? = null

    @Volatile
    private var sealerFor: (Context) -> KeySealer? = { KeystoreKeySealer(it) }

    /**
     * Replaces the key sealer (default [KeystoreKeySealer]); `null` keeps the device key in the
     * database unsealed. Call it before the first [core], in `Application.onCreate`: the sealer is
     * fixed when the database is opened.
     */
    fun configure(sealer: (Context) -> KeySealer?) {
        check(core == null) { "Fieldproof.configure must be called before the core is opened" }
        sealerFor = sealer
    }

    /**
     * The process's core, opened on first use (migrations run then; off the caller's thread, like
     * every call of the core). Safe to call from any thread or coroutine, as often as wanted.
     *
     * @throws FieldproofException `database_too_new` when the database was written by a newer app
     *   version (never downgrade), `database_corrupt` when it was unreadable and has been moved
     *   aside (the next call opens a fresh one), or the sealer's errors. Nothing is cached on
     *   failure: the next call tries again.
     */
    suspend fun core(context: Context): FieldproofCore {
        core?.let { return it }
        return lock.withLock {
            core ?: open(context.applicationContext).also { core = it }
        }
    }

    /** The database file; its folder is created by [core]. */
    fun databaseFile(context: Context): File = File(File(context.noBackupFilesDir, FOLDER), DATABASE_NAME)

    private suspend fun open(app: Context): FieldproofCore {
        val file = databaseFile(app)
        file.parentFile?.mkdirs()
        val opened = FieldproofCore.open(file.path, sealerFor(app))
        useSystemCjkFont(opened)
        return opened
    }

    /**
     * Chinese store and rep names in the photo watermark need a CJK font; the core bundles only a
     * Latin one. Android phones carry one in /system/fonts, under a name that depends on the
     * Android version and the maker: the first that the core accepts is used. Without one the
     * watermark still carries every code, time and position.
     */
    private suspend fun useSystemCjkFont(core: FieldproofCore) {
        for ((path, face) in SYSTEM_CJK_FONTS) {
            if (!File(path).isFile) continue
            try {
                core.setCjkFontFile(path, face)
                return
            } catch (e: FieldproofException) {
                // Not a font the core can read (a maker's variable or subset font): try the next.
            }
        }
    }

    /** Path and face index (in a .ttc collection) of the Simplified Chinese face. */
    private val SYSTEM_CJK_FONTS = listOf(
        // AOSP 7+: the Noto CJK collection, faces JP, KR, SC, TC, HK: SC is face 2.
        "/system/fonts/NotoSansCJK-Regular.ttc" to 2,
        // Some makers ship the SC face alone.
        "/system/fonts/NotoSansSC-Regular.otf" to 0,
        // Android 6 and older, and many phones sold in China.
        "/system/fonts/DroidSansFallback.ttf" to 0,
        "/system/fonts/DroidSansFallbackFull.ttf" to 0,
    )
}
