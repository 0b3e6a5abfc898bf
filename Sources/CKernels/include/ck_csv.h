#ifndef CK_CSV_H
#define CK_CSV_H
/// CSV kernels: a structural scan in the style of simdjson (quote mask, prefix-XOR,
/// separator masks outside quotes, flattened to positions), record assembly, and
/// per-column conversion of one field of every record of a batch.
///
/// The reader (Columnar's CSVScan) drives them as a pipeline over a memory-mapped
/// file:
/// 1. `ck_csv_index` turns bytes into `seps`: the position of every delimiter and
///    line feed outside quotes, relative to a base the caller chooses, with
///    `CK_CSV_LF` set on line feeds (record ends). It also validates where quotes may
///    appear, so a malformed field is found whether or not a query reads it.
/// 2. `ck_csv_records` groups separators into records of exactly `field_count`
///    fields and returns, for each record, its start and the index of its first
///    separator.
/// 3. `ck_csv_convert_*` parse one field of each of those records into a column.
///
/// Quoting rules (RFC 4180, strict): a quote may open a field only as its first byte;
/// inside quotes, delimiters and line breaks are data and `""` is one quote; a
/// closing quote must be followed by a delimiter, a line end or EOF. A CR right
/// before a LF ends the record with it, and so does a CR as the file's last byte.
///
/// Positions are uint32 below 2^31 (bit 31 is the LF flag), so the caller re-bases
/// long scans. Inputs are only read, never retained; no allocation except in
/// `ck_parse_f64`'s slow path for values longer than 256 bytes.
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#pragma clang assume_nonnull begin

/// Flag bit of a separator that is a line feed (the end of a record).
#define CK_CSV_LF 0x80000000u
/// Flag bit (with CK_CSV_LF) of the line feed that ends a comment line: the line is
/// not a record. Only `ck_csv_index_general` produces it.
#define CK_CSV_SKIP 0x40000000u
/// Mask of the position bits of a separator (positions stay below 2^30).
#define CK_CSV_POS 0x3FFFFFFFu

// MARK: - Structural scan

/// What `ck_csv_index` found wrong (0: nothing).
typedef enum ck_csv_index_error {
    CK_CSV_OK = 0,
    /// A quote inside an unquoted field (not its first byte). `err_pos`: the quote.
    CK_CSV_STRAY_QUOTE = 1,
    /// Text after a closing quote before the delimiter. `err_pos`: the closing quote.
    CK_CSV_TEXT_AFTER_QUOTE = 2,
    /// EOF inside a quoted field. `err_pos`: the quote that opened it.
    CK_CSV_UNTERMINATED = 3,
} ck_csv_index_error;

/// Scan state carried from one `ck_csv_index` call to the next. Zero it, then set
/// `prev_sep = 1`, to start at the beginning of a record (outside quotes).
typedef struct ck_csv_index_state {
    /// All ones while inside quotes at the end of the scanned bytes, else 0.
    uint64_t in_quote;
    /// 1 when the byte before the next block allows an opening quote (a separator,
    /// a closing quote, or the start of a record).
    uint64_t prev_sep;
    /// 1 when the previous block ended with a closing quote whose follower is unchecked.
    uint64_t pending_close;
    /// 1 when the previous block ended with a closing quote then a CR, so the next
    /// byte must be a LF.
    uint64_t pending_cr;
    /// Position of the latest opening quote (for unterminated-quote errors), or -1.
    int64_t last_open;
    /// Position of the first error (see `error`), or -1.
    int64_t err_pos;
    /// A ck_csv_index_error.
    int32_t error;
    /// 1 once a call with `at_eof` has consumed everything (virtual LF included).
    int32_t finished;
    // The fields below are only used by `ck_csv_index_general`.
    /// 1 at the start of a line (set it with `prev_sep` to start at a record).
    uint8_t line_start;
    /// 1 inside a comment line.
    uint8_t in_comment;
    /// 1 right after the escape byte inside quotes.
    uint8_t pending_escape;
    /// Set when a `one_record` scan stopped after the record's line feed.
    uint8_t record_done;
    /// Quotes inside unquoted fields accepted as data so far (lenient dialects).
    uint32_t stray_quotes;
} ck_csv_index_state;

_Static_assert(sizeof(ck_csv_index_state) == 64, "ck_csv_index_state layout is pinned");

