package dev.fieldproof.sdk.android

import android.location.Location
import android.location.LocationManager
import android.os.Build
import android.os.SystemClock
import dev.fieldproof.core.LocationFix
import dev.fieldproof.core.LocationProvider

/**
 * The core's [LocationFix] for this Android [Location], or `null` when the location has no
 * accuracy.
 *
 * - Accuracy: read only when [Location.hasAccuracy] (without it `accuracy` is 0.0, which would
 *   claim a perfect fix). A position whose error is unknown cannot show the rep was at the store,
 *   and the core gives the rep the benefit of the doubt by subtracting the accuracy from the
 *   distance, so it must not be guessed either way: pass `null` and the visit records `no_fix`.
 *   Every location service and every test provider (which must set a complete location) reports
 *   one, so this is rare.
 * - Mock flag: [Location.isMock] from API 31, [Location.isFromMockProvider] below (API 18–30),
 *   so a fake-GPS app is caught on every API level the SDK supports.
 * - Provider: `gps`, `network` and `fused` (the platform's fused provider on API 31+, and Google
 *   Play services' fused provider) map to their [LocationProvider]; anything else (`passive`, a
 *   vendor's own) is [LocationProvider.UNKNOWN].
 * - Time: [Location.getTime], the fix's own Unix time (for GPS the satellites' clock, so a phone
 *   clock set back does not move it). A location without one (time 0, only from hand-built
 *   objects) gets its time from [Location.getElapsedRealtimeNanos], the monotonic clock.
 */
fun Location.toLocationFix(): LocationFix? {
    if (!hasAccuracy()) return null
    return LocationFix(
        latitude = latitude,
        longitude = longitude,
        accuracyM = accuracy.toDouble(),
        provider = providerOf(provider),
        isMock = isMockLocation(),
        fixTimeMs = if (time > 0) time else System.currentTimeMillis() - ageMillis(),
    )
}

/**
 * How old this fix is, in milliseconds, on the monotonic clock (counts deep sleep, ignores the
 * wall clock): the way to tell a fresh fix from a cached one. [Location.getLastKnownLocation]
 * answers can be hours old; the core flags a fix older than 5 minutes at check-in as `stale_fix`.
 */
fun Location.ageMillis(): Long =
    ((SystemClock.elapsedRealtimeNanos() - elapsedRealtimeNanos) / 1_000_000L).coerceAtLeast(0L)

/** True when this fix is at most [maxAgeMillis] old (monotonic clock); default 2 minutes. */
fun Location.isFresh(maxAgeMillis: Long = 2 * 60 * 1000L): Boolean = ageMillis() <= maxAgeMillis

/** The mock flag on every API level: `isMock` from API 31, `isFromMockProvider` before it. */
fun Location.isMockLocation(): Boolean =
    if (Build.VERSION.SDK_INT >= Build.VERSION_CODES.S) {
        isMock
    } else {
        @Suppress("DEPRECATION")
        isFromMockProvider
    }

/** The core's provider for an Android provider name. */
internal fun providerOf(name: String?): LocationProvider =
    when (name) {
        LocationManager.GPS_PROVIDER -> LocationProvider.GPS
        LocationManager.NETWORK_PROVIDER -> LocationProvider.NETWORK
        // LocationManager.FUSED_PROVIDER is API 31+; Play services' fused locations use the same name.
        FUSED_PROVIDER -> LocationProvider.FUSED
        else -> LocationProvider.UNKNOWN
    }

private const val FUSED_PROVIDER = "fused"
