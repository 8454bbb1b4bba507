import Foundation

/// What `FieldproofCore.syncEvents()` delivers: progress after each step of the sync, then the
/// report once it is done (the last element; the stream then finishes).
public enum SyncEvent {
    case progress(SyncProgress)
    case finished(SyncReport)
}

#if compiler(>=6)
extension SyncEvent: Sendable {}
#endif

extension FieldproofCore {
    /// Runs one sync and streams its progress, then its report.
    ///
    ///     for try await event in core.syncEvents() {
    ///         switch event {
    ///         case .progress(let p): bar.progress = Double(p.photoBytesSent) / Double(max(p.photoBytesTotal, 1))
    ///         case .finished(let report): show(report)
    ///         }
    ///     }
    ///
    /// The sync starts when the stream is created and runs on the core's own threads (never the
    /// caller's). Ending the stream early — cancelling the task that iterates it, or leaving the
    /// loop — cancels the sync through `SyncCancel`: it stops before its next request, keeps what
    /// the server already answered, and the next sync resumes the rest. A sync that fails ends the
    /// stream with its `FieldproofError` (`code` says why; `sync_cancelled` when cancelled).
    /// Events are buffered, none dropped, in the order the core sent them.
    public func syncEvents() -> AsyncThrowingStream<SyncEvent, Error> {
        AsyncThrowingStream { continuation in
            let cancel = SyncCancel()
            let listener = SyncEventListener(continuation: continuation)
            continuation.onTermination = { termination in
                // `.finished` follows the sync's own end; only a consumer that went away needs
                // the sync stopped. The sync then ends with `sync_cancelled`, which the
                // terminated stream ignores.
                if case .cancelled = termination {
                    cancel.cancel()
                }
            }
            // uniffi does not pass Swift task cancellation to Rust; `cancel` does that.
            Task {
                do {
                    let report = try await self.sync(listener: listener, cancel: cancel)
                    continuation.yield(.finished(report))
                    continuation.finish()
                } catch {
                    continuation.finish(throwing: error)
                }
            }
        }
    }
}

/// The core's progress callback, feeding the stream. Called on the core's sync thread between
/// requests: `yield` only buffers, so the sync is never held up by the consumer.
final class SyncEventListener: SyncListener {
    private let continuation: AsyncThrowingStream<SyncEvent, Error>.Continuation

    init(continuation: AsyncThrowingStream<SyncEvent, Error>.Continuation) {
        self.continuation = continuation
    }

    func onProgress(progress: SyncProgress) {
        continuation.yield(.progress(progress))
    }
}
