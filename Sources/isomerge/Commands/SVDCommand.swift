import Foundation
import IsoMerge
import Linalg

/// `isomerge svd FILE [--tensor NAME ...] [--algorithm auto|bidiagonal|jacobi] [--output OUT.safetensors]`:
/// the spectrum of each 2-D tensor, and optionally its factors.
enum SVDCommand {
    static let help = """
        usage: isomerge svd PATH [--tensor NAME ...] [--algorithm auto|bidiagonal|jacobi]
                               [--output OUT.safetensors] [--threads N] [--overwrite]

        Prints the shape and the leading and trailing singular values of every 2-D tensor of a
        checkpoint (or only of the tensors named with --tensor). With --output, also writes
        NAME.U (m×r), NAME.S (r) and NAME.Vt (r×n) for each, r = min(m, n): F64 for F64 tensors,
        F32 otherwise.

        example: isomerge svd ft_00.safetensors --tensor visual.proj --output visual-proj-svd.safetensors
        """

    static func run(_ arguments: [String]) throws {
        let parsed = try Arguments(arguments, options: ["algorithm", "output", "threads"], multiValued: ["tensor"],
                                   flags: ["help", "overwrite"])
        if parsed.has("help") {
            print(help)
            return
        }
        guard parsed.positional.count == 1 else { throw UsageError("expected one checkpoint PATH\n\n\(help)") }
        let algorithmName = try parsed.value("algorithm") ?? "auto"
        guard let algorithm = SVDAlgorithm(rawValue: algorithmName) else {
            throw UsageError("--algorithm must be auto, bidiagonal or jacobi, not '\(algorithmName)'")
        }
        let threads = try parsed.value("threads").map { text throws(UsageError) -> Int in
            guard let value = Int(text), value >= 1 else { throw UsageError("--threads must be a positive integer, not '\(text)'") }
            return value
        }
        let checkpoint = try Checkpoint(path: parsed.positional[0])
        let requested = parsed.all("tensor")
        for name in requested where checkpoint.tensor(named: name) == nil {
            throw RuntimeError("\(checkpoint.path): no tensor named '\(name)'")
        }
        let selected = checkpoint.tensors.map(\.entry).filter { entry in
            requested.isEmpty ? entry.shape.count == 2 && entry.dtype.isConvertibleFloat : requested.contains(entry.name)
        }
        var factors: [String: (u: [Double], s: [Double], vt: [Double], m: Int, n: Int, double: Bool)] = [:]
        for entry in selected {
            guard entry.shape.count == 2, entry.dtype.isConvertibleFloat else {
                throw RuntimeError("\(checkpoint.path): tensor '\(entry.name)' is \(entry.dtype.rawValue) \(entry.shape), not a 2-D float matrix")
            }
            let (m, n) = (entry.shape[0], entry.shape[1])
            let sigma: [Double]
            if m == 0 || n == 0 {
                // r = 0: no singular values, and U (m×0) and Vᵀ (0×n) hold no elements whatever the
                // other side's length (a hostile [2⁶², 0] is answered at once, without a loop over m).
                sigma = []
                factors[entry.name] = ([], [], [], m, n, entry.dtype == .f64)
            } else if entry.dtype == .f64 {
                let svd = try SVD(Matrix(rows: m, columns: n, elements: try checkpoint.values(of: entry.name, as: Double.self)),
                                  algorithm: algorithm, threads: threads)
                sigma = svd.singularValues
                factors[entry.name] = (svd.u.elements, sigma, svd.vt.elements, m, n, true)
            } else {
                let svd = try SVD(Matrix(rows: m, columns: n, elements: try checkpoint.values(of: entry.name, as: Float.self)),
                                  algorithm: algorithm, threads: threads)
                sigma = svd.singularValues.map(Double.init)
                if parsed.values["output"] != nil {
                    factors[entry.name] = (svd.u.elements.map(Double.init), sigma, svd.vt.elements.map(Double.init), m, n, false)
                }
            }
            print("\(entry.name)  [\(m), \(n)] \(entry.dtype.rawValue)  σ: \(summarize(sigma))")
        }
        guard let output = try parsed.value("output") else { return }
        var specs: [TensorSpec] = []
        for (name, f) in factors {
            let r = min(f.m, f.n)
            let dtype: DType = f.double ? .f64 : .f32
            specs += [TensorSpec(name: name + ".U", dtype: dtype, shape: [f.m, r]), TensorSpec(name: name + ".S", dtype: dtype, shape: [r]),
                      TensorSpec(name: name + ".Vt", dtype: dtype, shape: [r, f.n])]
        }
        let writer = try CheckpointWriter(destination: output, tensors: specs, metadata: ["source": checkpoint.path],
                                          overwrite: parsed.has("overwrite"), inputs: [checkpoint])
        for spec in writer.order {
            let dot = spec.name.lastIndex(of: ".")!
            let f = factors[String(spec.name[..<dot])]!
            let values: [Double]
            switch spec.name[spec.name.index(after: dot)...] {
            case "U": values = f.u
            case "S": values = f.s
            default: values = f.vt
            }
            try values.withUnsafeBufferPointer { try writer.write(spec.name, values: $0) }
        }
        try writer.finish()
        print("wrote \(writer.outputPaths.joined(separator: ", "))")
    }

    /// The first five and last three values, or all of them when there are at most eight.
    static func summarize(_ sigma: [Double]) -> String {
        func format(_ x: Double) -> String { String(format: "%.4g", x) }
        if sigma.count <= 8 { return sigma.map(format).joined(separator: " ") }
        return sigma.prefix(5).map(format).joined(separator: " ") + " … " + sigma.suffix(3).map(format).joined(separator: " ")
            + "  (\(sigma.count) values)"
    }
}

/// A failure while doing the work (exit status 1), with the message to show.
struct RuntimeError: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}
