//! [`QueryParts`]: a user's query taken apart (SQL, arguments, cached statement, persistence)
//! so the SQL is known before execution, then handed to sqlx unchanged.

use either::Either;
use sqlx::database::Database;
use sqlx::error::BoxDynError;
use sqlx::{Execute, SqlStr};

/// One item of `Executor::fetch_many`: what a statement's parts turn into.
pub(crate) type Item<DB> =
    Result<Either<<DB as Database>::QueryResult, <DB as Database>::Row>, sqlx::Error>;

pub(crate) struct QueryParts<DB: Database> {
    pub(crate) sql: SqlStr,
    statement: Option<DB::Statement>,
    arguments: Option<Result<Option<DB::Arguments>, BoxDynError>>,
    persistent: bool,
}

impl<DB: Database> QueryParts<DB> {
    pub(crate) fn new<'q, E: Execute<'q, DB>>(mut query: E) -> Self {
        let statement = query.statement().cloned();
        let persistent = query.persistent();
        let arguments = Some(query.take_arguments());
        let sql = query.sql();
        QueryParts {
            sql,
            statement,
            arguments,
            persistent,
        }
    }
}

impl<DB: Database> QueryParts<DB> {
    /// Appends the span's sqlcommenter `comment`, if any, and sends the statement unnamed
    /// (non-persistent), so sqlx's statement cache never sees the unique text. Statements
    /// given as prepared statements, or already holding a comment, are left unchanged.
    pub(crate) fn commented(mut self, comment: Option<String>) -> Self {
        let Some(comment) = comment else {
            return self;
        };
        if self.statement.is_some() || self.prepared_on_mysql() {
            return self;
        }
        if let Some(sql) = crate::commenter::append(self.sql.as_str(), &comment) {
            self.sql = sqlx::SqlSafeStr::into_sql_str(sqlx::AssertSqlSafe(sql));
            self.persistent = false;
        }
        self
    }
}

impl<DB: Database> QueryParts<DB> {
    /// A MySQL / MariaDB statement that sqlx runs as a prepared statement (it carries an
    /// `Arguments` value, as every `sqlx::query(..)` does, even without binds). sqlx 0.9 runs a
    /// non-persistent prepared statement as prepare, execute and an unanswered
    /// `COM_STMT_CLOSE`, on a socket without `TCP_NODELAY`: the connection's next packet then
    /// waits for the server's delayed ACK, ~40 ms over TCP (measured: 23 statements/s instead
    /// of ~9,300, BENCHMARKS.md). Sending it persistent instead would fill the statement cache
    /// with unique texts, whose evictions send the same close. So these are not commented;
    /// statements without arguments (`&str`, `raw_sql`) go through the text protocol and are.
    fn prepared_on_mysql(&self) -> bool {
        DB::NAME == "MySQL" && matches!(self.arguments, Some(Ok(Some(_))))
    }
}

impl<'q, DB: Database> Execute<'q, DB> for QueryParts<DB> {
    fn sql(self) -> SqlStr {
        self.sql
    }

    fn statement(&self) -> Option<&DB::Statement> {
        self.statement.as_ref()
    }

    fn take_arguments(&mut self) -> Result<Option<DB::Arguments>, BoxDynError> {
        self.arguments.take().unwrap_or(Ok(None))
    }

    fn persistent(&self) -> bool {
        self.persistent
    }
}
