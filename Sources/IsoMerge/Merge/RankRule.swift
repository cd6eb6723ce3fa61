import Linalg

/// The rank rule of docs/ALGORITHMS.md, with the working precision's own rounding error.
///
/// A singular value σᵢ of a step's m × n matrix is *live* when σᵢ > tolerance = √max(m, n)·ε₃₂·σ_ref,
/// with ε₃₂ = 2⁻²³ whatever the working precision and σ_ref the largest singular value of the
/// matrix the step started from. Dead directions are left out of every factor.
///
/// Float cannot always give the float64 engine's answer. Every Float step checks the two ways it can
/// fail and throws `RankUndecidable`; the work is then redone in Double: a polar factor from the
/// same Float basis (`rankAwarePolar`) when its own arithmetic was the problem, otherwise the whole
/// tensor from its exact task vectors (`MergeMethod.mergeMatrices`). In Double every decision stands.
///
/// - The rank decision. The computed σ̂ᵢ differ from the exact σᵢ by at most the step's absolute
///   error (Weyl's inequality): the step's own, (√max(m, n) + √min(m, n))·ε·σ_ref·amplification
///   with ε the working precision's unit roundoff — √max(m, n)·ε·σ_ref bounds the SVD's backward
///   error (the growth factor of the tolerance itself), √min(m, n)·ε·σ_ref the rounding of the
///   step's input (‖E‖₂ ≤ ‖E‖_F ≤ ε·√r·σ_ref), `amplification` what an earlier step multiplies them
///   by (Iso-CTS's projection off the common subspace) — plus `inputError.spectral`, ‖ΔA‖₂ of a
///   matrix assembled from earlier steps' vectors (a stacked basis). The decision σ̂ᵢ > tolerance
///   is certain only when |σ̂ᵢ − tolerance| exceeds that sum, `uncertainty`.
/// - The accuracy of live directions. Singular vectors are known to an angle of about
///   ε·σ_ref·amplification over their distance to the rest of the spectrum (the estimate LAPACK's
///   Users' Guide gives, ε·‖A‖₂ over the gap, with its growth factor 1 "in practice"); a direction
///   moves the result by that angle times its weight there (`liveDirections`). Polar factors
///   are better conditioned than their vectors (`polarErrorEstimate`). Either estimate, relative to
///   the result, must stay within `targetAccuracy`.
struct RankRule<T: LinalgScalar> {
    /// σ ≤ tolerance is dead.
    let tolerance: T
    /// The largest error of a computed σ: the step's own (0 in Double) plus its input's.
    let uncertainty: T
    /// ε·σ_ref in Float, the scale of a computed singular vector's angle error times its gap; 0 in Double.
    let resolution: T
    /// The error of the step's input, carried from earlier steps.
    let inputError: VectorError

    init(rows m: Int, columns n: Int, reference: T, amplification: T = 1, inputError: VectorError = .none) {
        let growth = T(Double(max(m, n)).squareRoot())
        tolerance = growth * T(Float.ulpOfOne) * reference
        resolution = T.self == Float.self ? T.ulpOfOne * reference : 0
        self.inputError = inputError
        uncertainty = (growth + T(Double(min(m, n)).squareRoot())) * resolution * amplification + T(inputError.spectral(rows: m, columns: n))
    }

    /// The relative accuracy a Float step must reach, or be done in Double: half the 10⁻⁴ agreement
    /// the float32 and float64 engines promise (README), the other half left to what the estimates
    /// leave out (the sum M, the final products, the rounding back).
    static var targetAccuracy: Double { 5e-5 }

    /// The number of leading live values among `values` (descending). Throws when one of them is
    /// within `uncertainty` of the tolerance.
    func liveCount(_ values: some Collection<T>) throws(RankUndecidable) -> Int {
        if uncertainty > 0, values.contains(where: { abs($0 - tolerance) <= uncertainty }) {
            throw RankUndecidable()
        }
        return values.prefix { $0 > tolerance }.count
    }

    /// How the leading directions of a truncated spectrum weigh in a method's result.
    enum DirectionWeights {
        /// Each live direction is one of `directions` of equal weight in the result (the isotropic
        /// methods: r directions of weight σ̄).
        case equal(directions: Int)
        /// Each live direction becomes a unit column of a basis that is then orthogonalized (TSV-M's
        /// U_cat, with `columns` columns in all): a wrong column moves its task's other columns with
        /// it, so its error counts against the task's own L columns; the cut below the last one
        /// rotates that direction, weighted by its share of the task's σ, among all the columns.
        case basisColumns(columns: Int)
    }

