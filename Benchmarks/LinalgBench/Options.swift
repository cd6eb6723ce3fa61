import Foundation
import Linalg

/// Command-line options shared by every benchmark.
struct BenchOptions {
    var json = false
    var threads = [1, 2]
    var shapes: [String]? = nil
    var repetitions = 7
    var algorithm: SVDAlgorithm? = nil
    /// The operations to time (the `op` column); nil: all of them.
    var operations: Set<String>? = nil
    /// Band widths for the two-stage reduction's rows (`svd`): nil, the library's choice.
    var bandwidths: [Int]? = nil

    init(_ arguments: [String]) {
        var iterator = arguments.makeIterator()
        while let argument = iterator.next() {
            switch argument {
            case "--json": json = true
            case "--threads": threads = (iterator.next() ?? "").split(separator: ",").compactMap { Int($0) }
            case "--shapes": shapes = (iterator.next() ?? "").split(separator: ",").map(String.init)
            case "--reps": repetitions = Int(iterator.next() ?? "") ?? repetitions
            case "--bandwidth": bandwidths = (iterator.next() ?? "").split(separator: ",").compactMap { Int($0) }
            case "--ops": operations = Set((iterator.next() ?? "").split(separator: ",").map(String.init))
            case "--algorithm":
                guard let name = iterator.next(), let value = SVDAlgorithm(rawValue: name) else {
                    FileHandle.standardError.write(Data("--algorithm takes auto, bidiagonal or jacobi\n".utf8))
                    exit(2)
                }
                algorithm = value
            default:
                FileHandle.standardError.write(Data("unknown option '\(argument)'\n".utf8))
                exit(2)
            }
        }
    }
}

extension BenchOptions {
    /// Whether `--ops` (if given) names `operation`.
    func times(_ operation: String) -> Bool { operations?.contains(operation) ?? true }
}

/// Median wall time of `repetitions` runs of `body`, after one warm-up run.
func medianSeconds(repetitions: Int, _ body: () -> Void) -> Double {
    body()
    var times: [Double] = []
    for _ in 0..<max(1, repetitions) {
        let start = DispatchTime.now().uptimeNanoseconds
        body()
        times.append(Double(DispatchTime.now().uptimeNanoseconds - start) * 1e-9)
    }
    times.sort()
    return times[times.count / 2]
}

/// One result: a JSON line or a table row.
func report(_ fields: [(String, Any)], json: Bool, row: String) {
    if json {
        let body = fields.map { key, value -> String in
            switch value {
            case let text as String: return "\"\(key)\":\"\(text)\""
            case let number as Double: return "\"\(key)\":\(String(format: "%.6g", number))"
            default: return "\"\(key)\":\(value)"
            }
        }
        print("{" + body.joined(separator: ",") + "}")
    } else {
        print(row)
    }
}
