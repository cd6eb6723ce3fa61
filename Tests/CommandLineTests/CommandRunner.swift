import Foundation
import isomerge
import XCTest

/// What a run of the `isomerge` executable printed, and its exit status.
typealias CommandResult = ChildProcessResult

/// Runs the built `isomerge` executable and captures its output.
enum Isomerge {
    /// The executable sits beside the test bundle in the build products directory.
    static var executable: URL {
        var directory = Bundle(for: Marker.self).bundleURL
        while directory.pathExtension == "xctest" || directory.lastPathComponent == "Contents" {
            directory.deleteLastPathComponent()
        }
        return directory.appendingPathComponent("isomerge")
    }

    private final class Marker {}

    static func run(_ arguments: [String], environment: [String: String] = [:]) throws -> CommandResult {
        try runChildProcess(executable.path, arguments: arguments, environment: environment, scratch: scratchPath())
    }

    /// Runs `script` with /bin/sh, `$ISOMERGE` naming the executable (for redirections and limits).
    static func shell(_ script: String) throws -> CommandResult {
        try runChildProcess("/bin/sh", arguments: ["-c", script], environment: ["ISOMERGE": executable.path], scratch: scratchPath())
    }

    /// Starts the tool without waiting; its output goes to `output` + ".stdout" / ".stderr".
    static func start(_ arguments: [String], output: String) throws -> ChildProcess {
        try ChildProcess(executable.path, arguments: arguments, stdout: output + ".stdout", stderr: output + ".stderr")
    }

    static func fixture(_ name: String) -> String {
        Bundle.module.url(forResource: "Fixtures", withExtension: nil)!.appendingPathComponent(name).path
    }

    private static func scratchPath() -> String {
        FileManager.default.temporaryDirectory.appendingPathComponent("isomerge-run-\(UUID().uuidString)").path
    }
}
