import CryptoKit
import Foundation
import Security

/// Keeps the core's device signing key wrapped by a random AES-256 key held in the Keychain.
///
/// Pass it when opening the core: `try await FieldproofCore.open(path: path, sealer:
/// KeychainKeySealer())`. The core then stores only the sealed seed in its database (a database
/// that held a plain seed is sealed during that open) and calls `unseal` once per open, never per
/// action.
///
/// - The wrapping key is a generic-password Keychain item with
///   `kSecAttrAccessibleAfterFirstUnlockThisDeviceOnly`: readable by a background task
///   (BGTaskScheduler sync) while the phone is locked, once it has been unlocked since boot; never
///   in backups or on another device, so a restored backup cannot sign as this phone.
/// - Sealing is CryptoKit `AES.GCM` with a fresh 12-byte nonce; the output is
///   `[format 1][nonce | ciphertext | 16-byte tag]` (CryptoKit's combined form), the format byte
///   also bound as authenticated data.
/// - The key is never deleted here. If it is gone, opening fails with `key_unseal_failed`; the app
///   then starts a fresh database and enrols again.
///
/// Not built on the project's CI machine (no Swift or Xcode): the same contract is exercised on
/// the JVM and in Python with AES-GCM stand-ins.
public final class KeychainKeySealer: KeySealer, @unchecked Sendable {
    /// The Keychain service and account of the wrapping key; one per app (one core per process).
    public static let defaultService = "dev.fieldproof.device-key-wrap"

    private static let format: UInt8 = 1
    private let service: String
    private let account: String
    /// Two cores opened at once must not make two keys for one item.
    private let lock = NSLock()

    public init(service: String = KeychainKeySealer.defaultService, account: String = "device-key") {
        self.service = service
        self.account = account
    }

    public func seal(seed: Data) throws -> Data {
        let key = try keyOrCreate()
        do {
            let box = try AES.GCM.seal(seed, using: key, authenticating: Data([Self.format]))
            guard let combined = box.combined else {
                throw KeySealerError.Failed(detail: "AES.GCM gave no combined form")
            }
            return Data([Self.format]) + combined
        } catch let error as KeySealerError {
            throw error
        } catch {
            throw KeySealerError.Failed(detail: "AES.GCM seal: \(error)")
        }
    }

    public func unseal(sealed: Data) throws -> Data {
        guard sealed.count > 1 + 12 + 16, sealed.first == Self.format else {
            throw KeySealerError.Failed(detail: "sealed key is not in format \(Self.format) or is truncated")
        }
        guard let key = try existingKey() else {
            throw KeySealerError.Failed(detail: "no wrapping key in the Keychain (\(service))")
        }
        do {
            let box = try AES.GCM.SealedBox(combined: sealed.dropFirst())
            return try AES.GCM.open(box, using: key, authenticating: Data([Self.format]))
        } catch {
            throw KeySealerError.Failed(detail: "AES.GCM open: \(error)")
        }
    }

    private func keyOrCreate() throws -> SymmetricKey {
        lock.lock()
        defer { lock.unlock() }
        if let key = try existingKey() {
            return key
        }
        let key = SymmetricKey(size: .bits256)
        let bytes = key.withUnsafeBytes { Data($0) }
        let attributes: [String: Any] = [
            kSecClass as String: kSecClassGenericPassword,
            kSecAttrService as String: service,
            kSecAttrAccount as String: account,
            kSecAttrAccessible as String: kSecAttrAccessibleAfterFirstUnlockThisDeviceOnly,
            kSecAttrSynchronizable as String: false,
            kSecValueData as String: bytes,
        ]
        let status = SecItemAdd(attributes as CFDictionary, nil)
        if status == errSecDuplicateItem, let key = try existingKey() {
            // Made by another process (an app extension) meanwhile: use that one.
            return key
        }
        guard status == errSecSuccess else {
            throw KeySealerError.Failed(detail: "Keychain add: OSStatus \(status)")
        }
        return key
    }

    private func existingKey() throws -> SymmetricKey? {
        let query: [String: Any] = [
            kSecClass as String: kSecClassGenericPassword,
            kSecAttrService as String: service,
            kSecAttrAccount as String: account,
            kSecReturnData as String: true,
            kSecMatchLimit as String: kSecMatchLimitOne,
        ]
        var item: CFTypeRef?
        let status = SecItemCopyMatching(query as CFDictionary, &item)
        switch status {
        case errSecSuccess:
            guard let data = item as? Data, data.count == 32 else {
                throw KeySealerError.Failed(detail: "Keychain item is not a 256-bit key")
            }
            return SymmetricKey(data: data)
        case errSecItemNotFound:
            return nil
        default:
            // errSecInteractionNotAllowed: not unlocked since boot. Retry later; nothing was written.
            throw KeySealerError.Failed(detail: "Keychain read: OSStatus \(status)")
        }
    }
}
