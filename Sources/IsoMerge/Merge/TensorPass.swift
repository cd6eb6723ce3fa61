import Dispatch
import Linalg

/// One pass over a list of tensors with the engine's settings: jobs side by side on
/// `TensorPipeline` (one lane per thread allowed, within the memory budget), results consumed in
/// order on the calling thread, and progress reported after each.
public struct TensorPass: @unchecked Sendable {
    /// Threads for the pass; nil: all cores.
    public let threads: Int?
    /// Called on the calling thread after each tensor.
    public let progress: ((MergeProgress) -> Void)?
    /// When the whole operation started (progress reports elapsed time from it).
    let start: UInt64

    /// Elements held at once (started, not yet consumed): about 2.7 ViT-B/32 MLP matrices
    /// (3072×768), which with their T + 1 inputs and SVD workspace keep peak memory near 0.4 GB
    /// at T = 8.
    static let memoryBudget = 6 << 20

    public init(threads: Int?, progress: ((MergeProgress) -> Void)?) {
        self.threads = threads
        self.progress = progress
        start = DispatchTime.now().uptimeNanoseconds
    }

    /// Seconds since the pass's operation started.
    var elapsed: Double { seconds(since: start) }

    /// `job(i, threads)` for each tensor (`sizes[i]` elements, named `names[i]`), `consume(i, value)`
    /// in order, progress with `phase`; `bytes[i]` counts toward the bytes done when given.
    func run<Value>(names: [String], sizes: [Int], bytes: [Int]? = nil, phase: String,
                    job: @escaping @Sendable (_ index: Int, _ threads: Int?) throws -> Value,
                    consume: (_ index: Int, _ value: Value) throws -> Void) throws {
        let total = bytes?.reduce(0, +) ?? 0
        var done = 0
        try TensorPipeline.run(sizes: sizes, budget: Self.memoryBudget, lanes: threads ?? Parallelism.maximumThreads,
                               allThreads: threads, job: job,
                               consume: { index, value in
                                   try consume(index, value)
                                   done += bytes?[index] ?? 0
                                   progress?(MergeProgress(index: index + 1, count: names.count, tensor: names[index], bytesDone: done,
                                                           bytesTotal: total, elapsed: elapsed, phase: phase))
                               })
    }
}

func seconds(since start: UInt64) -> Double {
    Double(DispatchTime.now().uptimeNanoseconds - start) * 1e-9
}
