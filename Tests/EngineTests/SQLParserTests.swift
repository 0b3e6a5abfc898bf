import SpateTestSupport
import Testing

@testable import Engine

// MARK: - Helpers

private func statements(_ sql: String, sourceLocation: SourceLocation = #_sourceLocation) -> [Statement] {
    do {
        return try SQLParser.parse(sql)
    } catch {
        Issue.record("unexpected error:\n\(error.render(sql: sql, sourceName: "test.sql"))", sourceLocation: sourceLocation)
        return []
    }
}

private func query(_ sql: String, sourceLocation: SourceLocation = #_sourceLocation) -> Query? {
    let s = statements(sql, sourceLocation: sourceLocation)
    guard s.count == 1, case .query(let q) = s[0] else {
        Issue.record("expected one query, got \(s)", sourceLocation: sourceLocation)
        return nil
    }
    return q
}

private func select(_ sql: String, sourceLocation: SourceLocation = #_sourceLocation) -> Select? {
    guard let q = query(sql, sourceLocation: sourceLocation) else { return nil }
    guard case .select(let s) = q.body else {
        Issue.record("expected a SELECT body", sourceLocation: sourceLocation)
        return nil
    }
    return s
}

private func expr(_ sql: String, sourceLocation: SourceLocation = #_sourceLocation) -> Expression? {
    do {
        return try SQLParser.parseExpression(sql)
    } catch {
        Issue.record("unexpected error:\n\(error.render(sql: sql, sourceName: "expr.sql"))", sourceLocation: sourceLocation)
        return nil
    }
}

private func failure(_ sql: String, sourceLocation: SourceLocation = #_sourceLocation) -> SQLSyntaxError? {
    do {
        let result = try SQLParser.parse(sql)
        Issue.record("expected a syntax error, parsed \(result)", sourceLocation: sourceLocation)
        return nil
    } catch {
        return error
    }
}

private func rendered(_ sql: String, sourceLocation: SourceLocation = #_sourceLocation) -> String {
    failure(sql, sourceLocation: sourceLocation)?.render(sql: sql, sourceName: "query.sql") ?? ""
}

/// A fully parenthesized S-expression of an expression tree, to check structure and precedence.
private func tree(_ e: Expression?) -> String {
    guard let e else { return "<nil>" }
    switch e.kind {
    case .literal(let l):
        switch l {
        case .integer(let v): return "\(v)"
        case .decimal(let t): return "dec:\(t)"
        case .double(let v): return "dbl:\(v)"
        case .string(let s): return "'\(s)'"
        case .boolean(let b): return b ? "true" : "false"
        case .null: return "null"
        case .interval(let i): return "interval:\(i.milliseconds)ms"
        case .timestamp(let s): return "ts:\(s)"
        case .date(let s): return "date:\(s)"
        case .time(let s): return "time:\(s)"
        }
    case .column(let n): return n.parts.map(\.name).joined(separator: ".")
    case .unary(let op, let x): return "(\(op.rawValue) \(tree(x)))"
    case .binary(let op, let l, let r): return "(\(op.rawValue) \(tree(l)) \(tree(r)))"
    case .isNull(let x, let n): return "(\(n ? "isnotnull" : "isnull") \(tree(x)))"
    case .isBoolean(let x, let v, let n): return "(is\(n ? "not" : "")\(v) \(tree(x)))"
    case .isDistinctFrom(let a, let b, let n): return "(\(n ? "notdistinct" : "distinct") \(tree(a)) \(tree(b)))"
    case .between(let x, let lo, let hi, let n): return "(\(n ? "notbetween" : "between") \(tree(x)) \(tree(lo)) \(tree(hi)))"
    case .inList(let x, let items, let n): return "(\(n ? "notin" : "in") \(tree(x)) [\(items.map(tree).joined(separator: " "))])"
    case .inSubquery(let x, _, let n): return "(\(n ? "notin" : "in") \(tree(x)) <query>)"
    case .like(let x, let p, let esc, let n): return "(\(n ? "notlike" : "like") \(tree(x)) \(tree(p))\(esc.map { " " + tree($0) } ?? ""))"
    case .call(let c):
        var s = "\(c.name.parts.map(\.name).joined(separator: "."))(\(c.isDistinct ? "distinct " : "")\(c.isStar ? "*" : c.arguments.map(tree).joined(separator: " ")))"
        if let f = c.filter { s += "[filter \(tree(f))]" }
        if c.over != nil { s += "[over]" }
        return s
    case .cast(let x, let t, let isTry): return "(\(isTry ? "try_cast" : "cast") \(tree(x)) \(t))"
    case .caseWhen(let c):
        var s = "(case"
        if let o = c.operand { s += " \(tree(o))" }
        for b in c.branches { s += " [\(tree(b.condition)) \(tree(b.result))]" }
        if let e = c.elseResult { s += " else \(tree(e))" }
        return s + ")"
    case .subquery: return "<subquery>"
    case .exists: return "(exists <query>)"
    }
}

private func itemTrees(_ s: Select?) -> [String] {
    (s?.items ?? []).map { item in
        switch item {
        case .wildcard(let q, _): return (q.map { $0.description + "." } ?? "") + "*"
        case .expression(let e, let alias): return tree(e) + (alias.map { " as \($0.name)" } ?? "")
        }
    }
}

// MARK: - Lexical structure

@Suite struct SQLParserLexicalTests {
    @Test func multipleStatementsCommentsAndOptionalSemicolon() {
        let s = statements("""
            -- a comment
            SELECT 1; /* block
            comment */ SELECT 2 -- trailing
            ;;
            SELECT 3
            """)
        #expect(s.count == 3)
        #expect(statements("").isEmpty)
        #expect(statements("  -- only a comment\n ; ").isEmpty)
    }

    @Test func keywordsAreCaseInsensitiveAndIdentifiersKeepCase() {
        let a = select("select DateTime, Price from Bid where PRICE > 1")
        let b = select("SELECT DateTime, Price FROM Bid WHERE PRICE > 1")
        #expect(a == b)
        #expect(itemTrees(a) == ["DateTime", "Price"])
        guard case .table(let t)? = a?.from.first else { Issue.record("no table"); return }
        #expect(t.name.last.name == "Bid")
        #expect(t.name.last.isQuoted == false)
    }

    @Test func quotedIdentifiers() {
        let s = select("SELECT `select`, \"my col\", `a``b`, \"x\"\"y\" FROM `my table`")
        #expect(itemTrees(s) == ["select", "my col", "a`b", "x\"y"])
        guard case .expression(let e, _)? = s?.items.first, case .column(let n) = e.kind else {
            Issue.record("not a column"); return
        }
        #expect(n.last.isQuoted)
        guard case .table(let t)? = s?.from.first else { Issue.record("no table"); return }
        #expect(t.name.last == Identifier("my table", isQuoted: true))
    }

    @Test func stringLiteralsWithEscapedQuotes() {
        #expect(tree(expr("'it''s'")) == "'it's'")
        #expect(tree(expr("''")) == "''")
        #expect(tree(expr("'multi\nline'")) == "'multi\nline'")
    }

    @Test func numericLiterals() {
        #expect(tree(expr("42")) == "42")
        #expect(tree(expr("-42")) == "-42")
        #expect(tree(expr("9223372036854775807")) == "9223372036854775807")
        #expect(tree(expr("-9223372036854775808")) == "-9223372036854775808")
        #expect(tree(expr("1.5")) == "dec:1.5")
        #expect(tree(expr(".5")) == "dec:.5")
        #expect(tree(expr("0.908")) == "dec:0.908")
        #expect(tree(expr("1e3")) == "dbl:1000.0")
        #expect(tree(expr("2.5E-2")) == "dbl:0.025")
        #expect(tree(expr("TRUE")) == "true")
        #expect(tree(expr("false")) == "false")
        #expect(tree(expr("NULL")) == "null")
        #expect(tree(expr("- x")) == "(- x)")
        #expect(tree(expr("-(5)")) == "(- 5)")
    }

