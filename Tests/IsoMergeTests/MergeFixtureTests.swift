@testable import IsoMerge
import Linalg
import XCTest

/// Every case of the shared fixtures (float64 reference results): per tensor, the relative
/// Frobenius error of the merged delta, ‖(out − base) − (expected − base)‖/‖expected − base‖, is
/// within 1e-4 for F32 and F64 inputs merged in Float, within one ulp element-wise for F16 and
/// BF16 inputs, and within 1e-10 in double precision against float64 expectations.
final class MergeFixtureTests: XCTestCase {
    struct Case {
        let file: String
        let method: String
        let alpha: Double
        let density: Double
        let fraction: Double
    }

    func cases(_ fixture: String) throws -> (inputs: [String], cases: [Case]) {
        let directory = TestFiles.fixture("merge/" + fixture)
        let json = try JSONValue.parse(TestFiles.bytes(directory + "/cases.json"))
        guard case let .array(inputs)? = json["inputs"], case let .array(items)? = json["cases"] else {
            throw MergeError("bad cases.json in \(fixture)")
        }
        let paths = inputs.compactMap { value -> String? in
            if case let .string(name) = value { return directory + "/" + name }
            return nil
        }
        let parsed = items.map { item -> Case in
            var file = "", method = ""
            if case let .string(text)? = item["file"] { file = text }
            if case let .string(text)? = item["method"] { method = text }
            return Case(file: directory + "/" + file, method: method, alpha: item["alpha"]?.double ?? 1,
                        density: (item["k"]?.double ?? 20) / 100, fraction: item["fraction"]?.double ?? 0.8)
        }
        return (paths, parsed)
    }

    func run(_ fixture: String, double: Bool = false, precision: Precision? = .float32, outputDType: DType? = nil,
             expectedDirectory: String? = nil, check: (String, TensorEntry, [Double], [Double], [Double]) -> Void) throws {
        let (inputs, cases) = try cases(fixture)
        let scratch = TestFiles.scratchDirectory(for: self)
        let base = try Checkpoint(path: inputs[0])
        let models = try inputs.dropFirst().map { try Checkpoint(path: $0) }
        for (index, testCase) in cases.enumerated() {
            let parameters: [String: MergeParameterValue] = ["density": .number(testCase.density),
                                                             "common-fraction": .number(testCase.fraction)]
            var options = MergeOptions(rule: try MergeRules.standard.make(testCase.method, given: parameters, ignoringUndeclared: true))
            options.alpha = testCase.alpha
            options.precision = double ? .float64 : precision
            options.outputDType = double ? .f64 : outputDType
            let engine = try MergeEngine(base: base, models: models, options: options)
            let output = scratch + "/out\(index).safetensors"
            _ = try engine.merge(to: output)
            var expectedPath = testCase.file
            if let expectedDirectory {
                expectedPath = expectedPath.replacingOccurrences(of: "/expected/", with: "/\(expectedDirectory)/")
            }
            let expected = try Checkpoint(path: expectedPath)
            let ours = try Checkpoint(path: output)
            for (_, entry) in base.tensors {
                let label = "\(fixture) \(testCase.method) α=\(testCase.alpha) \(entry.name)"
                guard entry.dtype.isConvertibleFloat else {
                    XCTAssertEqual(try ours.rawBytes(of: entry.name), try base.rawBytes(of: entry.name), "\(label): copied from base")
                    continue
                }
                XCTAssertEqual(ours.tensor(named: entry.name)?.entry.dtype, double ? .f64 : outputDType ?? entry.dtype, "\(label): output dtype")
                check(label, entry, try base.values(of: entry.name, as: Double.self), try ours.values(of: entry.name, as: Double.self),
                      try expected.values(of: entry.name, as: Double.self))
            }
        }
    }

    func relativeDeltaError(base: [Double], ours: [Double], expected: [Double]) -> Double {
        var error = 0.0, norm = 0.0
        for i in base.indices {
            let (d, e) = (ours[i] - base[i], expected[i] - base[i])
            error += (d - e) * (d - e)
            norm += e * e
        }
        return norm == 0 ? error.squareRoot() : (error / norm).squareRoot()
    }

    func checkRelative(_ tolerance: Double) -> (String, TensorEntry, [Double], [Double], [Double]) -> Void {
        { label, _, base, ours, expected in
            let error = self.relativeDeltaError(base: base, ours: ours, expected: expected)
            XCTAssertLessThanOrEqual(error, tolerance, label)
        }
    }

    func testSmallT3() throws { try run("small-t3", check: checkRelative(1e-4)) }

    /// r not divisible by T, tall and wide shapes, an excluded 2-D tensor, an integer tensor.
    func testOddT3() throws { try run("odd-t3", check: checkRelative(1e-4)) }

    /// Exactly rank-deficient (LoRA-like) sums stored in F64 and merged in Float.
    func testLowRankT4() throws { try run("small-lora-t4", check: checkRelative(1e-4)) }

    /// BF16 inputs: outputs stay BF16 and, merged in the precision chosen for them (Double, since
    /// the outputs are 16-bit), are within one BF16 ulp of the float64 reference correctly rounded
    /// to BF16 — element by element, cancellations θ₀ ≈ −α·τ_M included.
    func testBF16T4() throws {
        try run("small-t4-bf16", precision: nil, expectedDirectory: "expected-f64", check: checkWithinOneUlp(of: .bf16))
    }

    /// F16 inputs, as BF16.
    func testF16T4() throws {
        try run("small-t4-f16", precision: nil, expectedDirectory: "expected-f64", check: checkWithinOneUlp(of: .f16))
    }

    /// BF16 inputs merged in Float and written as F32: the normwise promise of Float arithmetic.
    func testBF16T4InFloatToF32() throws {
        try run("small-t4-bf16", outputDType: .f32, expectedDirectory: "expected-f64", check: checkRelative(1e-4))
    }

    /// Each output element within one ulp of `dtype` of the Double reference rounded once to it.
    func checkWithinOneUlp(of dtype: DType) -> (String, TensorEntry, [Double], [Double], [Double]) -> Void {
        { label, _, _, ours, expected in
            for i in ours.indices {
                let (reference, ulp) = Self.rounded(expected[i], to: dtype)
                if abs(ours[i] - reference) > ulp {
                    XCTFail("\(label)[\(i)]: \(ours[i]) vs \(reference), \(abs(ours[i] - reference) / ulp) ulps")
                    return
                }
            }
        }
    }

    /// `x` rounded once to F16 or BF16 (round-to-odd to Float first), and the ulp there.
    static func rounded(_ x: Double, to dtype: DType) -> (value: Double, ulp: Double) {
        let narrow = Float(roundingToOdd: x)
        let value = dtype == .f16 ? Double(HalfPrecision.float(fromF16: HalfPrecision.f16Bits(from: narrow)))
                                  : Double(HalfPrecision.float(fromBF16: HalfPrecision.bf16Bits(from: narrow)))
        let (fractionBits, smallestExponent) = dtype == .f16 ? (10, -14) : (7, -126)
        let exponent = value == 0 ? smallestExponent : max(smallestExponent, Int(value.exponent))
        return (value, Double(sign: .plus, exponent: exponent - fractionBits, significand: 1))
    }

    /// Double precision against float64 expectations generated by refmerge.py (expected-f64/).
    func testDoublePrecisionAgainstFloat64Reference() throws {
        try run("small-t3", double: true, expectedDirectory: "expected-f64", check: checkRelative(1e-10))
    }
}
