//! Whose field work a head-office web user sees: everything (admin, head office), or a
//! supervisor's team (the reps whose `supervisor_id` is the supervisor's reference-data user,
//! and the supervisor's own work). The pages and the exception queue filter with the same SQL.

/// SQL: is the field user in column `col` visible to scope parameter `?N`? (NULL scope = all.)
pub fn scope_sql(col: &str, n: usize) -> String {
    format!(
        "(CAST(?{n} AS TEXT) IS NULL OR {col} = ?{n} OR {col} IN (SELECT id FROM users WHERE supervisor_id = ?{n}))"
    )
}
