import CoreLocation
import Fieldproof

/// One location reading for a check-in or check-out (the app never tracks the rep). Asks for
/// "when in use" permission the first time. Nil when there is no permission or no position:
/// the core then flags the visit `no_fix`, or refuses it where the store requires a fix.
@MainActor
final class OneFix: NSObject, CLLocationManagerDelegate {
    private let manager = CLLocationManager()
    private var waiting: CheckedContinuation<CLLocation?, Never>?

    func read() async -> LocationFix? {
        manager.delegate = self
        manager.desiredAccuracy = kCLLocationAccuracyBest
        let reading = await withCheckedContinuation { continuation in
            waiting = continuation
            switch manager.authorizationStatus {
            case .notDetermined:
                manager.requestWhenInUseAuthorization()  // answered in the delegate below
            case .authorizedWhenInUse, .authorizedAlways:
                manager.requestLocation()
            default:
                finish(nil)
            }
        }
        return reading?.locationFix
    }

    private func finish(_ reading: CLLocation?) {
        waiting?.resume(returning: reading)
        waiting = nil
    }

    nonisolated func locationManagerDidChangeAuthorization(_ manager: CLLocationManager) {
        Task { @MainActor in
            guard waiting != nil else { return }
            switch manager.authorizationStatus {
            case .notDetermined: return
            case .authorizedWhenInUse, .authorizedAlways: manager.requestLocation()
            default: finish(nil)
            }
        }
    }

    nonisolated func locationManager(_ manager: CLLocationManager, didUpdateLocations locations: [CLLocation]) {
        Task { @MainActor in finish(locations.last) }
    }

    nonisolated func locationManager(_ manager: CLLocationManager, didFailWithError error: Error) {
        Task { @MainActor in finish(nil) }
    }
}
