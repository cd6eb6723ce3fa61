/// The estimated cost of merging one tensor, in nanoseconds of a reference machine, by which a
/// merge split into parts balances them (`MergePartition`). Integers, so that every process
/// computes the same partition.
///
/// cost = I/O bytes / `bytesPerNanosecond` + SVD work / `svdWorkPerNanosecond`, where
/// - I/O bytes are the base's and every model's stored bytes of the tensor plus its output bytes
///   (a copied tensor: the base's and the output's);
/// - SVD work, for a tensor the rule merges as a matrix (m × n, k = min(m, n)), is
///   `rule.matrixSVDs(tasks:)` · m·n·k; vector rules cost their I/O only.
/// The SVD constant is the development VM's (2 cores): Iso-C on a Llama-7B-shaped layer with 4
/// tasks, 80 s for 8.3·10¹¹ units; the I/O constant is an assumed 1 GB/s. Only their ratio
/// matters for the partition (docs/DISTRIBUTED.md checks the model).
public enum TensorCost {
    /// I/O throughput of the reference machine: 1 byte per nanosecond (1 GB/s).
    static let bytesPerNanosecond = 1
    /// SVD throughput of the reference machine, in units of m·n·k per nanosecond.
    static let svdWorkPerNanosecond = 10

    /// The cost of `tensor`, written as `output`, merged by `rule` from `tasks` task vectors.
    public static func estimate(_ tensor: MergePlan.Tensor, output: TensorSpec, rule: any MergeRule, tasks: Int) -> Int {
        let stored = tensor.entry.byteCount
        guard tensor.merged else { return (stored + output.byteCount) / bytesPerNanosecond }
        let io = ((tasks + 1) * stored + output.byteCount) / bytesPerNanosecond
        let shape = tensor.entry.shape
        guard rule.takesMatrixRule(name: tensor.name, shape: shape) else { return io }
        return io + rule.matrixSVDs(tasks: tasks) * shape[0] * shape[1] * min(shape[0], shape[1]) / svdWorkPerNanosecond
    }
}
