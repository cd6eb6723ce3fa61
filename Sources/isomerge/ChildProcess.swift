import Foundation

/// What a finished child process printed, and how it exited (public for the command-line tests).
public struct ChildProcessResult {
    public let status: Int32
    public let stdout: String
    public let stderr: String
}

/// Runs `executable` with `arguments` (in `directory`, if given) to completion, stdin closed.
/// Both output streams go to temporary files beside `scratch` (a path prefix), removed afterwards,
/// so that neither can fill a pipe and block the child.
public func runChildProcess(_ executable: URL, arguments: [String], directory: URL? = nil, scratch: String) throws -> ChildProcessResult {
    let process = Process()
    process.executableURL = executable
    process.arguments = arguments
    if let directory { process.currentDirectoryURL = directory }
    let outURL = URL(fileURLWithPath: scratch + ".stdout"), errURL = URL(fileURLWithPath: scratch + ".stderr")
    _ = FileManager.default.createFile(atPath: outURL.path, contents: nil)
    _ = FileManager.default.createFile(atPath: errURL.path, contents: nil)
    defer {
        try? FileManager.default.removeItem(at: outURL)
        try? FileManager.default.removeItem(at: errURL)
    }
    process.standardOutput = try FileHandle(forWritingTo: outURL)
    process.standardError = try FileHandle(forWritingTo: errURL)
    process.standardInput = FileHandle.nullDevice
    try process.run()
    process.waitUntilExit()
    return ChildProcessResult(status: process.terminationStatus,
                              stdout: String(decoding: (try? Data(contentsOf: outURL)) ?? Data(), as: UTF8.self),
                              stderr: String(decoding: (try? Data(contentsOf: errURL)) ?? Data(), as: UTF8.self))
}
