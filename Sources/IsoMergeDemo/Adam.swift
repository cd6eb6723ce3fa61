import Foundation

/// Adam (Kingma & Ba) over a flat list of parameter arrays.
struct Adam {
    var learningRate: Float
    var step = 0
    var first: [[Float]] = []
    var second: [[Float]] = []

    init(learningRate: Float) { self.learningRate = learningRate }

    mutating func update(_ parameters: inout [[Float]], gradients: [[Float]]) {
        if first.isEmpty {
            first = gradients.map { [Float](repeating: 0, count: $0.count) }
            second = first
        }
        step += 1
        let (beta1, beta2): (Float, Float) = (0.9, 0.999)
        let correction1 = 1 - Float(pow(Double(beta1), Double(step))), correction2 = 1 - Float(pow(Double(beta2), Double(step)))
        for p in parameters.indices {
            for i in parameters[p].indices {
                let g = gradients[p][i]
                first[p][i] = beta1 * first[p][i] + (1 - beta1) * g
                second[p][i] = beta2 * second[p][i] + (1 - beta2) * g * g
                parameters[p][i] -= learningRate * (first[p][i] / correction1) / ((second[p][i] / correction2).squareRoot() + 1e-8)
            }
        }
    }
}
