/// A rejected or failed checkpoint file: names the file, the tensor when there is one, and the
/// rule that was broken, e.g. `ft_03.safetensors: tensor 'visual.proj': data_offsets [0, 100]
/// hold 100 bytes but shape [5, 6] of F32 needs 120`.
public struct SafetensorsError: Error, CustomStringConvertible, Equatable {
    public let file: String
    public let tensor: String?
    public let message: String

    public init(file: String, tensor: String? = nil, _ message: String) {
        self.file = file
        self.tensor = tensor
        self.message = message
    }

    public var description: String {
        if let tensor { return "\(file): tensor '\(tensor)': \(message)" }
        return "\(file): \(message)"
    }
}
