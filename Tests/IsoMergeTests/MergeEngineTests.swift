@testable import IsoMerge
import Linalg
import TestSupport
import XCTest

/// Edge cases of the engine and the methods, against direct computations.
final class MergeEngineTests: XCTestCase {
    typealias Tensors = [(name: String, dtype: DType, shape: [Int], values: [Double])]

    func write(_ tensors: Tensors, to path: String) throws {
        let writer = try SafetensorsWriter(path: path, tensors: tensors.map { TensorSpec(name: $0.name, dtype: $0.dtype, shape: $0.shape) })
        for spec in writer.order {
            let tensor = tensors.first { $0.name == spec.name }!
            if spec.dtype == .f32 {
                // As stored bytes, so that an input can hold NaN or ∞ (which writing values refuses).
                try tensor.values.map { Float($0) }.withUnsafeBytes { try writer.write(spec.name, bytes: $0) }
            } else if spec.dtype.isConvertibleFloat {
                try tensor.values.withUnsafeBufferPointer { try writer.write(spec.name, values: $0) }
            } else {
                let bytes = tensor.values.flatMap { value -> [UInt8] in
                    let bits = UInt64(bitPattern: Int64(value))
                    return (0..<8).map { UInt8(truncatingIfNeeded: bits >> (8 * $0)) }
                }
                try bytes.withUnsafeBytes { try writer.write(spec.name, bytes: $0) }
            }
        }
        try writer.finish()
    }

    /// A base and T fine-tuned checkpoints with random task vectors, and the paths.
    func makeModels(tasks: Int, shapes: [(String, [Int])], seed: UInt64, directory: String) throws -> (base: String, models: [String]) {
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        var generator = SeededGenerator(seed: seed)
        var base: Tensors = shapes.map { name, shape in
            (name, .f32, shape, (0..<shape.reduce(1, *)).map { _ in Double(Float.random(in: -1...1, using: &generator)) })
        }
        base.append(("step", .i64, [1], [42]))
        try write(base, to: directory + "/base.safetensors")
        var models: [String] = []
        for t in 0..<tasks {
            let tuned: Tensors = base.map { tensor in
                tensor.dtype == .i64 ? tensor : (tensor.name, tensor.dtype, tensor.shape,
                                                 tensor.values.map { Double(Float($0 + Double(Float.random(in: -0.1...0.1, using: &generator)))) })
            }
            let path = directory + "/ft_\(t).safetensors"
            try write(tuned, to: path)
            models.append(path)
        }
        return (directory + "/base.safetensors", models)
    }

    func merge(_ method: String, base: String, models: [String], configure: (inout MergeOptions) -> Void = { _ in },
               output: String) throws -> Checkpoint {
        var options = MergeOptions(rule: try MergeRules.standard.make(method))
        configure(&options)
        let engine = try MergeEngine(base: try Checkpoint(path: base), models: try models.map { try Checkpoint(path: $0) }, options: options)
        _ = try engine.merge(to: output)
        return try Checkpoint(path: output)
    }

