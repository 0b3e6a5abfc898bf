import Columnar
import Testing

@Suite struct ColumnTests {
    @Test func appendsGrowAndKeepNulls() {
        let c = Column(.int64, capacity: 2)
        for i in 0..<100 {
            if i % 7 == 0 { c.appendNull() } else { c.append(Int64(i)) }
        }
        #expect(c.count == 100)
        #expect(c.nullCount == 15)
        for i in 0..<100 {
            #expect(c.isValid(i) == (i % 7 != 0))
            if i % 7 != 0 { #expect(c.int64(at: i) == Int64(i)) }
        }
        #expect(Int(bitPattern: c.values.pointer) % 64 == 0)
    }

    @Test func stringsUseOffsetsAndArena() {
        let c = Column(.string, capacity: 1)
        let words = ["", "a", "héllo", String(repeating: "x", count: 100)]
        for w in words { c.append(w) }
        c.appendNull()
        #expect(c.count == 5)
        for (i, w) in words.enumerated() { #expect(c.string(at: i) == w) }
        #expect(!c.isValid(4))
        #expect(c.string(at: 4) == "")
    }

    @Test func gatherCopiesSelectedRows() {
        let c = Column(.string, capacity: 4)
        for w in ["a", "b", "c", "d"] { c.append(w) }
        c.setNull(2)
        let sel: [UInt32] = [1, 2, 3]
        let g = sel.withUnsafeBufferPointer { c.gather($0.baseAddress, 3) }
        #expect(g.count == 3)
        #expect(g.string(at: 0) == "b")
        #expect(!g.isValid(1))
        #expect(g.string(at: 2) == "d")
        #expect(g.nullCount == 1)
    }

    @Test func resetKeepsCapacity() {
        let c = Column(.float64, capacity: 8)
        c.append(1.5); c.appendNull()
        c.reset()
        #expect(c.count == 0 && c.nullCount == 0 && c.validity == nil)
        c.append(2.5)
        #expect(c.float64(at: 0) == 2.5 && c.isValid(0))
    }
}

@Suite struct TimestampTests {
    @Test func formatsLikeFlink() {
        #expect(Timestamp.formatMillis(0) == "1970-01-01 00:00:00.000")
        #expect(Timestamp.formatMillis(1_436_918_410_000) == "2015-07-15 00:00:10.000")
        #expect(Timestamp.formatMillis(-1) == "1969-12-31 23:59:59.999")
    }

    @Test func parsesIsoForms() {
        #expect(Timestamp.parseMillis("2015-07-15 00:00:10") == 1_436_918_410_000)
        #expect(Timestamp.parseMillis("2015-07-15T00:00:10.5Z") == 1_436_918_410_500)
        #expect(Timestamp.parseMillis("2015-07-15") == 1_436_918_400_000)
        #expect(Timestamp.parseMillis("2015-13-15") == nil)
        #expect(Timestamp.parseMillis("2015-07-15 00:00:10.") == nil)
        for ms: Int64 in [-86_400_001, 0, 951_782_400_000, 4_102_444_800_123] {
            #expect(Timestamp.parseMillis(Substring(Timestamp.formatMillis(ms))) == ms)
        }
    }
}
