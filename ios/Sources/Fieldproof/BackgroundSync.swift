#if canImport(BackgroundTasks) && os(iOS)
import BackgroundTasks
import Foundation

/// Sync in the background with BGTaskScheduler: a `BGProcessingTask` that needs the network, run
/// when iOS chooses (usually while the phone charges or is idle), rescheduled each time it runs.
/// When iOS ends the task early, its expiration cancels the sync through `SyncCancel`: what the
/// server answered stays done and the next sync resumes the rest.
///
/// Set up (docs/MOBILE-SDK.md, iOS):
/// - Info.plist: `BGTaskSchedulerPermittedIdentifiers` lists `identifier`, and
///   `UIBackgroundModes` contains `processing` (Xcode: Signing & Capabilities → Background
///   Modes → Background processing);
/// - `register()` before the app finishes launching (in `App.init` or
///   `application(_:didFinishLaunchingWithOptions:)`), then `schedule()` (again whenever there
///   is something new to send, e.g. after a visit is completed).
public final class FieldproofBackgroundSync: @unchecked Sendable {
    /// The identifier the sample app uses; an app uses its own reverse-DNS name.
    public static let defaultIdentifier = "dev.fieldproof.sync"

    public let identifier: String
    /// The earliest a scheduled sync may start after `schedule()`.
    public let delay: TimeInterval
    private let core: @Sendable () async throws -> FieldproofCore
    private let finished: (@Sendable (Result<SyncReport, Error>) -> Void)?

    /// - Parameters:
    ///   - core: the process's one core (opened once; see the guide's lifecycle section).
    ///   - finished: told how each background sync ended (logging, a badge); called on a
    ///     background task.
    public init(
        identifier: String = FieldproofBackgroundSync.defaultIdentifier,
        delay: TimeInterval = 15 * 60,
        core: @escaping @Sendable () async throws -> FieldproofCore,
        finished: (@Sendable (Result<SyncReport, Error>) -> Void)? = nil
    ) {
        self.identifier = identifier
        self.delay = delay
        self.core = core
        self.finished = finished
    }

    /// Registers the task's launch handler. Returns false when Info.plist's
    /// `BGTaskSchedulerPermittedIdentifiers` does not list `identifier`. Call it once, before the
    /// app finishes launching (BGTaskScheduler refuses later registrations).
    @discardableResult
    public func register() -> Bool {
        BGTaskScheduler.shared.register(forTaskWithIdentifier: identifier, using: nil) { [self] task in
            run(task)
        }
    }

    /// Asks iOS for a background sync with network, no sooner than `delay` from now. Replaces a
    /// pending request with the same identifier. Throws `BGTaskScheduler.Error` (e.g.
    /// `.unavailable` in the simulator or with Background App Refresh off, `.notPermitted`
    /// without the Info.plist entries).
    public func schedule() throws {
        let request = BGProcessingTaskRequest(identifier: identifier)
        request.requiresNetworkConnectivity = true
        request.requiresExternalPower = false
        request.earliestBeginDate = Date(timeIntervalSinceNow: delay)
        try BGTaskScheduler.shared.submit(request)
    }

    private func run(_ task: BGTask) {
        // The next one first, so a sync that fails or expires still gets another chance.
        try? schedule()
        let cancel = SyncCancel()
        task.expirationHandler = {
            cancel.cancel()
        }
        let core = self.core
        let finished = self.finished
        Task {
            do {
                let report = try await core().sync(listener: nil, cancel: cancel)
                finished?(.success(report))
                task.setTaskCompleted(success: true)
            } catch {
                finished?(.failure(error))
                task.setTaskCompleted(success: false)
            }
        }
    }
}
#endif