    func testEveryMethodOnEdgeShapesWithOneToFourTasks() throws {
        let directory = TestFiles.scratchDirectory(for: self)
        let shapes: [(String, [Int])] = [("row", [1, 9]), ("column", [9, 1]), ("tall", [23, 5]), ("wide", [5, 23]),
                                         ("square", [7, 7]), ("a.text_projection", [6, 4]), ("bias", [5]), ("conv", [2, 3, 2])]
        for tasks in 1...4 {
            let (base, models) = try makeModels(tasks: tasks, shapes: shapes, seed: UInt64(tasks), directory: directory + "/t\(tasks)")
            let baseCheckpoint = try Checkpoint(path: base)
            let taskVectors = try models.map { path -> [String: [Double]] in
                let model = try Checkpoint(path: path)
                return Dictionary(uniqueKeysWithValues: try shapes.map { name, _ in
                    (name, zip(try model.values(of: name, as: Double.self), try baseCheckpoint.values(of: name, as: Double.self)).map { $0 - $1 })
                })
            }
            for rule in MergeRules.standard.all {
                let method = rule.name
                let output = try merge(method, base: base, models: models, output: directory + "/t\(tasks)-\(method).safetensors")
                XCTAssertEqual(try output.rawBytes(of: "step"), try baseCheckpoint.rawBytes(of: "step"), "integer tensor copied")
                for (name, shape) in shapes {
                    let merged = zip(try output.values(of: name, as: Double.self), try baseCheckpoint.values(of: name, as: Double.self))
                        .map { ($0 - $1) / rule.defaultAlpha }
                    let taus = taskVectors.map { $0[name]! }
                    let sum = (0..<merged.count).map { i in taus.reduce(0) { $0 + $1[i] } }
                    let label = "T=\(tasks) \(method) \(name)"
                    XCTAssertTrue(merged.allSatisfy(\.isFinite), label)
                    let isMatrix = shape.count == 2 && !name.contains("text_projection")
                    switch method {
                    case "task_arithmetic":
                        for i in merged.indices { XCTAssertEqual(merged[i], sum[i], accuracy: 1e-5, label) }
                    case "average":
                        for i in merged.indices { XCTAssertEqual(merged[i], sum[i] / Double(tasks), accuracy: 1e-5, label) }
                    case _ where rule is any MatrixMergeRule.Type && !isMatrix:
                        for i in merged.indices { XCTAssertEqual(merged[i], sum[i] / Double(tasks), accuracy: 1e-5, label) }
                    case "iso_c":
                        // σ̄·polar(Σ τ): all singular values equal the mean of those of the sum.
                        let svdSum = try SVD(Matrix(rows: shape[0], columns: shape[1], elements: sum))
                        let mean = svdSum.singularValues.reduce(0, +) / Double(svdSum.singularValues.count)
                        let sigma = try SVD<Double>.singularValues(of: Matrix(rows: shape[0], columns: shape[1], elements: merged))
                        for s in sigma { XCTAssertEqual(s, mean, accuracy: 1e-5 * max(1, mean), label) }
                    case "iso_cts" where tasks == 1:
                        // One task: the common and task-specific parts together span everything, flat spectrum.
                        let sigma = try SVD<Double>.singularValues(of: Matrix(rows: shape[0], columns: shape[1], elements: merged))
                        for s in sigma { XCTAssertEqual(s, sigma[0], accuracy: 1e-5 * max(1, sigma[0]), label) }
                    case "tsv_m" where tasks == 1:
                        // One task keeps all r triplets: τ_M = τ.
                        for i in merged.indices { XCTAssertEqual(merged[i], sum[i], accuracy: 1e-5, label) }
                    default:
                        break
                    }
                }
            }
        }
    }

    /// Tensors no task changed are written back bit for bit, even by the SVD methods.
    func testFrozenTensorsAreSkippedAndExact() throws {
        let directory = TestFiles.scratchDirectory(for: self)
        let (base, models) = try makeModels(tasks: 3, shapes: [("w", [6, 4])], seed: 9, directory: directory)
        // Overwrite the fine-tuned models with copies of the base: every task vector is zero.
        for model in models {
            try FileManager.default.removeItem(atPath: model)
            try FileManager.default.copyItem(atPath: base, toPath: model)
        }
        for method in MergeRules.standard.names {
            let output = try merge(method, base: base, models: models, output: directory + "/\(method).safetensors")
            XCTAssertEqual(try output.rawBytes(of: "w"), try Checkpoint(path: base).rawBytes(of: "w"), method)
        }
    }

    func testValidationReportsEveryProblemAtOnce() throws {
        let directory = TestFiles.scratchDirectory(for: self)
        try write([("a", .f32, [2, 2], [1, 2, 3, 4]), ("b", .f32, [3], [1, 2, 3]), ("c", .f16, [1], [1])], to: directory + "/base.safetensors")
        try write([("a", .f32, [4, 1], [1, 2, 3, 4]), ("c", .f32, [1], [1]), ("extra", .f32, [1], [0])], to: directory + "/ft.safetensors")
        var options = MergeOptions(rule: try TIES())
        options.alpha = .nan
        XCTAssertThrowsError(try MergeEngine(base: try Checkpoint(path: directory + "/base.safetensors"),
                                             models: [try Checkpoint(path: directory + "/ft.safetensors")], options: options)) { error in
            let text = String(describing: error)
            for fragment in ["ft.safetensors: tensor 'a': shape [4, 1] differs from the base's [2, 2]",
                             "ft.safetensors: tensor 'b' is missing", "ft.safetensors: tensor 'extra' is not in the base",
                             "tensor 'c': dtype F32 differs from the base's F16", "alpha must be a finite number"] {
                XCTAssertTrue(text.contains(fragment), "missing '\(fragment)' in:\n\(text)")
            }
        }
        XCTAssertThrowsError(try MergeEngine(base: try Checkpoint(path: directory + "/base.safetensors"), models: [],
                                             options: MergeOptions(rule: try IsoC()))) { error in
            XCTAssertTrue(String(describing: error).contains("T ≥ 1"))
        }
    }

