import Dispatch
import Foundation
import IsoMerge

/// What the tool does when SIGINT, SIGTERM or SIGHUP arrives: the evaluator processes it started
/// are sent SIGTERM (their whole process groups), every temporary file and directory of this
/// process is removed (`TemporaryRegistry`), a line says so on stderr, and the process exits
/// with status 128 + the signal number, as a shell reports a process ended by that signal.
/// Published outputs are whole; outputs not yet published do not appear.
///
/// The signals are received through dispatch sources, so the cleanup runs on an ordinary thread
/// (free to take locks and call anything) while the work goes on until it exits. They are handled
/// even when the tool was started with them ignored (a background job of a non-interactive
/// shell ignores SIGINT): a signal sent on purpose must not leave temporaries behind. SIGKILL
/// cannot be handled; `StaleTemporaries` removes what a killed process left, on a later run.
enum Interruption {
    static let handledSignals: [Int32] = [SIGINT, SIGTERM, SIGHUP]

    /// A queue of its own (overcommitting: it gets a thread even while the merge keeps every
    /// core of the global queues busy), so that handling never waits for a tensor to finish.
    private static let queue = DispatchQueue(label: "isomerge.interruption")
    private static let lock = NSLock()
    nonisolated(unsafe) private static var children: [ObjectIdentifier: ChildProcess] = [:]
    nonisolated(unsafe) private static var sources: [DispatchSourceSignal] = []

    /// Starts handling the signals (once, before any work).
    static func install() {
        for number in handledSignals {
            signal(number, SIG_IGN)
            let source = DispatchSource.makeSignalSource(signal: number, queue: queue)
            source.setEventHandler { interrupted(by: number) }
            source.resume()
            sources.append(source)
        }
    }

    /// Starts a child process that an interruption must end too. The start and the record are
    /// one step for `interrupted(by:)`, so no child can escape it.
    static func start(_ make: () throws -> ChildProcess) rethrows -> ChildProcess {
        lock.lock()
        defer { lock.unlock() }
        let child = try make()
        children[ObjectIdentifier(child)] = child
        return child
    }

    /// Forgets a child that has ended.
    static func finished(_ child: ChildProcess) {
        lock.lock()
        defer { lock.unlock() }
        children[ObjectIdentifier(child)] = nil
    }

    private static func interrupted(by number: Int32) -> Never {
        lock.lock()
        for child in children.values { child.signal(SIGTERM) }
        let clear = isatty(STDERR_FILENO) == 1 ? "\r\u{1B}[2K" : ""
        let name = [SIGINT: "SIGINT", SIGTERM: "SIGTERM", SIGHUP: "SIGHUP"][number] ?? "signal \(number)"
        let message = Array("\(clear)isomerge: interrupted by \(name); this run's temporary files are removed\n".utf8)
        _ = message.withUnsafeBytes { write(STDERR_FILENO, $0.baseAddress, $0.count) }
        TemporaryRegistry.shared.removeAllAndExit(status: 128 + number)
    }
}
