import Foundation
import IsoMerge
import Linalg

/// merge-bench: end-to-end merge timings (reading, merging, writing) and peak memory per method.
///
///   merge-bench --base BASE --models FT1 FT2 ... [--methods iso_c,iso_cts,tsv_m] [--output DIR] [--json]
///               [--precision auto|float32|float64]
///   merge-bench --adapters DIR1 DIR2 ... [--methods ...] [--output DIR] [--json]
///
/// `--precision` is the engine's working precision as `isomerge merge --precision` takes it (default
/// auto: Double when an output tensor is 16-bit); float32 times a BF16 model with the arithmetic of
/// a float32 code such as the paper's.
///
/// With `--adapters` (PEFT LoRA adapters, e.g. from scripts/make_lora_adapters.py) each method merges
/// adapter → adapter (`AdapterMerge.writeAdapter`), and, for the ratio, the same merge through dense
/// task vectors is timed on the first module (τ_t = s·B·A densified, the rule's dense matrix rule);
/// the whole model would take at least that times the module count (the first module of a Llama
/// layer, q_proj, is its smallest). A layer's seven modules take hours on two cores: the exactly
/// rank-deficient Float sums go to Double (docs/ALGORITHMS.md).
///
/// Each method runs in a child process of its own, so that its peak resident set size is its own.
let usage = "usage: merge-bench (--base BASE --models FT ... | --adapters DIR ...) [--methods a,b,...] [--output DIR] [--json] [--threads N] [--precision auto|float32|float64]"

var base = "", models: [String] = [], adapters: [String] = [], methods = ["iso_c", "iso_cts", "tsv_m"], output = NSTemporaryDirectory()
var json = false, child = false, denseModule = false, threads: Int? = nil, precision: Precision? = nil
var iterator = CommandLine.arguments.dropFirst().makeIterator()
var pendingModels = false, pendingAdapters = false
while let argument = iterator.next() {
    if (pendingModels || pendingAdapters) && !argument.hasPrefix("--") {
        if pendingModels { models.append(argument) } else { adapters.append(argument) }
        continue
    }
    (pendingModels, pendingAdapters) = (false, false)
    switch argument {
    case "--base": base = iterator.next() ?? ""
    case "--models": pendingModels = true
    case "--adapters": pendingAdapters = true
    case "--dense-module": denseModule = true
    case "--methods": methods = (iterator.next() ?? "").split(separator: ",").map(String.init)
    case "--output": output = iterator.next() ?? output
    case "--threads": threads = Int(iterator.next() ?? "")
    case "--json": json = true
    case "--precision":
        let name = iterator.next() ?? ""
        guard name == "auto" || Precision(rawValue: name) != nil else {
            FileHandle.standardError.write(Data("--precision takes auto, float32 or float64\n\(usage)\n".utf8))
            exit(2)
        }
        precision = Precision(rawValue: name)
    case "--child": child = true
    default:
        FileHandle.standardError.write(Data("unknown option \(argument)\n\(usage)\n".utf8))
        exit(2)
    }
}
guard (!base.isEmpty && !models.isEmpty) || (!adapters.isEmpty && models.isEmpty) else {
    FileHandle.standardError.write(Data("\(usage)\n".utf8))
    exit(2)
}

MemoryTuning.reuseFreedMemory()

/// "seconds peak_bytes" of this process since `start`.
func report(since start: Date) -> Never {
    let seconds = Date().timeIntervalSince(start)
    var usage = rusage()
    getrusage(RUSAGE_SELF.rawValue, &usage)
    print(seconds, usage.ru_maxrss * 1024)
    exit(0)
}

if child && !adapters.isEmpty {
    // One matrix method on the adapters: adapter → adapter end to end, or (--dense-module) its dense
    // matrix rule on the first module's densified task vectors.
    guard let rule = try? MergeRules.standard.make(methods[0]) else {
        FileHandle.standardError.write(Data("unknown method \(methods[0])\n".utf8))
        exit(2)
    }
    var options = MergeOptions(rule: rule)
    options.threads = threads
    options.precision = precision
    do {
        let opened = try adapters.map { try LoRAAdapter(path: $0) }
        let start = Date()
        if denseModule {
            for module in opened[0].modules.prefix(1) {
                func taskVectors<T: LinalgScalar>(_: T.Type) throws -> [Matrix<T>] {
                    try opened.map { adapter in
                        let (left, right) = try adapter.factors(of: adapter.module(named: module.name)!, as: T.self)
                        return product(left, right, transposeB: true, threads: threads)
                    }
                }
                // As the engine merges a matrix: Float, redone in Double where Float cannot decide.
                _ = try rule.mergeMatrices(try taskVectors(Float.self), exact: { try taskVectors(Double.self) }, threads: threads)
            }
        } else {
            let merge = try AdapterMerge(adapters: opened, base: nil, options: options)
            _ = try merge.writeAdapter(to: output + "/merge-bench-\(methods[0])-adapter", overwrite: true)
        }
        report(since: start)
    } catch {
        FileHandle.standardError.write(Data("merge-bench: \(error)\n".utf8))
        exit(1)
    }
}

if child {
    // One method, timed end to end; prints "seconds peak_bytes".
    guard let rule = try? MergeRules.standard.make(methods[0]) else {
        FileHandle.standardError.write(Data("unknown method \(methods[0])\n".utf8))
        exit(2)
    }
    var options = MergeOptions(rule: rule)
    options.threads = threads
    options.precision = precision
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

/// Runs this program as a child with `arguments`; its (seconds, peak bytes).
@MainActor
func runChild(_ arguments: [String], method: String) throws -> [Double] {
    let process = Process()
    process.executableURL = URL(fileURLWithPath: CommandLine.arguments[0])
    process.arguments = ["--child", "--methods", method, "--output", output] + (threads.map { ["--threads", String($0)] } ?? [])
        + (precision.map { ["--precision", $0.rawValue] } ?? []) + arguments
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
    return fields
}

if !adapters.isEmpty {
    let modules = (try? LoRAAdapter(path: adapters[0]).modules.count) ?? 0
    if !json { print("method      adapter→adapter s   peak RSS (MB)   dense, 1 module s   dense ×\(modules) modules / adapter") }
    for method in methods {
        let factored = try runChild(["--adapters"] + adapters, method: method)
        let dense = try runChild(["--dense-module", "--adapters"] + adapters, method: method)
        if json {
            print("{\"op\":\"adapter_merge\",\"method\":\"\(method)\",\"tasks\":\(adapters.count),\"seconds\":\(factored[0]),"
                  + "\"peak_rss_mb\":\(factored[1] / 1_048_576),\"dense_module_seconds\":\(dense[0]),\"modules\":\(modules)}")
        } else {
            print(method.padding(toLength: 12, withPad: " ", startingAt: 0)
                  + String(format: "%18.2f   %13.0f   %17.2f   ≥ %8.0f×", factored[0], factored[1] / 1_048_576, dense[0],
                                  Double(modules) * dense[0] / factored[0]))
        }
    }
    exit(0)
}

if !json { print("method           seconds   peak RSS (MB)") }
for method in methods {
    let fields = try runChild(["--base", base, "--models"] + models, method: method)
    let megabytes = fields[1] / 1_048_576
    if json {
        print("{\"op\":\"merge\",\"method\":\"\(method)\",\"tasks\":\(models.count),\"seconds\":\(fields[0]),\"peak_rss_mb\":\(megabytes)}")
    } else {
        print(method.padding(toLength: 16, withPad: " ", startingAt: 0) + String(format: "%9.2f   %10.0f", fields[0], megabytes))
    }
}
