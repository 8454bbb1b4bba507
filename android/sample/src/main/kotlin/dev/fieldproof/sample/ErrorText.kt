package dev.fieldproof.sample

import androidx.annotation.StringRes

/**
 * What to tell the rep for an error code from the SDK (`FieldproofException.code`), in the
 * phone's language. The codes are stable; their wording is the app's. An app maps every code it
 * can meet (docs/MOBILE-SDK.md has the table); the sample maps the ones its screens can meet.
 */
@StringRes
fun errorText(code: String): Int = when (code) {
    "network" -> R.string.error_network
    "completion_locked" -> R.string.error_completion_locked
    "visit_already_open" -> R.string.error_visit_already_open
    "outside_geofence" -> R.string.error_outside_geofence
    "fix_required" -> R.string.error_fix_required
    "invalid_enrol_code", "enrol_code_expired", "enrol_code_used" -> R.string.error_enrol_code
    "device_revoked" -> R.string.error_device_revoked
    "not_enrolled" -> R.string.error_not_enrolled
    "image_too_large", "image_too_many_bytes", "image_corrupt", "not_jpeg", "image_empty" ->
        R.string.error_photo
    "database_too_new" -> R.string.error_database_too_new
    else -> R.string.error_other
}
