import IsoMerge
import Linalg

/// The demo's model: a two-layer encoder x ↦ W₂·relu(W₁x + b₁) + b₂ (the part that is fine-tuned
/// and merged, like a CLIP image encoder) followed by a fixed per-task linear head (like CLIP's
/// zero-shot text classifier). Trained with full-batch Adam on softmax cross-entropy; forward and
/// backward passes are GEMMs.
struct TinyEncoder {
    var w1: Matrix<Float>   // hidden × input
    var b1: [Float]
    var w2: Matrix<Float>   // embedding × hidden
    var b2: [Float]

    static let tensorNames = ["encoder.fc1.weight", "encoder.fc1.bias", "encoder.fc2.weight", "encoder.fc2.bias"]

    init(input: Int, hidden: Int, embedding: Int, generator: inout DemoRandom) {
        w1 = Matrix(rows: hidden, columns: input) { _, _ in generator.normal() * (2 / Float(input)).squareRoot() }
        b1 = [Float](repeating: 0, count: hidden)
        w2 = Matrix(rows: embedding, columns: hidden) { _, _ in generator.normal() * (1 / Float(hidden)).squareRoot() }
        b2 = [Float](repeating: 0, count: embedding)
    }

    init(w1: Matrix<Float>, b1: [Float], w2: Matrix<Float>, b2: [Float]) {
        (self.w1, self.b1, self.w2, self.b2) = (w1, b1, w2, b2)
    }

    /// The tensors as a checkpoint stores them.
    var tensors: [(name: String, shape: [Int], values: [Float])] {
        [("encoder.fc1.weight", [w1.rows, w1.columns], w1.elements), ("encoder.fc1.bias", [b1.count], b1),
         ("encoder.fc2.weight", [w2.rows, w2.columns], w2.elements), ("encoder.fc2.bias", [b2.count], b2)]
    }

    /// Hidden pre-activations and embeddings of the rows of x.
    func forward(_ x: Matrix<Float>) -> (pre: Matrix<Float>, hidden: Matrix<Float>, embedding: Matrix<Float>) {
        var pre = product(x, w1, transposeB: true)
        addRowVector(b1, to: &pre)
        let hidden = Matrix(rows: pre.rows, columns: pre.columns, elements: pre.elements.map { max(0, $0) })
        var embedding = product(hidden, w2, transposeB: true)
        addRowVector(b2, to: &embedding)
        return (pre, hidden, embedding)
    }

    /// Accuracy of head·encoder(x) against labels.
    func accuracy(_ x: Matrix<Float>, _ labels: [Int], head: Matrix<Float>) -> Double {
        let logits = product(forward(x).embedding, head, transposeB: true)
        var correct = 0
        for i in 0..<logits.rows {
            var best = 0
            for c in 1..<logits.columns where logits[i, c] > logits[i, best] { best = c }
            if best == labels[i] { correct += 1 }
        }
        return Double(correct) / Double(labels.count)
    }
}

/// m[i, j] += v[j] for every row.
func addRowVector(_ v: [Float], to m: inout Matrix<Float>) {
    m.withMutableView { view in
        for i in 0..<view.rows {
            let row = view.base + i * view.leadingDimension
            for j in 0..<view.columns { row[j] += v[j] }
        }
    }
}

/// Softmax cross-entropy gradient with respect to the logits, averaged over the rows.
func crossEntropyGradient(_ logits: Matrix<Float>, _ labels: [Int]) -> Matrix<Float> {
    var gradient = logits
    let scale = 1 / Float(logits.rows)
    gradient.withMutableView { g in
        for i in 0..<g.rows {
            let row = g.base + i * g.leadingDimension
            var top = -Float.infinity
            for c in 0..<g.columns { top = max(top, row[c]) }
            var sum: Float = 0
            for c in 0..<g.columns {
                row[c] = (row[c] - top).exp()
                sum += row[c]
            }
            for c in 0..<g.columns { row[c] = (row[c] / sum - (c == labels[i] ? 1 : 0)) * scale }
        }
    }
    return gradient
}

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
        let correction1 = 1 - Float.pow(beta1, step), correction2 = 1 - Float.pow(beta2, step)
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

extension Float {
    func exp() -> Float { Float(Foundation.exp(Double(self))) }
    static func pow(_ base: Float, _ exponent: Int) -> Float { Float(Foundation.pow(Double(base), Double(exponent))) }
}

import Foundation
