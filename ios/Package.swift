// swift-tools-version:5.9
// The Fieldproof Swift package: the core (Rust, in FieldproofFFI.xcframework), its generated
// Swift (Sources/Fieldproof/Generated, committed; bindings/check-generated.sh keeps it current)
// and the idiomatic layer (Sources/Fieldproof/*.swift).
//
// For development the binary target is the local XCFramework that build-xcframework.sh writes
// next to this file. A release replaces it with the zipped XCFramework attached to the release
// and its checksum (`swift package compute-checksum FieldproofFFI.xcframework.zip`):
//
//     .binaryTarget(
//         name: "FieldproofFFI",
//         url: "https://<releases>/fieldproof-<version>/FieldproofFFI.xcframework.zip",
//         checksum: "<sha256 printed by compute-checksum>"
//     ),
//
// The generated Swift and the XCFramework must come from the same build of fieldproof-ffi
// (uniffi checks it at the first call and stops with "UniFFI API checksum mismatch" otherwise).
import PackageDescription

let package = Package(
    name: "Fieldproof",
    defaultLocalization: "en",
    platforms: [.iOS(.v15)],
    products: [
        .library(name: "Fieldproof", targets: ["Fieldproof"]),
    ],
    targets: [
        // The static library per platform (device; simulator arm64 + x86_64) and the C module
        // `FieldproofFFI` (FieldproofFFI.h + module.modulemap in each slice's Headers/).
        .binaryTarget(name: "FieldproofFFI", path: "FieldproofFFI.xcframework"),
        .target(
            name: "Fieldproof",
            dependencies: ["FieldproofFFI"],
            path: "Sources/Fieldproof",
            // Error texts for people, zh-Hans and en (Errors.swift).
            resources: [.process("Resources")],
            linkerSettings: [
                // getrandom (the device key, nonces) asks Security for random bytes on iOS; the
                // Keychain sealer uses it too. Everything else in the library is self-contained C
                // and Rust (SQLite, libjpeg-turbo, ring), linked against libSystem only.
                .linkedFramework("Security"),
            ]
        ),
        .testTarget(
            name: "FieldproofTests",
            dependencies: ["Fieldproof"],
            path: "Tests/FieldproofTests"
        ),
    ]
)
