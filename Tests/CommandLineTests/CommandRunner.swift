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

    static func run(_ arguments: [String], directory: String? = nil) throws -> CommandResult {
        let scratch = FileManager.default.temporaryDirectory.appendingPathComponent("isomerge-run-\(UUID().uuidString)").path
        return try runChildProcess(executable, arguments: arguments, directory: directory.map { URL(fileURLWithPath: $0) },
                                   scratch: scratch)
    }

    static func fixture(_ name: String) -> String {
        Bundle.module.url(forResource: "Fixtures", withExtension: nil)!.appendingPathComponent(name).path
    }
}
