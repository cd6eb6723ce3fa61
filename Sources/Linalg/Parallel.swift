import Dispatch
import Foundation
import Synchronization

/// How many cores Linalg may use, and how work is split across them.
///
/// Every parallel routine partitions its output into disjoint parts whose elements are computed
/// by exactly the same sequence of operations as in a single-threaded run, so results do not
/// depend on the thread count.
public enum Parallelism {
    private static let configured = Atomic<Int>(0)
    /// Read once: Foundation answers this by parsing cgroup files, far too slow for a hot path.
    private static let processors = max(1, ProcessInfo.processInfo.activeProcessorCount)

    /// The number of threads parallel routines use when a call does not say; defaults to the
    /// number of active processors. Setting 0 restores that default.
    public static var maximumThreads: Int {
        get {
            let value = configured.load(ordering: .relaxed)
            return value > 0 ? value : processors
        }
        set { configured.store(max(0, newValue), ordering: .relaxed) }
    }

    /// The thread count for a call that asked for `requested` (nil: the default), for work of
    /// `flops` floating-point operations: parallelism is worth a few microseconds of dispatch
    /// only above about a million operations.
    static func threads(requested: Int?, flops: Double) -> Int {
        let limit = max(1, requested ?? maximumThreads)
        return flops < 1.0e6 ? 1 : limit
    }

    /// Runs `body(part)` for `part` in `0..<parts`, concurrently when `parts > 1`.
    static func forEach(_ parts: Int, _ body: @Sendable (Int) -> Void) {
        if parts <= 1 {
            if parts == 1 { body(0) }
            return
        }
        DispatchQueue.concurrentPerform(iterations: parts, execute: body)
    }

    /// Splits `count` items into `parts` contiguous ranges whose bounds are multiples of `grain`
    /// (except the last), as even as that allows.
    static func split(_ count: Int, into parts: Int, grain: Int) -> [Range<Int>] {
        let units = (count + grain - 1) / grain
        let parts = max(1, min(parts, units))
        return (0..<parts).map { p in
            let lower = min(count, (units * p / parts) * grain)
            let upper = min(count, (units * (p + 1) / parts) * grain)
            return lower..<upper
        }
    }
}

/// Runs `body(part)` for `part` in `0..<parts` on as many threads at once: the caller runs part 0
/// and a new thread each of the others. For parts that wait on one another (a pipeline), which
/// `Parallelism.forEach` cannot promise to run at the same time.
func runConcurrently(_ parts: Int, _ body: @escaping @Sendable (Int) -> Void) {
    let finished = DispatchSemaphore(value: 0)
    for part in 1..<max(1, parts) {
        Thread {
            body(part)
            finished.signal()
        }.start()
    }
    body(0)
    for _ in 1..<max(1, parts) { finished.wait() }
}

/// A minimal mutual-exclusion lock for the few places where parallel parts share a result.
final class Lock: @unchecked Sendable {
    private let mutex = Locked<Void>(())
    func locked<R>(_ body: () throws -> R) rethrows -> R {
        try mutex.withLock { _ in try body() }
    }
}

/// A raw pointer that parallel parts may share when each writes disjoint elements.
struct SendablePointer<T>: @unchecked Sendable {
    let pointer: UnsafeMutablePointer<T>
    init(_ pointer: UnsafeMutablePointer<T>) { self.pointer = pointer }
}

/// Per-part counters written by parallel parts (each part writes only its own slot). The slots
/// are raw memory, not an array: an array's element setter is a modifying access to the whole
/// array (a uniqueness check of its buffer), which parts running at once would race on.
final class SendableCounts: @unchecked Sendable {
    private let values: UnsafeMutableBufferPointer<Int>
    init(_ count: Int) {
        values = .allocate(capacity: count)
        values.initialize(repeating: 0)
    }
    deinit { values.deallocate() }
    func set(_ index: Int, _ value: Int) { values[index] = value }
    var total: Int { values.reduce(0, +) }
}

/// One flag per item, all false at first, set and read from several threads on disjoint items.
final class SendableFlags: @unchecked Sendable {
    private let values: UnsafeMutableBufferPointer<Bool>
    init(_ count: Int) {
        values = .allocate(capacity: count)
        values.initialize(repeating: false)
    }
    deinit { values.deallocate() }
    subscript(index: Int) -> Bool {
        get { values[index] }
        set { values[index] = newValue }
    }
}

/// The largest of the values reported from several threads.
final class SendableMaximum: @unchecked Sendable {
    private var largest = 0.0
    private let lock = Lock()
    func report(_ value: Double) { lock.locked { largest = max(largest, value) } }
    var value: Double { lock.locked { largest } }
}
