/// Shard files filled one after another, each by its own `SafetensorsWriter` (a temporary file
/// until that writer's `finish()`): the next tensor goes to the current shard, and the following
/// shard is opened when it is full. `sealed()` then hands every writer over for publishing, once
/// all tensors are written and every value is finite. Memory: one open writer at a time.
final class ShardSequence {
    /// Where each shard is written and the tensors it holds, in write order.
    let shards: [(path: String, tensors: [TensorSpec])]
    /// The output as messages name it.
    private let destination: String
    private let metadata: [String: String]
    private let overwrite: Bool
    private var current: (shard: Int, writer: SafetensorsWriter)?
    private var filled: [SafetensorsWriter] = []

    init(_ shards: [(path: String, tensors: [TensorSpec])], destination: String, metadata: [String: String], overwrite: Bool) {
        self.shards = shards
        self.destination = destination
        self.metadata = metadata
        self.overwrite = overwrite
    }

    /// The shard writer that takes `name` next, opening the following shard when the current one is full.
    func writer(for name: String) throws(SafetensorsError) -> SafetensorsWriter {
        if let current, current.writer.nextTensor != nil { return current.writer }
        let next = current.map { $0.shard + 1 } ?? 0
        if let current { filled.append(current.writer) }
        guard next < shards.count else {
            throw SafetensorsError(file: destination, tensor: name, "all planned tensors were already written")
        }
        let writer = try SafetensorsWriter(path: shards[next].path, tensors: shards[next].tensors,
                                           metadata: metadata, overwrite: overwrite)
        current = (next, writer)
        return writer
    }

    /// Every shard's writer, in order, ready to `finish()`; throws (after `abandon()`) if a
    /// tensor was never written or a value would be NaN or infinite.
    func sealed() throws(SafetensorsError) -> [SafetensorsWriter] {
        if let current { filled.append(current.writer) }
        current = nil
        guard filled.count == shards.count else {
            let missing = shards[filled.count].tensors.first?.name
            abandon()
            throw SafetensorsError(file: destination, tensor: missing, "was never written")
        }
        let nonFinite = filled.flatMap(\.nonFiniteTensors)
        if !nonFinite.isEmpty {
            abandon()
            throw SafetensorsWriter.nonFiniteError(file: destination, nonFinite)
        }
        return filled
    }

    /// Removes every temporary file of a writer not yet finished.
    func abandon() {
        current?.writer.abandon()
        for writer in filled { writer.abandon() }
        current = nil
        filled = []
    }
}