    func testNonFiniteInputIsAnErrorAndLeavesNoOutput() throws {
        let directory = TestFiles.scratchDirectory(for: self)
        try write([("w", .f32, [2, 2], [1, 2, 3, 4])], to: directory + "/base.safetensors")
        try write([("w", .f32, [2, 2], [1, .nan, 3, 4])], to: directory + "/ft.safetensors")
        XCTAssertThrowsError(try merge("iso_c", base: directory + "/base.safetensors", models: [directory + "/ft.safetensors"],
                                       output: directory + "/out.safetensors")) { error in
            XCTAssertTrue(String(describing: error).contains("ft.safetensors: tensor 'w': contains NaN or infinity"), "\(error)")
        }
        XCTAssertFalse(FileManager.default.fileExists(atPath: directory + "/out.safetensors"))
        XCTAssertEqual(TestFiles.listing(directory), ["base.safetensors", "ft.safetensors"])
    }

    /// τ_M written once and applied with α equals the direct merge at α; one and two threads agree.
    func testTaskVectorApplyAndThreadIndependence() throws {
        let directory = TestFiles.scratchDirectory(for: self)
        let (base, models) = try makeModels(tasks: 3, shapes: [("w", [40, 30]), ("b", [30])], seed: 12, directory: directory)
        for method in ["iso_cts", "ties"] {
            var options = MergeOptions(rule: try MergeRules.standard.make(method))
            options.alpha = 0.7
            let engine = try MergeEngine(base: try Checkpoint(path: base), models: try models.map { try Checkpoint(path: $0) }, options: options)
            _ = try engine.merge(to: directory + "/direct-\(method).safetensors")
            _ = try engine.writeTaskVector(to: directory + "/tau-\(method).safetensors")
            _ = try MergeEngine.apply(base: try Checkpoint(path: base), taskVector: try Checkpoint(path: directory + "/tau-\(method).safetensors"),
                                      alpha: 0.7, to: directory + "/applied-\(method).safetensors")
            XCTAssertEqual(TestFiles.bytes(directory + "/direct-\(method).safetensors").suffix(8000),
                           TestFiles.bytes(directory + "/applied-\(method).safetensors").suffix(8000), method)
            options.threads = 1
            let single = try MergeEngine(base: try Checkpoint(path: base), models: try models.map { try Checkpoint(path: $0) }, options: options)
            _ = try single.merge(to: directory + "/single-\(method).safetensors")
            XCTAssertEqual(TestFiles.bytes(directory + "/direct-\(method).safetensors"),
                           TestFiles.bytes(directory + "/single-\(method).safetensors"), "\(method) thread count")
        }
    }

    /// Unless a precision is given, a merge runs in Double exactly when a merged tensor is written as
    /// F16 or BF16 (`MergeOptions.workingPrecision(writing:)`), and then equals the float64 merge byte
    /// for byte; its task vector is stored in F64.
    func testPrecisionFollowsTheOutputDType() throws {
        let directory = TestFiles.scratchDirectory(for: self)
        func plan(_ fixture: String, _ configure: (inout MergeOptions) -> Void) throws -> MergePlan {
            let folder = TestFiles.fixture("merge/" + fixture)
            var options = MergeOptions(rule: try IsoC())
            configure(&options)
            return try MergePlan(base: try Checkpoint(path: folder + "/base.safetensors"),
                                 models: try (0..<3).map { try Checkpoint(path: folder + "/ft_0\($0).safetensors") }, options: options)
        }
        XCTAssertEqual(try plan("small-t4-bf16") { _ in }.precision, .float64)
        XCTAssertEqual(try plan("small-t4-f16") { _ in }.precision, .float64)
        XCTAssertEqual(try plan("small-t4-bf16") { $0.outputDType = .f32 }.precision, .float32)
        XCTAssertEqual(try plan("small-t4-bf16") { $0.precision = .float32 }.precision, .float32)
        XCTAssertEqual(try plan("small-t3") { _ in }.precision, .float32)
        XCTAssertEqual(try plan("small-t3") { $0.outputDType = .bf16 }.precision, .float64)
        XCTAssertEqual(try plan("small-t3") { $0.outputDType = .f16; $0.precision = .float32 }.precision, .float32)

        let folder = TestFiles.fixture("merge/small-t4-bf16")
        let (base, models) = (folder + "/base.safetensors", (0..<4).map { folder + "/ft_0\($0).safetensors" })
        for method in ["tsv_m", "average"] {
            let automatic = directory + "/auto-\(method).safetensors", double = directory + "/f64-\(method).safetensors"
            _ = try merge(method, base: base, models: models, output: automatic)
            _ = try merge(method, base: base, models: models, configure: { $0.precision = .float64 }, output: double)
            XCTAssertEqual(TestFiles.bytes(automatic), TestFiles.bytes(double), method)
        }
        let engine = try MergeEngine(base: try Checkpoint(path: base), models: try models.map { try Checkpoint(path: $0) },
                                     options: MergeOptions(rule: try IsoC()))
        _ = try engine.writeTaskVector(to: directory + "/tau.safetensors")
        let tau = try Checkpoint(path: directory + "/tau.safetensors")
        XCTAssertTrue(tau.tensors.allSatisfy { $0.entry.dtype == .f64 })
    }

