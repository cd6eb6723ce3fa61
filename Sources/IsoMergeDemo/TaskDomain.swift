import Linalg

/// One downstream task of the demo: its own domain of the shared concept space.
///
/// Each class is a pair of concepts out of the task's six *class concepts* (a class's prototype
/// activates its pair at strength 1). A sample of class y activates y's pair at strengths in
/// [0.6, 1.4), and each of the task's fourteen *background concepts* and the space's common concepts
/// with probability ½ at strengths in [0, 2): strong enough that the base's embedding, which
/// represents every concept, confuses the classes often (zero-shot accuracy well below the
/// expert's), while the label stays recoverable (the experts come close to 100 %). Background
/// concepts are drawn from all concepts that are not common, so one task's background is often
/// another's class concept: what one expert learns to ignore, another needs — the tasks interfere
/// as real ones do, through shared features.
struct TaskDomain {
    let classPairs: [[Int]]
    let background: [Int]
    let common: [Int]
    let concepts: Int

    init(classes: Int, space: ConceptSpace, random: inout DemoRandom) {
        let candidates = (0..<space.concepts).filter { !space.common.contains($0) }
        let classConcepts = random.choose(6, from: candidates)
        var pairs = [[Int]]()
        for a in 0..<classConcepts.count {
            for b in (a + 1)..<classConcepts.count { pairs.append([classConcepts[a], classConcepts[b]]) }
        }
        classPairs = random.choose(classes, from: Array(pairs.indices)).map { pairs[$0] }
        background = random.choose(14, from: candidates.filter { !classConcepts.contains($0) })
        common = space.common
        concepts = space.concepts
    }

    /// The activation vector of class c's prototype (its "class description").
    func prototype(_ c: Int) -> [Float] {
        var z = [Float](repeating: 0, count: concepts)
        for k in classPairs[c] { z[k] = 1 }
        return z
    }

    /// `count` labelled samples, classes uniformly at random.
    func samples(_ count: Int, space: ConceptSpace, random: inout DemoRandom) -> (x: Matrix<Float>, y: [Int]) {
        var z = Matrix<Float>(rows: count, columns: concepts)
        var labels = [Int]()
        for i in 0..<count {
            let y = random.index(classPairs.count)
            for k in background + common where random.uniform() < 0.5 { z[i, k] = random.uniform(0, 2) }
            for k in classPairs[y] { z[i, k] = random.uniform(0.6, 1.4) }
            labels.append(y)
        }
        return (space.inputs(z, random: &random), labels)
    }
}