/// Scans `buf[0..<len)`, appending the positions (`pos_offset` + index) of
/// separators outside quotes to `seps[*nseps...]` with `CK_CSV_LF` on line feeds.
///
/// Consumes whole 64-byte blocks while at least 64 free entries remain in `seps`
/// (`cap` entries in all), and returns how many bytes it consumed. With `at_eof`
/// set, `buf + len` is the end of the file: it also consumes the last partial
/// block, adds a virtual LF at position `len` when the file does not end with one
/// (so the last record is always terminated), and reports an unterminated quote.
/// It never reads outside `buf[0..<len)`.
///
/// Stops at the first error with `st->error` / `st->err_pos` set; separators before
/// the error are valid. `pos_offset + len + 1` must be below 2^31.
size_t ck_csv_index(const uint8_t *buf, size_t len, bool at_eof, uint8_t delim,
                    uint8_t quote, uint32_t pos_offset, ck_csv_index_state *st,
                    uint32_t *seps, size_t cap, size_t *nseps);

/// A CSV dialect for the byte-at-a-time scanner.
typedef struct ck_csv_dialect {
    uint8_t delim;
    uint8_t quote;
    /// Inside a quoted field, makes the next byte literal (when `has_escape`).
    uint8_t escape;
    /// A line whose first byte is this is a comment (when `has_comment`).
    uint8_t comment;
    uint8_t has_escape;
    uint8_t has_comment;
    /// 1: a quote inside an unquoted field is an error (CK_CSV_STRAY_QUOTE);
    /// 0: it is data (as in Python's csv module and xsv).
    uint8_t strict_quotes;
    /// 1: text after a closing quote is data too (used to find where a bad record
    /// ends); 0: it is an error (CK_CSV_TEXT_AFTER_QUOTE).
    uint8_t tolerant;
} ck_csv_dialect;

/// The same contract as `ck_csv_index` for any dialect (escapes, comment lines,
/// stray quotes as data), one byte at a time: consumes bytes while at least 2 free
/// entries remain in `seps`. A comment line gives one separator, its line feed, with
/// `CK_CSV_LF | CK_CSV_SKIP`. With `one_record`, it stops right after the first line
/// feed that ends a record (setting `st->record_done`), so the caller can go back to
/// the SIMD scan. Before the first call set `prev_sep = 1` and `line_start = 1`.
size_t ck_csv_index_general(const uint8_t *buf, size_t len, bool at_eof,
                            const ck_csv_dialect *d, uint32_t pos_offset,
                            ck_csv_index_state *st, uint32_t *seps, size_t cap,
                            size_t *nseps, bool one_record);

/// The index in `buf[0..<len)` just past the first LF outside quotes, given whether
/// `buf[0]` is inside quotes (`in_quote` 0 or 1; every quote toggles). Returns
/// `len + 1` when there is none (a record starting at or after `len`). No validation.
size_t ck_csv_find_record_start(const uint8_t *buf, size_t len, uint8_t quote,
                                int in_quote);

/// Number of bytes equal to `c` in `buf[0..<len)` (quote parity and line numbers).
size_t ck_csv_count_byte(const uint8_t *buf, size_t len, uint8_t c);

// MARK: - Records

/// Why `ck_csv_records` returned.
typedef enum ck_csv_records_status {
    /// `max_records` records were produced.
    CK_CSV_REC_FULL = 0,
    /// The separators ran out before the end of the next record: scan more.
    CK_CSV_REC_NEED_MORE = 1,
    /// The next record starts at or after `limit`: this range is done.
    CK_CSV_REC_LIMIT = 2,
    /// The next record (starting at `*rec_start`) has the wrong number of fields.
    CK_CSV_REC_FIELD_COUNT = 3,
} ck_csv_records_status;

/// Groups `seps[*sep_index..<nseps]` into records of `field_count` fields, starting
/// with the record at `*rec_start`. For each record writes its start position to
/// `out_start` and the index of its first separator to `out_sep`, at most
/// `max_records` of them, and returns how many; `*status` says why it stopped.
/// `*sep_index` and `*rec_start` advance past the consumed records (and at
/// `CK_CSV_REC_FIELD_COUNT` point at the bad record).
///
/// Blank lines (no bytes, or a lone CR, before the LF): with `field_count > 1` they
/// are skipped; with one field they are a record whose field is empty (NULL), except
/// a blank line ending at or after `end_pos` (the last line of the file), which is
/// skipped. `buf` is the byte at position 0 (to look at CRs).
size_t ck_csv_records(const uint8_t *buf, const uint32_t *seps, size_t nseps,
                      size_t *sep_index, uint32_t *rec_start, uint32_t limit,
                      uint32_t end_pos, size_t field_count, uint32_t *out_start,
                      uint32_t *out_sep, size_t max_records, int *status);

// MARK: - Column conversion