    func testIsoCTSSizesUseBankersRounding() {
        XCTAssertTrue(IsoCTS.sizes(rank: 64, tasks: 2, fraction: 0.8) == (52, 6))
        XCTAssertTrue(IsoCTS.sizes(rank: 48, tasks: 3, fraction: 0.8) == (39, 3))
        XCTAssertTrue(IsoCTS.sizes(rank: 10, tasks: 4, fraction: 0.0) == (2, 2))   // k would be negative: s = ⌊r/T⌋
        XCTAssertTrue(IsoCTS.sizes(rank: 7, tasks: 1, fraction: 1.0) == (7, 0))
    }

    /// τ = θ − θ₀ is formed in the storage that was read, for both precisions: no element-by-element
    /// array cast and no copy on write (each cost a tensor-sized copy into fresh pages per task).
    func testTaskVectorReusesTheStorageRead() {
        let floats = (0..<4096).map { Float($0) }, doubles = (0..<4096).map { Double($0) }
        let floatAddress = floats.withUnsafeBufferPointer { UInt(bitPattern: $0.baseAddress) }
        let doubleAddress = doubles.withUnsafeBufferPointer { UInt(bitPattern: $0.baseAddress) }
        let tau: [Float] = BaseValues.float(consume floats).subtracting(.float([Float](repeating: 1, count: 4096)))
        let wide: [Double] = BaseValues.double(consume doubles).subtracting(.double([Double](repeating: 0.5, count: 4096)))
        XCTAssertEqual(tau.withUnsafeBufferPointer { UInt(bitPattern: $0.baseAddress) }, floatAddress)
        XCTAssertEqual(wide.withUnsafeBufferPointer { UInt(bitPattern: $0.baseAddress) }, doubleAddress)
        XCTAssertEqual(tau[10], 9)
        XCTAssertEqual(wide[10], 9.5)
    }

    /// Whole-model thresholds: the exact k-th smallest magnitude, found by radix passes.
    func testMagnitudeSelectionIsExact() {
        var generator = SeededGenerator(seed: 3)
        let chunks = (0..<5).map { _ in (0..<997).map { _ in Float.random(in: -2...2, using: &generator) } }
        let sorted = chunks.flatMap { $0 }.map(abs).sorted()
        for rank in [1, 2, 500, 2000, sorted.count] {
            var selection = MagnitudeSelection<Float>(rank: rank)
            while !selection.isComplete {
                var histogram = [Int](repeating: 0, count: MagnitudeSelection<Float>.bins)
                for chunk in chunks { selection.count(chunk, into: &histogram) }
                selection.finishPass(histogram)
            }
            XCTAssertEqual(selection.value, sorted[rank - 1], "rank \(rank)")
            var double = MagnitudeSelection<Double>(rank: rank)
            while !double.isComplete {
                var histogram = [Int](repeating: 0, count: MagnitudeSelection<Double>.bins)
                for chunk in chunks { double.count(chunk.map(Double.init), into: &histogram) }
                double.finishPass(histogram)
            }
            XCTAssertEqual(double.value, Double(sorted[rank - 1]), "Double rank \(rank)")
        }
    }
}

