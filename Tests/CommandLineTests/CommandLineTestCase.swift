import Foundation
import IsoMerge
import XCTest

/// A test case with a fresh scratch directory and small synthetic checkpoints written into it.
class CommandLineTestCase: XCTestCase {
    var directory = ""

    override func setUpWithError() throws {
        directory = FileManager.default.temporaryDirectory.appendingPathComponent("isomerge-cli-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        try FileManager.default.createDirectory(atPath: directory + ".logs", withIntermediateDirectories: true)
        let path = directory
        addTeardownBlock {
            try? FileManager.default.removeItem(atPath: path)
            try? FileManager.default.removeItem(atPath: path + ".logs")
        }
    }

    /// A fresh path prefix outside the scratch directory, for a started tool's output files.
    func logPath() -> String {
        directory + ".logs/" + UUID().uuidString
    }

    /// Writes a checkpoint of F32 tensors (plus an I64 step counter) at `name` in the scratch directory.
    /// (Little-endian hosts: a Float's bytes are its F32 encoding.)
    func write(_ name: String, _ tensors: [(String, [Int], [Float])], step: Int64 = 7,
               metadata: [String: String] = [:]) throws -> String {
        let path = directory + "/" + name
        let specs = tensors.map { TensorSpec(name: $0.0, dtype: .f32, shape: $0.1) } + [TensorSpec(name: "step", dtype: .i64, shape: [1])]
        let writer = try SafetensorsWriter(path: path, tensors: specs, metadata: metadata)
        for spec in writer.order {
            if spec.name == "step" {
                try withUnsafeBytes(of: step.littleEndian) { try writer.write("step", bytes: $0) }
            } else {
                // As stored bytes, so that a test can write NaN and ∞ (which writing values refuses).
                try tensors.first { $0.0 == spec.name }!.2.withUnsafeBytes { try writer.write(spec.name, bytes: $0) }
            }
        }
        try writer.finish()
        return path
    }

    /// A base and three fine-tuned checkpoints with a 12×8 matrix, a 5×7 matrix and a bias.
    func models() throws -> (base: String, models: [String]) {
        try models(shapes: [("layer.weight", [12, 8]), ("layer.bias", [8]), ("head.weight", [5, 7])])
    }

    /// A base and `count` fine-tuned checkpoints (named `prefix`base… and `prefix`ft_i…) with the given tensors.
    func models(shapes: [(String, [Int])], count: Int = 3, prefix: String = "") throws -> (base: String, models: [String]) {
        var state: UInt64 = 99
        func random() -> Float {
            state = state &* 6364136223846793005 &+ 1442695040888963407
            return Float(Int64(bitPattern: state >> 11) % 2000 - 1000) / 1000
        }
        let baseTensors = shapes.map { ($0.0, $0.1, (0..<$0.1.reduce(1, *)).map { _ in random() }) }
        let base = try write(prefix + "base.safetensors", baseTensors)
        let models = try (0..<count).map { t in
            try write(prefix + "ft_\(t).safetensors", baseTensors.map { ($0.0, $0.1, $0.2.map { $0 + 0.1 * random() }) })
        }
        return (base, models)
    }

    /// Every entry below `path` (relative path → contents; directories map to empty data and end in "/").
    func snapshot(_ path: String) throws -> [String: Data] {
        var result: [String: Data] = [:]
        let manager = FileManager.default
        for entry in try manager.subpathsOfDirectory(atPath: path) {
            let full = path + "/" + entry
            var isDirectory: ObjCBool = false
            _ = manager.fileExists(atPath: full, isDirectory: &isDirectory)
            if isDirectory.boolValue {
                result[entry + "/"] = Data()
            } else {
                result[entry] = manager.contents(atPath: full) ?? Data("<unreadable or dangling>".utf8)
            }
        }
        return result
    }

    /// The names in `path` that look like temporaries (hidden entries).
    func hiddenEntries(_ path: String) throws -> [String] {
        try FileManager.default.contentsOfDirectory(atPath: path).filter { $0.hasPrefix(".") }.sorted()
    }

    /// Polls `condition` every 10 ms until it holds (true) or `timeout` seconds pass (false).
    func waitUntil(timeout: Double, _ condition: () throws -> Bool) rethrows -> Bool {
        let deadline = Date().addingTimeInterval(timeout)
        while Date() < deadline {
            if try condition() { return true }
            usleep(10_000)
        }
        return try condition()
    }

    /// `text` quoted for /bin/sh.
    func shellQuote(_ text: String) -> String { "'" + text.replacingOccurrences(of: "'", with: "'\\''") + "'" }
}
