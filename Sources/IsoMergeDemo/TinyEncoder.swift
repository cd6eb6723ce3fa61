import Linalg

/// The demo's model: a two-layer encoder x ↦ ê = e/‖e‖, e = W₂·relu(W₁x + b₁) + b₂ — the part that
/// is fine-tuned and merged, like a CLIP image encoder or a sentence encoder — read out by a task's
/// head H as logits s·H·ê (cosine similarities to the rows of H, scaled). Forward and backward
/// passes are GEMMs.
struct TinyEncoder {
    var w1: Matrix<Float>   // hidden × input
    var b1: [Float]
    var w2: Matrix<Float>   // embedding × hidden
    var b2: [Float]

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

    /// The parameters as flat arrays, in the order `gradients` returns theirs.
    var parameters: [[Float]] { [w1.elements, b1, w2.elements, b2] }

    /// The encoder with these parameters, shaped like this one.
    func with(_ parameters: [[Float]]) -> TinyEncoder {
        TinyEncoder(w1: Matrix(rows: w1.rows, columns: w1.columns, elements: parameters[0]), b1: parameters[1],
                    w2: Matrix(rows: w2.rows, columns: w2.columns, elements: parameters[2]), b2: parameters[3])
    }

    /// What a forward pass keeps for the backward pass.
    struct Pass {
        let x: Matrix<Float>, pre: Matrix<Float>, hidden: Matrix<Float>
        /// ê, one unit row per sample, and ‖e‖ per sample.
        let normalized: Matrix<Float>, norms: [Float]
    }

    func forward(_ x: Matrix<Float>) -> Pass {
        var pre = product(x, w1, transposeB: true)
        addRowVector(b1, to: &pre)
        let hidden = Matrix(rows: pre.rows, columns: pre.columns, elements: pre.elements.map { max(0, $0) })
        var e = product(hidden, w2, transposeB: true)
        addRowVector(b2, to: &e)
        var values = e.elements
        var norms = [Float](repeating: 0, count: e.rows)
        let width = e.columns
        for i in 0..<e.rows {
            var sum: Float = 0
            for j in 0..<width { sum += values[i * width + j] * values[i * width + j] }
            norms[i] = max(sum.squareRoot(), 1e-12)
            for j in 0..<width { values[i * width + j] /= norms[i] }
        }
        return Pass(x: x, pre: pre, hidden: hidden, normalized: Matrix(rows: e.rows, columns: width, elements: values), norms: norms)
    }

    /// The unit embeddings ê of the rows of x.
    func embed(_ x: Matrix<Float>) -> Matrix<Float> { forward(x).normalized }

    /// Gradients of the loss for (W₁, b₁, W₂, b₂), given its gradient with respect to ê.
    func gradients(_ pass: Pass, dNormalized: Matrix<Float>) -> [[Float]] {
        // Through the normalization: de = (dê − ê·(êᵀdê)) / ‖e‖, row by row.
        let width = dNormalized.columns
        let unit = pass.normalized.elements, upstream = dNormalized.elements
        var values = upstream
        for i in 0..<dNormalized.rows {
            var dot: Float = 0
            for j in 0..<width { dot += unit[i * width + j] * upstream[i * width + j] }
            for j in 0..<width {
                let k = i * width + j
                values[k] = (upstream[k] - unit[k] * dot) / pass.norms[i]
            }
        }
        let dE = Matrix(rows: dNormalized.rows, columns: width, elements: values)
        let dW2 = product(dE, pass.hidden, transposeA: true)
        let dHidden = product(dE, w2)
        let pre = pass.pre.elements
        let dPre = Matrix(rows: dHidden.rows, columns: dHidden.columns,
                          elements: dHidden.elements.indices.map { pre[$0] > 0 ? dHidden.elements[$0] : 0 })
        let dW1 = product(dPre, pass.x, transposeA: true)
        return [dW1.elements, columnSums(dPre), dW2.elements, columnSums(dE)]
    }

    /// Accuracy of the head's predictions (argmax of H·ê) against labels.
    func accuracy(_ x: Matrix<Float>, _ labels: [Int], head: Matrix<Float>) -> Double {
        let logits = product(embed(x), head, transposeB: true)
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

/// The sum of each column of m.
func columnSums(_ m: Matrix<Float>) -> [Float] {
    var sums = [Float](repeating: 0, count: m.columns)
    for i in 0..<m.rows {
        for j in 0..<m.columns { sums[j] += m.elements[i * m.columns + j] }
    }
    return sums
}
