import Linalg

/// The demo's data: every input is a mixture of latent concepts, x = A·z + noise, with one fixed
/// random mixing matrix A (inputs × concepts, columns of about unit length) shared by pre-training
/// and every task — one input space, as natural images or English text are for real encoders.
///
/// - The broad pre-training distribution draws three concepts out of all of them and labels the
///   input with the strongest: a base that solves it has to represent every concept, which is what
///   makes its features transfer to any task built from them.
/// - A few concepts are *common*: they vary in every task's data without deciding any label (the
///   analogue of lighting, style or function words), so every expert meets them.
struct ConceptSpace {
    let mixing: Matrix<Float>
    let common: [Int]
    let noise: Float = 0.1

    init(inputs: Int, concepts: Int, random: inout DemoRandom) {
        let scale = 1 / Float(inputs).squareRoot()
        mixing = Matrix(rows: inputs, columns: concepts) { _, _ in random.normal() * scale }
        common = random.choose(4, from: Array(0..<concepts))
    }

    var concepts: Int { mixing.columns }

    /// The inputs of concept activations z (one row per sample): rows of z·Aᵀ plus Gaussian noise.
    func inputs(_ z: Matrix<Float>, random: inout DemoRandom) -> Matrix<Float> {
        let clean = product(z, mixing, transposeB: true)
        return Matrix(rows: clean.rows, columns: clean.columns, elements: clean.elements.map { $0 + noise * random.normal() })
    }

    /// The noiseless input of one activation vector (a class's prototype).
    func prototype(_ z: [Float]) -> Matrix<Float> {
        product(Matrix(rows: 1, columns: z.count, elements: z), mixing, transposeB: true)
    }

    /// Pre-training samples: three random concepts active at strengths in [0.2, 1.5), labelled
    /// with the strongest (one class per concept).
    func pretraining(count: Int, random: inout DemoRandom) -> (x: Matrix<Float>, y: [Int]) {
        var z = Matrix<Float>(rows: count, columns: concepts)
        var labels = [Int]()
        for i in 0..<count {
            var strongest = (concept: 0, strength: -Float.infinity)
            for k in random.choose(3, from: Array(0..<concepts)) {
                let strength = random.uniform(0.2, 1.5)
                z[i, k] = strength
                if strength > strongest.strength { strongest = (k, strength) }
            }
            labels.append(strongest.concept)
        }
        return (inputs(z, random: &random), labels)
    }
}
