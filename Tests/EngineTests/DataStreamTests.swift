import Columnar
import Engine
import Foundation
import Testing

// Plain `import Engine` (not @testable): the Swift API must be usable from outside.

// MARK: - The README example (keep the two in step: this is its exact code)

/// Bids per auction and 10-second window, from a CSV file to another.
func bidsPerAuction(input: String, output: String) throws -> RunStatistics {
    let env = StreamEnvironment(options: ExecutionOptions(workers: 2))
    let bids = try env.fromTable(
        "bids",
        schema: [Field("auction", .int64), Field("price", .float64), Field("ts", .timestamp(.millisecond))],
        watermark: ("ts", delay: .seconds(2)),
        options: ["connector": "filesystem", "path": input, "format": "csv"])
    return try bids
        .filter(col("price") > 10)
        .keyBy("auction")
        .window(.tumble(size: .seconds(10)))
        .aggregate(.count(as: "bids"), .max("price", as: "top"), .avg("price", as: "average"))
        .sink(path: output)
        .execute()
}

/// The Swift DataStream API: every pipeline is checked against the SQL query it stands
/// for (same plan text, same rows on the same CSV), some also against a direct
/// computation, and its errors name the operator, the calling line and a fix.
@Suite final class DataStreamTests {
    /// Aligned to 10 s, so windows start at base + k * 10 s.
    static let base: Int64 = 1_700_000_000_000

    struct Bid { var auction: Int64; var bidder: Int64; var price: Double; var channel: String; var ts: Int64 }

    /// 60 bids 700 ms apart, every fourth 900 ms early (out of order within the 2 s
    /// watermark delay), then one bid far behind the watermark (late for TUMBLE).
    static let bids: [Bid] = {
        var out = (0..<60).map { (i: Int) -> Bid in
            Bid(auction: Int64(i % 3 + 1), bidder: Int64(i * 7 % 5), price: Double(i * 37 % 100) + 0.5,
                channel: i % 2 == 0 ? "Google" : "Apple",
                ts: base + 5_000 + Int64(i) * 700 - (i % 4 == 1 ? 900 : 0))
        }
        out.append(Bid(auction: 1, bidder: 9, price: 99.5, channel: "Google", ts: base + 5_000))
        return out
    }()

    let dir: URL
    let path: String