    /// The live count of leading singular vectors that enter the result with `weights`, when
    /// `values` lead a spectrum whose next value is `next` (0 if none), and the error of those
    /// vectors as they enter a stacked basis. Each live direction is known to an angle a/σᵢ,
    /// a = resolution·amplification, and their span as a whole, cut from the rest of the spectrum at
    /// the gap σ_L − σ_{L+1}, to a/(σ_L − σ_{L+1}) (Wedin's theorem). Throws also when these would
    /// move the result by more than `targetAccuracy` relative. The cut's angle rotates the last
    /// direction toward the next one, a near twin when the gap is small, and is left out of the
    /// returned error: only the directions' own angles (noise read as signal) perturb a stacked basis.
    func liveDirections(_ values: some Collection<T>, next: T, weights: DirectionWeights,
                        amplification: T = 1) throws(RankUndecidable) -> (count: Int, error: VectorError) {
        let live = try liveCount(values)
        guard resolution > 0, live > 0 else { return (live, .none) }
        let kept = values.prefix(live).map(Double.init)
        let below = live < values.count ? Double(values[values.index(values.startIndex, offsetBy: live)]) : Double(next)
        let angle = Double(resolution * amplification)
        let directionAngles = kept.reduce(0) { sum, value in sum + (angle / value) * (angle / value) }
        let boundaryAngle = angle / (kept[live - 1] - below)
        let relativeSquared: Double
        switch weights {
        case let .equal(directions):
            relativeSquared = (directionAngles + boundaryAngle * boundaryAngle) / Double(directions)
        case let .basisColumns(columns):
            let meanSquare = kept.reduce(0) { $0 + $1 * $1 } / Double(live)
            let boundaryShare = kept[live - 1] * kept[live - 1] / meanSquare
            relativeSquared = directionAngles / Double(live) + boundaryAngle * boundaryAngle * boundaryShare / Double(columns)
        }
        if relativeSquared.squareRoot() > Self.targetAccuracy { throw RankUndecidable() }
        return (live, VectorError(squaredSum: directionAngles, largest: angle / kept[live - 1]))
    }

    /// The live count for the polar factor of an m × n matrix with singular values `values`. Throws
    /// also when `polarErrorEstimate` exceeds `targetAccuracy`.
    func polarLiveCount(_ values: [T], rows m: Int, columns n: Int) throws(RankUndecidable) -> Int {
        let live = try liveCount(values)
        guard uncertainty > 0, live > 0 else { return live }
        // √min(m, n)·ε·‖A‖_F, scaled by σ_ref/σ₁ where the rule's reference exceeds σ₁ (a stacked basis
        // whose common columns weigh 1).
        let frobenius = values.reduce(0.0) { $0 + Double($1) * Double($1) }.squareRoot()
        let backwardError = Double(min(m, n)).squareRoot() * Double(resolution) / Double(values[0]) * frobenius
        let estimate = Self.polarErrorEstimate(values.prefix(live).map(Double.init), rows: m, columns: n,
                                               perturbation: backwardError + inputError.frobenius)
        if estimate > Self.targetAccuracy { throw RankUndecidable() }
        return live
    }

    /// The relative Frobenius error of the polar factor U·Vᵀ over L live directions (values
    /// `live`, descending) of an m × n matrix perturbed by ‖E‖_F = `perturbation`. In singular
    /// coordinates E's entries are of size e = ‖E‖_F/√(m·n), and to first order the factor moves by
    /// 2·e/(σᵢ + σⱼ) in each pair of live directions (i ≠ j) and by e/σᵢ between a live direction and
    /// each of the m + n − 2L others:
    ///
    ///     ‖ΔQ‖_F² ≈ Σ_{i≠j} (2e/(σᵢ + σⱼ))² + (m + n − 2L)·Σᵢ (e/σᵢ)²,  relative: ‖ΔQ‖_F/√L.
    ///
    /// The pair sum is bounded first by (Σᵢ 1/σᵢ)²·e² (as (σᵢ + σⱼ)² ≥ 4σᵢσⱼ) and summed in
    /// O(L²) only when that bound alone would exceed the target.
    static func polarErrorEstimate(_ live: [Double], rows m: Int, columns n: Int, perturbation: Double) -> Double {
        let count = Double(live.count)
        let e = perturbation / (Double(m) * Double(n)).squareRoot()
        let inverseSum = live.reduce(0) { $0 + 1 / $1 }
        let inverseSquares = live.reduce(0) { $0 + 1 / ($1 * $1) }
        let outside = Double(m + n - 2 * live.count) * inverseSquares * e * e
        var pairs = inverseSum * inverseSum * e * e
        if ((pairs + outside) / count).squareRoot() > targetAccuracy {
            pairs = 0
            for i in live.indices {
                for j in live.indices where j != i {
                    let term = 2 / (live[i] + live[j])
                    pairs += term * term
                }
            }
            pairs *= e * e
        }
        return ((pairs + outside) / count).squareRoot()
    }
}

