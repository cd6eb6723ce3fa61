import Foundation
import IsoMerge

/// `isomerge inspect PATH`: tensors (name, dtype, shape, bytes), totals and metadata.
enum InspectCommand {
    static let help = """
        usage: isomerge inspect PATH [--key KEY]

        Lists every tensor of a checkpoint (name, dtype, shape, bytes), the totals and the metadata.
        PATH is a .safetensors file, a PyTorch .pt/.bin file, a directory holding model.safetensors,
        pytorch_model.bin or a shard index, or an index .json. --key takes a PyTorch file's weights
        under that top-level key. A malformed file is reported with the rule it breaks (exit status 1).

        example: isomerge inspect ./finetuned/model.safetensors
        """

    static func run(_ arguments: [String]) throws {
        let parsed = try Arguments(arguments, options: ["key"], flags: ["help"])
        if parsed.has("help") {
            print(help)
            return
        }
        guard parsed.positional.count == 1 else { throw UsageError("expected one PATH\n\n\(help)") }
        let checkpoint = try Checkpoint(path: parsed.positional[0], key: try parsed.value("key"))
        let rows = checkpoint.tensors.map { tensor in
            [tensor.entry.name, tensor.entry.dtype.rawValue, "[" + tensor.entry.shape.map(String.init).joined(separator: ", ") + "]",
             String(tensor.entry.byteCount)]
        }
        let headers = ["name", "dtype", "shape", "bytes"]
        var widths = headers.map(\.count)
        for row in rows { for (i, cell) in row.enumerated() { widths[i] = max(widths[i], cell.count) } }
        func line(_ cells: [String]) -> String {
            cells.enumerated().map { i, cell in
                i == cells.count - 1 ? String(repeating: " ", count: widths[i] - cell.count) + cell
                                     : cell + String(repeating: " ", count: widths[i] - cell.count)
            }.joined(separator: "  ")
        }
        print(line(headers))
        for row in rows { print(line(row)) }
        let totalBytes = checkpoint.tensors.reduce(0) { $0 + $1.entry.byteCount }
        let totalElements = checkpoint.tensors.reduce(0) { $0 + $1.entry.elementCount }
        let files = checkpoint.files.count == 1 ? "1 file" : "\(checkpoint.files.count) shards"
        print("\(rows.count) tensors, \(totalElements) elements, \(totalBytes) bytes (\(formatBytes(totalBytes))) in \(files)")
        if !checkpoint.metadata.isEmpty {
            print("metadata:")
            for (key, value) in checkpoint.metadata { print("  \(key): \(value)") }
        }
    }
}

/// `bytes` in binary units with one decimal, e.g. "1.5 MiB".
func formatBytes(_ bytes: Int) -> String {
    let units = ["B", "KiB", "MiB", "GiB", "TiB"]
    var value = Double(bytes)
    var unit = 0
    while value >= 1024 && unit < units.count - 1 {
        value /= 1024
        unit += 1
    }
    return unit == 0 ? "\(bytes) B" : String(format: "%.1f %@", value, units[unit])
}
