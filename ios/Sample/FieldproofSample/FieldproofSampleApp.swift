import Fieldproof
import SwiftUI

@main
struct FieldproofSampleApp: App {
    @StateObject private var model = VisitModel()

    init() {
        // Before launch ends: BGTaskScheduler refuses registrations made later.
        AppCore.backgroundSync.register()
    }

    var body: some Scene {
        WindowGroup {
            ContentView().environmentObject(model)
        }
    }
}

/// The process's one core (one database, one device key). Opened on first use, by whoever comes
/// first: the UI or a background sync that iOS launched the app for.
actor AppCore {
    static let shared = AppCore()

    /// Background sync, run by iOS when the network is there; scheduled after each change.
    static let backgroundSync = FieldproofBackgroundSync(core: { try await AppCore.shared.core() })

    private var opening: Task<FieldproofCore, Error>?

    func core() async throws -> FieldproofCore {
        if let opening {
            return try await opening.value
        }
        let task = Task { try await Self.open() }
        opening = task
        do {
            return try await task.value
        } catch {
            opening = nil  // let the next call try again (e.g. after an app update)
            throw error
        }
    }

    /// Application Support, not Documents (the rep does not browse it) and not Caches (iOS may
    /// empty it). iOS's default file protection (until first unlock) lets a background sync
    /// open the database while the phone is locked.
    private static func open() async throws -> FieldproofCore {
        let folder = try FileManager.default
            .url(for: .applicationSupportDirectory, in: .userDomainMask, appropriateFor: nil, create: true)
            .appendingPathComponent("Fieldproof", isDirectory: true)
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        let path = folder.appendingPathComponent("fieldproof.db").path
        // The device key's seed is kept wrapped by the Keychain (KeychainKeySealer, this package).
        return try await FieldproofCore.open(path: path, sealer: KeychainKeySealer())
    }
}
