import Foundation

// Every case of `FieldproofError` (generated) carries the core's stable reason code and a detail
// for logs. Apps match on `code` and show `localizedDescription`, never `detail`.

extension FieldproofError {
    /// The core's stable reason code (`completion_locked`, `outside_geofence`, `network`,
    /// `sync_cancelled`, `database_too_new`, …): what an app matches on. docs/MOBILE-SDK.md lists
    /// them.
    public var code: String {
        switch self {
        case .InvalidInput(let code, _), .NotFound(let code, _), .Refused(let code, _, _),
             .Conflict(let code, _, _, _, _), .Storage(let code, _), .Sync(let code, _):
            return code
        }
    }

    /// What happened, in English, for logs and developers; never parsed, never shown to a rep.
    public var detail: String {
        switch self {
        case .InvalidInput(_, let detail), .NotFound(_, let detail), .Refused(_, let detail, _),
             .Conflict(_, let detail, _, _, _), .Storage(_, let detail), .Sync(_, let detail):
            return detail
        }
    }

    /// For `completion_locked`: what keeps the visit from completion; for `stage_locked`: what
    /// the customer's next stage still needs (empty for every other code).
    public var missing: [MissingItem] {
        if case .Refused(_, _, let missing) = self { return missing }
        return []
    }

    /// The sync was stopped by `SyncCancel` (or by ending `syncEvents()`); the next sync resumes.
    public var isSyncCancelled: Bool { code == "sync_cancelled" }
}

extension FieldproofError: LocalizedError {
    /// A sentence for the rep in the phone's language (zh-Hans or en), chosen by `code`; codes
    /// without their own sentence get a general one naming the code, for the supervisor.
    public var errorDescription: String? { FieldproofErrorText.text(for: code) }
}

/// The package's error sentences (Resources/<language>.lproj/Localizable.strings, key
/// `error.<code>`). An app with its own wording maps `code` itself.
enum FieldproofErrorText {
    static func text(for code: String, bundle: Bundle = .module) -> String {
        let key = "error.\(code)"
        let text = NSLocalizedString(key, bundle: bundle, value: key, comment: "")
        if text != key { return text }
        let other = NSLocalizedString("error.other", bundle: bundle, value: "Something went wrong (%@).", comment: "")
        return String(format: other, code)
    }
}
