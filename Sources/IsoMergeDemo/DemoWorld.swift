import Foundation
import IsoMerge
import Linalg

/// A small multi-task world built deterministically from a seed, for `isomerge demo`.
///
/// Inputs x ∈ ℝ³² are Gaussian. Task t labels them with its own random teacher,
/// y = argmax(V_t·tanh(U_t·x)) over 5 classes, so tasks depend on different directions of the
/// input and pull a shared encoder different ways (they genuinely interfere). The base encoder is
/// pre-trained on an unrelated teacher (generic features), each task gets a fixed linear head
/// fitted on the base's features (the analogue of CLIP's zero-shot head), and each expert
/// fine-tunes the whole encoder on its task with its head frozen — exactly the setting of the
/// paper, where only the encoder is merged. The world was fixed before any merge was run.
public struct DemoConfiguration: Sendable {
    public var tasks = 6
    public var seed: UInt64 = 0
    public var inputs = 32
    public var hidden = 96
    public var embedding = 48
    public var classes = 5
    public var trainSamples = 3000
    public var validationSamples = 400
    public var testSamples = 800

    public init() {}
}

/// SplitMix64 with Gaussian samples (Box–Muller); the demo's only source of randomness.
struct DemoRandom {
    var generator: SplitMix64
    init(seed: UInt64) { generator = SplitMix64(seed: seed &+ 0x5DEE_CE66) }

    mutating func uniform() -> Double { (Double(generator.next() >> 11) + 0.5) / Double(1 << 53) }

    mutating func normal() -> Float {
        Float((-2 * log(uniform())).squareRoot() * cos(2 * Double.pi * uniform()))
    }
}

/// One task: its teacher's labeled splits and its frozen head.
struct DemoTask {
    let name: String
    var train: (x: Matrix<Float>, y: [Int])
    var validation: (x: Matrix<Float>, y: [Int])
    var test: (x: Matrix<Float>, y: [Int])
    var head: Matrix<Float>
}

/// The world: base encoder, tasks with heads, and the fine-tuned experts.
public final class DemoWorld {
    public let configuration: DemoConfiguration
    var base: TinyEncoder
    var tasks: [DemoTask] = []
    var experts: [TinyEncoder] = []

    public var taskNames: [String] { tasks.map(\.name) }

    public init(configuration: DemoConfiguration) {
        self.configuration = configuration
        let c = configuration
        var random = DemoRandom(seed: c.seed)
        func teacher(classes: Int) -> (Matrix<Float>) -> [Int] {
            let width = 12
            let u = Matrix<Float>(rows: width, columns: c.inputs) { _, _ in random.normal() / Float(c.inputs).squareRoot() * 2 }
            let v = Matrix<Float>(rows: classes, columns: width) { _, _ in random.normal() }
            return { x in
                let activations = product(x, u, transposeB: true)
                let hidden = Matrix(rows: activations.rows, columns: activations.columns, elements: activations.elements.map { tanh($0) })
                let scores = product(hidden, v, transposeB: true)
                return (0..<scores.rows).map { i in (0..<classes).max { scores[i, $0] < scores[i, $1] }! }
            }
        }
        func samples(_ count: Int) -> Matrix<Float> {
            Matrix(rows: count, columns: c.inputs) { _, _ in random.normal() }
        }
        // Pre-training on an unrelated 8-class teacher gives the base generic features.
        base = TinyEncoder(input: c.inputs, hidden: c.hidden, embedding: c.embedding, generator: &random)
        let pretrainX = samples(2000)
        let pretrainY = teacher(classes: 8)(pretrainX)
        var pretrainHead = Matrix<Float>(rows: 8, columns: c.embedding) { _, _ in random.normal() * 0.1 }
        Self.train(&base, head: &pretrainHead, x: pretrainX, y: pretrainY, steps: 300, learningRate: 1e-2, encoder: true, headToo: true)
        // Tasks, with heads fitted on the base's features and then frozen.
        for t in 0..<c.tasks {
            let label = teacher(classes: c.classes)
            let (train, validation, test) = (samples(c.trainSamples), samples(c.validationSamples), samples(c.testSamples))
            var head = Matrix<Float>(rows: c.classes, columns: c.embedding) { _, _ in random.normal() * 0.1 }
            var frozen = base
            Self.train(&frozen, head: &head, x: train, y: label(train), steps: 200, learningRate: 1e-2, encoder: false, headToo: true)
            tasks.append(DemoTask(name: "T\(t + 1)", train: (train, label(train)), validation: (validation, label(validation)),
                                  test: (test, label(test)), head: head))
        }
        // Experts: the whole encoder fine-tuned on one task, head frozen.
        experts = tasks.map { task in
            var expert = base
            var head = task.head
            Self.train(&expert, head: &head, x: task.train.x, y: task.train.y, steps: 300, learningRate: 1e-2, encoder: true, headToo: false)
            return expert
        }
    }