    init() throws {
        dir = FileManager.default.temporaryDirectory.appendingPathComponent("spate-datastream-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        path = dir.appendingPathComponent("bids.csv").path
        let csv = "auction,bidder,price,channel,ts\n"
            + Self.bids.map { "\($0.auction),\($0.bidder),\($0.price),\($0.channel),\($0.ts)" }.joined(separator: "\n") + "\n"
        try csv.write(toFile: path, atomically: true, encoding: .utf8)
    }

    deinit { try? FileManager.default.removeItem(at: dir) }

    /// Several workers, tiny batches and morsels: the parallel paths, as the SQL tests use.
    static let options = ExecutionOptions(workers: 2, batchCapacity: 7, morselSize: 256, pinWorkers: false)

    var ddl: String {
        """
        CREATE TABLE bids (auction BIGINT, bidder BIGINT, price DOUBLE, channel VARCHAR, ts TIMESTAMP(3),
                           WATERMARK FOR ts AS ts - INTERVAL '2' SECOND)
        WITH ('connector' = 'filesystem', 'path' = '\(path)', 'format' = 'csv')
        """
    }

    /// An environment with the table declared from Swift (`fromTable`), as `ddl` declares it.
    func environment() throws -> (StreamEnvironment, DataStream) {
        let env = StreamEnvironment(options: Self.options)
        let bids = try env.fromTable(
            "bids",
            schema: [Field("auction", .int64), Field("bidder", .int64), Field("price", .float64),
                     Field("channel", .string), Field("ts", .timestamp(.millisecond))],
            watermark: ("ts", delay: .seconds(2)),
            options: ["connector": "filesystem", "path": path, "format": "csv"])
        return (env, bids)
    }

    struct Outcome: Equatable {
        var explain: String
        var schema: [String]
        var rows: [[String]]
        var rowsRead: Int
        var rowsLate: Int
        var rowsOut: Int
    }

    func runSQL(_ query: String, ddl: String? = nil, lateData: LateDataPolicy = .drop,
                options: ExecutionOptions = DataStreamTests.options) throws -> Outcome {
        let ddl = ddl ?? self.ddl
        let session = Session(options: options)
        session.lateData = lateData
        let explain = try session.explain(ddl + ";\n" + query)
        let writer = CollectingWriter()
        let run = Session(options: options)
        run.lateData = lateData
        let results = try run.run(ddl + ";\n" + query) { _, _ in writer }
        let stats = results[0].statistics
        return Outcome(explain: explain, schema: results[0].schema.fields.map { "\($0.name) \($0.type)" },
                       rows: writer.rows, rowsRead: stats.rowsRead, rowsLate: stats.rowsLate, rowsOut: stats.rowsOut)
    }

    func runStream(_ stream: DataStream) throws -> Outcome {
        let writer = CollectingWriter()
        let job = try stream.sink(writer)
        let stats = try job.execute()
        #expect(job.explain() == (try stream.explain()))
        return Outcome(explain: try stream.explain(), schema: writer.schema!.fields.map { "\($0.name) \($0.type)" },
                       rows: writer.rows, rowsRead: stats.rowsRead, rowsLate: stats.rowsLate, rowsOut: stats.rowsOut)
    }

    /// The stream prints the same plan as `query`, gives the same rows and counts, and its
    /// own SQL text (`sqlText()`) plans the same again. Returns the rows.
    @discardableResult
    func expectSame(_ stream: DataStream, _ query: String, sourceLocation: SourceLocation = #_sourceLocation) throws -> [[String]] {
        let sql = try runSQL(query)
        let api = try runStream(stream)
        #expect(api.explain == sql.explain, sourceLocation: sourceLocation)
        #expect(api.schema == sql.schema, sourceLocation: sourceLocation)
        #expect(api.rows == sql.rows, sourceLocation: sourceLocation)
        #expect(api == sql, sourceLocation: sourceLocation)
        #expect(!api.rows.isEmpty, sourceLocation: sourceLocation)
        #expect(stream.schema.fields.map { "\($0.name) \($0.type)" } == sql.schema, sourceLocation: sourceLocation)
        let roundTrip = try Session(options: Self.options).explain(ddl + ";\n" + (try stream.sqlText()))
        #expect(roundTrip == sql.explain, sourceLocation: sourceLocation)
        return api.rows
    }

    // MARK: - Projections and filters

    @Test func filterAndSelect() throws {
        let (_, bids) = try environment()
        let rows = try expectSame(
            bids.filter(col("price") > 50 && col("channel") == "Google")
                .select("auction", (col("price") * 0.9).as("net"), "ts"),
            "SELECT auction, price * 0.9 AS net, ts FROM bids WHERE price > 50 AND channel = 'Google'")
        let expected = Self.bids.filter { $0.price > 50 && $0.channel == "Google" }
        #expect(rows.count == expected.count)
        #expect(rows.map { Int64($0[0])! } == expected.map(\.auction))
    }

    @Test func wholeRowsAndChainedFilters() throws {
        let (_, bids) = try environment()
        try expectSame(bids, "SELECT * FROM bids")
        try expectSame(
            bids.filter(col("bidder") % 2 == 0).filter(!(col("auction") == 3) || col("price").isNull()),
            "SELECT * FROM bids WHERE MOD(bidder, 2) = 0 AND (NOT auction = 3 OR price IS NULL)")
    }

    /// Names a select gives are what later operators see: a filter over a computed
    /// column filters on its expression; map keeps the other columns.
    @Test func selectThenFilterAndMap() throws {
        let (_, bids) = try environment()
        try expectSame(
            bids.select("auction", (col("price") * 2).as("double_price"), "channel")
                .filter(col("double_price") >= 100)
                .map((col("double_price") + 1).as("double_price"), (col("auction") * 10).as("bucket")),
            """
            SELECT auction, price * 2 + 1 AS double_price, channel, auction * 10 AS bucket
            FROM bids WHERE price * 2 >= 100
            """)
    }

    @Test func expressionBuilderCoversTheBinderRules() throws {
        let (_, bids) = try environment()
        try expectSame(
            bids.filter(col("price").between(10, and: 60) && col("channel").isIn(["Google", "Bing"]))
                .filter(col("ts") >= Expr.timestamp("2023-11-14 22:13:25") && col("auction").isNotNull())
                .select(-col("price"), col("bidder").cast(to: .float64).as("b"),
                        (col("ts") + .interval(.seconds(1))).as("later"), (col("auction") / 2).as("half")),
            """
            SELECT -price, CAST(bidder AS DOUBLE) AS b, ts + INTERVAL '1' SECOND AS later, auction / 2 AS half
            FROM bids
            WHERE price BETWEEN 10 AND 60 AND channel IN ('Google', 'Bing')
              AND (ts >= TIMESTAMP '2023-11-14 22:13:25' AND auction IS NOT NULL)
            """)
        // An SQL expression where the builder has no spelling.
        try expectSame(bids.filter(try Expr(sql: "price NOT BETWEEN 10 AND 60")).select("auction"),
                       "SELECT auction FROM bids WHERE price NOT BETWEEN 10 AND 60")
    }

    /// A TUMBLE stream without aggregate: each row with its window's bounds.
    @Test func windowedProjection() throws {
        let (_, bids) = try environment()
        try expectSame(
            bids.window(.tumble(size: .seconds(10))).filter(col("price") < 30).select("window_start", "auction", "price"),
            "SELECT window_start, auction, price FROM TABLE(TUMBLE(TABLE bids, DESCRIPTOR(ts), INTERVAL '10' SECOND)) WHERE price < 30")
        try expectSame(
            bids.select("auction", "ts").window(.hop(slide: .seconds(5), size: .seconds(10))),
            "SELECT auction, ts, window_start, window_end FROM TABLE(HOP(TABLE bids, DESCRIPTOR(ts), INTERVAL '5' SECOND, INTERVAL '10' SECOND))")
    }

    // MARK: - Windows

    @Test func tumbleMatchesSQLAndADirectCount() throws {
        let (_, bids) = try environment()
        let rows = try expectSame(
            bids.keyBy("auction").window(.tumble(size: .seconds(10)))
                .aggregate(.count(as: "n"), .sum("price", as: "total"), .max("price")),
            """
            SELECT window_start, window_end, auction, COUNT(*) AS n, SUM(price) AS total, MAX(price)
            FROM TABLE(TUMBLE(TABLE bids, DESCRIPTOR(ts), INTERVAL '10' SECOND))
            GROUP BY window_start, window_end, auction
            """)
        // The last bid is late (its window closed long before): counted, not aggregated.
        var counts: [String: Int] = [:]
        for b in Self.bids.dropLast() { counts["\((b.ts - Self.base) / 10_000)|\(b.auction)", default: 0] += 1 }
        #expect(rows.count == counts.count)
        #expect(rows.map { Int($0[3])! }.reduce(0, +) == 60)
        let stats = try bids.keyBy("auction").window(.tumble(size: .seconds(10))).aggregate(.count())
            .sink { _ in }.execute()
        #expect(stats.rowsLate == 1 && stats.rowsRead == 61)
    }

    @Test func tumbleWithOffsetAndNoKeys() throws {
        let (_, bids) = try environment()
        try expectSame(
            bids.window(.tumble(size: .seconds(10), offset: .seconds(3))).aggregate(.count(as: "n"), .avg("price")),
            """
            SELECT window_start, window_end, COUNT(*) AS n, AVG(price)
            FROM TABLE(TUMBLE(TABLE bids, DESCRIPTOR(ts), INTERVAL '10' SECOND, INTERVAL '3' SECOND))
            GROUP BY window_start, window_end
            """)
    }

    @Test func hop() throws {
        let (_, bids) = try environment()
        try expectSame(
            bids.keyBy("channel").window(.hop(slide: .seconds(5), size: .seconds(15)))
                .aggregate(.count(as: "n"), .min("price", as: "low"), .countDistinct("bidder", as: "bidders")),
            """
            SELECT window_start, window_end, channel, COUNT(*) AS n, MIN(price) AS low, COUNT(DISTINCT bidder) AS bidders
            FROM TABLE(HOP(TABLE bids, DESCRIPTOR(ts), INTERVAL '5' SECOND, INTERVAL '15' SECOND))
            GROUP BY window_start, window_end, channel
            """)
    }

    @Test func cumulate() throws {
        let (_, bids) = try environment()
        try expectSame(
            bids.filter(col("price") > 5).keyBy("auction").window(.cumulate(step: .seconds(5), maxSize: .seconds(20)))
                .aggregate(.sum("price", as: "total"), .firstValue("bidder", as: "first"), .lastValue("bidder", as: "last")),
            """
            SELECT window_start, window_end, auction, SUM(price) AS total, FIRST_VALUE(bidder) AS first, LAST_VALUE(bidder) AS last
            FROM TABLE(CUMULATE(TABLE bids, DESCRIPTOR(ts), INTERVAL '5' SECOND, INTERVAL '20' SECOND))
            WHERE price > 5
            GROUP BY window_start, window_end, auction
            """)
    }

    @Test func session() throws {
        let (_, bids) = try environment()
        try expectSame(
            bids.filter(col("price") < 90).keyBy("bidder").window(.session(gap: .milliseconds(1500)))
                .aggregate(.count(as: "n"), .max("ts", as: "last_bid")),
            """
            SELECT window_start, window_end, bidder, COUNT(*) AS n, MAX(ts) AS last_bid
            FROM TABLE(SESSION(TABLE bids PARTITION BY bidder, DESCRIPTOR(ts), INTERVAL '1500' MILLISECOND))
            WHERE price < 90
            GROUP BY window_start, window_end, bidder
            """)
        // Window first, then keys: the same stream.
        let a = try bids.keyBy("bidder").window(.session(gap: .seconds(2))).aggregate(.count())
        let b = try bids.window(.session(gap: .seconds(2))).keyBy("bidder").aggregate(.count())
        #expect(try a.explain() == b.explain())
    }

    /// The environment's late-data policy is the query's: under `.update` the late bid
    /// updates its window (an `op` column marks the emission) as in SQL.
    @Test func lateDataUpdatePolicy() throws {
        // One worker: with several, whether the late bid's window was emitted before the
        // bid is read depends on the workers' timing (the final counts do not).
        let options = ExecutionOptions(workers: 1, batchCapacity: 7, morselSize: 256, pinWorkers: false)
        let env = StreamEnvironment(options: options, lateData: .update)
        let bids = try env.fromTable(
            "bids",
            schema: [Field("auction", .int64), Field("bidder", .int64), Field("price", .float64),
                     Field("channel", .string), Field("ts", .timestamp(.millisecond))],
            watermark: ("ts", delay: .seconds(2)), allowedLateness: .seconds(60),
            options: ["connector": "filesystem", "path": path, "format": "csv"])
        let stream = try bids.keyBy("auction").window(.tumble(size: .seconds(10))).aggregate(.count(as: "n"))
        #expect(stream.schema.fields.map(\.name) == ["window_start", "window_end", "auction", "n", "op"])
        let ddl = self.ddl.replacingOccurrences(of: "'format' = 'csv'", with: "'format' = 'csv', 'allowed-lateness' = '60000 ms'")
        let sql = try runSQL("""
            SELECT window_start, window_end, auction, COUNT(*) AS n
            FROM TABLE(TUMBLE(TABLE bids, DESCRIPTOR(ts), INTERVAL '10' SECOND))
            GROUP BY window_start, window_end, auction
            """, ddl: ddl, lateData: .update, options: options)
        let api = try runStream(stream)
        #expect(api == sql)
        // The late bid is taken (within the allowed lateness): auction 1's first window,
        // emitted with 3 bids, comes again with 4.
        #expect(api.rowsLate == 0)
        let first = api.rows.filter { $0[0] == api.rows[0][0] && $0[2] == "1" }
        #expect(first.map { [$0[3], $0[4]] } == [["3", "+I"], ["4", "+U"]])
    }

    // MARK: - Aggregates

    @Test func aggregateFunctionsAndPerAggregateFilters() throws {
        let (_, bids) = try environment()
        try expectSame(
            bids.keyBy("auction").aggregate(
                .count(), .count("bidder"), .sum("bidder", distinct: true), .avg("price", distinct: true),
                .approxCountDistinct("bidder", as: "approx"),
                .count(as: "google", where: col("channel") == "Google"),
                .sum("price", as: "big_total").filter(col("price") > 50),
                .function("MAX", col("price") - 1, as: "top_less_one")),
            """
            SELECT auction, COUNT(*), COUNT(bidder), SUM(DISTINCT bidder), AVG(DISTINCT price),
                   APPROX_COUNT_DISTINCT(bidder) AS approx,
                   COUNT(*) FILTER (WHERE channel = 'Google') AS google,
                   SUM(price) FILTER (WHERE price > 50) AS big_total, MAX(price - 1) AS top_less_one
            FROM bids GROUP BY auction
            """)
        try expectSame(bids.aggregate(.count(as: "n"), .sum("price")), "SELECT COUNT(*) AS n, SUM(price) FROM bids")
    }

    /// After aggregate, filter is HAVING and select computes over keys and aggregates.
    @Test func filterAndSelectAfterAggregate() throws {
        let (_, bids) = try environment()
        let rows = try expectSame(
            bids.keyBy("auction").window(.tumble(size: .seconds(10)))
                .aggregate(.count(as: "n"), .sum("price", as: "total"))
                .filter(col("n") >= 4)
                .select("window_start", "auction", (col("total") / col("n")).as("mean")),
            """
            SELECT window_start, auction, SUM(price) / COUNT(*) AS mean
            FROM TABLE(TUMBLE(TABLE bids, DESCRIPTOR(ts), INTERVAL '10' SECOND))
            GROUP BY window_start, window_end, auction HAVING COUNT(*) >= 4
            """)
        #expect(rows.allSatisfy { $0.count == 3 })
    }

    /// Keys and aggregate arguments go through the names a select gave.
    @Test func keysAndArgumentsThroughRenamedColumns() throws {
        let (_, bids) = try environment()
        try expectSame(
            bids.select((col("auction") % 2).as("parity"), (col("price") * 100).as("cents"))
                .keyBy("parity").aggregate(.sum("cents"), .max("cents", as: "top")),
            "SELECT auction % 2 AS parity, SUM(price * 100) AS `SUM(cents)`, MAX(price * 100) AS top FROM bids GROUP BY auction % 2")
    }

    /// Names that are SQL keywords are quoted in the query (and in its text), so they
    /// work as any other name.
    @Test func reservedWordsAsNames() throws {
        let env = StreamEnvironment(options: Self.options)
        let t = try env.fromTable(
            "order",
            schema: [Field("from", .int64), Field("select", .int64), Field("value", .float64),
                     Field("group", .string), Field("time", .timestamp(.millisecond))],
            watermark: ("time", delay: .seconds(2)), options: ["path": path])
        let stream = try t.filter(col("value") > 20).select(col("from").as("table"), "group", "time")
            .keyBy("table").window(.tumble(size: .seconds(10)), on: "time").aggregate(.count(as: "where"))
        let text = try stream.sqlText()
        #expect(text == """
            SELECT window_start, window_end, `from` AS `table`, COUNT(*) AS `where` \
            FROM TABLE(TUMBLE(TABLE `order`, DESCRIPTOR(time), INTERVAL '10' SECOND)) \
            WHERE value > 20 GROUP BY window_start, window_end, `from`
            """, "\(text)")
        let sql = """
            CREATE TABLE `order` (`from` BIGINT, `select` BIGINT, value DOUBLE, `group` VARCHAR, `time` TIMESTAMP(3),
                                  WATERMARK FOR `time` AS `time` - INTERVAL '2' SECOND) WITH ('path' = '\(path)');
            """
        #expect(try Session(options: Self.options).explain(sql + stream.sqlText()) == stream.explain())
        #expect(try runStream(stream).rows.count == 15)
        // The window's column is the table's, under the name the select gave it.
        let renamed = try t.select(col("time").as("at"), "from").window(.tumble(size: .seconds(10)), on: "at")
            .aggregate(.count())
        #expect(try renamed.explain() == t.window(.tumble(size: .seconds(10))).aggregate(.count()).explain())
    }

    // MARK: - Sinks

    @Test func sinksToFilesAndClosures() throws {
        let (_, bids) = try environment()
        let stream = try bids.keyBy("auction").aggregate(.count(as: "n"))
        let out = dir.appendingPathComponent("counts.jsonl").path
        let stats = try stream.sink(path: out).execute()
        #expect(stats.rowsOut == 3)
        let lines = try String(contentsOfFile: out, encoding: .utf8).split(separator: "\n")
        #expect(lines == [#"{"auction":1,"n":21}"#, #"{"auction":2,"n":20}"#, #"{"auction":3,"n":20}"#])

        let csv = dir.appendingPathComponent("counts.txt").path
        try stream.sink(path: csv, format: "csv").execute()
        #expect(try String(contentsOfFile: csv, encoding: .utf8) == "auction,n\n1,21\n2,20\n3,20\n")

        // The closure sees every batch, compacted, in order.
        var total: Int64 = 0
        var keys: [Int64] = []
        try stream.sink { batch in
            for r in 0..<batch.count {
                keys.append(batch.columns[0].int64(at: r))
                total += batch.columns[1].int64(at: r)
            }
        }.execute()
        #expect(keys == [1, 2, 3] && total == 61)
    }

    @Test func tablesFromSQL() throws {
        let env = StreamEnvironment(options: Self.options)
        try env.sql(ddl)
        let viaSQL = try env.table("bids").keyBy("auction").window(.tumble(size: .seconds(10))).aggregate(.count())
        let (_, bids) = try environment()
        let viaSwift = try bids.keyBy("auction").window(.tumble(size: .seconds(10))).aggregate(.count())
        #expect(try viaSQL.explain() == viaSwift.explain())
        #expect(try runStream(viaSQL).rows == runStream(viaSwift).rows)
        #expect(env.tables["bids"]?.watermark?.delayMillis == 2_000)
    }

    @Test func readmeExample() throws {
        var csv = "auction,price,ts\n"
        for i in 0..<40 { csv += "\(i % 2),\(Double(i % 7) * 3.5),\(Self.base + Int64(i) * 1_000)\n" }
        let input = dir.appendingPathComponent("readme.csv").path
        let output = dir.appendingPathComponent("per_auction.csv").path
        try csv.write(toFile: input, atomically: true, encoding: .utf8)
        let stats = try bidsPerAuction(input: input, output: output)
        let lines = try String(contentsOfFile: output, encoding: .utf8).split(separator: "\n")
        #expect(lines.first == "window_start,window_end,auction,bids,top,average")
        // Prices over 10 are i % 7 in 3...6; per 10-second window and parity.
        var expected: [String: Int] = [:]
        for i in 0..<40 where Double(i % 7) * 3.5 > 10 { expected["\(i / 10)|\(i % 2)", default: 0] += 1 }
        #expect(lines.count == 1 + expected.count)
        let counted: [Int] = lines.dropFirst().map { Int($0.split(separator: ",")[3])! }
        #expect(counted.reduce(0, +) == expected.values.reduce(0, +))
        #expect(stats.rowsRead == 40 && stats.rowsOut == expected.count)

        // The README shows this file's copy of the function, word for word.
        let here = URL(fileURLWithPath: #filePath)
        let readme = try String(contentsOf: here.deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().appendingPathComponent("README.md"), encoding: .utf8)
        let start = try #require(readme.range(of: "```swift\nimport Columnar\nimport Engine\n\n"))
        let end = try #require(readme.range(of: "```", range: start.upperBound..<readme.endIndex))
        let shown = String(readme[start.upperBound..<end.lowerBound])
        #expect(shown.hasPrefix("/// Bids per auction"))
        #expect(try String(contentsOf: here, encoding: .utf8).contains(shown))
    }

    // MARK: - Errors

    func error(_ body: () throws -> Any) -> SpateError? {
        do {
            _ = try body()
            return nil
        } catch let e as SpateError {
            return e
        } catch {
            return nil
        }
    }

    @Test func unknownColumnNamesTheCallAndSuggests() throws {
        let (_, bids) = try environment()
        let line = #line + 1
        let e = try #require(error { try bids.filter(col("prize") > 1) })
        #expect(e.message == "filter: unknown column 'prize'")
        #expect(e.hint == "did you mean 'price'?")
        #expect(e.path == "EngineTests/DataStreamTests.swift" && e.line == line)
        #expect(e.description.hasPrefix("EngineTests/DataStreamTests.swift:\(line): error: filter: unknown column 'prize'"))

        // Columns a select dropped are gone.
        let dropped = try #require(error { try bids.select("auction").filter(col("price") > 1) })
        #expect(dropped.message == "filter: unknown column 'price'")
        #expect(dropped.hint == "the stream's columns are: auction")
        let noWindow = try #require(error { try bids.select("window_start") })
        #expect(noWindow.hint == "window_start and window_end come with window(...)")
    }

    @Test func typeErrorsComeFromTheBinderWithTheQuery() throws {
        let (_, bids) = try environment()
        let e = try #require(error { try bids.filter(col("channel") > 5) })
        #expect(e.message == "filter: cannot compare VARCHAR with BIGINT")
        #expect(e.hint == "CAST one side, e.g. CAST(x AS VARCHAR)")
        // The equivalent query, with a caret under the comparison.
        let lines = e.description.split(separator: "\n").map(String.init)
        #expect(lines[1] == "  as SQL: SELECT * FROM bids WHERE channel > 5")
        #expect(lines[2] == String(repeating: " ", count: 43) + "^")

        #expect(error { try bids.filter(col("price")) }?.message == "filter: WHERE needs a BOOLEAN condition, not DOUBLE")
        #expect(error { try bids.select((col("channel") + 1).as("x")) }?.message == "select: cannot apply + to VARCHAR and BIGINT")
        #expect(error { try bids.keyBy("auction").aggregate(.sum("channel")) }?.message
            == "aggregate: SUM over VARCHAR is not supported")
    }

    @Test func pipelineShapeErrors() throws {
        let (env, bids) = try environment()
        let keyed = try bids.keyBy("auction")
        #expect(error { try keyed.sink(CollectingWriter()) }?.message == "sink: a keyed stream needs aggregate(...) before it can run")
        #expect(error { try keyed.select("auction") }?.hint == "select before keyBy/window, or after aggregate")
        #expect(error { try keyed.keyBy("bidder") }?.message == "keyBy: the stream is keyed already")
        let counted = try keyed.aggregate(.count(as: "n"))
        #expect(error { try counted.aggregate(.count()) }?.message == "aggregate: the stream is aggregated already")
        #expect(error { try counted.window(.tumble(size: .seconds(1))) }?.message == "window: the stream is aggregated already")
        #expect(error { try bids.window(.session(gap: .seconds(1))).sink(CollectingWriter()) }?.message
            == "sink: a SESSION-windowed stream needs aggregate(...) before it can run")
        #expect(error { try bids.select((col("auction") + 1).as("a")).keyBy("a").window(.session(gap: .seconds(1))) }?.message
            == "window: the key 'a' of a SESSION window must be a column of table 'bids'")
        #expect(error { try bids.window(.tumble(size: .seconds(1))).select("auction").aggregate(.count()) }?.message
            == "aggregate: aggregate after select on a windowed stream")
        #expect(error { try bids.select("auction", (col("bidder") + 0).as("auction")) }?.message
            == "select: two columns are called 'auction'")
        #expect(error { try keyed.aggregate(.count(as: "auction")) }?.message == "aggregate: two columns are called 'auction'")
        #expect(error { try bids.select(try Expr(sql: "COUNT(*)")) }?.message == "select: aggregate functions belong in aggregate(...)")
        #expect(error { try bids.filter(try Expr(sql: "SUM(price) > 3")) }?.message == "filter: aggregate functions belong in aggregate(...)")
        _ = try keyed.aggregate(.count(as: "n")).filter(try Expr(sql: "n > 3"))
        #expect(error { try bids.select() }?.message == "select: select needs at least one column")
        #expect(error { try bids.aggregate() }?.message == "aggregate: aggregate needs an aggregate call, or keys or a window to group by")

        // Window rules are the binder's.
        #expect(error { try bids.window(.hop(slide: .seconds(3), size: .seconds(10))) }?.message
            == "window: HOP's size must be a whole multiple of its slide (10000 ms is not a multiple of 3000 ms)")
        #expect(error { try bids.window(.tumble(size: .microseconds(1500))) }?.message
            == "window: the window size 0.0015 seconds is not a whole number of milliseconds")
        #expect(error { try bids.window(.tumble(size: .seconds(1)), on: "price") }?.message
            == "window: the window column 'price' must be a TIMESTAMP(3)")
        #expect(error { try bids.filter(col("ts") < col("ts") + .interval(.nanoseconds(5))) }?.message
            == "filter: the interval 5e-09 seconds is not a whole number of milliseconds")

        // A table without a watermark needs the window's column named.
        try env.sql("CREATE TABLE plain (k BIGINT, t TIMESTAMP(3)) WITH ('path' = '\(path)', 'csv.header' = 'false')")
        let plain = try env.table("plain")
        #expect(error { try plain.window(.tumble(size: .seconds(1))) }?.hint
            == "name the column: window(..., on: \"ts\"), or declare a watermark")
        _ = try plain.window(.tumble(size: .seconds(1)), on: "t").aggregate(.count())
    }

    @Test func tableErrors() throws {
        let (env, _) = try environment()
        #expect(error { try env.table("bid") }?.hint == "did you mean 'bids'?")
        #expect(error { try env.sql("SELECT * FROM bids") }?.message == "StreamEnvironment.sql takes CREATE TABLE statements only")
        #expect(error { try env.fromTable("bids", options: ["path": path]) }?.message == "fromTable: table 'bids' already exists")
        let bad = try #require(error { try env.fromTable("other", options: ["connector": "kafka"]) })
        #expect(bad.message == "fromTable: connector 'kafka' is not supported")
        #expect(bad.hint?.hasPrefix("supported: filesystem") == true)
        #expect(error { try env.fromTable("late", schema: [Field("ts", .timestamp(.millisecond))],
                                          allowedLateness: .seconds(5), options: ["path": path]) }?.message
            == "fromTable: 'allowed-lateness' needs a WATERMARK")
        #expect(error { try env.sql("CREATE TABLE x (a BIGINT") }?.kind == .sql)
        // A table without columns takes the CSV header's, as in SQL.
        let inferred = try env.fromTable("inferred", options: ["path": path])
        #expect(inferred.schema.fields.map(\.name) == ["auction", "bidder", "price", "channel", "ts"])
    }
}
