/// Scaling by a power of two that brings max |aᵢⱼ| into [1, 2): exact, so that nothing inside an
/// SVD overflows or underflows needlessly; results in A's units are divided back by `undo`.
struct UnitScaling<T: LinalgScalar> {
    /// Two factors, since 2^−exponent alone is not representable when `largest` is subnormal.
    let first: T, second: T

    /// For `largest` = max |aᵢⱼ| (finite; 0 gives the identity scaling).
    init(largest: T) {
        guard largest > 0 else {
            (first, second) = (1, 1)
            return
        }
        let exponent = Int(largest.exponent)
        first = T(sign: .plus, exponent: T.Exponent(-exponent / 2), significand: 1)
        second = T(sign: .plus, exponent: T.Exponent(-exponent + exponent / 2), significand: 1)
    }

    func apply(_ x: T) -> T { x * first * second }

    func undo(_ x: T) -> T { x / first / second }

    /// `a` scaled, with its scaling (`largest` = max |aᵢⱼ|).
    static func apply(to a: Matrix<T>, largest: T) -> (Matrix<T>, UnitScaling) {
        let scale = UnitScaling(largest: largest)
        return (Matrix(rows: a.rows, columns: a.columns, elements: a.elements.map(scale.apply)), scale)
    }
}
