import CoreLocation
import XCTest

@testable import Fieldproof

// Runs on a Mac with Xcode, in the iOS simulator, against the real core in
// FieldproofFFI.xcframework (ios/build-xcframework.sh first):
//   cd ios && xcodebuild test -scheme Fieldproof -destination 'platform=iOS Simulator,name=iPhone 15'
// Sync against a real server is covered by the Kotlin (android/jvm-test) and Python
// (tests/python) tests of the same core; a simulator test cannot start the server binary.

final class ErrorTests: XCTestCase {
    func testEveryCaseHasCodeAndDetail() {
        let missing = [MissingItem(kind: .report, itemId: nil, label: "report", retakeRequestId: nil)]
        let cases: [(FieldproofError, String)] = [
            (.InvalidInput(code: "wrong_value_kind", detail: "d1"), "d1"),
            (.NotFound(code: "unknown_visit", detail: "d2"), "d2"),
            (.Refused(code: "completion_locked", detail: "d3", missing: missing), "d3"),
            (.Storage(code: "database_too_new", detail: "d4"), "d4"),
            (.Sync(code: "sync_cancelled", detail: "d5"), "d5"),
            (.Conflict(code: "claim_cooldown", detail: "d6", duplicates: [], ownerName: nil, untilMs: 5), "d6"),
        ]
        XCTAssertEqual(cases.map { $0.0.code },
                       ["wrong_value_kind", "unknown_visit", "completion_locked", "database_too_new", "sync_cancelled",
                        "claim_cooldown"])
        XCTAssertEqual(cases.map { $0.0.detail }, cases.map { $0.1 })
        XCTAssertEqual(cases[2].0.missing, missing)
        XCTAssertEqual(cases[0].0.missing, [])
        XCTAssertEqual(cases.map { $0.0.isSyncCancelled }, [false, false, false, false, true, false])
    }

    func testSentencesInBothLanguagesByCode() throws {
        let en = try lproj("en"), zh = try lproj("zh-Hans")
        XCTAssertEqual(FieldproofErrorText.text(for: "outside_geofence", bundle: en),
                       "You are too far from the store to check in.")
        XCTAssertEqual(FieldproofErrorText.text(for: "outside_geofence", bundle: zh), "距离门店太远，无法签到。")
        // A code without its own sentence: the general one, naming the code for the supervisor.
        XCTAssertEqual(FieldproofErrorText.text(for: "some_future_code", bundle: zh),
                       "出错了（some_future_code）。请重试；如果反复出现，请告诉督导。")
        // What a SwiftUI alert shows is the sentence, never the Swift case or the detail.
        let error: Error = FieldproofError.Sync(code: "network", detail: "connect timeout to 10.0.0.1")
        XCTAssertFalse(error.localizedDescription.contains("10.0.0.1"))
        XCTAssertFalse(error.localizedDescription.contains("Sync("))
    }

    private func lproj(_ language: String) throws -> Bundle {
        let path = try XCTUnwrap(Bundle.module.path(forResource: language, ofType: "lproj"), "no \(language).lproj")
        return try XCTUnwrap(Bundle(path: path))
    }
}

final class SyncEventsTests: XCTestCase {
    /// A core that is not enrolled refuses to sync: the stream ends with that error, typed, and
    /// delivers no report.
    func testStreamEndsWithTheSyncError() async throws {
        let core = try await FieldproofCore.openInMemory()
        var events: [SyncEvent] = []
        do {
            for try await event in core.syncEvents() {
                events.append(event)
            }
            XCTFail("a sync without enrolment finished")
        } catch let error as FieldproofError {
            XCTAssertEqual(error.code, "not_enrolled")
        }
        XCTAssertFalse(events.contains { if case .finished = $0 { return true } else { return false } })
    }

    /// The listener hands the core's progress to the stream in order, none dropped.
    func testListenerDeliversProgressInOrder() async throws {
        let (stream, continuation) = AsyncThrowingStream<SyncEvent, Error>.makeStream()
        let listener = SyncEventListener(continuation: continuation)
        let phases: [SyncPhase] = [.pushing, .pushing, .uploadingPhotos, .uploadingPhotos, .pulling, .done]
        for (i, phase) in phases.enumerated() {
            listener.onProgress(progress: SyncProgress(
                phase: phase, opsSent: Int32(i), opsTotal: 5, photosSent: 0, photosTotal: 1,
                photoBytesSent: Int64(i) * 1000, photoBytesTotal: 5000, pagesPulled: 0, changesPulled: 0))
        }
        continuation.finish()
        var seen: [SyncProgress] = []
        for try await case .progress(let p) in stream {
            seen.append(p)
        }
        XCTAssertEqual(seen.map(\.phase), phases)
        XCTAssertEqual(seen.map(\.opsSent), [0, 1, 2, 3, 4, 5])
    }
}

final class LocationFixTests: XCTestCase {
    func testReadingWithoutPositionIsNoFix() {
        let reading = CLLocation(coordinate: CLLocationCoordinate2D(latitude: 31.23, longitude: 121.47),
                                 altitude: 0, horizontalAccuracy: -1, verticalAccuracy: -1, timestamp: Date())
        XCTAssertNil(reading.locationFix)
    }

    func testReadingBecomesFix() throws {
        let taken = Date(timeIntervalSince1970: 1_764_000_000.25)
        let reading = CLLocation(coordinate: CLLocationCoordinate2D(latitude: 31.2304, longitude: 121.4737),
                                 altitude: 4, horizontalAccuracy: 12.5, verticalAccuracy: 3, timestamp: taken)
        let fix = try XCTUnwrap(LocationFix(location: reading))
        XCTAssertEqual(fix.latitude, 31.2304)
        XCTAssertEqual(fix.longitude, 121.4737)
        XCTAssertEqual(fix.accuracyM, 12.5)
        XCTAssertEqual(fix.provider, .fused)
        XCTAssertFalse(fix.isMock)
        XCTAssertEqual(fix.fixTimeMs, 1_764_000_000_250)
    }
}
