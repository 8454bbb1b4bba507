package dev.fieldproof.sdk.android

import android.content.Context
import android.content.pm.PackageManager
import android.os.Build
import android.security.keystore.KeyGenParameterSpec
import android.security.keystore.KeyProperties
import dev.fieldproof.core.KeySealer
import dev.fieldproof.core.KeySealerException
import java.security.GeneralSecurityException
import java.security.KeyStore
import java.security.ProviderException
import javax.crypto.Cipher
import javax.crypto.KeyGenerator
import javax.crypto.SecretKey
import javax.crypto.spec.GCMParameterSpec

/**
 * Keeps the core's device signing key wrapped by an AES-256-GCM key in the Android Keystore.
 *
 * Pass it when opening the core: `FieldproofCore.open(path, KeystoreKeySealer(context))`. The core
 * then stores only the sealed seed in its database (a database that held a plain seed is sealed
 * during that open) and calls [unseal] once per open, never per action.
 *
 * - The AES key is made inside the Keystore and cannot be exported; on phones with a StrongBox
 *   secure element (API 28+) it lives there, otherwise in the TEE.
 * - No user authentication is required, so a background sync (WorkManager) can open the core
 *   while the phone is locked, once it has been unlocked since boot.
 * - The Keystore picks a fresh 12-byte IV per seal; it is stored with the ciphertext:
 *   `[format 1][IV length][IV][ciphertext + 16-byte tag]`, the format byte also bound as
 *   associated data.
 * - The key is never deleted here. If it is gone (app data restored onto another phone, the
 *   Keystore reset), opening fails with `key_unseal_failed`; the app then starts a fresh database
 *   and enrols again.
 *
 * Not built on the project's CI machine (no Android SDK): the same contract is exercised on the
 * JVM with a javax.crypto sealer (`android/jvm-test/src/KeySealerTest.kt`).
 */
class KeystoreKeySealer @JvmOverloads constructor(
    context: Context,
    private val alias: String = DEFAULT_ALIAS,
) : KeySealer {
    private val hasStrongBox: Boolean =
        Build.VERSION.SDK_INT >= Build.VERSION_CODES.P &&
            context.packageManager.hasSystemFeature(PackageManager.FEATURE_STRONGBOX_KEYSTORE)

    override fun seal(seed: ByteArray): ByteArray = keystoreCall("seal") {
        val cipher = Cipher.getInstance(TRANSFORMATION)
        // No IV passed: the Keystore refuses caller-chosen IVs for encryption and makes its own.
        cipher.init(Cipher.ENCRYPT_MODE, keyOrCreate())
        cipher.updateAAD(byteArrayOf(FORMAT))
        val ciphertext = cipher.doFinal(seed)
        val iv = cipher.iv
        byteArrayOf(FORMAT, iv.size.toByte()) + iv + ciphertext
    }

    override fun unseal(sealed: ByteArray): ByteArray = keystoreCall("unseal") {
        if (sealed.size < 2 || sealed[0] != FORMAT) {
            throw KeySealerException.Failed("sealed key is not in format $FORMAT")
        }
        val ivLength = sealed[1].toInt() and 0xff
        if (ivLength == 0 || sealed.size < 2 + ivLength + TAG_BITS / 8) {
            throw KeySealerException.Failed("sealed key is truncated (${sealed.size} bytes)")
        }
        val key = existingKey()
            ?: throw KeySealerException.Failed("no key '$alias' in the Android Keystore")
        val cipher = Cipher.getInstance(TRANSFORMATION)
        cipher.init(Cipher.DECRYPT_MODE, key, GCMParameterSpec(TAG_BITS, sealed, 2, ivLength))
        cipher.updateAAD(byteArrayOf(FORMAT))
        cipher.doFinal(sealed, 2 + ivLength, sealed.size - 2 - ivLength)
    }

    private fun existingKey(): SecretKey? {
        val store = KeyStore.getInstance(ANDROID_KEYSTORE).apply { load(null) }
        return store.getKey(alias, null) as SecretKey?
    }

    /** Two cores opened at once (app and worker) must not make two keys under one alias. */
    @Synchronized
    private fun keyOrCreate(): SecretKey = existingKey() ?: createKey()

    private fun createKey(): SecretKey {
        if (hasStrongBox && Build.VERSION.SDK_INT >= Build.VERSION_CODES.P) {
            try {
                return generate(strongBox = true)
            } catch (e: ProviderException) {
                // StrongBoxUnavailableException (API 28) is one; some StrongBox chips fail with a
                // plain ProviderException. Either way the TEE is the next best place.
            }
        }
        return generate(strongBox = false)
    }

    private fun generate(strongBox: Boolean): SecretKey {
        val spec = KeyGenParameterSpec.Builder(
            alias,
            KeyProperties.PURPOSE_ENCRYPT or KeyProperties.PURPOSE_DECRYPT,
        )
            .setKeySize(256)
            .setBlockModes(KeyProperties.BLOCK_MODE_GCM)
            .setEncryptionPaddings(KeyProperties.ENCRYPTION_PADDING_NONE)
            .setRandomizedEncryptionRequired(true)
            // Background sync opens the core with the screen locked.
            .setUserAuthenticationRequired(false)
            .apply { if (strongBox && Build.VERSION.SDK_INT >= Build.VERSION_CODES.P) setIsStrongBoxBacked(true) }
            .build()
        val generator = KeyGenerator.getInstance(KeyProperties.KEY_ALGORITHM_AES, ANDROID_KEYSTORE)
        generator.init(spec)
        return generator.generateKey()
    }

    /** Keystore failures become the typed sealer error the core reports as `key_*_failed`. */
    private inline fun keystoreCall(what: String, body: () -> ByteArray): ByteArray =
        try {
            body()
        } catch (e: KeySealerException) {
            throw e
        } catch (e: GeneralSecurityException) {
            throw KeySealerException.Failed("Android Keystore $what: ${e.javaClass.simpleName}: ${e.message}")
        } catch (e: ProviderException) {
            throw KeySealerException.Failed("Android Keystore $what: ${e.javaClass.simpleName}: ${e.message}")
        }

    companion object {
        /** The Keystore alias of the wrapping key; one per app (one core per process). */
        const val DEFAULT_ALIAS = "dev.fieldproof.device-key-wrap"
        private const val ANDROID_KEYSTORE = "AndroidKeyStore"
        private const val TRANSFORMATION = "AES/GCM/NoPadding"
        private const val TAG_BITS = 128
        private const val FORMAT: Byte = 1
    }
}
