//! SQL inputs shared by the memory tests and the benchmark.

/// A multi-row `VALUES` insert of at least `len` bytes: one literal-heavy row after another
/// (the shape whose token list once made the SQL analysis hold ~31x the statement).
///
/// ```
/// let sql = otel_testkit::sql::values_statement(1024);
/// assert!(sql.len() >= 1024 && sql.starts_with("INSERT INTO readings"));
/// ```
pub fn values_statement(len: usize) -> String {
    let mut sql = String::with_capacity(len + 64);
    sql.push_str("INSERT INTO readings (id, sensor, value, note) VALUES ");
    let mut i = 0u64;
    while sql.len() < len {
        if i > 0 {
            sql.push_str(", ");
        }
        sql.push_str(&format!("({i}, 's{}', -{}.5, 'note {i}')", i % 97, i % 13));
        i += 1;
    }
    sql
}
