package dev.fieldproof.sample

import android.Manifest
import android.annotation.SuppressLint
import android.content.Context
import android.content.pm.PackageManager
import android.location.Location
import android.location.LocationListener
import android.location.LocationManager
import android.os.Bundle
import android.os.Looper
import androidx.core.content.ContextCompat
import dev.fieldproof.core.LocationFix
import dev.fieldproof.sdk.android.toLocationFix
import kotlinx.coroutines.suspendCancellableCoroutine
import kotlinx.coroutines.withTimeoutOrNull
import kotlin.coroutines.resume

/**
 * One fresh location fix, or `null` when none came within [timeoutMs] (the visit then records
 * `no_fix`, or the core refuses check-in where the store's geofence blocks).
 *
 * The platform's LocationManager, not Google Play services' fused provider: most phones sold in
 * China have no Play services. GPS when it is on (it is what the geofence needs), else the
 * network provider. Without the location permission there is no fix: `null`.
 */
@SuppressLint("MissingPermission") // checked by hasLocationPermission
suspend fun currentLocationFix(context: Context, timeoutMs: Long = 30_000): LocationFix? {
    if (!hasLocationPermission(context)) return null
    val manager = context.getSystemService(LocationManager::class.java) ?: return null
    val provider = listOf(LocationManager.GPS_PROVIDER, LocationManager.NETWORK_PROVIDER)
        .firstOrNull { manager.isProviderEnabled(it) } ?: return null
    val location = withTimeoutOrNull(timeoutMs) {
        suspendCancellableCoroutine<Location> { cont ->
            // Every method is implemented: before API 30 the platform's LocationListener has no
            // default methods, and a missing one would crash when the provider changes state.
            val listener = object : LocationListener {
                override fun onLocationChanged(location: Location) {
                    manager.removeUpdates(this)
                    if (cont.isActive) cont.resume(location)
                }

                @Deprecated("Deprecated in API 29; still called below it")
                override fun onStatusChanged(provider: String?, status: Int, extras: Bundle?) {}
                override fun onProviderEnabled(provider: String) {}
                override fun onProviderDisabled(provider: String) {}
            }
            manager.requestLocationUpdates(provider, 0L, 0f, listener, Looper.getMainLooper())
            cont.invokeOnCancellation { manager.removeUpdates(listener) }
        }
    }
    return location?.toLocationFix()
}

/** Precise or approximate location granted (Android 12+ lets the rep grant only approximate). */
fun hasLocationPermission(context: Context): Boolean =
    listOf(Manifest.permission.ACCESS_FINE_LOCATION, Manifest.permission.ACCESS_COARSE_LOCATION).any {
        ContextCompat.checkSelfPermission(context, it) == PackageManager.PERMISSION_GRANTED
    }