/// The error of vectors stacked side by side (columns of U_cat, U*; rows of V_cat, V*), each off by a
/// small angle from an earlier step: its Frobenius norm is the root of their squared sum. Its
/// spectral norm, what moves singular values (Weyl), is at least the largest angle and at most the
/// Frobenius norm; for errors in unrelated directions it is about the Frobenius norm times
/// 1/√m + 1/√L for an m × L stack (a random matrix's norm), which `spectral(rows:columns:)` takes.
struct VectorError {
    /// Σ of the squared angle errors.
    var squaredSum = 0.0
    /// The largest single angle error.
    var largest = 0.0

    static let none = VectorError()

    var frobenius: Double { squaredSum.squareRoot() }

    /// ‖ΔA‖₂ estimated for an m × L stack.
    func spectral(rows m: Int, columns l: Int) -> Double {
        guard m > 0, l > 0 else { return 0 }
        return min(frobenius, max(largest, frobenius * (1 / Double(m).squareRoot() + 1 / Double(l).squareRoot())))
    }

    static func + (a: VectorError, b: VectorError) -> VectorError {
        VectorError(squaredSum: a.squaredSum + b.squaredSum, largest: max(a.largest, b.largest))
    }
}

/// A Float step met a singular value its rounding error could have put on either side of the rank
/// rule's tolerance, or live directions it cannot resolve to the target accuracy (`RankRule`).
struct RankUndecidable: Error {}

/// polar(a) = U·Vᵀ over the directions the rank rule keeps: a partial isometry. The rule is that of
/// a step whose matrix has `ruleRows` rows and `ruleColumns` columns (default: `a`'s; more when `a`
/// holds the coordinates of a larger matrix's vectors in an orthonormal basis, as in factored
/// merges) and whose σ_ref is
/// max(σ₁(a), `minimumReference`); `inputError` is the error of the vectors `a` was assembled from;
/// `rankBound` what exact arithmetic bounds rank(a) by (values past it are exact zeros, not decided).
/// Computed in T, or in Double from the same matrix when T's own arithmetic cannot decide or resolve
/// it; throws when `inputError` alone leaves it undecided (the tensor then needs Double throughout).
func rankAwarePolar<T: LinalgScalar>(_ a: Matrix<T>, inputError: VectorError = .none, ruleRows: Int? = nil, ruleColumns: Int? = nil,
                                     minimumReference: T = 0, rankBound: Int = .max, threads: Int?) throws -> Matrix<T> {
    do {
        return try rankAwarePolarOnce(a, inputError: inputError, ruleRows: ruleRows, ruleColumns: ruleColumns,
                                      minimumReference: minimumReference, rankBound: rankBound, threads: threads)
    } catch is RankUndecidable {
        return try rankAwarePolarOnce(a.converted(to: Double.self), inputError: inputError, ruleRows: ruleRows, ruleColumns: ruleColumns,
                                      minimumReference: Double(minimumReference), rankBound: rankBound, threads: threads)
            .converted(to: T.self)
    }
}

private func rankAwarePolarOnce<T: LinalgScalar>(_ a: Matrix<T>, inputError: VectorError, ruleRows: Int?, ruleColumns: Int?,
                                                  minimumReference: T, rankBound: Int, threads: Int?) throws -> Matrix<T> {
    let (m, n) = (ruleRows ?? a.rows, ruleColumns ?? a.columns)
    let polar: PolarDecomposition<T>
    if minimumReference > 0 || rankBound < min(a.rows, a.columns) {
        let svd = try SVD(a, threads: threads)
        let reference = max(svd.singularValues.first ?? 0, minimumReference)
        polar = PolarDecomposition(svd: svd, threshold: RankRule(rows: m, columns: n, reference: reference).tolerance,
                                   maximumRank: rankBound, threads: threads)
    } else {
        let relative = RankRule<T>(rows: m, columns: n, reference: 1).tolerance
        polar = try PolarDecomposition(a, relativeThreshold: relative, threads: threads)
    }
    let reference = max(polar.singularValues.first ?? 0, minimumReference)
    let rule = RankRule(rows: m, columns: n, reference: reference, inputError: inputError)
    _ = try rule.polarLiveCount(Array(polar.singularValues.prefix(rankBound)), rows: a.rows, columns: a.columns)
    return polar.factor
}
