/// Why a merge cannot run or failed: every problem found, each naming the checkpoint, the tensor
/// and what is wrong.
public struct MergeError: Error, CustomStringConvertible {
    public let problems: [String]

    public init(_ problems: [String]) { self.problems = problems }
    public init(_ problem: String) { self.problems = [problem] }

    public var description: String {
        problems.count == 1 ? problems[0] : "\(problems.count) problems:\n" + problems.map { "  - " + $0 }.joined(separator: "\n")
    }
}

/// Where a merge is, for progress displays.
public struct MergeProgress: Sendable {
    /// 1-based index of the tensor just finished, and the number of tensors.
    public let index: Int
    public let count: Int
    public let tensor: String
    /// Bytes of output written so far, and in total.
    public let bytesDone: Int
    public let bytesTotal: Int
    /// Seconds since the merge started.
    public let elapsed: Double
    /// What the engine is doing: "trim thresholds", "sign election", "merge", "apply".
    public let phase: String
}

/// What a finished merge did.
public struct MergeReport: Sendable {
    public let outputPaths: [String]
    public let tensors: Int
    public let bytesWritten: Int
    public let seconds: Double
    public let alpha: Double
}
