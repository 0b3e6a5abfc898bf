#ifndef CK_JSON_H
#define CK_JSON_H
/// JSON lines kernels: a structural index in the style of simdjson's stage 1, and a
/// line parser (stage 2) that walks the index and writes typed values straight into
/// column buffers.
///
/// The reader (Columnar's JSONScan) drives them over a memory-mapped file. A record is
/// a line: JSON strings cannot hold a raw line feed, so every LF ends a record and a
/// file can be split at any LF (morsel-parallel, exactly).
///
/// Stage 1 (`ck_json_index`), per 64-byte block: masks of backslashes, quotes,
/// `{}[]:,`, line feeds and control bytes; escaped characters from the odd-length
/// backslash runs (carry-add trick); the bytes inside strings from the prefix-XOR of
/// the unescaped quotes. It emits the positions of every unescaped quote, every
/// `{}[]:,` outside strings, every LF, and every control byte inside a string (which
/// stage 2 reports as an error).
///
/// Stage 2 (`ck_json_parse`) checks the grammar of each line against the index (the
/// text between two structurals is whitespace or a scalar: number, true, false,
/// null), matches keys to the requested columns and converts values.
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#pragma clang assume_nonnull begin

// MARK: - Stage 1

/// State carried between `ck_json_index` calls over consecutive bytes. Zero it to
/// start outside any string.
typedef struct ck_json_index_state {
    /// All ones while inside a string at the end of the scanned bytes, else 0.
    uint64_t in_string;
    /// 1 when the scanned bytes end with an odd run of backslashes (the next byte is
    /// escaped).
    uint64_t escaped;
} ck_json_index_state;

_Static_assert(sizeof(ck_json_index_state) == 16, "ck_json_index_state layout is pinned");

/// Scans `buf[0..<len)` and appends the structural positions (`pos_offset` + index)
/// to `out[*n...]`. Consumes whole 64-byte blocks while at least 64 free entries
/// remain (`cap` in all) and returns the bytes consumed. With `at_eof`, `buf + len`
/// is the end of the input: the last partial block is consumed too and a virtual LF
/// is emitted at position `len` when the input does not end with one. Never reads
/// outside `buf[0..<len)`. `pos_offset + len + 1` must be below 2^32.
size_t ck_json_index(const uint8_t *_Nullable buf, size_t len, bool at_eof, uint32_t pos_offset,
                     ck_json_index_state *st, uint32_t *out, size_t cap, size_t *n);

// MARK: - Stage 2

/// Column types the parser writes.
typedef enum ck_json_type {
    /// int64_t per row.
    CK_JSON_I64 = 0,
    /// double per row.
    CK_JSON_F64 = 1,
    /// uint8_t (0/1) per row.
    CK_JSON_BOOL = 2,
    /// int64_t epoch milliseconds per row.
    CK_JSON_TS_MS = 3,
    /// int32_t offsets + byte arena.
    CK_JSON_STRING = 4,
} ck_json_type;

/// Accepted timestamp text (`'json.timestamp-format.standard'`).
typedef enum ck_json_ts_format {
    /// `YYYY-MM-DD HH:MM:SS[.f]` or with a `T`, optional offset (the default).
    CK_JSON_TS_ANY = 0,
    /// Flink's 'SQL': a space between date and time.
    CK_JSON_TS_SQL = 1,
    /// Flink's 'ISO-8601': a `T` between date and time.
    CK_JSON_TS_ISO = 2,
} ck_json_ts_format;

/// One output column. The caller owns every buffer; the parser writes rows
/// `row0 ..< row0 + rows` (see `ck_json_parse`).
typedef struct ck_json_column {
    /// The key this column takes (UTF-8, not NUL-terminated). A key matches when it
    /// is equal, else when it is equal ignoring ASCII case.
    const uint8_t *_Nullable name;
    size_t name_len;
    /// A ck_json_type.
    int32_t type;
    /// A ck_json_ts_format (timestamps only).
    int32_t ts_format;
    /// Values: room for every row written.
    void *_Nullable values;
    /// Strings: `offsets[row0]` must hold `arena_used`; room for rows + 1 offsets.
    int32_t *_Nullable offsets;
    uint8_t *_Nullable arena;
    size_t arena_cap;
    size_t arena_used;
    /// LSB-first validity words, all ones on entry for the rows to write; the parser
    /// clears the bits of NULL rows and counts them in `nulls`.
    uint64_t *_Nullable validity;
    size_t nulls;
    /// Internal: 1 + the row this column was last assigned in (zero it once).
    size_t stamp;
} ck_json_column;

