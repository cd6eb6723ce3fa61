import Linalg

/// TIES merging, "trim, elect sign, disjoint merge" (docs/ALGORITHMS.md), over the whole model:
/// 1. each task keeps its entries with |x| ≥ its k-th smallest magnitude, k = d − ⌊d·K⌋ over all
///    d float entries of the model (ties at the threshold kept);
/// 2. each entry's sign is elected as sign(Σ_t trimmed_t), or where that sum is 0 the sign of the
///    sum of all elected signs (the majority sign; where that is 0 too, negative entries win, as
///    in the reference code);
/// 3. τ_M is the mean of the trimmed values that carry the elected sign, 0 where none does.
///
/// The thresholds are exact: a radix selection on the magnitudes' bit patterns (monotone for
/// non-negative floats) narrows each task's k-th value 16 bits per streaming pass, with one
/// 65,536-bin histogram per task — 2 passes for Float, 4 for Double — in bounded memory
/// (`modelStatistics`). With `ties-per-tensor`, mergekit's variant: thresholds and majority sign
/// from each tensor alone, no pre-pass.
public struct TIES: MergeRule {
    public static let name = "ties"
    public static let summary = "trim, elect sign, disjoint merge (TIES)"
    public static let defaultAlpha = 1.0
    public static let alphaGrid = thirtiethsAlphaGrid
    public static let density = MergeParameter(
        name: "density", kind: .number(.openClosed(0, 1)), defaultValue: .number(0.2),
        meaning: "the share of entries each task keeps", example: "0.2")
    public static let perTensor = MergeParameter(
        name: "ties-per-tensor", kind: .flag, defaultValue: .flag(false),
        meaning: "trim per tensor (mergekit) instead of over the whole model",
        record: .choice(key: "ties_scope", on: "per_tensor", off: "whole_model"))
    public static let parameters = [density, perTensor]

    public let parameters: MergeParameterValues
    public init(parameters: MergeParameterValues) { self.parameters = parameters }
    public init(density: Double = 0.2, perTensor: Bool = false) throws(MergeError) {
        try self.init(given: ["density": .number(density), "ties-per-tensor": .flag(perTensor)])
    }

    /// K, the share of entries each task keeps.
    public var keptShare: Double { parameters[number: Self.density] }
    /// Whether thresholds and signs come from each tensor alone.
    public var trimsPerTensor: Bool { parameters[flag: Self.perTensor] }

    /// The whole-model pre-pass's result (nil when trimming per tensor).
    @_specialize(where S == TaskVectorSource<Float>)
    @_specialize(where S == TaskVectorSource<Double>)
    public func modelStatistics<S: TaskVectorStream>(_ source: S) throws -> TIESStatistics? {
        trimsPerTensor ? nil : try TIESStatistics(source, density: keptShare)
    }

    @_specialize(where T == Float)
    @_specialize(where T == Double)
    public func mergeVectors<T: LinalgScalar>(_ taskVectors: [[T]], statistics: TIESStatistics?) -> [T] {
        guard let statistics else { return Self.mergePerTensor(taskVectors, density: keptShare) }
        return Self.merge(taskVectors, thresholds: statistics.thresholds.map { T($0) }, majority: statistics.majority)
    }

    /// The number of entries to cut so that ⌊d·K⌋ remain, as the reference computes it; 0 when K ≥ 1.
    static func rank(entries d: Int, density: Double) -> Int {
        density >= 1 ? 0 : d - Int((Double(d) * density).rounded(.down))
    }

    /// Trimmed value: x when |x| reaches the task's threshold, else 0.
    @inline(__always)
    static func trim<T: LinalgScalar>(_ x: T, threshold: T) -> T { abs(x) >= threshold ? x : 0 }

    /// Step 2's per-entry sign before the majority rule: +1, −1 or 0.
    @inline(__always)
    static func sign<T: LinalgScalar>(_ x: T) -> Int { x > 0 ? 1 : (x < 0 ? -1 : 0) }

    /// Σ over a tensor's entries of sign(Σ_t trimmed_t) (the majority-sign pre-pass).
    static func signSum<T: LinalgScalar>(_ taskVectors: [[T]], thresholds: [T]) -> Int {
        var total = 0
        forEachBlock(taskVectors, thresholds: thresholds) { _, width, _, sums in
            for j in 0..<width { total += sign(sums[j]) }
        }
        return total
    }

    /// Steps 2–3 on one tensor, given the thresholds and the model's majority sign.
    static func merge<T: LinalgScalar>(_ taskVectors: [[T]], thresholds: [T], majority: Int) -> [T] {
        let count = taskVectors[0].count, tasks = taskVectors.count
        var totals = [T](repeating: 0, count: blockLength), kept = [T](repeating: 0, count: blockLength)
        return [T](uninitializedCount: count) { merged in
            forEachBlock(taskVectors, thresholds: thresholds) { start, width, trimmed, sums in
                totals.withUnsafeMutableBufferPointer { totals in
                    kept.withUnsafeMutableBufferPointer { kept in
                        for j in 0..<width { (totals[j], kept[j]) = (0, 0) }
                        // In task order, as the definition's sum over the tasks that agree.
                        for t in 0..<tasks {
                            let row = trimmed + t * blockLength
                            for j in 0..<width {
                                let x = row[j], elected = sums[j] != 0 ? sums[j] : T(majority)
                                if (elected > 0 && x > 0) || (elected <= 0 && x < 0) {
                                    totals[j] += x
                                    kept[j] += 1
                                }
                            }
                        }
                        for j in 0..<width { (merged.baseAddress! + start + j).initialize(to: kept[j] == 0 ? 0 : totals[j] / kept[j]) }
                    }
                }
            }
        }
    }

