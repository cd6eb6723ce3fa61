/// The sizes and training budgets of the demo world (`DemoWorld` explains the design).
///
/// The defaults are fixed by the regime the world is a miniature of, not by how the merges come out:
/// the base is pre-trained long enough on the broad distribution to tell all `concepts` apart; the
/// embedding is narrower than the number of concepts, so the base has to share dimensions between
/// them, as real encoders do; each expert is fine-tuned briefly — a tenth of pre-training's steps at
/// a fifteenth of its learning rate — until it fits its task, with its task vector small next to the
/// base's weights.
public struct DemoConfiguration: Sendable {
    public var tasks = 6
    public var seed: UInt64 = 0
    /// Input dimension and number of latent concepts the inputs are mixed from.
    public var inputs = 96
    public var concepts = 64
    public var hidden = 128
    public var embedding = 48
    public var classes = 5
    public var trainSamples = 2000
    public var validationSamples = 400
    public var testSamples = 800
    /// Pre-training: samples of the broad distribution and minibatch steps on them.
    public var pretrainingSamples = 10_000
    public var pretrainingSteps = 3000
    public var pretrainingLearningRate: Float = 3e-3
    /// Fine-tuning: a brief run from the base, head frozen.
    public var fineTuningSteps = 300
    public var fineTuningLearningRate: Float = 2e-4
    public var batchSize = 64
    /// The logit scale of the frozen cosine heads.
    public var logitScale: Float = 10

    public init() {}
}