    @Test func integerOverflowIsAnError() {
        let e = failure("SELECT 9223372036854775808")
        #expect(e?.message == "integer literal 9223372036854775808 is out of range for BIGINT")
        #expect(e?.position.column == 8)
        #expect(failure("SELECT -9223372036854775809")?.position.column == 8)
        #expect(failure("SELECT 1e999")?.message.contains("out of range") == true)
    }

    @Test func lexicalErrors() {
        #expect(rendered("SELECT 'abc") == """
            query.sql:1:8: error: unterminated string literal
              1 | SELECT 'abc
                |        ^
            hint: close the string with ' (write '' for a quote inside a string)
            """)
        #expect(failure("SELECT `abc")?.message == "unterminated quoted identifier")
        #expect(failure("SELECT 1 /* never closed")?.message == "unterminated block comment")
        #expect(failure("SELECT a # b")?.message == "unexpected character '#'")
        #expect(failure("SELECT a | b")?.hint?.contains("||") == true)
        #expect(failure("SELECT 12abc")?.message == "invalid number '12abc'")
        #expect(failure("SELECT 1e+")?.message.contains("exponent") == true)
        #expect(failure("SELECT ``")?.message == "empty quoted identifier ``")
    }

    @Test func earliestErrorWinsOverLaterLexicalError() {
        // The parse error at FROM comes before the lexical error at '#'.
        let e = failure("SELECT FROM t WHERE a # b")
        #expect(e?.message == "expected a select item after 'SELECT', found 'FROM'")
    }
}

// MARK: - Expressions

@Suite struct SQLParserExpressionTests {
    @Test func arithmeticPrecedence() {
        #expect(tree(expr("1 + 2 * 3")) == "(+ 1 (* 2 3))")
        #expect(tree(expr("(1 + 2) * 3")) == "(* (+ 1 2) 3)")
        #expect(tree(expr("a - b - c")) == "(- (- a b) c)")
        #expect(tree(expr("a / b % c * d")) == "(* (% (/ a b) c) d)")
        #expect(tree(expr("-a * b")) == "(* (- a) b)")
        #expect(tree(expr("- - a")) == "(- (- a))")
        #expect(tree(expr("+a")) == "(+ a)")
        #expect(tree(expr("a || b + c")) == "(+ (|| a b) c)")
        #expect(tree(expr("a - -1")) == "(- a -1)")
    }

    @Test func booleanPrecedence() {
        #expect(tree(expr("a OR b AND c")) == "(OR a (AND b c))")
        #expect(tree(expr("a AND b OR c")) == "(OR (AND a b) c)")
        #expect(tree(expr("NOT a AND b")) == "(AND (NOT a) b)")
        #expect(tree(expr("NOT a = b")) == "(NOT (= a b))")
        #expect(tree(expr("NOT NOT a")) == "(NOT (NOT a))")
        #expect(tree(expr("a = 1 OR b <> 2 AND c != 3")) == "(OR (= a 1) (AND (<> b 2) (<> c 3)))")
        #expect(tree(expr("a + 1 > b * 2")) == "(> (+ a 1) (* b 2))")
        #expect(tree(expr("a < b AND c <= d AND e > f AND g >= h"))
            == "(AND (AND (AND (< a b) (<= c d)) (> e f)) (>= g h))")
    }

    @Test func comparisonPredicates() {
        #expect(tree(expr("a IS NULL")) == "(isnull a)")
        #expect(tree(expr("a + 1 IS NOT NULL")) == "(isnotnull (+ a 1))")
        #expect(tree(expr("a IS TRUE OR b IS NOT FALSE")) == "(OR (istrue a) (isnotfalse b))")
        #expect(tree(expr("a IS DISTINCT FROM b")) == "(distinct a b)")
        #expect(tree(expr("a IS NOT DISTINCT FROM b + 1")) == "(notdistinct a (+ b 1))")
        #expect(tree(expr("x BETWEEN 1 AND 10")) == "(between x 1 10)")
        #expect(tree(expr("x NOT BETWEEN a - 1 AND a + 1 AND y")) == "(AND (notbetween x (- a 1) (+ a 1)) y)")
        #expect(tree(expr("x IN (1, 2, 3)")) == "(in x [1 2 3])")
        #expect(tree(expr("x NOT IN ('a')")) == "(notin x ['a'])")
        #expect(tree(expr("x IN (SELECT id FROM t)")) == "(in x <query>)")
        #expect(tree(expr("name LIKE 'A%'")) == "(like name 'A%')")
        #expect(tree(expr("name NOT LIKE 'A!%' ESCAPE '!'")) == "(notlike name 'A!%' '!')")
        #expect(tree(expr("NOT x IN (1) AND y LIKE 'a' || 'b'")) == "(AND (NOT (in x [1])) (like y (|| 'a' 'b')))")
    }

    @Test func columnReferencesAndCalls() {
        #expect(tree(expr("t.a + db.t.b")) == "(+ t.a db.t.b)")
        #expect(tree(expr("count(*)")) == "count(*)")
        #expect(tree(expr("COUNT(DISTINCT bidder)")) == "COUNT(distinct bidder)")
        #expect(tree(expr("f()")) == "f()")
        #expect(tree(expr("coalesce(a, b, 1)")) == "coalesce(a b 1)")
        #expect(tree(expr("LEFT(s, 3)")) == "LEFT(s 3)")
        #expect(tree(expr("db.myfunc(x)")) == "db.myfunc(x)")
        #expect(tree(expr("CURRENT_TIMESTAMP")) == "CURRENT_TIMESTAMP()")
        #expect(tree(expr("PROCTIME()")) == "PROCTIME()")
        #expect(tree(expr("count(*) filter (where price < 10000)")) == "count(*)[filter (< price 10000)]")
        #expect(tree(expr("count(distinct bidder) FILTER (WHERE price >= 10000 AND price < 1000000)"))
            == "count(distinct bidder)[filter (AND (>= price 10000) (< price 1000000))]")
    }

    @Test func overClause() throws {
        let e = try #require(expr(
            "ROW_NUMBER() OVER (PARTITION BY bidder, auction ORDER BY dateTime DESC, price NULLS LAST)"))
        guard case .call(let c) = e.kind, let over = c.over else { Issue.record("no OVER"); return }
        #expect(over.partitionBy.map(tree) == ["bidder", "auction"])
        #expect(over.orderBy.map { tree($0.expression) } == ["dateTime", "price"])
        #expect(over.orderBy.map(\.ascending) == [false, true])
        #expect(over.orderBy.map(\.nullsFirst) == [nil, false])
        #expect(over.frame == nil)

        let f = try #require(expr(
            "max(price) OVER (PARTITION BY seller ORDER BY dateTime ROWS BETWEEN 10 PRECEDING AND CURRENT ROW)"))
        guard case .call(let c2) = f.kind else { Issue.record("not a call"); return }
        #expect(c2.over?.frame?.units == .rows)
        #expect(c2.over?.frame?.start == .preceding(Expression(.literal(.integer(10)))))
        #expect(c2.over?.frame?.end == .currentRow)

        let g = try #require(expr(
            "sum(x) OVER (ORDER BY ts RANGE BETWEEN INTERVAL '1' HOUR PRECEDING AND UNBOUNDED FOLLOWING)"))
        guard case .call(let c3) = g.kind else { Issue.record("not a call"); return }
        #expect(c3.over?.frame?.units == .range)
        if case .preceding(let b)? = c3.over?.frame?.start {
            #expect(tree(b) == "interval:3600000ms")
        } else {
            Issue.record("expected PRECEDING bound")
        }
        #expect(c3.over?.frame?.end == .unboundedFollowing)
        #expect(failure("SELECT sum(x) OVER w FROM t")?.message == "named windows (OVER w) are not supported")
    }

    @Test func castAndCase() {
        #expect(tree(expr("CAST(a AS BIGINT)")) == "(cast a BIGINT)")
        #expect(tree(expr("cast(a + 1 as decimal(10, 2))")) == "(cast (+ a 1) DECIMAL(10, 2))")
        #expect(tree(expr("TRY_CAST(s AS INT NOT NULL)")) == "(try_cast s INT NOT NULL)")
        #expect(tree(expr("CASE WHEN a > 1 THEN 'x' WHEN a > 0 THEN 'y' ELSE 'z' END"))
            == "(case [(> a 1) 'x'] [(> a 0) 'y'] else 'z')")
        #expect(tree(expr("CASE lower(channel) WHEN 'apple' THEN '0' END"))
            == "(case lower(channel) ['apple' '0'])")
        #expect(failure("SELECT CASE END")?.message == "expected WHEN in the CASE expression opened at 1:8, found 'END'")
        #expect(failure("SELECT CASE WHEN a THEN b FROM t")?.message
            == "expected END to close the CASE expression opened at 1:8, found 'FROM'")
    }

    @Test func intervals() throws {
        func interval(_ sql: String) -> Expression.Interval? {
            guard let e = expr(sql), case .literal(.interval(let i)) = e.kind else { return nil }
            return i
        }
        #expect(interval("INTERVAL '10' SECOND")?.milliseconds == 10_000)
        #expect(interval("INTERVAL '10' SECOND")?.text == "10")
        #expect(interval("INTERVAL '10' SECOND")?.unit == .second)
        #expect(interval("interval '5' minute")?.milliseconds == 300_000)
        #expect(interval("INTERVAL '2' HOURS")?.milliseconds == 7_200_000)
        #expect(interval("INTERVAL '1' DAY")?.milliseconds == 86_400_000)
        #expect(interval("INTERVAL '3' DAYS")?.milliseconds == 259_200_000)
        #expect(interval("INTERVAL '250' MILLISECOND")?.milliseconds == 250)
        #expect(interval("INTERVAL '250' MILLISECONDS")?.milliseconds == 250)
        #expect(interval("INTERVAL '10' SECONDS")?.milliseconds == 10_000)
        #expect(interval("INTERVAL '1.5' SECOND")?.milliseconds == 1_500)
        #expect(interval("INTERVAL '-5' SECOND")?.milliseconds == -5_000)
        #expect(interval("INTERVAL -'5' SECOND")?.milliseconds == -5_000)
        let ms = try #require(interval("INTERVAL '1:30' MINUTE TO SECOND"))
        #expect(ms.milliseconds == 90_000)
        #expect(ms.unit == .minute)
        #expect(ms.endUnit == .second)
        #expect(interval("INTERVAL '1:30' HOUR TO MINUTE")?.milliseconds == 5_400_000)
        #expect(interval("INTERVAL '1:00:01.250' HOUR TO SECOND")?.milliseconds == 3_601_250)
        #expect(interval("INTERVAL '2 03' DAY TO HOUR")?.milliseconds == 183_600_000)
        #expect(interval("INTERVAL '1 00:00:05' DAY TO SECOND")?.milliseconds == 86_405_000)

        #expect(failure("SELECT INTERVAL 10 SECOND")?.hint == "interval values are quoted: INTERVAL '10' SECOND")
        #expect(failure("SELECT INTERVAL '1' MONTH")?.message == "MONTH intervals are not supported")
        #expect(failure("SELECT INTERVAL '1' FORTNIGHT")?.message
            == "expected an interval unit (DAY, HOUR, MINUTE, SECOND or MILLISECOND), found 'FORTNIGHT'")
        #expect(failure("SELECT INTERVAL '1' SECUND")?.hint == "did you mean SECOND?")
        #expect(failure("SELECT INTERVAL 'abc' SECOND")?.message == "invalid interval value 'abc' for SECOND")
        #expect(failure("SELECT INTERVAL '1:70' MINUTE TO SECOND")?.message
            == "interval field SECOND value 70 is out of range (0-59)")
        #expect(failure("SELECT INTERVAL '1:30' SECOND TO MINUTE")?.message == "invalid interval range SECOND TO MINUTE")
        #expect(failure("SELECT INTERVAL '1.5' MINUTE")?.hint == "expected the format 'm'")
        #expect(failure("SELECT INTERVAL '0.0001' SECOND")?.message.contains("sub-millisecond") == true)
        #expect(failure("SELECT INTERVAL '999999999999999999' DAY")?.message.contains("out of range") == true)
    }

    @Test func typedLiterals() {
        #expect(tree(expr("TIMESTAMP '2020-01-01 00:00:00'")) == "ts:2020-01-01 00:00:00")
        #expect(tree(expr("DATE '2020-01-01'")) == "date:2020-01-01")
        #expect(tree(expr("TIME '12:00:00'")) == "time:12:00:00")
        #expect(tree(expr("ts > TIMESTAMP '2020-01-01 00:00:00' - INTERVAL '1' HOUR"))
            == "(> ts (- ts:2020-01-01 00:00:00 interval:3600000ms))")
    }

    @Test func subqueriesInExpressions() {
        #expect(tree(expr("(SELECT max(price) FROM bid) + 1")) == "(+ <subquery> 1)")
        #expect(tree(expr("EXISTS (SELECT 1 FROM t WHERE t.a = b)")) == "(exists <query>)")
        #expect(tree(expr("NOT EXISTS (SELECT 1)")) == "(NOT (exists <query>))")
    }

    @Test func equalityIgnoresPositions() {
        let a = expr("a + 1")
        let b = expr("  a\n  +   1")
        #expect(a == b)
        #expect(a?.position != b?.position)
        #expect(a?.hashValue == b?.hashValue)
        #expect(expr("a + 1") != expr("a + 2"))
        #expect(expr("`a` + 1") != expr("a + 1"))
    }
}

// MARK: - Queries

@Suite struct SQLParserQueryTests {
    @Test func nexmarkQ0AndQ1Shapes() {
        let q1 = select("SELECT auction, bidder, 0.908 * price as price, dateTime, extra FROM bid;")
        #expect(itemTrees(q1) == ["auction", "bidder", "(* dec:0.908 price) as price", "dateTime", "extra"])
        guard case .table(let t)? = q1?.from.first else { Issue.record("no FROM"); return }
        #expect(t.name.description == "bid")
        #expect(t.alias == nil)
        #expect(q1?.whereClause == nil)
    }

    @Test func selectClauses() throws {
        let q = try #require(query("""
            SELECT DISTINCT a, b AS c, d e, t.*, *
            FROM t
            WHERE a > 1
            GROUP BY a, b
            HAVING count(*) > 2
            ORDER BY a DESC, b ASC, c
            LIMIT 10
            """))
        guard case .select(let s) = q.body else { Issue.record("not a select"); return }
        #expect(s.isDistinct)
        #expect(itemTrees(s) == ["a", "b as c", "d as e", "t.*", "*"])
        #expect(tree(s.whereClause) == "(> a 1)")
        #expect(s.groupBy.map(tree) == ["a", "b"])
        #expect(tree(s.having) == "(> count(*) 2)")
        #expect(q.orderBy.map { "\(tree($0.expression)) \($0.ascending)" } == ["a false", "b true", "c true"])
        #expect(q.limit == 10)
        #expect(query("SELECT 1 LIMIT 5 OFFSET 2")?.offset == 2)
        #expect(query("SELECT 1 FETCH FIRST 3 ROWS ONLY")?.limit == 3)
        #expect(select("SELECT 1 + 1")?.from.isEmpty == true)
    }

    @Test func implicitAliasesDoNotSwallowKeywords() {
        let s = select("SELECT a FROM t x JOIN u y ON x.id = y.id WHERE a = 1")
        guard case .join(let j)? = s?.from.first else { Issue.record("no join"); return }
        guard case .table(let l) = j.left, case .table(let r) = j.right else { Issue.record("bad join"); return }
        #expect(l.alias?.name.name == "x")
        #expect(r.alias?.name.name == "y")
        #expect(failure("SELECT a AS FROM t")?.message == "expected an alias after AS, found reserved word 'FROM'")
    }

    @Test func valuesSetOperationsAndWith() throws {
        let v = try #require(query("VALUES (1, 'a'), (2, 'b')"))
        guard case .values(let rows, _) = v.body else { Issue.record("not VALUES"); return }
        #expect(rows.map { $0.map(tree) } == [["1", "'a'"], ["2", "'b'"]])

        let u = try #require(query("SELECT a FROM t UNION ALL SELECT a FROM u INTERSECT SELECT a FROM w"))
        guard case .setOperation(let op) = u.body else { Issue.record("not a set operation"); return }
        #expect(op.op == .union)
        #expect(op.all)
        guard case .setOperation(let inner) = op.right else { Issue.record("INTERSECT should bind tighter"); return }
        #expect(inner.op == .intersect)

        let w = try #require(query("WITH big AS (SELECT * FROM bid WHERE price > 100), b2 (x) AS (SELECT 1) SELECT * FROM big"))
        #expect(w.with.map(\.name.name) == ["big", "b2"])
        #expect(w.with[1].columns.map(\.name) == ["x"])

        let p = try #require(query("(SELECT a FROM t ORDER BY a LIMIT 1) UNION (SELECT b FROM u)"))
        guard case .setOperation(let po) = p.body, case .parenthesized(let left) = po.left else {
            Issue.record("expected parenthesized operands"); return
        }
        #expect(left.limit == 1)
    }

    @Test func joins() throws {
        let s = try #require(select("""
            SELECT * FROM a
            JOIN b ON a.id = b.id
            LEFT JOIN c ON b.x = c.x
            LEFT OUTER JOIN d USING (k, l)
            RIGHT JOIN e ON TRUE
            FULL OUTER JOIN f ON f.y = a.y
            INNER JOIN g ON g.z = a.z
            CROSS JOIN h
            """))
        var kinds: [TableReference.Join.Kind] = []
        var node = s.from.first
        while case .join(let j)? = node {
            kinds.append(j.kind)
            node = j.left
        }
        #expect(kinds == [.cross, .inner, .full, .right, .left, .left, .inner])
        guard case .join(let outer)? = s.from.first else { return }
        #expect(outer.condition == nil)

        let comma = try #require(select("SELECT * FROM auction A, bid B WHERE A.id = B.auction"))
        #expect(comma.from.count == 2)

        #expect(failure("SELECT * FROM a JOIN b WHERE x")?.message
            == "expected ON or USING after the joined table, found 'WHERE'")
        #expect(failure("SELECT * FROM a LEFT b ON x")?.message == "expected JOIN after LEFT, found 'b'")
        #expect(failure("SELECT * FROM a NATURAL JOIN b")?.message == "NATURAL JOIN is not supported")
    }

    @Test func subqueryInFrom() throws {
        let s = try #require(select("""
            SELECT B.auction FROM bid AS B
            INNER JOIN (SELECT * FROM auction WHERE category = 10) AS A ON B.auction = A.id
            """))
        guard case .join(let j)? = s.from.first, case .subquery(let sub) = j.right else {
            Issue.record("expected a join with a subquery"); return
        }
        #expect(sub.alias?.name.name == "A")
        guard case .on(let on)? = j.condition else { Issue.record("expected ON"); return }
        #expect(tree(on) == "(= B.auction A.id)")
        let noAlias = try #require(select("SELECT * FROM (SELECT 1)"))
        guard case .subquery(let s2)? = noAlias.from.first else { Issue.record("no subquery"); return }
        #expect(s2.alias == nil)
        let colAlias = try #require(select("SELECT * FROM (VALUES (1, 2)) AS v(a, b)"))
        guard case .subquery(let s3)? = colAlias.from.first else { Issue.record("no subquery"); return }
        #expect(s3.alias?.columns.map(\.name) == ["a", "b"])
    }

    @Test func temporalJoin() throws {
        let s = try #require(select("""
            SELECT B.auction, S.value
            FROM (SELECT *, PROCTIME() as p_time FROM bid) B
            JOIN side_input FOR SYSTEM_TIME AS OF B.p_time AS S
            ON mod(B.auction, 10000) = S.key
            """))
        guard case .join(let j)? = s.from.first, case .table(let t) = j.right else {
            Issue.record("expected a join with a table"); return
        }
        #expect(t.name.description == "side_input")
        #expect(tree(t.systemTimeAsOf) == "B.p_time")
        #expect(t.alias?.name.name == "S")
        guard case .subquery(let sub) = j.left, case .select(let inner) = sub.query.body else {
            Issue.record("expected subquery"); return
        }
        #expect(itemTrees(inner) == ["*", "PROCTIME() as p_time"])
    }

    @Test func windowTableFunctions() throws {
        func tvf(_ sql: String) -> TableReference.TableFunction? {
            guard let s = select(sql), case .function(let f)? = s.from.first else { return nil }
            return f
        }
        let tumble = try #require(tvf("""
            SELECT window_start, window_end, count(*)
            FROM TABLE(TUMBLE(TABLE bid, DESCRIPTOR(dateTime), INTERVAL '10' SECOND))
            GROUP BY window_start, window_end
            """))
        #expect(tumble.name.description == "TUMBLE")
        #expect(tumble.arguments.count == 3)
        #expect(tumble.arguments[0].value == .table(QualifiedName([Identifier("bid")]), partitionBy: []))
        #expect(tumble.arguments[1].value == .descriptor([Identifier("dateTime")]))
        guard case .expression(let size) = tumble.arguments[2].value else { Issue.record("no size"); return }
        #expect(tree(size) == "interval:10000ms")
        #expect(tumble.arguments.allSatisfy { $0.name == nil })

        let withOffset = try #require(tvf(
            "SELECT * FROM TABLE(TUMBLE(TABLE bid, DESCRIPTOR(dateTime), INTERVAL '10' SECOND, INTERVAL '1' SECOND)) AS w"))
        #expect(withOffset.arguments.count == 4)
        #expect(withOffset.alias?.name.name == "w")

        let hop = try #require(tvf(
            "SELECT * FROM TABLE(HOP(TABLE bid, DESCRIPTOR(dateTime), INTERVAL '2' SECOND, INTERVAL '10' SECOND))"))
        #expect(hop.name.description == "HOP")
        #expect(hop.arguments.count == 4)

        let cumulate = try #require(tvf(
            "SELECT * FROM TABLE(CUMULATE(TABLE bid, DESCRIPTOR(dateTime), INTERVAL '2' MINUTES, INTERVAL '10' MINUTES))"))
        #expect(cumulate.name.description == "CUMULATE")

        let session = try #require(tvf(
            "SELECT * FROM TABLE(SESSION(TABLE bid PARTITION BY bidder, DESCRIPTOR(dateTime), INTERVAL '5' MINUTE))"))
        guard case .table(let name, let keys) = session.arguments[0].value else { Issue.record("no table arg"); return }
        #expect(name.description == "bid")
        #expect(keys.map(tree) == ["bidder"])
        let session2 = try #require(tvf(
            "SELECT * FROM TABLE(SESSION(TABLE bid PARTITION BY (bidder, auction), DESCRIPTOR(dateTime), INTERVAL '5' MINUTE))"))
        guard case .table(_, let keys2) = session2.arguments[0].value else { Issue.record("no table arg"); return }
        #expect(keys2.map(tree) == ["bidder", "auction"])

        let named = try #require(tvf("""
            SELECT * FROM TABLE(TUMBLE(
              DATA => TABLE bid, TIMECOL => DESCRIPTOR(dateTime), SIZE => INTERVAL '10' MINUTES))
            """))
        #expect(named.arguments.map { $0.name?.name } == ["DATA", "TIMECOL", "SIZE"])
        #expect(named.arguments[0].value == .table(QualifiedName([Identifier("bid")]), partitionBy: []))

        #expect(failure("SELECT * FROM TUMBLE(TABLE bid, DESCRIPTOR(ts), INTERVAL '1' SECOND)")?.message
            == "window table functions must be wrapped in TABLE(...)")
        #expect(failure("SELECT * FROM TABLE(TUMBLE(TABLE bid, DESCRIPTOR(ts), INTERVAL '1' SECOND)")?.message
            == "expected ')' to close TABLE( opened at 1:20")
    }

    @Test func nexmarkShapes() {
        let queries = [
            // q3
            """
            SELECT P.name, P.city, P.state, A.id
            FROM auction AS A INNER JOIN person AS P on A.seller = P.id
            WHERE A.category = 10 and (P.state = 'OR' OR P.state = 'ID' OR P.state = 'CA');
            """,
            // q4
            """
            SELECT Q.category, AVG(Q.final)
            FROM (
                SELECT MAX(B.price) AS final, A.category
                FROM auction A, bid B
                WHERE A.id = B.auction AND B.dateTime BETWEEN A.dateTime AND A.expires
                GROUP BY A.id, A.category
            ) Q
            GROUP BY Q.category;
            """,
            // q5
            """
            SELECT AuctionBids.auction, AuctionBids.num
             FROM (
               SELECT auction, count(*) AS num, window_start AS starttime, window_end AS endtime
               FROM TABLE(HOP(TABLE bid, DESCRIPTOR(dateTime), INTERVAL '2' SECOND, INTERVAL '10' SECOND))
               GROUP BY auction, window_start, window_end
             ) AS AuctionBids
             JOIN (
               SELECT max(CountBids.num) AS maxn, CountBids.starttime, CountBids.endtime
               FROM (
                 SELECT count(*) AS num, window_start AS starttime, window_end AS endtime
                 FROM TABLE(HOP(TABLE bid, DESCRIPTOR(dateTime), INTERVAL '2' SECOND, INTERVAL '10' SECOND))
                 GROUP BY auction, window_start, window_end
                 ) AS CountBids
               GROUP BY CountBids.starttime, CountBids.endtime
             ) AS MaxBids
             ON AuctionBids.starttime = MaxBids.starttime AND
                AuctionBids.endtime = MaxBids.endtime AND
                AuctionBids.num >= MaxBids.maxn;
            """,
            // q7
            """
            SELECT B.auction, B.price, B.bidder, B.dateTime, B.extra
            from bid B
            JOIN (
              SELECT MAX(price) AS maxprice, window_end as dateTime
              FROM TABLE(TUMBLE(TABLE bid, DESCRIPTOR(dateTime), INTERVAL '10' SECOND))
              GROUP BY window_start, window_end
            ) B1
            ON B.price = B1.maxprice
            WHERE B.dateTime BETWEEN B1.dateTime - INTERVAL '10' SECOND AND B1.dateTime;
            """,
            // q14
            """
            SELECT auction, bidder, 0.908 * price as price,
                CASE
                    WHEN HOUR(dateTime) >= 8 AND HOUR(dateTime) <= 18 THEN 'dayTime'
                    WHEN HOUR(dateTime) <= 6 OR HOUR(dateTime) >= 20 THEN 'nightTime'
                    ELSE 'otherTime'
                END AS bidTimeType,
                dateTime, extra, count_char(extra, 'c') AS c_counts
            FROM bid
            WHERE 0.908 * price > 1000000 AND 0.908 * price < 50000000;
            """,
            // q15
            """
            SELECT
                 DATE_FORMAT(dateTime, 'yyyy-MM-dd') as `day`,
                 count(*) AS total_bids,
                 count(*) filter (where price < 10000) AS rank1_bids,
                 count(distinct bidder) AS total_bidders,
                 count(distinct bidder) filter (where price >= 10000 and price < 1000000) AS rank2_bidders
            FROM bid
            GROUP BY DATE_FORMAT(dateTime, 'yyyy-MM-dd');
            """,
            // q19
            """
            SELECT * FROM
            (SELECT *, ROW_NUMBER() OVER (PARTITION BY auction ORDER BY price DESC) AS rank_number FROM bid)
            WHERE rank_number <= 10;
            """,
            // q21
            """
            SELECT auction, bidder, price, channel,
                CASE
                    WHEN lower(channel) = 'apple' THEN '0'
                    ELSE REGEXP_EXTRACT(url, '(&|^)channel_id=([^&]*)', 2)
                END AS channel_id FROM bid
                where REGEXP_EXTRACT(url, '(&|^)channel_id=([^&]*)', 2) is not null or
                      lower(channel) in ('apple', 'google', 'facebook', 'baidu');
            """,
            // q22
            """
            SELECT auction, bidder, price, channel,
                SPLIT_INDEX(url, '/', 3) as dir1
            FROM bid;
            """,
            // DDL and INSERT used by the Nexmark harness
            """
            CREATE TABLE datagen (
                event_type int,
                person ROW<id BIGINT, name VARCHAR, emailAddress VARCHAR, dateTime TIMESTAMP(3), extra VARCHAR>,
                bid ROW<auction BIGINT, bidder BIGINT, price BIGINT, channel VARCHAR, url VARCHAR,
                        dateTime TIMESTAMP(3), extra VARCHAR>,
                dateTime AS
                    CASE
                        WHEN event_type = 0 THEN person.dateTime
                        ELSE bid.dateTime
                    END,
                WATERMARK FOR dateTime AS dateTime - INTERVAL '4' SECOND
            ) WITH (
                'connector' = 'nexmark',
                'first-event.rate' = '10000000'
            );
            CREATE VIEW bid AS
            SELECT
                bid.auction,
                bid.bidder,
                bid.price,
                dateTime,
                bid.extra
            FROM datagen WHERE event_type = 2;
            CREATE TABLE nexmark_q0 (auction BIGINT, bidder BIGINT, price BIGINT, dateTime TIMESTAMP(3), extra VARCHAR)
              WITH ('connector' = 'blackhole');
            INSERT INTO nexmark_q0 SELECT auction, bidder, price, dateTime, extra FROM bid;
            """,
        ]
        for sql in queries {
            let parsed = statements(sql)
            #expect(!parsed.isEmpty)
            // Formatting and re-parsing yields the same tree.
            for statement in parsed {
                let again = try? SQLParser.parseStatement(statement.description)
                #expect(again == statement, "round trip of \(statement)")
            }
        }
    }
}

// MARK: - DDL and DML

@Suite struct SQLParserStatementTests {
    @Test func createTable() throws {
        let s = statements("""
            CREATE TABLE IF NOT EXISTS db.bid (
                auction  BIGINT NOT NULL,
                bidder   INT,
                price    DOUBLE PRECISION,
                cnt      integer, s SMALLINT, t TINYINT, d DOUBLE, f FLOAT, r REAL, b BOOLEAN,
                v VARCHAR, v10 VARCHAR(10), str STRING, c CHAR(3),
                ts TIMESTAMP, ts3 TIMESTAMP(3), ltz TIMESTAMP_LTZ(3), dec DECIMAL(10, 2),
                ltz2 TIMESTAMP(3) WITH LOCAL TIME ZONE,
                tags ARRAY<STRING>, attrs MAP<STRING, INT NOT NULL>,
                price_eur AS price * 0.9 COMMENT 'converted',
                part BIGINT METADATA FROM 'partition' VIRTUAL,
                WATERMARK FOR ts3 AS ts3 - INTERVAL '5' SECOND,
                CONSTRAINT pk PRIMARY KEY (auction, bidder) NOT ENFORCED
            ) COMMENT 'bids' WITH (
                'connector' = 'kafka',
                'topic' = 'bids',
                'format' = 'json'
            )
            """)
        guard case .createTable(let t)? = s.first else { Issue.record("not CREATE TABLE"); return }
        #expect(t.name.description == "db.bid")
        #expect(t.ifNotExists)
        #expect(!t.isTemporary)
        let types: [String] = t.columns.compactMap {
            if case .physical(let type) = $0.kind { return "\($0.name.name) \(type)" }
            return nil
        }
        #expect(types == [
            "auction BIGINT NOT NULL", "bidder INT", "price DOUBLE PRECISION", "cnt INTEGER",
            "s SMALLINT", "t TINYINT", "d DOUBLE", "f FLOAT", "r REAL", "b BOOLEAN", "v VARCHAR",
            "v10 VARCHAR(10)", "str STRING", "c CHAR(3)", "ts TIMESTAMP", "ts3 TIMESTAMP(3)",
            "ltz TIMESTAMP_LTZ(3)", "dec DECIMAL(10, 2)", "ltz2 TIMESTAMP(3) WITH LOCAL TIME ZONE",
            "tags ARRAY<STRING>", "attrs MAP<STRING, INT NOT NULL>",
        ])
        let decimal = t.columns.first { $0.name.name == "dec" }
        #expect(decimal?.kind == .physical(TypeName("DECIMAL", parameters: [10, 2])))
        let ltz2 = t.columns.first { $0.name.name == "ltz2" }
        #expect(ltz2?.kind == .physical(TypeName("TIMESTAMP WITH LOCAL TIME ZONE", parameters: [3])))
        let computed = try #require(t.columns.first { $0.name.name == "price_eur" })
        guard case .computed(let e) = computed.kind else { Issue.record("not computed"); return }
        #expect(tree(e) == "(* price dec:0.9)")
        #expect(computed.comment == "converted")
        let meta = try #require(t.columns.first { $0.name.name == "part" })
        #expect(meta.kind == .metadata(TypeName("BIGINT"), key: "partition", isVirtual: true))
        #expect(t.watermark?.column.description == "ts3")
        #expect(tree(t.watermark?.expression) == "(- ts3 interval:5000ms)")
        #expect(t.primaryKey?.columns.map(\.name) == ["auction", "bidder"])
        #expect(t.primaryKey?.constraintName?.name == "pk")
        #expect(t.primaryKey?.isEnforced == false)
        #expect(t.comment == "bids")
        #expect(t.options.map { "\($0.key)=\($0.value)" } == ["connector=kafka", "topic=bids", "format=json"])
    }

    @Test func createTableVariants() {
        guard case .createTable(let t)? = statements(
            "create temporary table t (id BIGINT PRIMARY KEY NOT ENFORCED, `watermark` INT)").first
        else { Issue.record("not CREATE TABLE"); return }
        #expect(t.isTemporary)
        #expect(t.primaryKey?.columns.map(\.name) == ["id"])
        #expect(t.columns.map(\.name.name) == ["id", "watermark"])
        #expect(t.options.isEmpty)
        guard case .createTable(let p)? = statements(
            "CREATE TABLE t (a INT, b INT) PARTITIONED BY (a) WITH ()").first
        else { Issue.record("not CREATE TABLE"); return }
        #expect(p.partitionedBy.map(\.name) == ["a"])
        guard case .createTable(let r)? = statements(
            "CREATE TABLE t (r ROW(a INT, `b` STRING), n ROW<>)").first
        else { Issue.record("not CREATE TABLE"); return }
        if case .physical(let rt) = r.columns[0].kind {
            #expect(rt.fields.map(\.name.name) == ["a", "b"])
            #expect(rt.fields.map(\.type.name) == ["INT", "STRING"])
        } else {
            Issue.record("not physical")
        }
    }

    @Test func createTableErrors() {
        #expect(rendered("""
            CREATE TABLE t (
              a INT,
              b VARCHAR(10) NOT NULL
              c INT
            ) WITH ('connector' = 'x')
            """) == """
            query.sql:4:3: error: expected ',' or ')' after column 'b', found 'c'
              4 |   c INT
                |   ^
            hint: is a comma missing between the column definitions?
            """)
        #expect(rendered("""
            CREATE TABLE bid (
              price BIGINT WITH ('connector' = 'x')
            """) == """
            query.sql:2:16: error: expected ')' to close the column list opened at 1:18, found 'WITH'
              2 |   price BIGINT WITH ('connector' = 'x')
                |                ^
            """)
        #expect(failure("CREATE TABLE t (a INT,)")?.hint == "remove the trailing comma")
        #expect(failure("CREATE TABLE t (a)")?.message == "expected a data type for column 'a', found ')'")
        #expect(failure("CREATE TABLE t (a VARCHAR(x))")?.message
            == "expected an integer parameter for type VARCHAR, found 'x'")
        #expect(failure("CREATE TABLE t (a INT) WITH (connector = 'kafka')")?.hint
            == "option keys are quoted with single quotes: 'connector' = '...'")
        #expect(failure("CREATE TABLE t (a INT) WITH ('n' = 5)")?.hint
            == "option values are quoted with single quotes: 'n' = '5'")
        #expect(failure("CREATE TABLE t (a INT, WATERMARK FOR a AS a, WATERMARK FOR a AS a)")?.message
            == "a table can have only one WATERMARK definition")
        #expect(failure("CREATE TABLE t (a INT PRIMARY KEY NOT ENFORCED, PRIMARY KEY (a) NOT ENFORCED)")?.message
            == "a table can have only one PRIMARY KEY")
        #expect(failure("CREATE TABEL t (a INT)")?.hint == "did you mean TABLE?")
        #expect(failure("CREATE TABLE t (a INT) LIKE u")?.message == "CREATE TABLE ... LIKE is not supported")
    }

    @Test func createViewAndInsert() throws {
        let s = statements("""
            CREATE TEMPORARY VIEW v (a, b) AS SELECT x, y FROM t;
            CREATE VIEW IF NOT EXISTS w AS SELECT * FROM t;
            INSERT INTO sink SELECT * FROM v;
            INSERT INTO sink (a, b) SELECT x, y FROM t;
            INSERT INTO sink (SELECT x FROM t);
            INSERT OVERWRITE sink VALUES (1, 'a');
            """)
        #expect(s.count == 6)
        guard case .createView(let v) = s[0], case .createView(let w) = s[1],
            case .insert(let i1) = s[2], case .insert(let i2) = s[3], case .insert(let i3) = s[4],
            case .insert(let i4) = s[5]
        else { Issue.record("wrong statement kinds"); return }
        #expect(v.isTemporary && !v.ifNotExists)
        #expect(v.columns.map(\.name) == ["a", "b"])
        #expect(w.ifNotExists && !w.isTemporary)
        #expect(i1.target.description == "sink" && i1.columns.isEmpty && !i1.isOverwrite)
        #expect(i2.columns.map(\.name) == ["a", "b"])
        #expect(i3.columns.isEmpty)
        guard case .parenthesized = i3.query.body else { Issue.record("expected a parenthesized query"); return }
        #expect(i4.isOverwrite)
        #expect(failure("INSERT sink SELECT 1")?.message == "expected INTO after INSERT, found 'sink'")
        #expect(failure("DROP TABLE t")?.message == "DROP statements are not supported")
    }
}

// MARK: - Positions and error rendering

@Suite struct SQLParserPositionTests {
    @Test func nodePositionsOnMultiLineInput() throws {
        let sql = "SELECT a,\n       prcie * 2 AS p\nFROM   bid AS b\nWHERE  b.x > 1"
        let s = try #require(select(sql))
        #expect(s.position == SourcePosition(offset: 0, line: 1, column: 1))
        guard case .expression(let e, let alias) = s.items[1], case .binary(_, let l, _) = e.kind else {
            Issue.record("unexpected item"); return
        }
        #expect(l.position == SourcePosition(offset: 17, line: 2, column: 8))  // prcie
        #expect(e.position.line == 2 && e.position.column == 14)  // the '*' operator
        #expect(alias?.position.column == 21)
        guard case .table(let t)? = s.from.first else { Issue.record("no table"); return }
        #expect(t.position.line == 3 && t.position.column == 8)
        #expect(t.alias?.name.position.column == 15)
        let w = try #require(s.whereClause)
        guard case .binary(_, let bx, _) = w.kind, case .column(let n) = bx.kind else { Issue.record("bad where"); return }
        #expect(n.parts[1].position == SourcePosition(offset: 57, line: 4, column: 10))

        // A binder error can reuse the excerpt renderer.
        #expect(SQLSyntaxError.sourceExcerpt(sql: sql, position: l.position) == """
              2 |        prcie * 2 AS p
                |        ^
            """)
    }

    @Test func columnsCountCharactersNotBytes() throws {
        let sql = "SELECT 'héllo→', `名前` + x FROM t"
        let s = try #require(select(sql))
        guard case .expression(let e, _) = s.items[1], case .binary(_, _, let x) = e.kind else {
            Issue.record("bad item"); return
        }
        #expect(x.position.column == 25)
        #expect(x.position.offset == "SELECT 'héllo→', `名前` + ".utf8.count)
    }

    @Test func crlfLineEndings() throws {
        let sql = "SELECT a\r\nFROM t\r\nWHERE\r\n"
        let e = try #require(failure(sql))
        #expect(e.position.line == 3 && e.position.column == 6)
        #expect(e.render(sql: sql, sourceName: "q.sql") == """
            q.sql:3:6: error: expected an expression after 'WHERE'
              3 | WHERE
                |      ^
            """)
    }

    @Test func renderedErrorAtEndOfInput() {
        let sql = """
            SELECT auction, price
            FROM bid
            WHERE price > 10 AND
            """
        #expect(rendered(sql) == """
            query.sql:3:21: error: expected an expression after 'AND'
              3 | WHERE price > 10 AND
                |                     ^
            """)
    }

    @Test func renderedErrorWithTabs() {
        let sql = "SELECT\ta,\n\tb +\tFROM t"
        #expect(rendered(sql) == """
            query.sql:2:6: error: expected an expression after '+', found 'FROM'
              2 |     b + FROM t
                |         ^
            """)
    }

    @Test func renderedErrorWithWideLineNumbers() {
        let sql = String(repeating: "\n", count: 11) + "SELECT )"
        #expect(rendered(sql) == """
            query.sql:12:8: error: expected an expression after 'SELECT', found ')'
              12 | SELECT )
                 |        ^
            """)
    }

    @Test func misspelledKeywordHints() {
        #expect(rendered("SELEC auction FROM bid") == """
            query.sql:1:1: error: expected a statement (SELECT, INSERT, CREATE, VALUES or WITH), found 'SELEC'
              1 | SELEC auction FROM bid
                | ^
            hint: did you mean SELECT?
            """)
        let form = failure("SELECT a FORM bid")
        #expect(form?.message == "unexpected 'bid' after the statement")
        #expect(form?.hint == "did you mean FROM? 'FORM' was read as an alias of the item before it")
        #expect(failure("SELECT a FROM bid WHER price > 1")?.hint
            == "did you mean WHERE? 'WHER' was read as an alias of the item before it")
        #expect(failure("SELECT a FROM t GROUP BYY a")?.hint == "did you mean BY?")
        #expect(failure("SELECT a FROM t ORDER a")?.message == "expected BY after ORDER, found 'a'")
        #expect(failure("SELECT a, b c d FROM t")?.hint == "is a comma missing before 'd'?")
        #expect(failure("INSRT INTO t SELECT 1")?.hint == "did you mean INSERT?")
    }

    @Test func closingParenthesisMessages() {
        #expect(failure("SELECT f(a, b FROM t")?.message
            == "expected ')' to close the arguments of f opened at 1:9, found 'FROM'")
        #expect(failure("SELECT (a + b FROM t")?.message
            == "expected ')' to close the parenthesis opened at 1:8, found 'FROM'")
        #expect(failure("SELECT a FROM t WHERE x IN (1, 2")?.message
            == "expected ')' to close the IN list opened at 1:28")
        #expect(failure("SELECT a) FROM t")?.hint == "this ')' has no matching '('")
        #expect(failure("SELECT f(a b) FROM t")?.hint == "is a comma missing before 'b'?")
    }

    @Test func otherErrors() {
        #expect(failure("SELECT a,")?.message == "expected a select item after ','")
        #expect(failure("SELECT a, FROM t")?.hint == "remove the trailing comma")
        #expect(failure("SELECT * FROM")?.message == "expected a table name, '(' or TABLE(...) in FROM")
        #expect(failure("SELECT a == b")?.hint == "SQL compares with a single '='")
        #expect(failure("SELECT x BETWEEN 1 OR 2")?.message
            == "expected AND in BETWEEN ... AND ... (opened at 1:10), found 'OR'")
        #expect(failure("SELECT a IS 5")?.message == "expected NULL, TRUE, FALSE or DISTINCT FROM after IS, found '5'")
        #expect(failure("SELECT CAST(a AS) FROM t")?.message == "expected a data type for CAST, found ')'")
        #expect(failure("SELECT t.* + 1 FROM t")?.message == "unexpected '+' after the statement")
        #expect(failure("SELECT 1 + t.* FROM t")?.message == "'t.*' is only allowed as a select item")
        #expect(failure("SELECT 1 LIMIT x")?.message == "expected a row count (an integer) after LIMIT, found 'x'")
        #expect(failure("SELECT EXTRACT(HOUR FROM ts)")?.message
            == "the special syntax EXTRACT(... FROM ...) is not supported")
        #expect(failure("SELECT (a, b) FROM t")?.message == "row values such as (a, b) are not supported")
        let deep = String(repeating: "(", count: 5000) + "1" + String(repeating: ")", count: 5000)
        #expect(failure("SELECT " + deep)?.message.contains("nested too deeply") == true)
        let long = "SELECT " + Array(repeating: "a", count: 5000).joined(separator: " + ")
        #expect(failure(long)?.message.contains("too long") == true)
        let unions = Array(repeating: "SELECT 1", count: 3000).joined(separator: " UNION ALL ")
        #expect(failure(unions)?.message.contains("too long") == true)
    }

    @Test func moderateNestingIsFine() {
        let nested = String(repeating: "(", count: 60) + "1" + String(repeating: ")", count: 60)
        #expect(tree(expr(nested)) == "1")
        let chain = Array(repeating: "a", count: 500).joined(separator: " AND ")
        #expect(expr(chain) != nil)
    }
}

// MARK: - Robustness

@Suite struct SQLParserRobustnessTests {
    static let validQueries = [
        "SELECT auction, bidder, 0.908 * price as price, dateTime, extra FROM bid;",
        """
        SELECT window_start, window_end, COUNT(*) AS n, SUM(price) FILTER (WHERE price > 10)
        FROM TABLE(TUMBLE(TABLE bid, DESCRIPTOR(dateTime), INTERVAL '10' SECOND))
        WHERE NOT (price BETWEEN 1 AND 2) AND name LIKE 'a%' OR x IN (1, 2) -- comment
        GROUP BY window_start, window_end HAVING COUNT(*) > 1 ORDER BY n DESC LIMIT 3
        """,
        """
        CREATE TABLE `t` (a BIGINT NOT NULL, ts TIMESTAMP(3), c AS a * 2, /* x */
          WATERMARK FOR ts AS ts - INTERVAL '1:30' MINUTE TO SECOND,
          PRIMARY KEY (a) NOT ENFORCED) WITH ('connector' = 'datagen', 'x' = 'it''s');
        INSERT INTO s SELECT CASE WHEN a IS NULL THEN CAST(b AS VARCHAR(3)) ELSE 'x' END FROM t;
        """,
        """
        SELECT B.a FROM (SELECT *, PROCTIME() AS p FROM bid) B
        LEFT JOIN side FOR SYSTEM_TIME AS OF B.p AS S ON B.k = S.k, other o
        WHERE EXISTS (SELECT 1) AND ROW_NUMBER() OVER (PARTITION BY a ORDER BY b ROWS 3 PRECEDING) = 1
        """,
    ]

    @Test func everyPrefixParsesOrFailsCleanly() {
        for sql in Self.validQueries {
            #expect(statements(sql).count >= 1)
            let chars = Array(sql)
            for n in 0...chars.count {
                let prefix = String(chars[0..<n])
                do {
                    _ = try SQLParser.parse(prefix)
                } catch {
                    // Errors must point inside (or just past the end of) the text.
                    #expect(error.position.offset <= prefix.utf8.count)
                    #expect(error.position.line >= 1 && error.position.column >= 1)
                    _ = error.render(sql: prefix, sourceName: "prefix.sql")
                }
            }
        }
    }

    @Test func randomByteSoupNeverTraps() {
        var rng = SplitMix64(seed: 0x5EED)
        let alphabet = Array("SELECTFROMWHEREANDORNOT()',;.*+-/%<>=!|`\"\n\t -- /* */ 0123456789 e abc ")
        let keywords = ["SELECT", "FROM", "WHERE", "TABLE", "(", ")", ",", "INTERVAL", "'1'", "SECOND",
                        "CASE", "WHEN", "THEN", "END", "CAST", "AS", "JOIN", "ON", "OVER", "BY", "x", "1",
                        "CREATE", "WITH", "=", "NOT", "NULL", "IN", "BETWEEN", "AND", "DESCRIPTOR", "TUMBLE"]
        for _ in 0..<3000 {
            let length = Int(rng.next() % 60)
            var sql = ""
            switch rng.next() % 3 {
            case 0:
                var bytes: [UInt8] = []
                for _ in 0..<length { bytes.append(UInt8(truncatingIfNeeded: rng.next())) }
                sql = String(decoding: bytes, as: UTF8.self)
            case 1:
                for _ in 0..<length { sql.append(alphabet[Int(rng.next() % UInt64(alphabet.count))]) }
            default:
                for _ in 0..<length / 3 { sql += keywords[Int(rng.next() % UInt64(keywords.count))] + " " }
            }
            do {
                let parsed = try SQLParser.parse(sql)
                for statement in parsed {
                    let again = try? SQLParser.parseStatement(statement.description)
                    #expect(again == statement, "round trip of \(sql)")
                }
            } catch {
                #expect(error.position.offset <= sql.utf8.count)
                _ = error.render(sql: sql, sourceName: "soup.sql")
            }
        }
    }
}


@Suite struct SQLParserRenderingTests {
    @Test func longLinesAreWindowedAroundTheCaret() {
        let sql = "SELECT " + (1...60).map { "column_\($0)" }.joined(separator: ", ") + " FROM WHERE"
        let text = rendered(sql)
        let lines = text.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        #expect(lines.count == 3)
        #expect(lines[1].hasPrefix("  1 | ...") && lines[1].hasSuffix("FROM WHERE"))
        // The caret sits under WHERE.
        let caret = lines[2].count - 1
        let chars = Array(lines[1])
        let whereIndex = (0...(chars.count - 5)).first { String(chars[$0..<$0 + 5]) == "WHERE" }
        #expect(caret == whereIndex)
        #expect(lines[1].count <= 120)
    }

    @Test func excerptOutsideTheTextIsEmpty() {
        let e = SQLSyntaxError(message: "m", position: SourcePosition(offset: 0, line: 9, column: 1))
        #expect(e.render(sql: "SELECT 1", sourceName: "x.sql") == "x.sql:9:1: error: m")
        #expect(e.description == "9:1: error: m")
        let empty = SQLSyntaxError(message: "m", position: .start, hint: "h")
        #expect(empty.render(sql: "", sourceName: "x.sql") == "x.sql:1:1: error: m\n  1 |\n    | ^\nhint: h")
    }
}

@Suite struct SQLParserDepthTests {
    /// Nesting right up to (and past) the limit, through every recursive construct, must end in
    /// a result or a clean error — never a stack overflow.
    @Test(arguments: [40, 49, 50, 99, 100, 101, 400])
    func deepNestingOfEveryConstruct(depth: Int) {
        func repeated(_ s: String) -> String { String(repeating: s, count: depth) }
        let inputs = [
            "SELECT " + repeated("(") + "1" + repeated(")"),
            "SELECT " + repeated("- ") + "x",
            "SELECT " + repeated("NOT ") + "x",
            "SELECT " + repeated("f(") + "1" + repeated(")"),
            "SELECT " + repeated("CAST(") + "1" + repeated(" AS INT)"),
            "SELECT " + repeated("CASE WHEN ") + "x" + repeated(" THEN 1 END"),
            "SELECT " + repeated("(SELECT ") + "1" + repeated(")"),
            "SELECT * FROM " + repeated("(SELECT * FROM ") + "t" + repeated(")"),
            "SELECT * FROM " + repeated("(") + "t" + repeated(")"),
            "CREATE TABLE t (a " + repeated("ARRAY<") + "INT" + repeated(">") + ")",
            "SELECT x IN " + repeated("(SELECT x IN ") + "(1)" + repeated(")"),
            "SELECT " + repeated("a + (") + "1" + repeated(")"),
        ]
        for sql in inputs {
            do {
                let parsed = try SQLParser.parse(sql)
                #expect(parsed.count == 1)
                #expect(depth < Parser.maxNesting)
            } catch {
                #expect(error.message.contains("too deeply") || error.message.contains("too long"), "\(error)")
            }
        }
    }
}

@Suite struct CreateTableWithoutColumnsTests {
    @Test func columnListMayBeLeftOut() throws {
        let statements = try SQLParser.parse("CREATE TABLE t WITH ('path' = 'x.spate')")
        guard case .createTable(let c)? = statements.first else {
            Issue.record("not a CREATE TABLE")
            return
        }
        #expect(c.columns.isEmpty)
        #expect(c.options.map(\.key) == ["path"])
        // It prints back without an empty column list and parses to the same tree.
        let text = Statement.createTable(c).description
        #expect(!text.contains("()"))
        #expect(try SQLParser.parse(text) == statements)
    }
}
