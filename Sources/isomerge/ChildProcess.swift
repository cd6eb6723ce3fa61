import Foundation
import IsoMerge

/// What a finished child process printed, and how it exited (public for the command-line tests).
public struct ChildProcessResult {
    /// The exit status, or 128 + the signal that ended it.
    public let status: Int32
    public let stdout: String
    public let stderr: String
}

/// A child process started with posix_spawn in a process group of its own, with SIGINT, SIGTERM
/// and SIGHUP at their default actions (this tool ignores them to handle them itself, and an
/// ignored signal would stay ignored across exec). Being a group leader lets `signal(_:)` reach
/// everything the child started (a shell's own children too), and keeps a terminal's Ctrl-C
/// from reaching it directly: the tool forwards it. stdin is /dev/null; stdout and stderr go to
/// the files given (created or truncated), so that neither can fill a pipe and block the child.
public final class ChildProcess {
    public let pid: pid_t
    private var exitStatus: Int32?

    /// Starts `executable` with `arguments`, the environment of this process plus `environment`.
    public init(_ executable: String, arguments: [String], environment: [String: String] = [:],
                stdout: String, stderr: String) throws {
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
        posix_spawn_file_actions_addopen(&actions, 1, stdout, O_WRONLY | O_CREAT | O_TRUNC, 0o644)
        posix_spawn_file_actions_addopen(&actions, 2, stderr, O_WRONLY | O_CREAT | O_TRUNC, 0o644)
        var attributes = posix_spawnattr_t()
        posix_spawnattr_init(&attributes)
        defer { posix_spawnattr_destroy(&attributes) }
        var defaults = sigset_t()
        sigemptyset(&defaults)
        for signal in Interruption.handledSignals { sigaddset(&defaults, signal) }
        var unblocked = sigset_t()
        sigemptyset(&unblocked)
        posix_spawnattr_setsigdefault(&attributes, &defaults)
        posix_spawnattr_setsigmask(&attributes, &unblocked)
        posix_spawnattr_setpgroup(&attributes, 0)
        posix_spawnattr_setflags(&attributes, Int16(POSIX_SPAWN_SETPGROUP | POSIX_SPAWN_SETSIGDEF | POSIX_SPAWN_SETSIGMASK))
        var environmentLines = ProcessInfo.processInfo.environment.merging(environment) { _, new in new }.map { "\($0.key)=\($0.value)" }
        environmentLines.sort()
        var pid: pid_t = 0
        let result = withCStrings([executable] + arguments) { argv in
            withCStrings(environmentLines) { envp in posix_spawn(&pid, executable, &actions, &attributes, argv, envp) }
        }
        guard result == 0 else { throw RuntimeError("cannot start \(executable): \(String(cString: strerror(result)))") }
        self.pid = pid
    }

    /// Sends `signal` to the child's process group (nothing once it has been waited for).
    public func signal(_ signal: Int32) {
        if exitStatus == nil { killpg(pid, signal) }
    }

    /// Waits for the child to end: its exit status, or 128 + the signal that ended it; nil if
    /// `timeout` seconds passed first (the child keeps running).
    public func wait(timeout: Double? = nil) -> Int32? {
        if let exitStatus { return exitStatus }
        let deadline = timeout.map { Date().addingTimeInterval($0) }
        var status: Int32 = 0
        while true {
            let done = waitpid(pid, &status, deadline == nil ? 0 : WNOHANG)
            if done == pid { break }
            if done < 0 && errno != EINTR { return nil }
            if let deadline {
                if Date() > deadline { return nil }
                usleep(10_000)
            }
        }
        // WIFEXITED / WTERMSIG, which Swift does not import (they are macros).
        let signal = status & 0x7F
        exitStatus = signal == 0 ? (status >> 8) & 0xFF : 128 + signal
        return exitStatus
    }
}

/// Runs `executable` with `arguments` to completion (see `ChildProcess`); its output is read from
/// `scratch` + ".stdout" and ".stderr", removed afterwards.
public func runChildProcess(_ executable: String, arguments: [String], environment: [String: String] = [:],
                            scratch: String) throws -> ChildProcessResult {
    let (out, err) = (scratch + ".stdout", scratch + ".stderr")
    defer {
        unlink(out)
        unlink(err)
    }
    let child = try Interruption.start { try ChildProcess(executable, arguments: arguments, environment: environment, stdout: out, stderr: err) }
    defer { Interruption.finished(child) }
    guard let status = child.wait() else { throw RuntimeError("cannot wait for \(executable): \(String(cString: strerror(errno)))") }
    // Not FileManager.contents(atPath:): in Swift 6.3.1 it leaks 4 KiB for every empty file it reads
    // (LeakSanitizer shows it; an evaluator's stderr is usually empty).
    func captured(_ path: String) -> String {
        String(decoding: (try? readWholeFile(path, limit: Int.max)) ?? [], as: UTF8.self)
    }
    return ChildProcessResult(status: status, stdout: captured(out), stderr: captured(err))
}

/// Calls `body` with a NULL-terminated C array of `strings`.
private func withCStrings<R>(_ strings: [String], _ body: ([UnsafeMutablePointer<CChar>?]) -> R) -> R {
    let pointers = strings.map { strdup($0) } + [nil]
    defer { pointers.forEach { free($0) } }
    return body(pointers)
}
