import Foundation
import Linalg

/// SplitMix64 with uniform and Gaussian samples (Box–Muller); the demo's only source of randomness.
struct DemoRandom {
    var generator: SplitMix64
    init(seed: UInt64) { generator = SplitMix64(seed: seed &+ 0x5DEE_CE66) }

    mutating func uniform() -> Double { (Double(generator.next() >> 11) + 0.5) / Double(1 << 53) }

    /// Uniform on [low, high).
    mutating func uniform(_ low: Float, _ high: Float) -> Float { low + (high - low) * Float(uniform()) }

    /// An integer in 0..<count.
    mutating func index(_ count: Int) -> Int { min(count - 1, Int(uniform() * Double(count))) }

    mutating func normal() -> Float {
        Float((-2 * log(uniform())).squareRoot() * cos(2 * Double.pi * uniform()))
    }

    /// `count` distinct elements of `pool`, in random order.
    mutating func choose(_ count: Int, from pool: [Int]) -> [Int] {
        var pool = pool
        for i in 0..<count { pool.swapAt(i, i + index(pool.count - i)) }
        return Array(pool.prefix(count))
    }
}
