// Error helpers over the generated `FieldproofException`: every case carries the core's stable
// reason `code` (match on it) and a `detail` for logs. Platform-free: compiled and run on the JVM
// by android/jvm-test/run.sh.

package dev.fieldproof.sdk

import dev.fieldproof.core.FieldproofException

/**
 * The stable reason code (`unknown_visit`, `completion_locked`, `network`, `sync_cancelled`, …):
 * what an app branches on, and the key of the message it shows the user in their language.
 * Never reworded once shipped.
 */
val FieldproofException.code: String
    get() = when (this) {
        is FieldproofException.InvalidInput -> code
        is FieldproofException.NotFound -> code
        is FieldproofException.Refused -> code
        is FieldproofException.Conflict -> code
        is FieldproofException.Storage -> code
        is FieldproofException.Sync -> code
    }

/** What went wrong, for logs and developers: never parsed, never shown to a rep as is. */
val FieldproofException.detail: String
    get() = when (this) {
        is FieldproofException.InvalidInput -> detail
        is FieldproofException.NotFound -> detail
        is FieldproofException.Refused -> detail
        is FieldproofException.Conflict -> detail
        is FieldproofException.Storage -> detail
        is FieldproofException.Sync -> detail
    }

/** The codes an app commonly branches on. The full list is in the integration guide. */
object ErrorCodes {
    const val NETWORK = "network"
    const val SYNC_IN_PROGRESS = "sync_in_progress"
    const val SYNC_CANCELLED = "sync_cancelled"
    const val NOT_ENROLLED = "not_enrolled"
    const val DEVICE_REVOKED = "device_revoked"
    const val UNKNOWN_DEVICE = "unknown_device"
    const val STALE_REQUEST = "stale_request"
    const val REPLAYED_REQUEST = "replayed_request"
    const val INVALID_ENROL_CODE = "invalid_enrol_code"
    const val ENROL_CODE_USED = "enrol_code_used"
    const val ENROL_CODE_EXPIRED = "enrol_code_expired"
    const val COMPLETION_LOCKED = "completion_locked"
    const val VISIT_ALREADY_OPEN = "visit_already_open"
    const val OUTSIDE_GEOFENCE = "outside_geofence"
    const val FIX_REQUIRED = "fix_required"
    const val DATABASE_CORRUPT = "database_corrupt"
    const val DATABASE_TOO_NEW = "database_too_new"
    const val STAGE_LOCKED = "stage_locked"
    const val STAGE_NOT_ALLOWED = "stage_not_allowed"
    const val DUPLICATE_CUSTOMER = "duplicate_customer"
    const val CUSTOMER_OWNED_BY_OTHER = "customer_owned_by_other"
    const val NOT_CUSTOMER_OWNER = "not_customer_owner"
    const val LEAD_NOT_CLAIMABLE = "lead_not_claimable"
    const val CLAIM_COOLDOWN = "claim_cooldown"
    const val CUSTOMER_LIMIT_REACHED = "customer_limit_reached"
    const val STORE_CODE_EXPIRED = "store_code_expired"
    const val STORE_CODE_WRONG_STORE = "store_code_wrong_store"
    const val STORE_CODE_UNKNOWN_KEY = "store_code_unknown_key"
    const val STORE_CODE_INVALID = "store_code_invalid"
    const val STORE_CODE_MALFORMED = "store_code_malformed"
}

/**
 * Trying the same call again later can succeed, and nothing was lost meanwhile: the network was
 * gone (retries exhausted), another sync was running, or the server refused a request's time or
 * nonce (a fresh request is signed anew). A background job reschedules on these.
 */
val FieldproofException.isRetryable: Boolean
    get() = code in RETRYABLE

private val RETRYABLE = setOf(
    ErrorCodes.NETWORK,
    ErrorCodes.SYNC_IN_PROGRESS,
    ErrorCodes.STALE_REQUEST,
    ErrorCodes.REPLAYED_REQUEST,
)

/** The sync was cancelled by the app (`SyncCancel`); the next sync carries on. */
val FieldproofException.isCancelled: Boolean
    get() = code == ErrorCodes.SYNC_CANCELLED

/**
 * This device cannot sync until it is enrolled (again) with a code from head office: never
 * enrolled, revoked, or unknown to the server. Retrying does not help; show the enrolment screen.
 * Un-synced visits stay on the phone meanwhile.
 */
val FieldproofException.needsEnrolment: Boolean
    get() = code == ErrorCodes.NOT_ENROLLED || code == ErrorCodes.DEVICE_REVOKED || code == ErrorCodes.UNKNOWN_DEVICE
