import Foundation
import IsoMerge
import Linalg

/// A small multi-task world built deterministically from a seed, for `isomerge demo`: a miniature of
/// the regime the paper's methods are used in (CLIP encoders fine-tuned on eight image tasks; the
/// all-MiniLM-L6-v2 example in examples/real-text) rather than a contest between methods. What makes
/// that regime, and how the world reproduces each part, fixed before any merge was compared:
///
/// - **A base pre-trained broadly enough that its features transfer.** Inputs are mixtures of latent
///   concepts in one shared input space (`ConceptSpace`); the base is pre-trained on a broad
///   distribution over all concepts, so any task built from them starts from useful features: the
///   zero-shot rows of the table are far above chance without any training on the task.
/// - **Frozen heads from class descriptions.** Each task's head is the base's unit embedding of each
///   class's prototype input (the analogue of CLIP's and the MiniLM example's embedded class
///   descriptions), frozen; experts and merged models are read out through it, so only the encoder
///   is fine-tuned and merged, as in the paper.
/// - **Experts fine-tuned briefly, task vectors small next to the base.** Each expert takes
///   `fineTuningSteps` minibatch steps of Adam from the base, a tenth of pre-training's at a fifteenth
///   of its learning rate: enough to fit its own task (scaling its task vector further gains about
///   a point), while ‖τ_t‖/‖θ₀‖, which the demo prints, stays near 0.1. (A real encoder moves
///   relatively less — 0.6–0.7 % for all-MiniLM-L6-v2 in examples/real-text — since it has far more
///   parameters per task to spread the change over.)
/// - **Tasks that differ but share structure.** Each task has its own domain: its own class concepts
///   and background concepts, plus concepts common to all domains (`TaskDomain`); one task's
///   background is often another's signal, so the experts interfere through shared features, not
///   through random directions of weight space.
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
        let space = ConceptSpace(inputs: c.inputs, concepts: c.concepts, random: &random)
        // Broad pre-training: one class per concept, a head learned with the encoder.
        base = TinyEncoder(input: c.inputs, hidden: c.hidden, embedding: c.embedding, generator: &random)
        var pretrainingHead = Matrix<Float>(rows: c.concepts, columns: c.embedding) { _, _ in random.normal() * 0.1 }
        Training.train(&base, head: &pretrainingHead, scale: c.logitScale,
                       data: space.pretraining(count: c.pretrainingSamples, random: &random),
                       steps: c.pretrainingSteps, batchSize: 2 * c.batchSize, learningRate: c.pretrainingLearningRate,
                       trainHead: true, random: &random)
        // Tasks, each with the base's embeddings of its class prototypes as its frozen head.
        for t in 0..<c.tasks {
            let domain = TaskDomain(classes: c.classes, space: space, random: &random)
            var prototypes = Matrix<Float>(rows: c.classes, columns: c.inputs)
            for k in 0..<c.classes {
                let row = space.prototype(domain.prototype(k))
                for j in 0..<c.inputs { prototypes[k, j] = row.elements[j] }
            }
            tasks.append(DemoTask(name: "T\(t + 1)",
                                  train: domain.samples(c.trainSamples, space: space, random: &random),
                                  validation: domain.samples(c.validationSamples, space: space, random: &random),
                                  test: domain.samples(c.testSamples, space: space, random: &random),
                                  head: base.embed(prototypes)))
        }
        // Experts: the whole encoder fine-tuned briefly on one task, its head frozen.
        experts = tasks.map { task in
            var expert = base
            var head = task.head
            Training.train(&expert, head: &head, scale: c.logitScale, data: task.train, steps: c.fineTuningSteps,
                           batchSize: c.batchSize, learningRate: c.fineTuningLearningRate, trainHead: false, random: &random)
            return expert
        }
    }

    /// ‖τ_t‖/‖θ₀‖ per expert, over all merged tensors: how far fine-tuning moved from the base.
    public var relativeTaskVectorNorms: [Double] {
        func norm(_ arrays: [[Float]]) -> Double { arrays.joined().reduce(0) { $0 + Double($1) * Double($1) }.squareRoot() }
        let theta0 = base.parameters
        return experts.map { expert in
            norm(zip(expert.parameters, theta0).map { zip($0, $1).map { $0 - $1 } }) / norm(theta0)
        }
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

/// One task: its labelled splits and its frozen head (one unit row per class).
struct DemoTask {
    let name: String
    var train: (x: Matrix<Float>, y: [Int])
    var validation: (x: Matrix<Float>, y: [Int])
    var test: (x: Matrix<Float>, y: [Int])
    var head: Matrix<Float>
}
