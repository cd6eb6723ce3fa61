import Foundation
import IsoMerge

/// `isomerge convert IN OUT.safetensors [--key KEY]`: a checkpoint's tensors, byte for byte, as safetensors.
enum ConvertCommand {
    static let help = """
        usage: isomerge convert IN OUT [--key KEY] [--overwrite]

        Writes every tensor of IN to OUT (a .safetensors path, or a directory that receives
        model.safetensors), byte for byte: same names, dtypes, shapes and values; views and
        big-endian storages come out contiguous and little-endian. IN is anything 'merge' reads:
        a PyTorch checkpoint (.pt/.bin written by torch.save, a state dict or a whole pickled
        module), a directory with pytorch_model.bin or its shard index, or safetensors.
        The pickle inside a PyTorch file is interpreted, never executed.

          --key KEY      take the weights under this top-level key of the pickled dict (default: the
                         first of state_dict, model_state_dict, model, module that holds weights,
                         else the whole object)
          --overwrite    replace an existing OUT (never IN)

        example: isomerge convert ViT-B-32/MNISTVal/nonlinear_finetuned.pt mnist.safetensors
        """

    static func run(_ arguments: [String]) throws {
        let parsed = try Arguments(arguments, options: ["key"], flags: ["help", "overwrite"])
        if parsed.has("help") {
            print(help)
            return
        }
        guard parsed.positional.count == 2 else { throw UsageError("expected IN and OUT\n\n\(help)") }
        let checkpoint = try Checkpoint(path: parsed.positional[0], key: try parsed.value("key"))
        try checkpoint.copy(to: parsed.positional[1], overwrite: parsed.has("overwrite"), inputs: [])
        let bytes = checkpoint.tensors.reduce(0) { $0 + $1.entry.byteCount }
        print("wrote \(checkpoint.tensors.count) tensors (\(formatBytes(bytes))) to \(parsed.positional[1])")
    }
}