/// One field of each record of a batch, as produced by `ck_csv_records`.
typedef struct ck_csv_fields {
    /// Byte at position 0.
    const uint8_t *base;
    const uint32_t *seps;
    const uint32_t *rec_start;
    const uint32_t *rec_sep;
    /// Number of records.
    size_t n;
    /// 0-based field index within the record.
    uint32_t field;
    /// Non-zero when `field` is the record's last (its CR before the LF is stripped).
    uint32_t is_last;
    uint8_t quote;
    /// Inside quotes, the byte that makes the next one literal (when `has_escape`).
    uint8_t escape;
    uint8_t has_escape;
    uint8_t reserved[5];
    /// An unquoted field equal to these `null_len` bytes is NULL (`null_len` 0: none).
    const uint8_t *_Nullable null_literal;
    size_t null_len;
} ck_csv_fields;

_Static_assert(sizeof(ck_csv_fields) == 72, "ck_csv_fields layout is pinned");

/// Byte span `[*start, *end)` of field `f->field` of record `r` (quotes included).
void ck_csv_field_span(const ck_csv_fields *f, size_t r, uint32_t *start, uint32_t *end);

/// Shared contract of the converters: record r goes to row `row0 + r` of the output
/// (values indexed by row). An empty unquoted field is NULL: its bit in `validity`
/// (LSB-first words, caller-initialised to all ones, room for row0 + n rows) is
/// cleared, its value zeroed and `*nulls` incremented. A quoted field is unquoted
/// first (`""` is NULL except for strings). An unquoted field equal to the null
/// literal is NULL too. With `has_escape`, the escape byte inside a quoted field
/// keeps the next byte as is. Returns `f->n` on success, otherwise the
/// index of the first record whose field is not a valid value (rows before it are
/// written).
size_t ck_csv_convert_i64(const ck_csv_fields *f, int64_t *out, uint64_t *validity,
                          size_t row0, size_t *nulls);
size_t ck_csv_convert_f64(const ck_csv_fields *f, double *out, uint64_t *validity,
                          size_t row0, size_t *nulls);
/// One byte (0 or 1) per row.
size_t ck_csv_convert_bool(const ck_csv_fields *f, uint8_t *out, uint64_t *validity,
                           size_t row0, size_t *nulls);
/// Epoch milliseconds; see `ck_parse_timestamp_ms` for the accepted forms.
size_t ck_csv_convert_ts_ms(const ck_csv_fields *f, int64_t *out, uint64_t *validity,
                            size_t row0, size_t *nulls);
/// Strings: copies each value (unescaped) to `arena + *arena_used` and writes
/// `offsets[row0 + r + 1]`; `offsets[row0]` must already hold `*arena_used`. The
/// arena must have room for the raw bytes of all n fields. Fails (returning the
/// record) only when the arena would pass 2^31 - 1 bytes.
size_t ck_csv_convert_string(const ck_csv_fields *f, int32_t *offsets, uint8_t *arena,
                             size_t *arena_used, uint64_t *validity, size_t row0,
                             size_t *nulls);

// MARK: - Single values (also used for SQL literals)

/// Result of the single-value parsers.
typedef enum ck_parse_result {
    CK_PARSE_OK = 0,
    /// Not the syntax of the type.
    CK_PARSE_SYNTAX = 1,
    /// Well-formed but out of the type's range (integer overflow, hour 25...).
    CK_PARSE_RANGE = 2,
    /// A date that does not exist (February 30th).
    CK_PARSE_DATE = 3,
} ck_parse_result;

/// `[+-]digits`, exactly (no spaces). Returns a ck_parse_result.
int ck_parse_i64(const uint8_t *_Nullable p, size_t len, int64_t *out);
/// `[+-](digits[.digits]|.digits)[(e|E)[+-]digits]`, `inf`, `infinity`, `nan`
/// (case-insensitive, optionally signed), correctly rounded.
int ck_parse_f64(const uint8_t *_Nullable p, size_t len, double *out);
/// `true/false`, `t/f`, `yes/no` (any case), `1/0`.
int ck_parse_bool(const uint8_t *_Nullable p, size_t len, bool *out);
/// `YYYY-MM-DD`, `YYYY-MM-DD(T| )HH:MM[:SS[.fraction]]` with an optional `Z` or
/// `(+|-)HH[:MM]` offset (the fraction is truncated to milliseconds), or an integer
/// (epoch milliseconds). Returns a ck_parse_result.
int ck_parse_timestamp_ms(const uint8_t *_Nullable p, size_t len, int64_t *out);

#pragma clang assume_nonnull end

#ifdef __cplusplus
}
#endif
#endif
