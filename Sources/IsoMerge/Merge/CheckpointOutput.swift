import Linalg

/// What `OutputSink` writes merged tensors into, one at a time in `order`: a whole checkpoint
/// (`CheckpointWriter`) or one part of a checkpoint split across processes (`PartWriter`).
/// Nothing is visible as finished before `finish()`; `abandon()` removes every temporary.
public protocol CheckpointOutput: AnyObject {
    /// Every tensor this output holds, in the order it must be written.
    var order: [TensorSpec] { get }
    /// The files this output produces.
    var outputPaths: [String] { get }
    /// Writes the next tensor from values converted to its planned dtype.
    func write<T: LinalgScalar>(_ name: String, values: UnsafeBufferPointer<T>) throws(SafetensorsError)
    /// Writes the next tensor from Double values computed a chunk at a time, each rounded once.
    func write(_ name: String, count: Int, produce: (Range<Int>, UnsafeMutableBufferPointer<Double>) -> Void) throws(SafetensorsError)
    /// Writes the next tensor's stored bytes.
    func write(_ name: String, bytes: UnsafeRawBufferPointer) throws(SafetensorsError)
    /// Publishes what was written; throws (publishing nothing) if a tensor is missing or not finite.
    func finish() throws(SafetensorsError)
    /// Gives up: removes every temporary.
    func abandon()
}