    /// Full-batch Adam on softmax cross-entropy, updating the encoder and/or the head.
    static func train(_ encoder: inout TinyEncoder, head: inout Matrix<Float>, x: Matrix<Float>, y: [Int], steps: Int,
                      learningRate: Float, encoder trainEncoder: Bool, headToo trainHead: Bool) {
        var optimizer = Adam(learningRate: learningRate)
        for _ in 0..<steps {
            let (pre, hidden, embedding) = encoder.forward(x)
            let dLogits = crossEntropyGradient(product(embedding, head, transposeB: true), y)
            var parameters: [[Float]] = []
            var gradients: [[Float]] = []
            if trainHead {
                parameters.append(head.elements)
                gradients.append(product(dLogits, embedding, transposeA: true).elements)
            }
            if trainEncoder {
                let dEmbedding = product(dLogits, head)
                let dW2 = product(dEmbedding, hidden, transposeA: true)
                var dPre = product(dEmbedding, encoder.w2)
                pre.withView { pre in
                    dPre.withMutableView { d in
                        for i in 0..<d.rows {
                            for j in 0..<d.columns where pre[i, j] <= 0 { d[i, j] = 0 }
                        }
                    }
                }
                let dW1 = product(dPre, x, transposeA: true)
                parameters += [encoder.w1.elements, encoder.b1, encoder.w2.elements, encoder.b2]
                gradients += [dW1.elements, columnSums(dPre), dW2.elements, columnSums(dEmbedding)]
            }
            optimizer.update(&parameters, gradients: gradients)
            var next = 0
            if trainHead {
                head = Matrix(rows: head.rows, columns: head.columns, elements: parameters[0])
                next = 1
            }
            if trainEncoder {
                encoder = TinyEncoder(w1: Matrix(rows: encoder.w1.rows, columns: encoder.w1.columns, elements: parameters[next]),
                                      b1: parameters[next + 1],
                                      w2: Matrix(rows: encoder.w2.rows, columns: encoder.w2.columns, elements: parameters[next + 2]),
                                      b2: parameters[next + 3])
            }
        }
    }

    static func columnSums(_ m: Matrix<Float>) -> [Float] {
        var sums = [Float](repeating: 0, count: m.columns)
        m.withView { view in
            for i in 0..<view.rows {
                let row = view.base + i * view.rowStride
                for j in 0..<view.columns { sums[j] += row[j] }
            }
        }
        return sums
    }

    /// Writes base.safetensors and expert_1… into `directory`; returns their paths (base first).
    public func writeCheckpoints(to directory: String, overwrite: Bool) throws -> [String] {
        var paths: [String] = []
        for (index, encoder) in ([base] + experts).enumerated() {
            let path = directory + (index == 0 ? "/base.safetensors" : "/expert_\(tasks[index - 1].name).safetensors")
            let specs = encoder.tensors.map { TensorSpec(name: $0.name, dtype: .f32, shape: $0.shape) }
            let writer = try SafetensorsWriter(path: path, tensors: specs,
                                               metadata: ["isomerge.demo": index == 0 ? "base" : "expert \(tasks[index - 1].name)"],
                                               overwrite: overwrite)
            for spec in writer.order {
                try encoder.tensors.first { $0.name == spec.name }!.values.withUnsafeBufferPointer { try writer.write(spec.name, values: $0) }
            }
            try writer.finish()
            paths.append(path)
        }
        return paths
    }

    /// The encoder stored in a checkpoint.
    func encoder(from checkpoint: Checkpoint) throws -> TinyEncoder {
        func matrix(_ name: String) throws -> Matrix<Float> {
            let shape = checkpoint.tensor(named: name)!.entry.shape
            return Matrix(rows: shape[0], columns: shape[1], elements: try checkpoint.values(of: name, as: Float.self))
        }
        return TinyEncoder(w1: try matrix("encoder.fc1.weight"), b1: try checkpoint.values(of: "encoder.fc1.bias"),
                           w2: try matrix("encoder.fc2.weight"), b2: try checkpoint.values(of: "encoder.fc2.bias"))
    }

    public enum Split { case validation, test }

    /// Per-task accuracy of an encoder checkpoint, each task with its own head.
    public func accuracies(of checkpoint: Checkpoint, on split: Split) throws -> [Double] {
        let model = try encoder(from: checkpoint)
        return accuracies(of: model, on: split)
    }

    func accuracies(of model: TinyEncoder, on split: Split) -> [Double] {
        tasks.map { task in
            let data = split == .validation ? task.validation : task.test
            return model.accuracy(data.x, data.y, head: task.head)
        }
    }

    /// The base's accuracy per task ("zero-shot").
    public func baseAccuracies(on split: Split) -> [Double] { accuracies(of: base, on: split) }

    /// Each expert's accuracy on its own task: the reference for normalized accuracy.
    public func expertAccuracies(on split: Split) -> [Double] {
        tasks.indices.map { t in
            let data = split == .validation ? tasks[t].validation : tasks[t].test
            return experts[t].accuracy(data.x, data.y, head: tasks[t].head)
        }
    }
}
