/// Conversions between timestamps and civil (proleptic Gregorian, UTC) dates, after
/// Howard Hinnant's `days_from_civil` / `civil_from_days` algorithms.
public enum Timestamp {
    /// Days since 1970-01-01 for a civil date.
    public static func daysFromCivil(year: Int64, month: Int64, day: Int64) -> Int64 {
        let y = month <= 2 ? year - 1 : year
        let era = (y >= 0 ? y : y - 399) / 400
        let yoe = y - era * 400
        let mp = (month + 9) % 12
        let doy = (153 * mp + 2) / 5 + day - 1
        let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy
        return era * 146_097 + doe - 719_468
    }

    /// Civil date for days since 1970-01-01.
    public static func civilFromDays(_ days: Int64) -> (year: Int64, month: Int64, day: Int64) {
        let z = days + 719_468
        let era = (z >= 0 ? z : z - 146_096) / 146_097
        let doe = z - era * 146_097
        let yoe = (doe - doe / 1460 + doe / 36524 - doe / 146_096) / 365
        let y = yoe + era * 400
        let doy = doe - (365 * yoe + yoe / 4 - yoe / 100)
        let mp = (5 * doy + 2) / 153
        let d = doy - (153 * mp + 2) / 5 + 1
        let m = mp < 10 ? mp + 3 : mp - 9
        return (m <= 2 ? y + 1 : y, m, d)
    }

    /// Formats epoch milliseconds the way Flink prints TIMESTAMP(3):
    /// `2015-07-15 00:00:10.000` (UTC).
    public static func formatMillis(_ ms: Int64) -> String {
        var out = [UInt8]()
        out.reserveCapacity(23)
        appendMillis(ms, to: &out)
        return String(decoding: out, as: UTF8.self)
    }

    /// Appends the formatted timestamp's bytes to `out`.
    public static func appendMillis(_ ms: Int64, to out: inout [UInt8]) {
        withUnsafeTemporaryAllocation(of: UInt8.self, capacity: maxFormattedLength) { buf in
            let n = format(millis: ms, into: buf.baseAddress!)
            out.append(contentsOf: UnsafeBufferPointer(rebasing: buf[0..<n]))
        }
    }

    /// Longest text `format(millis:into:)` writes.
    public static let maxFormattedLength = 48

    /// Writes `YYYY-MM-DD HH:MM:SS.mmm` (UTC) to `p` and returns the byte count (at most
    /// `maxFormattedLength`).
    @inline(__always)
    public static func format(millis ms: Int64, into p: UnsafeMutablePointer<UInt8>) -> Int {
        var days = ms / 86_400_000
        var rem = ms % 86_400_000
        if rem < 0 { rem += 86_400_000; days -= 1 }
        let (y, mo, d) = civilFromDays(days)
        var i = 0
        @inline(__always) func put(_ v: Int64, _ width: Int) {
            var x = v
            var k = width - 1
            while k >= 0 {
                p[i + k] = UInt8(truncatingIfNeeded: 48 + x % 10)
                x /= 10
                k -= 1
            }
            i += width
        }
        @inline(__always) func sep(_ c: UInt8) { p[i] = c; i += 1 }
        if y < 0 { sep(UInt8(ascii: "-")) }
        var yearDigits = 4
        var big = abs(y) / 10_000
        while big > 0 { yearDigits += 1; big /= 10 }
        put(abs(y), yearDigits)
        sep(UInt8(ascii: "-")); put(mo, 2)
        sep(UInt8(ascii: "-")); put(d, 2)
        sep(UInt8(ascii: " ")); put(rem / 3_600_000, 2)
        sep(UInt8(ascii: ":")); put((rem / 60_000) % 60, 2)
        sep(UInt8(ascii: ":")); put((rem / 1000) % 60, 2)
        sep(UInt8(ascii: ".")); put(rem % 1000, 3)
        return i
    }

    /// Parses `YYYY-MM-DD[( |T)HH:MM[:SS[.fff…]]][Z]` into epoch milliseconds, or nil.
    /// Fractions beyond milliseconds are truncated.
    public static func parseMillis(_ text: Substring) -> Int64? {
        let b = Array(text.utf8)
        var i = 0
        func num(_ width: Int) -> Int64? {
            guard i + width <= b.count else { return nil }
            var v: Int64 = 0
            for k in 0..<width {
                let c = b[i + k]
                guard c >= 48, c <= 57 else { return nil }
                v = v * 10 + Int64(c - 48)
            }
            i += width
            return v
        }
        func expect(_ c: UInt8) -> Bool {
            guard i < b.count, b[i] == c else { return false }
            i += 1
            return true
        }
        guard let y = num(4), expect(UInt8(ascii: "-")), let mo = num(2), expect(UInt8(ascii: "-")),
            let d = num(2), (1...12).contains(mo), (1...31).contains(d)
        else { return nil }
        var ms = daysFromCivil(year: y, month: mo, day: d) * 86_400_000
        if i == b.count { return ms }
        guard b[i] == UInt8(ascii: " ") || b[i] == UInt8(ascii: "T") else { return nil }
        i += 1
        guard let h = num(2), expect(UInt8(ascii: ":")), let mi = num(2), h < 24, mi < 60 else { return nil }
        ms += h * 3_600_000 + mi * 60_000
        if expect(UInt8(ascii: ":")) {
            guard let s = num(2), s < 61 else { return nil }
            ms += s * 1000
            if expect(UInt8(ascii: ".")) {
                var scale: Int64 = 100
                var digitsSeen = 0
                while i < b.count, b[i] >= 48, b[i] <= 57 {
                    ms += Int64(b[i] - 48) * scale
                    scale /= 10
                    i += 1
                    digitsSeen += 1
                }
                guard digitsSeen > 0 else { return nil }
            }
        }
        _ = expect(UInt8(ascii: "Z"))
        return i == b.count ? ms : nil
    }
}
