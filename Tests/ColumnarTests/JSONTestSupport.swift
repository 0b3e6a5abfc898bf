import CKernels
import Columnar
import Testing

/// Reads JSON lines text through `JSONScan` and renders the rows as text (NULL as
/// "NULL", timestamps formatted), claiming the morsels in order or in reverse.
struct JSONRead {
    var columns: [(String, DataType)]
    var options = JSONOptions()
    var capacity = 4096
    var morsel = 1 << 20
    var reversed = false

    init(_ columns: [(String, DataType)], options: JSONOptions = JSONOptions(), capacity: Int = 4096, morsel: Int = 1 << 20) {
        self.columns = columns
        self.options = options
        self.capacity = capacity
        self.morsel = morsel
    }

    func scan(_ text: String) -> JSONScan {
        scan(bytes: Array(text.utf8))
    }

    func scan(bytes: [UInt8]) -> JSONScan {
        let file = MappedInput(contents: bytes, path: "t.jsonl")
        return JSONScan(file: file, columns: columns.map { JSONColumn(name: $0.0, type: $0.1) }, options: options,
                        batchCapacity: capacity, morselSize: morsel)
    }

    func rows(_ text: String) throws -> [[String]] { try rows(bytes: Array(text.utf8)) }

    func rows(bytes: [UInt8]) throws -> [[String]] {
        let s = scan(bytes: bytes)
        var morsels: [Morsel] = []
        while let m = s.claimMorsel() { morsels.append(m) }
        var byMorsel = [[[String]]](repeating: [], count: morsels.count)
        for m in reversed ? morsels.reversed() : morsels {
            try s.parse(m) { batch in
                #expect(batch.count <= capacity)
                #expect(batch.count > 0)
                byMorsel[m.index] += jsonRenderRows(batch)
            }
        }
        return byMorsel.flatMap { $0 }
    }

    /// The error message (description) of reading `text`, or nil when it reads fine.
    func error(_ text: String) -> SpateError? { error(bytes: Array(text.utf8)) }

    func error(bytes: [UInt8]) -> SpateError? {
        do {
            _ = try rows(bytes: bytes)
            return nil
        } catch let e as SpateError {
            return e
        } catch {
            return SpateError(.runtime, "\(error)")
        }
    }
}

func jsonRenderRows(_ batch: Batch) -> [[String]] {
    (0..<batch.count).map { r in
        batch.columns.map { c -> String in
            guard c.isValid(r) else { return "NULL" }
            switch c.type {
            case .int64: return String(c.int64(at: r))
            case .float64: return "\(c.float64(at: r))"
            case .bool: return c.bool(at: r) ? "true" : "false"
            case .timestamp: return Timestamp.formatMillis(c.int64(at: r))
            case .string: return c.string(at: r)
            }
        }
    }
}

/// Runs `body` at every ISA level this CPU has, restoring the level afterwards.
func jsonAtEveryISA(_ body: (ck_isa) throws -> Void) rethrows {
    let saved = ck_isa_current()
    defer { _ = ck_isa_set(saved) }
    for level in [CK_ISA_SCALAR, CK_ISA_AVX2, CK_ISA_AVX512] where level.rawValue <= ck_isa_detected().rawValue {
        _ = ck_isa_set(level)
        try body(level)
    }
}