/// Iso-CTS at sizes where its shortcuts engage (σ₁ by power iteration, τ̄ through the complement
/// basis, leading-vector SVDs, the block-diagonal polar of U*) against the formula evaluated with
/// full SVDs. In Double the two must agree to rounding (the shortcuts are exact). In Float both
/// carry the problem's own sensitivity — these spectra are flat at the cut, and the error of the
/// full formula evaluated in Float ranges 2e-5…1e-4 over seeds — so the shortcuts must stay within
/// a small factor of that error (measured ratios 1.0–2.0 under different roundings); the 1e-4
/// Float contract itself is checked on the reference fixtures.
final class IsoCTSShortcutTests: XCTestCase {
    func fullIsoCTS<T: LinalgScalar>(_ taus: [Matrix<T>], fraction: Double) throws -> Matrix<T> {
        let (m, n) = (taus[0].rows, taus[0].columns), r = min(m, n), tasks = taus.count
        let (k, s) = IsoCTS.sizes(rank: r, tasks: tasks, fraction: fraction)
        let total = Matrix(rows: m, columns: n, elements: VectorRules.sum(taus.map(\.elements)))
        let common = try SVD(total)
        var uStar = Matrix<T>(rows: m, columns: r), vtStar = Matrix<T>(rows: r, columns: n)
        var sigma = [T](repeating: 0, count: r)
        let uc = common.u.selecting(columns: Array(0..<k))
        for (t, tau) in taus.enumerated() {
            let projection = product(uc, product(uc, tau, transposeA: true, threads: 1), threads: 1)
            let projected = Matrix(rows: m, columns: n, elements: zip(tau.elements, projection.elements).map { $0 - $1 })
            let svd = try SVD(projected)
            uStar.place(svd.u.selecting(columns: Array(0..<s)), row: 0, column: t * s)
            vtStar.place(svd.vt.selecting(rows: Array(0..<s)), row: t * s, column: 0)
            for i in 0..<s { sigma[t * s + i] = svd.singularValues[i] }
        }
        uStar.place(uc, row: 0, column: tasks * s)
        vtStar.place(common.vt.selecting(rows: Array(0..<k)), row: tasks * s, column: 0)
        for i in 0..<k { sigma[tasks * s + i] = common.singularValues[i] }
        let mean = sigma.reduce(0, +) / T(r)
        return product(try PolarDecomposition(uStar).factor, try PolarDecomposition(vtStar).factor, alpha: mean, threads: 1)
    }

    func testShortcutsAgreeWithTheFullFormula() throws {
        var generator = SeededGenerator(seed: 77)
        // Tall (the leading-vector SVD of τ̄ itself) and wide (τ̄ through the complement basis),
        // large enough that every SVD takes the bidiagonal path (rank > 16, task blocks sT > 16).
        for (m, n, tasks) in [(112, 96, 4), (96, 144, 5)] {
            // Task vectors with spectra σ_j = 1/(1 + j/20): decaying but with condition ≈ r/20, since the
            // isotropic methods weigh every direction alike and tiny σ would make them ill-determined
            // in Float whatever the algorithm; plus a shared rank-8 part.
            let r = min(m, n)
            let sharedLeft = QRFactorization(Matrix<Double>.random(rows: m, columns: 8, using: &generator)).q
            let taus = (0..<tasks).map { _ -> Matrix<Double> in
                let left = QRFactorization(Matrix<Double>.random(rows: m, columns: r, using: &generator)).q
                let right = QRFactorization(Matrix<Double>.random(rows: n, columns: r, using: &generator)).q
                var scaled = left
                scaled.withMutableView { v in for i in 0..<m { for j in 0..<r { v[i, j] *= 1 / (1 + Double(j) / 20) } } }
                let own = product(scaled, right, transposeB: true, threads: 1)
                let mix = Matrix<Double>.random(rows: 8, columns: n, using: &generator)
                let common = product(sharedLeft, mix, threads: 1)
                return Matrix(rows: m, columns: n) { i, j in own[i, j] + common[i, j] }
            }
            for fraction in [0.8, 0.5] {
                let expected = try fullIsoCTS(taus, fraction: fraction)
                func error<T: LinalgScalar>(_ ours: Matrix<T>) -> Double { relativeError(ours, to: expected) }
                let floats = taus.map { tau -> Matrix<Float> in tau.converted() }
                let exact = error(try IsoCTS.merge(taus, ranks: taus.map { min($0.rows, $0.columns) }, rows: taus[0].rows, columns: taus[0].columns, fraction: fraction, threads: nil))
                // Float through the engine's matrix rule: the shortcut routes in Float, or the same
                // merge in Double where Float cannot resolve these flat spectra (RankRule).
                let shortcut = error(try IsoCTS(commonFraction: fraction).mergeMatrices(floats, exact: { taus }, threads: nil))
                let direct = error(try fullIsoCTS(floats, fraction: fraction))
                print("Iso-CTS shortcut check \(m)×\(n) T=\(tasks) f=\(fraction): Double \(exact), Float \(shortcut), Float full formula \(direct)")
                XCTAssertLessThan(exact, 1e-10, "\(m)×\(n) T=\(tasks) f=\(fraction) Double")
                XCTAssertLessThan(shortcut, RankRule<Float>.targetAccuracy, "\(m)×\(n) T=\(tasks) f=\(fraction) Float")
            }
        }
    }
}