    /// Entries per block of `forEachBlock`: T rows of trimmed values stay in L1.
    static let blockLength = 512

    /// The tensor in blocks of `blockLength` entries: `body(start, width, trimmed, sums)` with
    /// trimmed[t·blockLength + j] = task t's trimmed value of entry start + j and sums[j] their sum
    /// over t, added in task order (so exactly Σ_t trimmed_t as written). Contiguous rows let the
    /// loops vectorize; per entry the arithmetic is the definition's.
    private static func forEachBlock<T: LinalgScalar>(_ taskVectors: [[T]], thresholds: [T],
                                                      _ body: (Int, Int, UnsafePointer<T>, UnsafePointer<T>) -> Void) {
        let count = taskVectors[0].count, tasks = taskVectors.count
        var trimmed = [T](repeating: 0, count: tasks * blockLength), sums = [T](repeating: 0, count: blockLength)
        trimmed.withUnsafeMutableBufferPointer { trimmed in
            sums.withUnsafeMutableBufferPointer { sums in
                for start in stride(from: 0, to: count, by: blockLength) {
                    let width = min(blockLength, count - start)
                    for j in 0..<width { sums[j] = 0 }
                    for t in 0..<tasks {
                        let threshold = thresholds[t], row = trimmed.baseAddress! + t * blockLength
                        taskVectors[t].withUnsafeBufferPointer { tau in
                            for j in 0..<width {
                                let x = trim(tau[start + j], threshold: threshold)
                                row[j] = x
                                sums[j] += x
                            }
                        }
                    }
                    body(start, width, trimmed.baseAddress!, sums.baseAddress!)
                }
            }
        }
    }

    /// The mergekit variant: thresholds and majority from this tensor alone.
    static func mergePerTensor<T: LinalgScalar>(_ taskVectors: [[T]], density: Double) -> [T] {
        let k = rank(entries: taskVectors[0].count, density: density)
        let thresholds = taskVectors.map { tau -> T in
            k == 0 ? 0 : tau.map { abs($0) }.sorted()[k - 1]
        }
        let majority = signSum(taskVectors, thresholds: thresholds).signum()
        return merge(taskVectors, thresholds: thresholds, majority: majority)
    }
}

/// Exact streaming selection of the k-th smallest magnitude (1-based) of one task's entries:
/// each pass histograms the next 16 bits of the magnitudes whose higher bits match the prefix
/// found so far, then narrows the prefix to the bucket holding rank k.
struct MagnitudeSelection<T: LinalgScalar>: Sendable {
    static var keyBits: Int { MemoryLayout<T>.size * 8 }

    /// Bins of one pass's histogram.
    static var bins: Int { 1 << 16 }

    private(set) var prefix: UInt64 = 0
    private(set) var prefixBits = 0
    private var remaining: Int

    /// Selects the `rank`-th smallest magnitude (rank ≥ 1).
    init(rank: Int) { remaining = rank }

    var isComplete: Bool { prefixBits >= Self.keyBits }

    /// The selected magnitude (after `isComplete`).
    var value: T {
        T.self == Float.self ? T(Float(bitPattern: UInt32(prefix))) : T(Double(bitPattern: prefix))
    }

    @inline(__always)
    static func key(_ x: T) -> UInt64 {
        if let f = x as? Float { return UInt64(abs(f).bitPattern) }
        return abs(Double(x)).bitPattern
    }

    /// Adds this pass's counts for `count` zero entries to `histogram`: key 0, in bin 0 while the
    /// prefix found so far is 0.
    func countZeros(_ count: Int, into histogram: inout [Int]) {
        if prefixBits == 0 || prefix == 0 { histogram[0] += count }
    }

    /// Adds this pass's counts for one tensor to `histogram` (`bins` entries). Counts add exactly
    /// in any order, so tensors can be counted side by side into separate histograms and summed.
    func count(_ values: [T], into histogram: inout [Int]) {
        precondition(histogram.count == Self.bins, "a pass histogram has \(Self.bins) bins")
        let shift = Self.keyBits - prefixBits - 16
        let bits = prefixBits
        let expected = prefix
        values.withUnsafeBufferPointer { values in
            histogram.withUnsafeMutableBufferPointer { histogram in
                for x in values {
                    let key = Self.key(x)
                    if bits == 0 || key >> UInt64(Self.keyBits - bits) == expected {
                        histogram[Int((key >> UInt64(shift)) & 0xFFFF)] += 1
                    }
                }
            }
        }
    }

    /// Ends a pass with the histogram of all entries: fixes the next 16 bits.
    mutating func finishPass(_ histogram: [Int]) {
        var bucket = 0
        while bucket < Self.bins - 1 && histogram[bucket] < remaining {
            remaining -= histogram[bucket]
            bucket += 1
        }
        prefix = prefix << 16 | UInt64(bucket)
        prefixBits += 16
    }
}