/// Why `ck_json_parse` returned.
typedef enum ck_json_status {
    /// No line starts before `limit` any more.
    CK_JSON_DONE = 0,
    /// `max_rows` rows were written.
    CK_JSON_FULL = 1,
    /// Column `err_col`'s arena needs room for `need` more bytes; grow it (keeping
    /// its contents), update `arena`/`arena_cap` and call again.
    CK_JSON_GROW_ARENA = 2,
    /// The index needs `need` entries for the next line; give it a bigger `idx` and
    /// call again.
    CK_JSON_GROW_INDEX = 3,
    /// A bad line: see `err_code`, `err_pos`, `err_end`, `err_col`, `key_pos`/`key_len`.
    CK_JSON_ERROR = 4,
} ck_json_status;

/// What was wrong with a line.
typedef enum ck_json_error {
    CK_JSON_OK = 0,
    /// The line does not start with `{`.
    CK_JSON_EXPECTED_OBJECT = 1,
    /// Expected a key (a string).
    CK_JSON_EXPECTED_KEY = 2,
    CK_JSON_EXPECTED_COLON = 3,
    /// Nothing where a value must be.
    CK_JSON_EXPECTED_VALUE = 4,
    CK_JSON_EXPECTED_COMMA_OR_END = 5,
    /// Text after the object's closing brace.
    CK_JSON_TRAILING = 6,
    /// The line ends inside a string (`err_pos`: its opening quote).
    CK_JSON_UNTERMINATED_STRING = 7,
    /// A raw control byte inside a string (`err_pos`: the byte).
    CK_JSON_CONTROL_CHAR = 8,
    /// A bad backslash escape (`err_pos`: the backslash).
    CK_JSON_BAD_ESCAPE = 9,
    /// A \u escape of half a surrogate pair (`err_pos`: the backslash).
    CK_JSON_LONE_SURROGATE = 10,
    /// Not a JSON scalar (number, true, false, null).
    CK_JSON_BAD_LITERAL = 11,
    /// Brackets that do not match (`err_pos`: the closer).
    CK_JSON_MISMATCHED = 12,
    /// More than 255 levels of nesting.
    CK_JSON_TOO_DEEP = 13,
    /// An object or array in a column (`err_col`).
    CK_JSON_NESTED = 14,
    /// A value of the wrong kind for the column (a string that does not parse, a
    /// boolean for a number...).
    CK_JSON_TYPE = 15,
    /// A number with a fraction or exponent for BIGINT / epoch milliseconds.
    CK_JSON_NOT_INTEGER = 16,
    /// A number out of the column type's range.
    CK_JSON_RANGE = 17,
    /// A timestamp whose separator the configured standard does not allow.
    CK_JSON_TS_STANDARD = 18,
    /// A timestamp naming a day that does not exist.
    CK_JSON_TS_DATE = 19,
    /// Invalid UTF-8 in a string stored in a column.
    CK_JSON_BAD_UTF8 = 20,
    /// The strings of one batch of a column pass 2^31 - 1 bytes.
    CK_JSON_ARENA_LIMIT = 21,
    /// A line longer than 1 GiB.
    CK_JSON_LINE_TOO_LONG = 22,
} ck_json_error;

/// A parse of the lines starting in `[pos, limit)` of `buf[0..<size)`. Set the
/// input fields, zero the rest; the parser keeps its place between calls.
typedef struct ck_json_parser {
    // Input (the caller's).
    const uint8_t *_Nullable buf;
    size_t size;
    /// Lines starting at or after `limit` are left to the next range.
    size_t limit;
    ck_json_column *_Nullable cols;
    size_t ncols;
    /// Index scratch: at least 256 entries.
    uint32_t *_Nullable idx;
    size_t idx_cap;
    /// Skip bad lines (counting them in `skipped`) instead of stopping.
    int32_t ignore_errors;
    int32_t reserved;
    /// The start of the next line to parse (set it to the first line's start).
    size_t pos;
    // The indexed window (internal).
    size_t win_base;
    size_t win_n;
    size_t win_i;
    int64_t win_last_lf;
    /// Lines skipped under `ignore_errors`.
    size_t skipped;
    /// Status details (see ck_json_status).
    int32_t err_code;
    int32_t err_col;
    size_t err_pos;
    size_t err_end;
    size_t key_pos;
    size_t key_len;
    size_t need;
    /// Column of the k-th key of the previous line (a guess checked before use).
    int16_t predicted[64];
} ck_json_parser;

/// Parses lines into rows `row0...` of the columns, at most `max_rows` of them, and
/// reports the rows written in `*rows`. Blank lines (only spaces, tabs, CR) are
/// skipped. A column whose key is missing, or whose value is null, gets NULL; a key
/// given twice keeps its last value; keys no column takes are checked and skipped.
/// Returns a ck_json_status.
int ck_json_parse(ck_json_parser *p, size_t row0, size_t max_rows, size_t *rows);

/// 1 when `s[0..<n)` is valid UTF-8 (no overlongs, surrogates or values past U+10FFFF).
int ck_json_valid_utf8(const uint8_t *_Nullable s, size_t n);

#pragma clang assume_nonnull end

#ifdef __cplusplus
}
#endif
#endif
