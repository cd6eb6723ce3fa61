import Foundation
import IsoMerge
import Linalg

/// merge-bench: end-to-end merge timings (reading, merging, writing) and peak memory per method.
///
///   merge-bench --base BASE --models FT1 FT2 ... [--methods iso_c,iso_cts,tsv_m] [--output DIR] [--json]
///
/// Each method runs in a child process of its own, so that its peak resident set size is its own.
let usage = "usage: merge-bench --base BASE --models FT ... [--methods a,b,...] [--output DIR] [--json] [--threads N]"

var base = "", models: [String] = [], methods = ["iso_c", "iso_cts", "tsv_m"], output = NSTemporaryDirectory()
var json = false, child = false, threads: Int? = nil
var iterator = CommandLine.arguments.dropFirst().makeIterator()
var pendingModels = false
while let argument = iterator.next() {
    if pendingModels && !argument.hasPrefix("--") {
        models.append(argument)
        continue
    }
    pendingModels = false
    switch argument {
    case "--base": base = iterator.next() ?? ""
    case "--models": pendingModels = true
    case "--methods": methods = (iterator.next() ?? "").split(separator: ",").map(String.init)
    case "--output": output = iterator.next() ?? output
    case "--threads": threads = Int(iterator.next() ?? "")
    case "--json": json = true
    case "--child": child = true
    default:
        FileHandle.standardError.write(Data("unknown option \(argument)\n\(usage)\n".utf8))
        exit(2)
    }
}
guard !base.isEmpty, !models.isEmpty else {
    FileHandle.standardError.write(Data("\(usage)\n".utf8))
    exit(2)
}

MemoryTuning.reuseFreedMemory()

if child {
    // One method, timed end to end; prints "seconds peak_bytes".
    guard let rule = try? MergeRules.standard.make(methods[0]) else {
        FileHandle.standardError.write(Data("unknown method \(methods[0])\n".utf8))
        exit(2)
    }
    var options = MergeOptions(rule: rule)
    options.threads = threads
    let start = Date()
    let destination = output + "/merge-bench-\(methods[0]).safetensors"
    do {
        let engine = try MergeEngine(base: try Checkpoint(path: base), models: try models.map { try Checkpoint(path: $0) }, options: options)
        _ = try engine.merge(to: destination, overwrite: true)
    } catch {
        FileHandle.standardError.write(Data("merge-bench: \(error)\n".utf8))
        exit(1)
    }
    let seconds = Date().timeIntervalSince(start)
    try? FileManager.default.removeItem(atPath: destination)
    var usage = rusage()
    getrusage(RUSAGE_SELF.rawValue, &usage)
    print(seconds, usage.ru_maxrss * 1024)
    exit(0)
}

if !json { print("method           seconds   peak RSS (MB)") }
for method in methods {
    let process = Process()
    process.executableURL = URL(fileURLWithPath: CommandLine.arguments[0])
    process.arguments = ["--child", "--base", base, "--methods", method, "--output", output]
        + (threads.map { ["--threads", String($0)] } ?? []) + ["--models"] + models
    let pipe = Pipe()
    process.standardOutput = pipe
    try process.run()
    let text = String(decoding: pipe.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
    process.waitUntilExit()
    let fields = text.split(separator: " ").compactMap { Double($0.trimmingCharacters(in: .whitespacesAndNewlines)) }
    guard process.terminationStatus == 0, fields.count == 2 else {
        FileHandle.standardError.write(Data("\(method) failed\n".utf8))
        exit(1)
    }
    let megabytes = fields[1] / 1_048_576
    if json {
        print("{\"op\":\"merge\",\"method\":\"\(method)\",\"tasks\":\(models.count),\"seconds\":\(fields[0]),\"peak_rss_mb\":\(megabytes)}")
    } else {
        print(method.padding(toLength: 16, withPad: " ", startingAt: 0) + String(format: "%9.2f   %10.0f", fields[0], megabytes))
    }
}
