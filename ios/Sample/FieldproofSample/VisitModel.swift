import Fieldproof
import Foundation

/// The sample's one screen state: enrol → today's plan → check in → photo → report → complete
/// and check out → sync with progress. Every core call is `async` and runs on the core's
/// threads, so the main actor only waits.
@MainActor
final class VisitModel: ObservableObject {
    @Published private(set) var user: User?
    @Published private(set) var plan: [DayPlanEntry] = []
    @Published private(set) var visit: Visit?
    @Published private(set) var photos: [Photo] = []
    @Published private(set) var missing: [MissingItem] = []
    @Published private(set) var syncing = false
    @Published private(set) var progress: SyncProgress?
    @Published private(set) var lastReport: SyncReport?
    @Published private(set) var busy = false
    /// What the alert shows: the error's sentence in the phone's language (Errors.swift).
    @Published var message: String?

    private let fix = OneFix()
    private var syncTask: Task<Void, Never>?

    func start() async {
        await run {
            let core = try await AppCore.shared.core()
            self.user = try await core.syncState().user
            if self.user != nil { try await self.loadPlan(core) }
        }
    }

    func enrol(serverURL: String, code: String) async {
        await run {
            let core = try await AppCore.shared.core()
            self.user = try await core.enrol(serverUrl: serverURL, code: code)
        }
        // The plan and the store list come with the first sync.
        if user != nil { sync() }
    }

    func checkIn(_ entry: DayPlanEntry) async {
        guard let user else { return }
        await run {
            let core = try await AppCore.shared.core()
            let request = CheckInRequest(
                userId: user.id, storeId: entry.store.id, planId: entry.planId, templateId: nil,
                fix: await self.fix.read())
            self.visit = try await core.checkIn(request: request)
            self.photos = []
            self.missing = []
            try await self.loadPlan(core)
        }
    }

    /// The camera's file goes to the core, which stamps, signs and stores its own copy.
    func capture(file: URL) async {
        guard let visit else { return }
        defer { try? FileManager.default.removeItem(at: file) }
        await run {
            let core = try await AppCore.shared.core()
            let request = CaptureRequest(
                visitId: visit.id, itemId: nil, kind: .shelfOverview, fix: await self.fix.read(),
                utcOffsetMinutes: Int32(TimeZone.current.secondsFromGMT() / 60), retakeRequestId: nil)
            let outcome = try await core.capturePhotoFile(request: request, path: file.path)
            self.photos.append(outcome.photo)
        }
    }

    func saveReport(notes: String) async {
        guard let visit else { return }
        await run {
            let core = try await AppCore.shared.core()
            try await core.saveReport(
                visitId: visit.id,
                report: VisitReport(notes: notes, objections: [], nextSteps: [], followUpDate: nil))
        }
    }

    /// Complete, then check out. `completion_locked` lists what is still missing.
    func finishVisit() async {
        guard let visit else { return }
        await run {
            let core = try await AppCore.shared.core()
            do {
                _ = try await core.completeVisit(visitId: visit.id)
            } catch let error as FieldproofError where error.code == "completion_locked" {
                self.missing = error.missing
                throw error
            }
            _ = try await core.checkOut(visitId: visit.id, fix: await self.fix.read())
            self.visit = nil
            self.missing = []
            try await self.loadPlan(core)
        }
        try? AppCore.backgroundSync.schedule()
    }

    /// Sync in the foreground, with progress; `cancelSync()` stops it (nothing is lost: the next
    /// sync resumes).
    func sync() {
        guard !syncing else { return }
        syncing = true
        progress = nil
        syncTask = Task {
            do {
                let core = try await AppCore.shared.core()
                for try await event in core.syncEvents() {
                    switch event {
                    case .progress(let p): progress = p
                    case .finished(let report): lastReport = report
                    }
                }
                try await loadPlan(core)
            } catch let error as FieldproofError where error.isSyncCancelled || Task.isCancelled {
                // Stopped by the rep: nothing to report.
            } catch {
                message = error.localizedDescription
            }
            syncing = false
        }
    }

    func cancelSync() {
        syncTask?.cancel()  // ends the stream, which cancels the sync
    }

    private func loadPlan(_ core: FieldproofCore) async throws {
        guard let user else { return }
        plan = try await core.dayPlan(repId: user.id, date: Self.today())
    }

    private func run(_ action: @escaping () async throws -> Void) async {
        busy = true
        defer { busy = false }
        do {
            try await action()
        } catch {
            message = error.localizedDescription
        }
    }

    /// Today's local date as the plan stores it (`YYYY-MM-DD`, Gregorian whatever the phone's
    /// calendar setting).
    private static func today() -> String {
        let format = DateFormatter()
        format.calendar = Calendar(identifier: .gregorian)
        format.locale = Locale(identifier: "en_US_POSIX")
        format.timeZone = .current
        format.dateFormat = "yyyy-MM-dd"
        return format.string(from: Date())
    }
}
