import IsoMerge

print("isomerge \(IsoMerge.version)")
