#if canImport(CoreLocation)
import CoreLocation

extension LocationFix {
    /// The core's fix for a Core Location reading, or nil when the reading has no position
    /// (`horizontalAccuracy` < 0 means the latitude and longitude are not valid): pass nil as the
    /// check-in's fix then, and the core flags the visit `no_fix` (or refuses it in block mode).
    ///
    /// - accuracy: `horizontalAccuracy`, the radius in metres of 68 % confidence, the same
    ///   measure as Android's `Location.accuracy`, so one geofence rule serves both;
    /// - mock flag: `sourceInformation.isSimulatedBySoftware` (iOS 15+): true for a location
    ///   simulated by Xcode or a tool that injects it; `sourceInformation` is nil for real fixes
    ///   on some devices, which counts as not simulated;
    /// - provider: `.fused`: Core Location blends GPS, Wi-Fi and cell and does not say which;
    /// - time: `timestamp`, when the fix was taken (a cached fix is old, and the core flags a
    ///   stale one), in Unix milliseconds.
    public init?(location: CLLocation) {
        guard location.horizontalAccuracy >= 0 else { return nil }
        var isMock = false
        if #available(iOS 15.0, macOS 12.0, *) {
            isMock = location.sourceInformation?.isSimulatedBySoftware ?? false
        }
        self.init(
            latitude: location.coordinate.latitude,
            longitude: location.coordinate.longitude,
            accuracyM: location.horizontalAccuracy,
            provider: .fused,
            isMock: isMock,
            fixTimeMs: Int64((location.timestamp.timeIntervalSince1970 * 1000).rounded())
        )
    }
}

extension CLLocation {
    /// `LocationFix(location: self)`: nil when this reading has no valid position.
    public var locationFix: LocationFix? { LocationFix(location: self) }
}
#endif
