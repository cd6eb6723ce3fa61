@testable import IsoMerge
import XCTest

/// The registry and the parameter declarations the command line, configs and provenance derive from.
final class MergeRuleTests: XCTestCase {
    func testEveryStandardRuleIsMadeFromItsDefaults() throws {
        XCTAssertEqual(MergeRules.standard.names, ["average", "task_arithmetic", "ties", "tsv_m", "iso_c", "iso_cts"])
        for rule in MergeRules.standard.all {
            let made = try rule.init(given: [:])
            XCTAssertEqual(made.name, rule.name)
            XCTAssertEqual(made.parameters, try MergeParameterValues(rule.parameters))
            XCTAssertTrue(rule.alphaGrid.contains(rule.defaultAlpha) || rule.name == "task_arithmetic", rule.name)
        }
        XCTAssertEqual(MergeRules.standard.rule(named: "ISO-CTS")?.name, "iso_cts")
        XCTAssertNil(MergeRules.standard.rule(named: "magic"))
    }

    func testValuesAreCheckedAgainstTheirDeclarations() {
        for (given, fragment) in [(["density": MergeParameterValue.number(0)], "--density must be in (0, 1]"),
                                  (["density": .number(.nan)], "--density must be in (0, 1]"),
                                  (["density": .strings(["a"])], "--density takes a number, not a list of strings"),
                                  (["ties-per-tensor": .number(1)], "--ties-per-tensor takes no value (it is a switch), not a number"),
                                  (["common-fraction": .number(0.5)], "--common-fraction is not a parameter of this method")] {
            XCTAssertThrowsError(try TIES(given: given)) { error in
                XCTAssertTrue("\(error)".contains(fragment), "\(given): \(error)")
            }
        }
        XCTAssertThrowsError(try IsoCTS(commonFraction: 1.01)) { error in
            XCTAssertTrue("\(error)".contains("--common-fraction must be in [0, 1] (the share of the rank for the common subspace, e.g. 0.8), not 1.01"),
                          "\(error)")
        }
        XCTAssertNoThrow(try IsoCTS(commonFraction: 0))
        XCTAssertNoThrow(try TIES(density: 1))
    }

    func testProvenanceRecordsEveryDeclaredParameter() throws {
        XCTAssertEqual(try TIES(density: 0.3, perTensor: true).provenance,
                       ["isomerge.density": "0.3", "isomerge.ties_scope": "per_tensor"])
        XCTAssertEqual(try TIES().provenance, ["isomerge.density": "0.2", "isomerge.ties_scope": "whole_model"])
        XCTAssertEqual(try IsoCTS(commonFraction: 0.5, exclude: ["a", "b\""]).provenance,
                       ["isomerge.common_fraction": "0.5", "isomerge.exclude": "[\"a\",\"b\\\"\"]"])
        XCTAssertEqual(Average().provenance, [:])
    }

    func testMatrixRulesHonourTheirExclusions() throws {
        let rule = try TSVM(exclude: ["proj"])
        XCTAssertTrue(rule.takesMatrixRule(name: "mlp.weight", shape: [4, 3]))
        XCTAssertFalse(rule.takesMatrixRule(name: "visual.proj", shape: [4, 3]))
        XCTAssertFalse(rule.takesMatrixRule(name: "mlp.bias", shape: [4]))
        XCTAssertFalse(TaskArithmetic().takesMatrixRule(name: "mlp.weight", shape: [4, 3]))
    }

    func testNumberRangesPrintAsIntervals() {
        XCTAssertEqual(NumberRange.openClosed(0, 1).description, "(0, 1]")
        XCTAssertEqual(NumberRange.closed(0.5, 2).description, "[0.5, 2]")
        XCTAssertFalse(NumberRange.openClosed(0, 1).contains(0))
        XCTAssertTrue(NumberRange.openClosed(0, 1).contains(1))
    }
}
