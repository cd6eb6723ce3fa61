import Linalg

/// ‖ours − reference‖_F / ‖reference‖_F; for a zero reference, ‖ours‖_F / `scale`.
public func relativeError<T: LinalgScalar>(_ ours: Matrix<T>, to reference: Matrix<Double>, whenZero scale: Double = 1) -> Double {
    var difference = 0.0, norm = 0.0
    for (x, y) in zip(ours.elements, reference.elements) {
        difference += (Double(x) - y) * (Double(x) - y)
        norm += y * y
    }
    return norm > 0 ? (difference / norm).squareRoot() : difference.squareRoot() / max(scale, .leastNormalMagnitude)
}
