import Linalg

/// Element-wise rules: the sum of the task vectors (task arithmetic) and their mean (averaging,
/// and the vector rule of TSV-M, Iso-C and Iso-CTS). Summation runs over tasks in input order.
enum VectorRules {
    @_specialize(where T == Float)
    @_specialize(where T == Double)
    static func sum<T: LinalgScalar>(_ taskVectors: [[T]]) -> [T] {
        var total = taskVectors[0]
        total.withUnsafeMutableBufferPointer { total in
            for tau in taskVectors.dropFirst() {
                tau.withUnsafeBufferPointer { tau in
                    for i in 0..<total.count { total[i] += tau[i] }
                }
            }
        }
        return total
    }

    @_specialize(where T == Float)
    @_specialize(where T == Double)
    static func mean<T: LinalgScalar>(_ taskVectors: [[T]]) -> [T] {
        let scale = 1 / T(taskVectors.count)
        return sum(taskVectors).map { $0 * scale }
    }
}
