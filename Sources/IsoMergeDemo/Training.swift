import Foundation
import Linalg

/// Minibatch Adam on softmax cross-entropy of the logits s·H·ê: the encoder always, the head H only
/// when `trainHead` (pre-training learns its head; experts keep their task's head frozen).
enum Training {
    static func train(_ encoder: inout TinyEncoder, head: inout Matrix<Float>, scale: Float, data: (x: Matrix<Float>, y: [Int]),
                      steps: Int, batchSize: Int, learningRate: Float, trainHead: Bool, random: inout DemoRandom) {
        var optimizer = Adam(learningRate: learningRate)
        for _ in 0..<steps {
            let rows = (0..<min(batchSize, data.y.count)).map { _ in random.index(data.y.count) }
            let width = data.x.columns
            var values = [Float]()
            values.reserveCapacity(rows.count * width)
            for row in rows { values += data.x.elements[(row * width)..<((row + 1) * width)] }
            let pass = encoder.forward(Matrix(rows: rows.count, columns: width, elements: values))
            // d loss / d cosines H·ê: the chain rule takes it to ê and, in pre-training, to H.
            let dLogits = crossEntropyGradient(product(pass.normalized, head, transposeB: true), rows.map { data.y[$0] }, scale: scale)
            var parameters = encoder.parameters
            var gradients = encoder.gradients(pass, dNormalized: product(dLogits, head))
            if trainHead {
                parameters.append(head.elements)
                gradients.append(product(dLogits, pass.normalized, transposeA: true).elements)
            }
            optimizer.update(&parameters, gradients: gradients)
            encoder = encoder.with(parameters)
            if trainHead { head = Matrix(rows: head.rows, columns: head.columns, elements: parameters[4]) }
        }
    }

    /// Gradient of the mean softmax cross-entropy of the logits s·c with respect to the cosines c.
    static func crossEntropyGradient(_ cosines: Matrix<Float>, _ labels: [Int], scale: Float) -> Matrix<Float> {
        let columns = cosines.columns
        let rowScale = scale / Float(cosines.rows)
        var values = cosines.elements.map { scale * $0 }
        for i in 0..<cosines.rows {
            let row = i * columns
            let top = values[row..<(row + columns)].max()!
            var sum: Float = 0
            for c in 0..<columns {
                let e = Float(exp(Double(values[row + c] - top)))
                values[row + c] = e
                sum += e
            }
            for c in 0..<columns {
                let target: Float = c == labels[i] ? 1 : 0
                values[row + c] = (values[row + c] / sum - target) * rowScale
            }
        }
        return Matrix(rows: cosines.rows, columns: columns, elements: values)
    }
}
