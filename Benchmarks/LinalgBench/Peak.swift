import Dispatch
import Foundation

/// The machine's multiply-add peak for Float, from a kernel that touches no memory: 24 independent
/// accumulator chains (enough to cover FMA latency × throughput), 16-lane vectors. It is timed with
/// fused and with unfused arithmetic and the better is the peak, so the figure is honest for the
/// plain build too (where fused multiply-add is a libm call).
func measurePeak() -> [Int: Double] {
    var result: [Int: Double] = [:]
    for threads in [1, 2] {
        let fused = peakRate(threads: threads, Fused.self)
        let unfused = peakRate(threads: threads, Unfused.self)
        result[threads] = max(fused, unfused)
    }
    return result
}

private protocol Arithmetic: SendableMetatype {
    static func op(_ a: SIMD16<Float>, _ b: SIMD16<Float>, _ c: SIMD16<Float>) -> SIMD16<Float>
}

private enum Fused: Arithmetic {
    @inline(__always) static func op(_ a: SIMD16<Float>, _ b: SIMD16<Float>, _ c: SIMD16<Float>) -> SIMD16<Float> {
        a.addingProduct(b, c)
    }
}

private enum Unfused: Arithmetic {
    @inline(__always) static func op(_ a: SIMD16<Float>, _ b: SIMD16<Float>, _ c: SIMD16<Float>) -> SIMD16<Float> {
        a + b * c
    }
}

private func peakRate<A: Arithmetic>(threads: Int, _: A.Type) -> Double {
    let iterations = 2_000_000
    var best = Double.infinity
    for _ in 0..<3 {
        let start = DispatchTime.now().uptimeNanoseconds
        DispatchQueue.concurrentPerform(iterations: threads) { _ in
            let sink = registerLoop(iterations, A.self)
            if sink == .infinity { print("") }  // keeps the loop alive
        }
        best = min(best, Double(DispatchTime.now().uptimeNanoseconds - start) * 1e-9)
    }
    return Double(threads) * Double(iterations) * 24 * 16 * 2 / best / 1e9
}

@inline(never)
private func registerLoop<A: Arithmetic>(_ iterations: Int, _: A.Type) -> Float {
    @inline(__always) func op(_ a: SIMD16<Float>, _ b: SIMD16<Float>, _ c: SIMD16<Float>) -> SIMD16<Float> {
        A.op(a, b, c)
    }
    let x = SIMD16<Float>(repeating: 0.999999), y = SIMD16<Float>(repeating: 1e-7)
    var (a0, a1, a2, a3, a4, a5, a6, a7) = (x, x, x, x, x, x, x, x)
    var (b0, b1, b2, b3, b4, b5, b6, b7) = (x, x, x, x, x, x, x, x)
    var (c0, c1, c2, c3, c4, c5, c6, c7) = (x, x, x, x, x, x, x, x)
    for _ in 0..<iterations {
        a0 = op(a0, x, y); a1 = op(a1, x, y); a2 = op(a2, x, y); a3 = op(a3, x, y)
        a4 = op(a4, x, y); a5 = op(a5, x, y); a6 = op(a6, x, y); a7 = op(a7, x, y)
        b0 = op(b0, x, y); b1 = op(b1, x, y); b2 = op(b2, x, y); b3 = op(b3, x, y)
        b4 = op(b4, x, y); b5 = op(b5, x, y); b6 = op(b6, x, y); b7 = op(b7, x, y)
        c0 = op(c0, x, y); c1 = op(c1, x, y); c2 = op(c2, x, y); c3 = op(c3, x, y)
        c4 = op(c4, x, y); c5 = op(c5, x, y); c6 = op(c6, x, y); c7 = op(c7, x, y)
    }
    let sum = (a0 + a1 + a2 + a3 + a4 + a5 + a6 + a7) + (b0 + b1 + b2 + b3 + b4 + b5 + b6 + b7)
        + (c0 + c1 + c2 + c3 + c4 + c5 + c6 + c7)
    return sum.sum()
}
